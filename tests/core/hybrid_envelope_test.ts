/**
 * Hybrid Ed25519 + ML-DSA-65 envelopes (CONTRACT §9, docs/formats.md §2.7):
 * both signatures cover the same canonical signed body; a hybrid issuer's
 * envelope is valid only when both verify (a missing or altered ML-DSA-65
 * part is InvalidSignature); trust stores list both keys and revocation and
 * pins follow each of them; external (KMS/HSM) signers supply the ML-DSA-65
 * half and fail closed; Ed25519-only envelopes keep their exact shape.
 * The ML-DSA-65 signatures are also checked by liboqs, an independent
 * implementation.
 */
import assert from "node:assert/strict";
import { fromBase64, sha256Hex } from "../../core/bytes.ts";
import {
  buildEnvelope,
  type BuildEnvelopeOptions,
  parseEnvelopeText,
  parseEnvelopeValue,
  signedBodyBytes,
} from "../../core/envelope.ts";
import type { Envelope } from "../../core/envelope_types.ts";
import {
  EnvelopeFormatError,
  InputValidationError,
  InvalidSignature,
  RevokedIssuer,
  SignerError,
  TrustStoreError,
  WrongParameterSet,
} from "../../core/errors.ts";
import { Ed25519PublicKey } from "../../core/ed25519.ts";
import { externalKeyProvider, InProcessKeyProvider } from "../../core/keys.ts";
import { MlDsa65PrivateKey } from "../../core/ml_dsa65.ts";
import { createLiboqsMlDsa65Engine } from "../../core/ml_dsa65_liboqs.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { validate } from "../../core/validate.ts";
import { checkEnvelope, verifyEnvelope, verifySelfSignedOnly } from "../../core/verify.ts";

const hybrid = await InProcessKeyProvider.generate("acme-pq", { pq: true });
const plain = await InProcessKeyProvider.generate("acme-ed");

function entry(k: InProcessKeyProvider) {
  return { public_key_pem: k.publicKeyPem, pq_public_key_pem: k.mlDsa65!.publicKeyPem };
}
const store = TrustStore.fromObject({
  keys: { "acme-pq": entry(hybrid), "acme-ed": plain.publicKeyPem },
});

const OPTIONS: BuildEnvelopeOptions = {
  primitive: "drift",
  backend: "plaintext",
  parameterSet: { backend: "plaintext" },
  regulations: ["EU_AI_ACT_ART72"],
  result: { cvm: 0.125 },
  inputs: { p: [1, 2, 3] },
  depthBudget: { declared: 1, consumed: 1 },
  issuer: "acme",
  issuedAt: "2026-12-02T12:00:00Z",
};

const envelope = await buildEnvelope(OPTIONS, hybrid);

function reparse(e: unknown) {
  return parseEnvelopeText(JSON.stringify(e));
}
function withReceipt(e: Envelope, change: Record<string, unknown>): Envelope {
  const receipt: Record<string, unknown> = { ...e.receipt, ...change };
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete receipt[k];
  return { ...e, receipt } as unknown as Envelope;
}
async function reason(e: unknown, s: TrustStore = store): Promise<string> {
  const r = await checkEnvelope(reparse(e), s);
  return r.valid ? "valid" : r.reason;
}

Deno.test("hybrid envelope: both signatures over the same canonical signed body, checked by liboqs too", async () => {
  const r = envelope.receipt;
  assert.equal(r.pq_signature_alg, "ML-DSA-65");
  assert.equal(r.pq_public_key_pem, hybrid.mlDsa65!.publicKeyPem);
  const parsed = reparse(envelope);
  const body = signedBodyBytes(parsed);
  assert.equal(sha256Hex(body), r.sha256);
  // The Ed25519 half, as before.
  assert.ok(
    await Ed25519PublicKey.fromPem(r.public_key_pem).verify(fromBase64(r.signature_b64), body),
  );
  // The ML-DSA-65 half, over the same bytes, by an independent implementation.
  const oqs = await createLiboqsMlDsa65Engine();
  try {
    const pk = hybrid.mlDsa65PrivateKey!.publicKey.raw;
    assert.equal(oqs.verify(fromBase64(r.pq_signature_b64!), body, pk), true);
    // And our verifier with liboqs as its engine.
    const v = await verifyEnvelope(parsed, store, { mlDsa65Engine: oqs });
    assert.equal(v.valid, true);
  } finally {
    oqs.destroy();
  }
  const v = await verifyEnvelope(parsed, store);
  assert.deepEqual([v.valid, v.key_id, v.trust], [true, "acme-pq", "trust-store"]);
});

Deno.test("hybrid issuer: a missing, altered or foreign ML-DSA-65 signature is refused", async () => {
  const strip = {
    pq_signature_alg: undefined,
    pq_signature_b64: undefined,
    pq_public_key_pem: undefined,
  };
  assert.equal(await reason(envelope), "valid");
  // Missing: a downgrade to Ed25519 alone.
  assert.equal(await reason(withReceipt(envelope, strip)), "InvalidSignature");
  // Altered: one bit of the signature.
  const sig = fromBase64(envelope.receipt.pq_signature_b64!);
  sig[1234] ^= 0x01;
  const flipped = btoa(String.fromCharCode(...sig));
  assert.equal(
    await reason(withReceipt(envelope, { pq_signature_b64: flipped })),
    "InvalidSignature",
  );
  // Truncated, or not base64.
  const short = envelope.receipt.pq_signature_b64!.slice(4);
  assert.equal(
    await reason(withReceipt(envelope, { pq_signature_b64: short })),
    "InvalidSignature",
  );
  assert.equal(await reason(withReceipt(envelope, { pq_signature_b64: "!" })), "InvalidSignature");
  // Another signature algorithm named.
  assert.equal(
    await reason(withReceipt(envelope, { pq_signature_alg: "ML-DSA-44" })),
    "InvalidSignature",
  );
  // A valid ML-DSA-65 signature of another body (another envelope of the same key).
  const other = await buildEnvelope({ ...OPTIONS, result: { cvm: 0.5 } }, hybrid);
  assert.equal(
    await reason(withReceipt(envelope, { pq_signature_b64: other.receipt.pq_signature_b64 })),
    "InvalidSignature",
  );
  // An attacker's own ML-DSA-65 key and signature: verifies under the
  // embedded key, which is not the registered one.
  const mallory = MlDsa65PrivateKey.generate();
  const body = signedBodyBytes(reparse(envelope));
  const forged = withReceipt(envelope, {
    pq_public_key_pem: mallory.publicKey.toPem(),
    pq_signature_b64: btoa(String.fromCharCode(...mallory.sign(body))),
  });
  assert.equal(await reason(forged), "UntrustedIssuer");
  // An embedded key that is not ML-DSA-65.
  assert.equal(
    await reason(withReceipt(envelope, { pq_public_key_pem: plain.publicKeyPem })),
    "InvalidSignature",
  );
  // The Ed25519 half still matters.
  const edSig = fromBase64(envelope.receipt.signature_b64);
  edSig[3] ^= 1;
  assert.equal(
    await reason(withReceipt(envelope, { signature_b64: btoa(String.fromCharCode(...edSig)) })),
    "InvalidSignature",
  );
  await assert.rejects(
    verifyEnvelope(reparse(withReceipt(envelope, strip)), store),
    InvalidSignature,
  );
});

Deno.test("hybrid receipt shape: all three ML-DSA-65 fields or none; never on legacy envelopes", () => {
  for (const f of ["pq_signature_alg", "pq_signature_b64", "pq_public_key_pem"]) {
    assert.throws(
      () => reparse(withReceipt(envelope, { [f]: undefined })),
      (e) => e instanceof EnvelopeFormatError && e.pointer.startsWith("/receipt/pq_"),
    );
  }
  assert.throws(
    () => reparse(withReceipt(envelope, { pq_signature_b64: 5 })),
    (e) => e instanceof EnvelopeFormatError && e.pointer === "/receipt/pq_signature_b64",
  );
  // regaudit-fhe 0.0.8 never wrote them: a legacy receipt with them is not an envelope.
  const dir = new URL("../fixtures/regaudit-fhe/envelopes/", import.meta.url);
  const name = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"))
    .sort()[0];
  const legacy = Deno.readTextFileSync(new URL(name, dir));
  assert.equal(parseEnvelopeText(legacy).kind, "legacy");
  const r = envelope.receipt;
  const withPq = legacy.replace(
    '"receipt": {',
    `"receipt": {"pq_signature_alg": "ML-DSA-65", "pq_signature_b64": "${r.pq_signature_b64}", ` +
      `"pq_public_key_pem": ${JSON.stringify(r.pq_public_key_pem)}, `,
  );
  assert.notEqual(withPq, legacy);
  assert.throws(() => parseEnvelopeText(withPq), EnvelopeFormatError);
});

Deno.test("Ed25519-only issuers are unchanged; a hybrid receipt needs a hybrid trust-store entry", async () => {
  const ed = await buildEnvelope(OPTIONS, plain);
  assert.deepEqual(Object.keys(ed.receipt).sort(), [
    "key_id",
    "public_key_pem",
    "sha256",
    "signature_alg",
    "signature_b64",
  ]);
  assert.equal(await reason(ed), "valid");
  // The same hybrid envelope against a store that lists only its Ed25519 key:
  // the ML-DSA-65 part is not vouched for by anything, so it is not accepted.
  const edOnly = TrustStore.fromObject({ keys: { "acme-pq": hybrid.publicKeyPem } });
  assert.equal(await reason(envelope, edOnly), "UntrustedIssuer");
  // Without a trust store, the envelope's own two signatures are checked.
  assert.equal((await verifySelfSignedOnly(reparse(envelope))).trust, "self-signed-only");
  const sig = fromBase64(envelope.receipt.pq_signature_b64!);
  sig[9] ^= 4;
  await assert.rejects(
    verifySelfSignedOnly(
      reparse(withReceipt(envelope, { pq_signature_b64: btoa(String.fromCharCode(...sig)) })),
    ),
    InvalidSignature,
  );
});

Deno.test("trust store: hybrid entries round-trip; revocation and pins follow both public keys", async () => {
  const json = store.toJSON();
  assert.deepEqual(json.keys["acme-pq"], {
    public_key_pem: hybrid.publicKeyPem,
    pq_public_key_pem: hybrid.mlDsa65!.publicKeyPem,
  });
  assert.ok(
    TrustStore.fromObject(json).mlDsa65PublicKey("acme-pq")?.equals(
      hybrid.mlDsa65PrivateKey!.publicKey,
    ),
  );
  // Revoked under another id that shares only the ML-DSA-65 key.
  const otherEd = await InProcessKeyProvider.generate("x");
  const sharedPq = TrustStore.fromObject({
    keys: {
      "acme-pq": entry(hybrid),
      "old": {
        public_key_pem: otherEd.publicKeyPem,
        pq_public_key_pem: entry(hybrid).pq_public_key_pem,
      },
    },
    revoked: ["old"],
  });
  assert.equal(sharedPq.isRevoked("acme-pq"), true);
  assert.equal(await reason(envelope, sharedPq), "RevokedIssuer");
  await assert.rejects(verifyEnvelope(reparse(envelope), sharedPq), RevokedIssuer);
  // Revoked under an Ed25519-only id that shares the Ed25519 key.
  const sharedEd = TrustStore.fromObject({
    keys: { "acme-pq": entry(hybrid), "old-ed": hybrid.publicKeyPem },
    revoked: ["old-ed"],
  });
  assert.equal(await reason(envelope, sharedEd), "RevokedIssuer");
  // A pin set under an id sharing the ML-DSA-65 key applies to this one.
  const pinned = TrustStore.fromObject({
    keys: {
      "acme-pq": entry(hybrid),
      "alias": {
        public_key_pem: otherEd.publicKeyPem,
        pq_public_key_pem: entry(hybrid).pq_public_key_pem,
      },
    },
    parameter_set_pins: { alias: "ab".repeat(32) },
  });
  assert.equal(pinned.parameterSetPin("acme-pq"), "ab".repeat(32));
  await assert.rejects(verifyEnvelope(reparse(envelope), pinned), WrongParameterSet);
  // One id whose two keys carry different pins (through two other ids) is refused.
  assert.throws(
    () =>
      TrustStore.fromObject({
        keys: {
          "acme-pq": entry(hybrid),
          "a": hybrid.publicKeyPem,
          "b": {
            public_key_pem: otherEd.publicKeyPem,
            pq_public_key_pem: entry(hybrid).pq_public_key_pem,
          },
        },
        parameter_set_pins: { a: "ab".repeat(32), b: "cd".repeat(32) },
      }),
    TrustStoreError,
  );
  // Malformed hybrid entries name the key.
  for (
    const bad of [
      { public_key_pem: hybrid.publicKeyPem },
      { public_key_pem: hybrid.publicKeyPem, pq_public_key_pem: hybrid.publicKeyPem },
      { ...entry(hybrid), extra: 1 },
      { public_key_pem: 1, pq_public_key_pem: entry(hybrid).pq_public_key_pem },
    ]
  ) {
    assert.throws(() => TrustStore.fromObject({ keys: { k: bad } }), /trust store key "k"/);
  }
});

Deno.test("external signer: a KMS/HSM supplies the ML-DSA-65 half and fails closed", async () => {
  const edKey = plain.privateKey;
  const pqKey = MlDsa65PrivateKey.generate();
  const base = {
    keyId: "kms-pq",
    publicKeyPem: plain.publicKeyPem,
    sign: (m: Uint8Array) => edKey.sign(m),
  };
  const good = externalKeyProvider({
    ...base,
    mlDsa65: {
      publicKeyPem: pqKey.publicKey.toPem(),
      sign: (m) => Promise.resolve(pqKey.sign(m)),
    },
  });
  const env = await buildEnvelope(OPTIONS, good);
  const kmsStore = TrustStore.fromObject({
    keys: {
      "kms-pq": { public_key_pem: plain.publicKeyPem, pq_public_key_pem: pqKey.publicKey.toPem() },
    },
  });
  assert.equal(await reason(env, kmsStore), "valid");
  const faulty = [
    () => Promise.reject(new Error("HSM offline")),
    () => Promise.resolve(new Uint8Array(3309)), // right size, not a signature
    () => Promise.resolve(new Uint8Array(64)), // an Ed25519-sized answer
    (m: Uint8Array) => Promise.resolve(MlDsa65PrivateKey.generate().sign(m)), // another key
  ];
  for (const sign of faulty) {
    const p = externalKeyProvider({
      ...base,
      mlDsa65: { publicKeyPem: pqKey.publicKey.toPem(), sign },
    });
    await assert.rejects(buildEnvelope(OPTIONS, p), SignerError);
  }
  assert.throws(
    () =>
      externalKeyProvider({
        ...base,
        mlDsa65: {
          publicKeyPem: plain.publicKeyPem,
          sign: () => Promise.resolve(new Uint8Array()),
        },
      }),
    TypeError,
  );
});

Deno.test("one signed body, whatever the (hedged) ML-DSA-65 signature: the ledger identity is the body", async () => {
  const a = reparse(envelope);
  const again = await buildEnvelope(OPTIONS, hybrid);
  // Hedged signing: another signature of the same body.
  assert.notEqual(again.receipt.pq_signature_b64, envelope.receipt.pq_signature_b64);
  const b = reparse(again);
  assert.deepEqual(signedBodyBytes(a), signedBodyBytes(b));
  assert.notDeepEqual(a.sha256, b.sha256);
  assert.equal((await checkEnvelope(b, store)).valid, true);
  // parseEnvelopeValue keeps the hybrid receipt as is.
  assert.equal(parseEnvelopeValue(envelope).value.receipt.pq_signature_alg, "ML-DSA-65");
});

Deno.test("JSON Schemas: hybrid envelopes and trust stores validate; half a hybrid receipt does not", () => {
  validate("envelope", envelope);
  validate("trust-store", store.toJSON());
  validate("trust-store", { "acme-pq": entry(hybrid) }); // the bare shape too
  const half = withReceipt(envelope, { pq_public_key_pem: undefined });
  assert.throws(() => validate("envelope", half), InputValidationError);
  assert.throws(
    () => validate("trust-store", { keys: { k: { public_key_pem: hybrid.publicKeyPem } } }),
    InputValidationError,
  );
  assert.throws(
    () => validate("envelope", withReceipt(envelope, { pq_signature_alg: "ML-DSA-87" })),
    InputValidationError,
  );
});
