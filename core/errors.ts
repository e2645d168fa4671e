/**
 * Error classes shared across regledger. Every error carries a stable
 * `name` (used as `reason` by the CLI and HTTP API) and may carry `cause`.
 *
 * @module
 */

/**
 * Base of every regledger error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RegledgerError } from "./errors.ts";
 * import { parseEnvelopeText } from "./envelope.ts";
 *
 * // Every regledger failure is a RegledgerError whose name is its class.
 * assert.throws(() => parseEnvelopeText("{"), (e) => {
 *   assert.ok(e instanceof RegledgerError);
 *   assert.equal(e.name, "JsonParseError");
 *   return true;
 * });
 * ```
 */
export class RegledgerError extends Error {
  /** Build an error with a message and optional cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * An input failed validation before any computation. `pointer` is the JSON
 * pointer (RFC 6901) of the offending field, `rule` the rule it broke.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InputValidationError } from "./errors.ts";
 * import { validate } from "./validate.ts";
 *
 * assert.throws(() => validate("drift.input", { p: [0.5, 0.5] }), (e) => {
 *   assert.ok(e instanceof InputValidationError);
 *   assert.equal(e.pointer, "/q");
 *   assert.equal(e.rule, "required");
 *   return true;
 * });
 * ```
 */
export class InputValidationError extends RegledgerError {
  /** JSON pointer of the bad field ("" for the document itself). */
  readonly pointer: string;
  /** The rule that failed, e.g. `finite`, `binary`, `same-length`. */
  readonly rule: string;
  /** Build a validation error. */
  constructor(pointer: string, rule: string, message: string, options?: ErrorOptions) {
    super(`${pointer || "/"}: ${message}`, options);
    this.pointer = pointer;
    this.rule = rule;
  }
}

/** A circuit needed more multiplicative depth than it declared. */
export class DepthBudgetExceededError extends RegledgerError {
  /** The declared budget. */
  readonly declared: number;
  /** The level the operation would have reached. */
  readonly attempted: number;
  /** Build the error. */
  constructor(declared: number, attempted: number, options?: ErrorOptions) {
    super(
      `depth budget exceeded: operation would reach level ${attempted}, budget is ${declared}`,
      options,
    );
    this.declared = declared;
    this.attempted = attempted;
  }
}

/**
 * A JSON text was rejected: bad syntax, invalid UTF-8, or a hostile-input
 * limit (size, nesting depth, number length, duplicate key) was exceeded.
 * `offset` is the position of the problem (a byte offset for byte input
 * that is not valid UTF-8, otherwise a UTF-16 code-unit offset in the text).
 */
export class JsonParseError extends RegledgerError {
  /** The rule that failed, e.g. `syntax`, `max-depth`, `duplicate-key`, `utf-8`. */
  readonly rule: string;
  /** Where the problem was found. */
  readonly offset: number;
  /** Build a parse error. */
  constructor(rule: string, offset: number, message: string, options?: ErrorOptions) {
    super(`invalid JSON at offset ${offset}: ${message}`, options);
    this.rule = rule;
    this.offset = offset;
  }
}

/** An envelope is not shaped as `docs/formats.md` §2.1 requires (missing or mistyped field). */
export class EnvelopeFormatError extends InputValidationError {}

/** A trust store is malformed; the message names the problem and the key id. */
export class TrustStoreError extends RegledgerError {}

/**
 * A key provider failed: an external signer threw, returned something that
 * is not a 64-byte signature, or returned a signature that does not verify
 * under its own public key. No envelope is produced.
 */
export class SignerError extends RegledgerError {}

/**
 * Base of the typed envelope verification failures (`docs/formats.md` §2.5). The
 * class name is the `reason` reported by the CLI and HTTP API.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EnvelopeVerificationError } from "./errors.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
 * import { verifyEnvelope } from "./verify.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 *
 * // Any typed failure is an EnvelopeVerificationError; its name is the CLI/HTTP `reason`.
 * const other = await InProcessKeyProvider.generate("k2");
 * const store = TrustStore.fromObject({ k2: other.publicKeyPem });
 * await assert.rejects(verifyEnvelope(parseEnvelopeValue(envelope), store), (e) => {
 *   assert.ok(e instanceof EnvelopeVerificationError);
 *   assert.equal(e.name, "UntrustedIssuer");
 *   assert.equal(e.keyId, "k1");
 *   return true;
 * });
 * ```
 */
export class EnvelopeVerificationError extends RegledgerError {
  /** The `receipt.key_id` of the envelope that failed, when it had one. */
  readonly keyId: string | undefined;
  /** Build a verification failure. */
  constructor(message: string, keyId?: string, options?: ErrorOptions) {
    super(message, options);
    this.keyId = keyId;
  }
}

/**
 * The envelope's key id is not in the trust store, or its embedded key is not the registered one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UntrustedIssuer } from "./errors.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
 * import { verifyEnvelope } from "./verify.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 *
 * // The trust store knows another issuer only.
 * const other = await InProcessKeyProvider.generate("k2");
 * const strangers = TrustStore.fromObject({ keys: { k2: other.publicKeyPem } });
 * await assert.rejects(verifyEnvelope(parseEnvelopeValue(envelope), strangers), UntrustedIssuer);
 * ```
 */
export class UntrustedIssuer extends EnvelopeVerificationError {}

/**
 * The envelope's key id is revoked in the trust store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RevokedIssuer } from "./errors.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
 * import { verifyEnvelope } from "./verify.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 *
 * const store = TrustStore.fromObject({ keys: { k1: key.publicKeyPem }, revoked: ["k1"] });
 * await assert.rejects(verifyEnvelope(parseEnvelopeValue(envelope), store), RevokedIssuer);
 * ```
 */
export class RevokedIssuer extends EnvelopeVerificationError {}

/**
 * The envelope's `parameter_set_hash` differs from the hash pinned for its key id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WrongParameterSet } from "./errors.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
 * import { verifyEnvelope } from "./verify.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 *
 * const store = TrustStore.fromObject({
 *   keys: { k1: key.publicKeyPem },
 *   parameter_set_pins: { k1: "0".repeat(64) },
 * });
 * await assert.rejects(verifyEnvelope(parseEnvelopeValue(envelope), store), WrongParameterSet);
 * ```
 */
export class WrongParameterSet extends EnvelopeVerificationError {}

/**
 * The canonical signed body does not hash to `receipt.sha256` (or the parameter-set hash is wrong).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HashMismatch } from "./errors.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
 * import { verifyEnvelope } from "./verify.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 *
 * // The result was changed after signing.
 * const tampered = { ...envelope, result: { cvm: 0.9 } };
 * const store = TrustStore.fromObject({ keys: { k1: key.publicKeyPem } });
 * await assert.rejects(verifyEnvelope(parseEnvelopeValue(tampered), store), HashMismatch);
 * ```
 */
export class HashMismatch extends EnvelopeVerificationError {}

/**
 * The Ed25519 signature does not verify over the canonical signed body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidSignature } from "./errors.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
 * import { verifyEnvelope } from "./verify.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 *
 * // A real signature of the same key, but over another body.
 * const other = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.2 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 * const forged = {
 *   ...envelope,
 *   receipt: { ...envelope.receipt, signature_b64: other.receipt.signature_b64 },
 * };
 * const store = TrustStore.fromObject({ keys: { k1: key.publicKeyPem } });
 * await assert.rejects(verifyEnvelope(parseEnvelopeValue(forged), store), InvalidSignature);
 * ```
 */
export class InvalidSignature extends EnvelopeVerificationError {}

/**
 * A supplied timestamp verifier rejected the envelope's timestamp block.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TimestampInvalid } from "./errors.ts";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
 * import { verifyEnvelope } from "./verify.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 *
 * const stamped = { ...envelope, timestamp: { tsa: "example", token_b64: "AAAA" } };
 * const store = TrustStore.fromObject({ keys: { k1: key.publicKeyPem } });
 * const timestampVerifier = () => false; // e.g. an RFC 3161 check that failed
 * await assert.rejects(
 *   verifyEnvelope(parseEnvelopeValue(stamped), store, { timestampVerifier }),
 *   TimestampInvalid,
 * );
 * ```
 */
export class TimestampInvalid extends EnvelopeVerificationError {}
