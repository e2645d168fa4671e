/**
 * Native envelopes: building, canonical bytes, commitments and parameter-set
 * hashes against CPython's, frozen parsing, and the builder's checks.
 */
import assert from "node:assert/strict";
import { fromBase64, sha256Hex, toBase64, toHex } from "../../core/bytes.ts";
import { Ed25519PrivateKey } from "../../core/ed25519.ts";
import {
  buildEnvelope,
  type BuildEnvelopeOptions,
  canonicalEnvelopeBytes,
  commitInput,
  commitInputs,
  envelopeSha256Hex,
  parameterSetHash,
  parseEnvelopeText,
  parseEnvelopeValue,
  signedBodyBytes,
} from "../../core/envelope.ts";
import type { JsonValue, ParsedEnvelope } from "../../core/envelope_types.ts";
import { InputValidationError, SignerError } from "../../core/errors.ts";
import { canonicalize } from "../../core/jcs.ts";
import { externalKeyProvider, type InProcessKeyProvider } from "../../core/keys.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { verifyEnvelope } from "../../core/verify.ts";
import { enc, options, PARAMS, reason, reparse, signed, signer, store } from "./_envelope.ts";

Deno.test("envelope: input commitments match CPython-computed sha256 of the canonical pair", () => {
  // hashlib.sha256(json.dumps({"name": n, "value": v}, sort_keys=True, separators=(",", ":"),
  // ensure_ascii=False).encode()).hexdigest(): same bytes as JCS for these values.
  assert.deepEqual(commitInput("y_true", [1, 0, 1, 1]), {
    name: "y_true",
    sha256: "cbfaa696da6aebf7ac4c4bebc35e7f02634a41bb2fc4a7a9ac979b19a72e792f",
  });
  assert.equal(
    commitInput("group", "é€😀").sha256,
    "bcc02ce033416a16f76635cdf3e6da6802b2be579b3cdee2d32c3a1ad0659d1c",
  );
  assert.equal(
    commitInput("m", { b: [true, null], a: "x" }).sha256,
    "d73493c234bf4d314bd422ed991e7c62a3e825c96aa7d35b92dea4c6995bb69f",
  );
  const c = commitInputs({ z: 1, a: 2, "é": 3, B: 4 });
  assert.deepEqual(c.map((x) => x.name), ["B", "a", "z", "é"]);
  assert.throws(() => commitInputs({ scores: [0.5, NaN] }), (e: unknown) => {
    assert.ok(e instanceof InputValidationError);
    assert.equal(e.pointer, "/scores/1");
    assert.equal(e.rule, "finite");
    return true;
  });
});

Deno.test("envelope: parameter-set hash equals regaudit-fhe's for the fixtures' parameter set", () => {
  // All-integer ASCII parameter sets canonicalize identically under JCS and Python.
  const ps = {
    backend: "plaintext",
    backend_version: "",
    coeff_mod_bit_sizes: [],
    library_version: "0.0.8",
    multiplicative_depth: 6,
    poly_modulus_degree: 0,
    scaling_factor_bits: 0,
    security_bits: 128,
  };
  assert.equal(
    parameterSetHash(ps),
    "6cf6558e2906a52a7c92595de4c670475d99d04bb56b3935dd1ccd6f2a2255fd",
  );
});

Deno.test("envelope: build → text → parse → verify; receipt covers the JCS body", async () => {
  const env = await signed();
  assert.equal(env.schema, "regledger.envelope.v1");
  assert.equal(env.parameter_set_hash, parameterSetHash(PARAMS));
  assert.deepEqual(env.input_commitments, commitInputs(options().inputs!));
  const { receipt, ...body } = env;
  const bodyBytes = enc.encode(canonicalize(body));
  assert.equal(receipt.sha256, sha256Hex(bodyBytes));
  assert.equal(receipt.signature_alg, "Ed25519");
  assert.equal(receipt.public_key_pem, signer.publicKeyPem);
  // The signature is over the canonical body bytes themselves.
  const pub = (await Ed25519PrivateKey.fromPkcs8Pem(signer.privateKey.toPkcs8Pem())).publicKey;
  assert.equal(await pub.verify(fromBase64(receipt.signature_b64), bodyBytes), true);

  const parsed = reparse(env);
  assert.equal(parsed.kind, "native");
  assert.deepEqual(signedBodyBytes(parsed), bodyBytes);
  assert.deepEqual(canonicalEnvelopeBytes(parsed), enc.encode(canonicalize(env)));
  assert.equal(toHex(parsed.sha256), sha256Hex(enc.encode(canonicalize(env))));
  assert.equal(envelopeSha256Hex(parsed), toHex(parsed.sha256));
  const r = await verifyEnvelope(parsed, store);
  assert.deepEqual(r, {
    valid: true,
    trust: "trust-store",
    kind: "native",
    key_id: "issuer-2026",
    issuer: "acme-bank",
    primitive: "fairness",
    envelope_sha256: toBase64(parsed.sha256),
    body_sha256: receipt.sha256,
    timestamp: "absent",
  });
  // Same envelope from a JS object, and from compact text with other key order.
  assert.deepEqual(parseEnvelopeValue(env).canonical, parsed.canonical);
  const reordered = Object.fromEntries(Object.entries(env).reverse());
  assert.deepEqual(parseEnvelopeText(JSON.stringify(reordered)).canonical, parsed.canonical);
});

Deno.test("envelope: parsed envelopes are deep-frozen", async () => {
  const parsed = reparse(await signed());
  assert.ok(Object.isFrozen(parsed) && Object.isFrozen(parsed.value));
  assert.ok(Object.isFrozen(parsed.value.result) && Object.isFrozen(parsed.value.receipt));
  assert.throws(() => {
    (parsed.value.result as Record<string, unknown>).demographic_parity_gap = 0;
  }, TypeError);
});

Deno.test("envelope: a ParsedEnvelope made elsewhere is judged by its canonical bytes", async () => {
  const parsed = reparse(await signed());
  const forgedValue = structuredClone(parsed.value);
  forgedValue.result = { demographic_parity_gap: 0 };
  const handMade: ParsedEnvelope = { ...parsed, value: forgedValue };
  const r = await verifyEnvelope(handMade, store);
  assert.equal(r.valid, true); // the canonical bytes are untouched, and they are what counts
  const tampered = new TextDecoder().decode(parsed.canonical).replace("0.125", "0.126");
  const handMade2: ParsedEnvelope = { ...parsed, canonical: enc.encode(tampered) };
  assert.equal(await reason(handMade2), "HashMismatch");
});

Deno.test("envelope: builder rejects bad options with a pointer", async () => {
  const cases: [Partial<BuildEnvelopeOptions>, string][] = [
    [{ result: { gap: NaN } }, "/result/gap"],
    [{ parameterSet: { x: Infinity } }, "/parameter_set/x"],
    [{ inputs: { y: [1, "\ud800"] } }, "/inputs/y/1"],
    [{ dp: { eps: undefined as unknown as JsonValue } }, "/dp/eps"],
    [{ primitive: "astrology" as "drift" }, "/primitive"],
    [{ issuer: "" }, "/issuer"],
    [{ inputCommitments: [] }, "/input_commitments"],
    [{ depthBudget: { declared: 1.5, consumed: 1 } }, "/depth_budget"],
  ];
  for (const [extra, pointer] of cases) {
    await assert.rejects(signed(extra), (e: unknown) => {
      assert.ok(e instanceof InputValidationError, String(e));
      assert.equal(e.pointer, pointer);
      return true;
    });
  }
  const pre = await signed({ inputs: undefined, inputCommitments: commitInputs({ a: 1 }) });
  assert.deepEqual(pre.input_commitments, commitInputs({ a: 1 }));
});

Deno.test("envelope: an external signer that misbehaves produces no envelope", async () => {
  const key = await Ed25519PrivateKey.generate();
  const other = await Ed25519PrivateKey.generate();
  const bad = externalKeyProvider({
    keyId: "kms",
    publicKeyPem: key.publicKey.toPem(),
    sign: (m) => other.sign(m),
  });
  await assert.rejects(signed({}, bad as InProcessKeyProvider), SignerError);
  const good = externalKeyProvider({
    keyId: "kms",
    publicKeyPem: key.publicKey.toPem(),
    sign: (m) => key.sign(m, "noble"),
  });
  const env = await buildEnvelope(options(), good);
  const kmsStore = TrustStore.fromObject({ kms: key.publicKey.toPem() });
  assert.equal(await reason(reparse(env), kmsStore), "valid");
});

Deno.test("envelope: a parameter-set object changed between builds gets its new hash", async () => {
  const ps: Record<string, JsonValue> = { backend: "seal-ckks", poly_modulus_degree: 8192 };
  const first = await signed({ parameterSet: ps });
  ps.poly_modulus_degree = 16384;
  const second = await signed({ parameterSet: ps });
  assert.equal(
    first.parameter_set_hash,
    parameterSetHash({ backend: "seal-ckks", poly_modulus_degree: 8192 }),
  );
  assert.equal(
    second.parameter_set_hash,
    parameterSetHash({ backend: "seal-ckks", poly_modulus_degree: 16384 }),
  );
  assert.notEqual(first.parameter_set_hash, second.parameter_set_hash);
  assert.equal(await reason(reparse(second)), "valid");
});

Deno.test("envelope: precomputed commitments are checked and sorted", async () => {
  const c = commitInputs({ b: 1, a: 2 });
  const env = await signed({ inputs: undefined, inputCommitments: [c[1], c[0]] });
  assert.deepEqual(env.input_commitments.map((x) => x.name), ["a", "b"]);
  const bad: [unknown, string][] = [
    [[{ name: "a", sha256: "xyz" }], "/input_commitments/0"],
    [[{ name: 1, sha256: c[0].sha256 }], "/input_commitments/0"],
    [[c[0], c[0]], "/input_commitments"],
  ];
  for (const [list, pointer] of bad) {
    await assert.rejects(
      signed({ inputs: undefined, inputCommitments: list as typeof c }),
      (e: unknown) => e instanceof InputValidationError && e.pointer === pointer,
    );
  }
});

Deno.test("envelope: issuedAt must be RFC 3339", async () => {
  for (const bad of ["yesterday", "2026-11-21", "2026-11-21 12:00:00Z", "2026-11-21T12:00:00"]) {
    await assert.rejects(
      signed({ issuedAt: bad }),
      (e: unknown) => e instanceof InputValidationError && e.pointer === "/issued_at",
    );
  }
  const ok = await signed({ issuedAt: "2026-11-21T12:00:00.123456+00:00" });
  assert.equal(ok.issued_at, "2026-11-21T12:00:00.123456+00:00");
  const fromDate = await signed({ issuedAt: new Date(Date.UTC(2026, 10, 21)) });
  assert.equal(fromDate.issued_at, "2026-11-21T00:00:00.000Z");
});
