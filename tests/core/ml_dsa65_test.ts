/**
 * Tests of core/ml_dsa65.ts, the post-quantum half of hybrid issuer keys.
 *
 * - Known answers: NIST ACVP ML-DSA-65 keyGen / sigGen / sigVer vectors
 *   (tests/core/vectors/, see the README there) against the implementation
 *   we sign and verify with (@noble/post-quantum) and our key derivation.
 * - Key encodings: the IETF LAMPS example ML-DSA-65 seed key and public key
 *   (RFC 9881 PKCS#8 seed form and SPKI) read and re-written byte for byte.
 * - Cross-check against liboqs (@oqs/liboqs-js, the Open Quantum Safe C
 *   library compiled to WebAssembly, an independent implementation), both
 *   ways: liboqs verifies our signatures (pure, empty context), our
 *   verifier accepts liboqs's signatures under liboqs's own keys, and each
 *   rejects the other's tampered ones.
 */
import assert from "node:assert/strict";
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { fromHex, toHex } from "../../core/bytes.ts";
import {
  decodeMlDsa65SignatureBase64,
  encodeMlDsa65SignatureBase64,
  ML_DSA_65_SIGNATURE_SIZE,
  MlDsa65PrivateKey,
  MlDsa65PublicKey,
  nobleMlDsa65,
} from "../../core/ml_dsa65.ts";
import { createLiboqsMlDsa65Engine } from "../../core/ml_dsa65_liboqs.ts";

const VECTORS = new URL("./vectors/", import.meta.url);
// deno-lint-ignore no-explicit-any
const load = (f: string): any => JSON.parse(Deno.readTextFileSync(new URL(f, VECTORS)));
const hex = (s: string) => fromHex(s.toLowerCase());
const up = (b: Uint8Array) => toHex(b).toUpperCase();

Deno.test("ACVP ML-DSA-65 keyGen: seed ξ gives NIST's pk and sk; our key derives the same pk", () => {
  const v = load("ML-DSA-65-keyGen.json");
  let n = 0;
  for (const g of v.testGroups) {
    assert.equal(g.parameterSet, "ML-DSA-65");
    for (const t of g.tests) {
      const k = ml_dsa65.keygen(hex(t.seed));
      assert.equal(up(k.publicKey), t.pk, `tcId ${t.tcId} pk`);
      assert.equal(up(k.secretKey), t.sk, `tcId ${t.tcId} sk`);
      assert.equal(up(MlDsa65PrivateKey.fromSeed(hex(t.seed)).publicKey.raw), t.pk);
      n++;
    }
  }
  assert.equal(n, 3);
});

Deno.test("ACVP ML-DSA-65 sigGen: deterministic and hedged (rnd) signatures match NIST's", () => {
  const v = load("ML-DSA-65-sigGen.json");
  const seen = { det: 0, hedged: 0 };
  for (const g of v.testGroups) {
    assert.equal(g.parameterSet, "ML-DSA-65");
    for (const t of g.tests) {
      const extraEntropy = g.deterministic ? false : hex(t.rnd);
      const sig = ml_dsa65.internal.sign(hex(t.message), hex(t.sk), { extraEntropy });
      assert.equal(up(sig), t.signature, `tgId ${g.tgId} tcId ${t.tcId}`);
      assert.equal(sig.length, ML_DSA_65_SIGNATURE_SIZE);
      seen[g.deterministic ? "det" : "hedged"]++;
    }
  }
  assert.deepEqual(seen, { det: 3, hedged: 3 });
});

Deno.test("ACVP ML-DSA-65 sigVer: accepts the good signature, rejects each kind of bad one", () => {
  const v = load("ML-DSA-65-sigVer.json");
  const verdicts = new Map<string, boolean>();
  for (const g of v.testGroups) {
    assert.equal(g.parameterSet, "ML-DSA-65");
    for (const t of g.tests) {
      const ok = ml_dsa65.internal.verify(hex(t.signature), hex(t.message), hex(g.pk));
      assert.equal(ok, t.testPassed, `tcId ${t.tcId} (${t.reason})`);
      verdicts.set(t.reason, ok);
    }
  }
  assert.deepEqual(Object.fromEntries(verdicts), {
    "no modification": true,
    "modify message": false,
    "modify signature": false,
    "too many hints": false,
    "z too large": false,
  });
});

Deno.test("key encodings: the LAMPS example seed key and public key round-trip byte for byte", () => {
  const privPem = Deno.readTextFileSync(new URL("ML-DSA-65-seed.priv", VECTORS));
  const pubPem = Deno.readTextFileSync(new URL("ML-DSA-65.pub", VECTORS));
  const key = MlDsa65PrivateKey.fromPkcs8Pem(privPem);
  assert.equal(key.toPkcs8Pem(), privPem);
  // The example's seed is 0x00..0x1f; its public key is what ML-DSA.KeyGen makes of it.
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
  assert.deepEqual(MlDsa65PrivateKey.fromSeed(seed).publicKey.raw, key.publicKey.raw);
  const pub = MlDsa65PublicKey.fromPem(pubPem);
  assert.ok(pub.equals(key.publicKey));
  assert.equal(pub.toPem(), pubPem);
  assert.equal(key.publicKey.toPem(), pubPem);
  // Other keys are refused with a reason.
  assert.throws(() => MlDsa65PublicKey.fromPem(privPem), /not a PEM PUBLIC KEY/);
  assert.throws(() => MlDsa65PrivateKey.fromPkcs8Pem(pubPem), /not a PEM PRIVATE KEY/);
  const ed25519Spki =
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n" +
    "-----END PUBLIC KEY-----\n";
  assert.throws(() => MlDsa65PublicKey.fromPem(ed25519Spki), /not an ML-DSA-65 SPKI/);
  // The secret never shows in JSON or inspection.
  const secretLine = privPem.split("\n")[1];
  assert.ok(!JSON.stringify(key).includes(secretLine.slice(20)));
  assert.ok(!Deno.inspect(key).includes(secretLine.slice(20)));
});

Deno.test("signature base64: exactly 3309 bytes of canonical standard base64", () => {
  const sig = new Uint8Array(ML_DSA_65_SIGNATURE_SIZE).map((_, i) => i);
  const b64 = encodeMlDsa65SignatureBase64(sig);
  assert.deepEqual(decodeMlDsa65SignatureBase64(b64), sig);
  assert.equal(decodeMlDsa65SignatureBase64(b64.slice(0, -4)), undefined);
  assert.equal(decodeMlDsa65SignatureBase64(b64.replaceAll("+", "-")), undefined);
  assert.equal(b64.length, 4412); // 3309 = 3 × 1103: no padding
  assert.equal(decodeMlDsa65SignatureBase64(b64.slice(0, -4) + "AA=="), undefined);
  assert.equal(decodeMlDsa65SignatureBase64(" " + b64.slice(1)), undefined);
});

Deno.test("liboqs cross-check: liboqs verifies ours, ours verifies liboqs's, both reject tampering", async () => {
  const oqs = await createLiboqsMlDsa65Engine();
  try {
    const message = new TextEncoder().encode('{"schema":"regledger.envelope.v1"}');
    // Ours (noble, hedged and deterministic) → liboqs.
    const ours = MlDsa65PrivateKey.generate();
    for (const deterministic of [false, true]) {
      const sig = ours.sign(message, { deterministic });
      assert.equal(oqs.verify(sig, message, ours.publicKey.raw), true);
      assert.equal(ours.publicKey.verify(sig, message, oqs), true);
      const bad = sig.slice();
      bad[1000] ^= 0x40;
      assert.equal(oqs.verify(bad, message, ours.publicKey.raw), false);
    }
    // A nonempty context is a different message: liboqs's empty-context verify refuses it.
    const withContext = ml_dsa65.sign(message, MlDsa65PrivateKeyHelper.secret(ours), {
      context: new Uint8Array([1]),
    });
    assert.equal(oqs.verify(withContext, message, ours.publicKey.raw), false);
    // liboqs's keys and signatures → ours.
    const theirs = oqs.generateKeyPair();
    const theirSig = oqs.sign(message, theirs.secretKey, false);
    const theirKey = MlDsa65PublicKey.fromRaw(theirs.publicKey);
    assert.equal(theirKey.verify(theirSig, message), true);
    assert.equal(nobleMlDsa65.verify(theirSig, message, theirs.publicKey), true);
    const other = message.slice();
    other[0] ^= 1;
    assert.equal(theirKey.verify(theirSig, other), false);
    // Our engine signing with liboqs's secret key gives a signature liboqs accepts.
    const sig2 = nobleMlDsa65.sign(message, theirs.secretKey, false);
    assert.equal(oqs.verify(sig2, message, theirs.publicKey), true);
  } finally {
    oqs.destroy();
  }
});

/** The FIPS 204 secret key of a private key, rebuilt from its PKCS#8 seed (test only). */
const MlDsa65PrivateKeyHelper = {
  secret(key: MlDsa65PrivateKey): Uint8Array {
    const der = Uint8Array.from(
      atob(key.toPkcs8Pem().split("\n").slice(1, -2).join("")),
      (c) => c.charCodeAt(0),
    );
    return ml_dsa65.keygen(der.slice(-32)).secretKey;
  },
};
