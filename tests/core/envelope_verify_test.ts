/**
 * Native envelope verification: every typed failure in regaudit-fhe's order,
 * timestamps outside the signed body, trust-store requirements and malformed
 * envelopes.
 */
import assert from "node:assert/strict";
import { fromBase64, sha256Hex, toBase64 } from "../../core/bytes.ts";
import { parseEnvelopeText, parseEnvelopeValue } from "../../core/envelope.ts";
import type { Envelope, JsonValue } from "../../core/envelope_types.ts";
import {
  EnvelopeFormatError,
  EnvelopeVerificationError,
  JsonParseError,
  TimestampInvalid,
  TrustStoreError,
} from "../../core/errors.ts";
import { canonicalize } from "../../core/jcs.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { TrustStore } from "../../core/trust_store.ts";
import {
  checkEnvelope,
  checkSelfSignedOnly,
  type TimestampVerifier,
  verifyEnvelope,
  verifySelfSignedOnly,
} from "../../core/verify.ts";
import {
  clone,
  enc,
  intruder,
  reason,
  reparse,
  signed,
  signer,
  stamp,
  store,
  tsaVerifier,
} from "./_envelope.ts";

Deno.test("verify: each typed failure, in regaudit-fhe's order", async () => {
  const env = await signed();
  const pem = signer.publicKeyPem;
  const other = await InProcessKeyProvider.generate("other");
  const psHash = env.parameter_set_hash;

  // 1. unknown key id
  assert.equal(
    await reason(reparse(env), TrustStore.fromObject({ other: other.publicKeyPem })),
    "UntrustedIssuer",
  );
  // 2. revoked (even when the body was also changed: earlier checks win)
  const revoked = TrustStore.fromObject({ keys: { [signer.keyId]: pem }, revoked: [signer.keyId] });
  const changed = clone(env);
  changed.result = { demographic_parity_gap: 0 };
  assert.equal(await reason(reparse(env), revoked), "RevokedIssuer");
  assert.equal(await reason(reparse(changed), revoked), "RevokedIssuer");
  // 3. pinned parameter-set hash differs
  const pinned = (pin: string) =>
    TrustStore.fromObject({
      keys: { [signer.keyId]: pem },
      parameter_set_pins: { [signer.keyId]: pin },
    });
  assert.equal(await reason(reparse(env), pinned("ab".repeat(32))), "WrongParameterSet");
  assert.equal(await reason(reparse(env), pinned(psHash)), "valid");
  assert.equal(await reason(reparse(env), pinned(psHash.toUpperCase())), "valid");
  // 4. body changed
  assert.equal(await reason(reparse(changed)), "HashMismatch");
  // 4b. parameter_set_hash inconsistent with parameter_set, though signed by the trusted key
  const inconsistent = await resignedWith(env, (b) => (b.parameter_set_hash = "00".repeat(32)));
  assert.equal(await reason(reparse(inconsistent)), "HashMismatch");
  // 5. signature fails
  const flipped = clone(env);
  const sig = fromBase64(env.receipt.signature_b64);
  sig[10] ^= 4;
  flipped.receipt.signature_b64 = toBase64(sig);
  assert.equal(await reason(reparse(flipped)), "InvalidSignature");
  for (const b64 of ["", "not base64!", toBase64(sig.subarray(0, 63))]) {
    const e = clone(env);
    e.receipt.signature_b64 = b64;
    assert.equal(await reason(reparse(e)), "InvalidSignature", b64);
  }
  const alg = clone(env);
  (alg.receipt as { signature_alg: string }).signature_alg = "Ed448";
  assert.equal(await reason(reparse(alg)), "InvalidSignature");
  const junkPem = clone(env);
  junkPem.receipt.public_key_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  assert.equal(await reason(reparse(junkPem)), "InvalidSignature");
  // Embedded key swapped for another (signature no longer verifies under it): InvalidSignature.
  const swapped = clone(env);
  swapped.receipt.public_key_pem = other.publicKeyPem;
  assert.equal(await reason(reparse(swapped)), "InvalidSignature");
  // 6. validly signed by another key that claims the trusted key id
  const foreign = await signed({}, intruder);
  assert.equal(await reason(reparse(foreign)), "UntrustedIssuer");
  assert.equal((await checkSelfSignedOnly(reparse(foreign))).valid, true);
  // The registered key written with other line breaks is still the same key.
  const crlf = clone(env);
  crlf.receipt.public_key_pem = pem.trim().replaceAll("\n", "\r\n");
  assert.equal(await reason(reparse(crlf)), "valid");
});

async function resignedWith(
  env: Envelope,
  change: (b: Record<string, JsonValue>) => void,
  by = signer,
) {
  const { receipt: _r, timestamp: _t, ...rest } = structuredClone(env) as unknown as Record<
    string,
    JsonValue
  >;
  change(rest);
  const bytes = enc.encode(canonicalize(rest));
  const sig = await by.sign(bytes);
  return {
    ...rest,
    receipt: { ...env.receipt, sha256: sha256Hex(bytes), signature_b64: toBase64(sig) },
  } as unknown as Envelope;
}

Deno.test("verify: timestamps are outside the signed body and checked by a supplied verifier", async () => {
  const env = await signed({
    timestamp: stamp("tsa.example", "2026-11-21T12:00:01Z"),
  });
  const parsed = reparse(env);
  // No verifier configured: a native envelope's block is refused, never accepted unchecked.
  await assert.rejects(verifyEnvelope(parsed, store), TimestampInvalid);
  assert.equal(
    (await verifyEnvelope(parsed, store, { timestampVerifier: tsaVerifier })).timestamp,
    "verified",
  );
  const without = clone(env);
  delete without.timestamp;
  assert.equal(reparse(without).value.receipt.sha256, env.receipt.sha256);
  // The whole-envelope hash covers the timestamp; the signed body (the ledger's dedup key) does not.
  assert.notDeepEqual(reparse(without).sha256, parsed.sha256);
  const forged = clone(env);
  forged.timestamp!.issued_at = "2020-01-01T00:00:00Z";
  assert.equal(await reason(reparse(forged), store, tsaVerifier), "TimestampInvalid");
  const throwing: TimestampVerifier = () => {
    throw new Error("TSA chain expired");
  };
  const r = await checkEnvelope(parsed, store, { timestampVerifier: throwing });
  assert.equal(r.valid, false);
  assert.ok(!r.valid && r.reason === "TimestampInvalid" && r.message.includes("TSA chain expired"));
  // Timestamp is the last check: a bad signature wins over a bad timestamp.
  const both = clone(forged);
  both.receipt.signature_b64 = toBase64(new Uint8Array(64));
  assert.equal(await reason(reparse(both), store, tsaVerifier), "InvalidSignature");
});

Deno.test("verify: refuses without a trust store; self-signed-only says so", async () => {
  const parsed = reparse(await signed());
  await assert.rejects(verifyEnvelope(parsed, undefined as unknown as TrustStore), TrustStoreError);
  await assert.rejects(checkEnvelope(parsed, null as unknown as TrustStore), TrustStoreError);
  const r = await verifySelfSignedOnly(parsed);
  assert.equal(r.trust, "self-signed-only");
  const changed = clone(parsed.value);
  changed.issuer = "someone else";
  const c = await checkSelfSignedOnly(reparse(changed));
  assert.deepEqual([c.valid, !c.valid && c.reason, c.trust], [
    false,
    "HashMismatch",
    "self-signed-only",
  ]);
});

Deno.test("parse: malformed envelopes are format errors naming the field", async () => {
  const env = await signed();
  const bad = (mutate: (e: Record<string, unknown>) => void) => {
    const e = structuredClone(env) as unknown as Record<string, unknown>;
    mutate(e);
    return JSON.stringify(e);
  };
  const cases: [string, string][] = [
    [bad((e) => (e.schema = "regledger.envelope.v9")), "/schema"],
    [bad((e) => delete e.receipt), "/receipt"],
    [bad((e) => delete (e.receipt as Record<string, unknown>).key_id), "/receipt/key_id"],
    [bad((e) => ((e.receipt as Record<string, unknown>).sha256 = 5)), "/receipt/sha256"],
    [bad((e) => ((e.receipt as Record<string, unknown>)["x/y"] = "")), "/receipt/x~1y"],
    [bad((e) => (e.parameter_set = [])), "/parameter_set"],
    [bad((e) => (e.primitive = "astrology")), "/primitive"],
    [bad((e) => (e.input_commitments = [{ name: "a" }])), "/input_commitments/0"],
    [bad((e) => (e.timestamp = "yesterday")), "/timestamp"],
    [JSON.stringify(env).replace('"flag":true', '"flag":NaN'), "/result/flag"],
    ["[]", ""],
  ];
  for (const [text, pointer] of cases) {
    assert.throws(() => parseEnvelopeText(text), (e: unknown) => {
      assert.ok(e instanceof EnvelopeFormatError, `${pointer}: ${e}`);
      assert.equal(e.pointer, pointer);
      return true;
    });
  }
  assert.throws(() => parseEnvelopeText('{"schema": 1,'), JsonParseError);
  const legacy = { ...structuredClone(env), schema: "regaudit-fhe.report.v1" };
  assert.throws(() => parseEnvelopeValue(legacy), EnvelopeFormatError);
});

Deno.test("verify: every verification error class carries the key id", async () => {
  const env = await signed();
  const e = clone(env);
  e.result = {};
  await assert.rejects(verifyEnvelope(reparse(e), store), (err: unknown) => {
    assert.ok(err instanceof EnvelopeVerificationError);
    assert.equal(err.name, "HashMismatch");
    assert.equal(err.keyId, "issuer-2026");
    return true;
  });
});
