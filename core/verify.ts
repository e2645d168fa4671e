/**
 * Envelope verification against a trust store (`docs/formats.md` §2.5).
 *
 * Checks run in regaudit-fhe's order and the first failure is reported:
 *
 * 1. `receipt.key_id` not in the trust store → {@linkcode UntrustedIssuer}
 * 2. key id revoked → {@linkcode RevokedIssuer}
 * 3. a pinned parameter-set hash differs from `parameter_set_hash` → {@linkcode WrongParameterSet}
 * 4. the canonical signed body does not hash to `receipt.sha256` (or, for a
 *    native envelope, `parameter_set_hash` is not the JCS hash of
 *    `parameter_set`) → {@linkcode HashMismatch}
 * 5. the Ed25519 signature over the canonical body does not verify under the
 *    embedded `receipt.public_key_pem` → {@linkcode InvalidSignature}; for a
 *    hybrid issuer (the trust store lists an ML-DSA-65 key for the key id,
 *    `docs/formats.md` §2.7) the ML-DSA-65 signature is missing or does not
 *    verify over the same bytes → {@linkcode InvalidSignature}, as when a
 *    receipt carries an ML-DSA-65 signature that does not verify under its
 *    embedded `pq_public_key_pem`
 * 6. an embedded key is not the key registered for the key id (or the
 *    receipt carries an ML-DSA-65 key where the trust store lists none) →
 *    {@linkcode UntrustedIssuer}
 * 7. the `timestamp` block is refused → {@linkcode TimestampInvalid}: a supplied
 *    timestamp verifier rejects it; or, with no verifier, a native envelope
 *    carries one (nothing unsigned is accepted unchecked); or a legacy
 *    envelope carries one without a non-empty `token_b64` (regaudit-fhe
 *    0.0.8's own rule; it accepts `"timestamp": null`, as absent). A legacy
 *    block with a token and no verifier keeps regaudit-fhe's verdict (valid)
 *    and is reported `not-checked`; {@linkcode VerifyOptions.forStorage}
 *    refuses it too, since the ledger stores only checked timestamps.
 *
 * Without a trust store verification refuses; {@linkcode verifySelfSignedOnly}
 * (steps 4–5 and 7 only) exists for diagnostics and says so in its result.
 *
 * @module
 */
import { toBase64 } from "./bytes.ts";
import { decodeSignatureBase64, Ed25519PublicKey } from "./ed25519.ts";
import { type ResolvedEnvelope, resolveEnvelope } from "./envelope.ts";
import type { ParsedEnvelope } from "./envelope_types.ts";
import {
  EnvelopeVerificationError,
  HashMismatch,
  InvalidSignature,
  RevokedIssuer,
  TrustStoreError,
  UntrustedIssuer,
  WrongParameterSet,
} from "./errors.ts";
import { TrustStore } from "./trust_store.ts";
import {
  decodeMlDsa65SignatureBase64,
  ML_DSA_65_ALG,
  type MlDsa65Engine,
  MlDsa65PublicKey,
} from "./ml_dsa65.ts";
import { checkTimestamp, type TimestampStatus, type TimestampVerifier } from "./timestamp.ts";

export type { TimestampStatus, TimestampVerifier } from "./timestamp.ts";

/**
 * Options of {@linkcode verifyEnvelope} and friends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyEnvelope, type VerifyOptions } from "./verify.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
import {
  decodeMlDsa65SignatureBase64,
  ML_DSA_65_ALG,
  type MlDsa65Engine,
  MlDsa65PublicKey,
} from "./ml_dsa65.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = parseEnvelopeValue(await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key));
 * const store = TrustStore.fromObject({ k1: key.publicKeyPem });
 *
 * // Without a timestamp verifier, a native envelope with a timestamp block is refused.
 * const options: VerifyOptions = { timestampVerifier: () => true };
 * const r = await verifyEnvelope(envelope, store, options);
 * assert.equal(r.timestamp, "absent"); // this envelope has no timestamp block
 * ```
 */
export interface VerifyOptions {
  /**
   * Verifies the `timestamp` block when one is present. Without it a native
   * envelope's block is {@linkcode TimestampInvalid} and a legacy one's is
   * reported `not-checked` (see the module documentation).
   */
  timestampVerifier?: TimestampVerifier;
  /**
   * The envelope is about to be stored (ledger append): a timestamp block
   * that no verifier checked is {@linkcode TimestampInvalid} for legacy
   * envelopes too.
   * @default {false}
   */
  forStorage?: boolean;
  /**
   * The ML-DSA-65 implementation that checks hybrid issuers' signatures
   * (`createLiboqsMlDsa65Engine()` of `./ml_dsa65_liboqs.ts` is faster).
   * @default {nobleMlDsa65}
   */
  mlDsa65Engine?: MlDsa65Engine;
}

/**
 * What a successful verification established.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type VerificationResult, verifyEnvelope } from "./verify.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
import {
  decodeMlDsa65SignatureBase64,
  ML_DSA_65_ALG,
  type MlDsa65Engine,
  MlDsa65PublicKey,
} from "./ml_dsa65.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = parseEnvelopeValue(await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key));
 * const store = TrustStore.fromObject({ k1: key.publicKeyPem });
 *
 * const r: VerificationResult = await verifyEnvelope(envelope, store);
 * assert.deepEqual([r.valid, r.kind, r.trust, r.timestamp], [true, "native", "trust-store", "absent"]);
 * assert.equal(r.body_sha256, envelope.value.receipt.sha256);
 * ```
 */
export interface VerificationResult {
  /** Always true. */
  valid: true;
  /** `trust-store`: the issuer key is registered and not revoked; `self-signed-only`: it was not checked. */
  trust: "trust-store" | "self-signed-only";
  /** `native` (JCS) or `legacy` (regaudit-fhe Python form). */
  kind: "native" | "legacy";
  /** `receipt.key_id`. */
  key_id: string;
  /** The envelope's `issuer`. */
  issuer: string;
  /** The envelope's `primitive`. */
  primitive: string;
  /**
   * SHA-256 of the whole canonical envelope (its ledger identity), standard
   * base64 as everywhere in the log API and leaves (`docs/formats.md` §2.6).
   */
  envelope_sha256: string;
  /** `receipt.sha256`, recomputed and matched. */
  body_sha256: string;
  /**
   * Whether a timestamp block was absent (or a legacy `null`), verified by
   * the supplied verifier, or present but not checked (legacy only: native
   * envelopes with an unchecked block are refused).
   */
  timestamp: TimestampStatus;
}

/**
 * The non-throwing form: a {@linkcode VerificationResult} or a typed failure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkEnvelope, type CheckResult } from "./verify.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
import {
  decodeMlDsa65SignatureBase64,
  ML_DSA_65_ALG,
  type MlDsa65Engine,
  MlDsa65PublicKey,
} from "./ml_dsa65.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = parseEnvelopeValue(await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key));
 * const store = TrustStore.fromObject({ k1: key.publicKeyPem });
 *
 * const r: CheckResult = await checkEnvelope(envelope, store);
 * assert.ok(r.valid);
 * assert.equal(r.key_id, "k1");
 * assert.equal(r.envelope_sha256.length, 44); // standard base64 of 32 bytes
 * ```
 */
export type CheckResult = VerificationResult | {
  /** Always false. */
  valid: false;
  /** The failure's class name: UntrustedIssuer, RevokedIssuer, WrongParameterSet, HashMismatch, InvalidSignature or TimestampInvalid. */
  reason: string;
  /** What failed, in words. */
  message: string;
  /** Whether a trust store was used. */
  trust: "trust-store" | "self-signed-only";
  /** `receipt.key_id`. */
  key_id: string;
  /** SHA-256 of the whole canonical envelope, standard base64. */
  envelope_sha256: string;
};

/**
 * Verify `parsed` against `trustStore`; resolves to what was established or
 * rejects with the first typed failure (module docs give the order).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { UntrustedIssuer } from "./errors.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
import {
  decodeMlDsa65SignatureBase64,
  ML_DSA_65_ALG,
  type MlDsa65Engine,
  MlDsa65PublicKey,
} from "./ml_dsa65.ts";
 * import { verifyEnvelope } from "./verify.ts";
 * const signer = await InProcessKeyProvider.generate("k1");
 * const env = parseEnvelopeValue(await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, signer));
 * const store = TrustStore.fromObject({ k1: signer.publicKeyPem });
 * const r = await verifyEnvelope(env, store);
 * assert.equal(r.trust, "trust-store");
 * assert.equal(r.issuer, "acme");
 * // Signed by a key the trust store does not hold: a typed failure.
 * const other = TrustStore.fromObject({ k2: (await InProcessKeyProvider.generate("k2")).publicKeyPem });
 * await assert.rejects(verifyEnvelope(env, other), UntrustedIssuer);
 * ```
 *
 * @throws {UntrustedIssuer | RevokedIssuer | WrongParameterSet | HashMismatch | InvalidSignature | TimestampInvalid}
 * the first check that fails.
 * @throws {TrustStoreError} when `trustStore` is missing: verification refuses.
 */
export async function verifyEnvelope(
  parsed: ParsedEnvelope,
  trustStore: TrustStore,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  if (!(trustStore instanceof TrustStore)) {
    throw new TrustStoreError(
      "verification needs a trust store (use verifySelfSignedOnly to check only the embedded key)",
    );
  }
  const resolved = resolveEnvelope(parsed);
  const { envelope, body } = resolved;
  const env = envelope.value;
  const receipt = env.receipt;
  const keyId = receipt.key_id;
  const registered = trustStore.publicKey(keyId);
  if (!registered) {
    throw new UntrustedIssuer(`key_id ${JSON.stringify(keyId)} is not in the trust store`, keyId);
  }
  if (trustStore.isRevoked(keyId)) {
    throw new RevokedIssuer(`key_id ${JSON.stringify(keyId)} is revoked`, keyId);
  }
  const pin = trustStore.parameterSetPin(keyId);
  if (pin !== undefined && pin !== env.parameter_set_hash) {
    throw new WrongParameterSet(
      `parameter_set_hash ${env.parameter_set_hash} differs from the hash pinned for ${
        JSON.stringify(keyId)
      } (${pin})`,
      keyId,
    );
  }
  const bodySha = checkHashes(resolved);
  // The embedded key is usually the registered one (same PEM text, or the
  // same key written differently): then verify with its cached CryptoKey.
  let embedded = receipt.public_key_pem === registered.pem
    ? registered
    : checkedEmbeddedKey(receipt.public_key_pem, keyId);
  if (embedded !== registered && embedded.equals(registered)) embedded = registered;
  const pqRegistered = trustStore.mlDsa65PublicKey(keyId);
  const edChecked = checkSignature(embedded, envelope, body);
  let pqEmbedded: MlDsa65PublicKey | undefined;
  try {
    pqEmbedded = checkMlDsa65Signature(envelope, body, pqRegistered, options.mlDsa65Engine);
  } catch (e) {
    edChecked.catch(() => {}); // the first failure is reported, the other is not left unhandled
    throw e;
  }
  await edChecked;
  if (embedded !== registered) {
    throw new UntrustedIssuer(
      `embedded public key differs from the key registered for ${JSON.stringify(keyId)}`,
      keyId,
    );
  }
  if (pqEmbedded !== pqRegistered) {
    throw new UntrustedIssuer(
      pqRegistered === undefined
        ? `the receipt carries an ML-DSA-65 key, but the trust store lists none for ${
          JSON.stringify(keyId)
        } (not a hybrid issuer there)`
        : `embedded ML-DSA-65 public key differs from the key registered for ${
          JSON.stringify(keyId)
        }`,
      keyId,
    );
  }
  const timestamp = await checkTimestamp(envelope, body, options, keyId);
  return result(envelope, "trust-store", bodySha, timestamp);
}

/**
 * Check only what the envelope says about itself: its hashes, its signature
 * (both, for a hybrid receipt) under its own embedded key, and its timestamp
 * when a verifier is given. Without a trust store nothing says an issuer is
 * hybrid, so a receipt stripped of its ML-DSA-65 part passes here.
 * The issuer is NOT authenticated: the result says `trust: "self-signed-only"`.
 *
 * @throws {HashMismatch | InvalidSignature | TimestampInvalid} the first check that fails.
 */
export async function verifySelfSignedOnly(
  parsed: ParsedEnvelope,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  const resolved = resolveEnvelope(parsed);
  const { envelope, body } = resolved;
  const keyId = envelope.value.receipt.key_id;
  const bodySha = checkHashes(resolved);
  const embedded = checkedEmbeddedKey(envelope.value.receipt.public_key_pem, keyId);
  await checkSignature(embedded, envelope, body);
  checkMlDsa65Signature(envelope, body, undefined, options.mlDsa65Engine);
  const timestamp = await checkTimestamp(envelope, body, options, keyId);
  return result(envelope, "self-signed-only", bodySha, timestamp);
}

/**
 * {@linkcode verifyEnvelope} without throwing for typed failures:
 * `{valid: false, reason, message, ...}` names the first check that failed.
 *
 * @throws {TrustStoreError} when `trustStore` is missing (that is misuse, not a verdict).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkEnvelope } from "./verify.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
import {
  decodeMlDsa65SignatureBase64,
  ML_DSA_65_ALG,
  type MlDsa65Engine,
  MlDsa65PublicKey,
} from "./ml_dsa65.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = parseEnvelopeValue(await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key));
 * const store = TrustStore.fromObject({ k1: key.publicKeyPem });
 *
 * const ok = await checkEnvelope(envelope, store);
 * assert.equal(ok.valid, true);
 * const tampered = parseEnvelopeValue({ ...envelope.value, issuer: "mallory" });
 * const bad = await checkEnvelope(tampered, store);
 * assert.equal(bad.valid, false);
 * assert.equal(bad.valid ? "" : bad.reason, "HashMismatch");
 * ```
 */
export function checkEnvelope(
  parsed: ParsedEnvelope,
  trustStore: TrustStore,
  options: VerifyOptions = {},
): Promise<CheckResult> {
  if (!(trustStore instanceof TrustStore)) {
    return Promise.reject(
      new TrustStoreError(
        "verification needs a trust store (use checkSelfSignedOnly to check only the embedded key)",
      ),
    );
  }
  return asCheck(parsed, "trust-store", verifyEnvelope(parsed, trustStore, options));
}

/**
 * {@linkcode verifySelfSignedOnly} without throwing for typed failures; the
 * result always says `trust: "self-signed-only"`.
 */
export function checkSelfSignedOnly(
  parsed: ParsedEnvelope,
  options: VerifyOptions = {},
): Promise<CheckResult> {
  return asCheck(parsed, "self-signed-only", verifySelfSignedOnly(parsed, options));
}

async function asCheck(
  parsed: ParsedEnvelope,
  trust: "trust-store" | "self-signed-only",
  run: Promise<VerificationResult>,
): Promise<CheckResult> {
  try {
    return await run;
  } catch (e) {
    if (!(e instanceof EnvelopeVerificationError)) throw e;
    const { envelope } = resolveEnvelope(parsed);
    return {
      valid: false,
      reason: e.name,
      message: e.message,
      trust,
      key_id: envelope.value.receipt.key_id,
      envelope_sha256: toBase64(envelope.sha256),
    };
  }
}

function checkHashes(resolved: ResolvedEnvelope): string {
  const { envelope, bodySha256, parameterSetHash } = resolved;
  const keyId = envelope.value.receipt.key_id;
  if (bodySha256 !== envelope.value.receipt.sha256) {
    throw new HashMismatch(
      "the canonical signed body does not hash to receipt.sha256 (the envelope was changed)",
      keyId,
    );
  }
  if (envelope.kind === "native" && parameterSetHash !== envelope.value.parameter_set_hash) {
    throw new HashMismatch("parameter_set_hash is not the JCS SHA-256 of parameter_set", keyId);
  }
  return bodySha256;
}

function checkedEmbeddedKey(pem: string, keyId: string): Ed25519PublicKey {
  try {
    return Ed25519PublicKey.fromPem(pem);
  } catch (e) {
    throw new InvalidSignature(
      `receipt.public_key_pem is not an Ed25519 public key: ${(e as Error).message}`,
      keyId,
      { cause: e },
    );
  }
}

function checkSignature(
  key: Ed25519PublicKey,
  envelope: ParsedEnvelope,
  body: Uint8Array,
): Promise<void> {
  const receipt = envelope.value.receipt;
  if (receipt.signature_alg !== "Ed25519") {
    throw new InvalidSignature(
      `unsupported signature_alg ${JSON.stringify(receipt.signature_alg)} (expected Ed25519)`,
      receipt.key_id,
    );
  }
  const signature = decodeSignatureBase64(receipt.signature_b64);
  if (signature === undefined) {
    throw new InvalidSignature(
      "receipt.signature_b64 is not 64 bytes of canonical standard base64",
      receipt.key_id,
    );
  }
  return key.verify(signature, body).then((ok) => {
    if (!ok) {
      throw new InvalidSignature(
        "the Ed25519 signature does not verify over the canonical signed body",
        receipt.key_id,
      );
    }
  });
}

/**
 * Check a receipt's ML-DSA-65 part (§2.7) and return the key it verified
 * under: the registered one when the embedded PEM is that key, else the
 * embedded key (the caller decides whether that is trusted); `undefined`
 * when the receipt has no ML-DSA-65 part and `registered` does not ask for one.
 */
function checkMlDsa65Signature(
  envelope: ParsedEnvelope,
  body: Uint8Array,
  registered: MlDsa65PublicKey | undefined,
  engine: MlDsa65Engine | undefined,
): MlDsa65PublicKey | undefined {
  const receipt = envelope.value.receipt;
  const keyId = receipt.key_id;
  if (receipt.pq_signature_b64 === undefined) {
    if (registered === undefined) return undefined;
    throw new InvalidSignature(
      `${
        JSON.stringify(keyId)
      } is a hybrid issuer (Ed25519 + ML-DSA-65) and the receipt has no ML-DSA-65 signature`,
      keyId,
    );
  }
  if (receipt.pq_signature_alg !== ML_DSA_65_ALG) {
    throw new InvalidSignature(
      `unsupported pq_signature_alg ${
        JSON.stringify(receipt.pq_signature_alg)
      } (expected ${ML_DSA_65_ALG})`,
      keyId,
    );
  }
  let key: MlDsa65PublicKey;
  if (registered !== undefined && receipt.pq_public_key_pem === registered.pem) {
    key = registered;
  } else {
    try {
      key = MlDsa65PublicKey.fromPem(String(receipt.pq_public_key_pem));
    } catch (e) {
      throw new InvalidSignature(
        `receipt.pq_public_key_pem is not an ML-DSA-65 public key: ${(e as Error).message}`,
        keyId,
        { cause: e },
      );
    }
    if (registered !== undefined && key.equals(registered)) key = registered;
  }
  const signature = decodeMlDsa65SignatureBase64(receipt.pq_signature_b64);
  if (signature === undefined) {
    throw new InvalidSignature(
      "receipt.pq_signature_b64 is not 3309 bytes of canonical standard base64",
      keyId,
    );
  }
  if (!key.verify(signature, body, engine)) {
    throw new InvalidSignature(
      "the ML-DSA-65 signature does not verify over the canonical signed body",
      keyId,
    );
  }
  return key;
}

function result(
  envelope: ParsedEnvelope,
  trust: "trust-store" | "self-signed-only",
  bodySha: string,
  timestamp: TimestampStatus,
): VerificationResult {
  const env = envelope.value;
  return {
    valid: true,
    trust,
    kind: envelope.kind,
    key_id: env.receipt.key_id,
    issuer: String(env.issuer),
    primitive: String(env.primitive),
    envelope_sha256: toBase64(envelope.sha256),
    body_sha256: bodySha,
    timestamp,
  };
}
