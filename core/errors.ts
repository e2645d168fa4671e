/**
 * Error classes shared across regledger. Every error carries a stable
 * `name` (used as `reason` by the CLI and HTTP API) and may carry `cause`.
 *
 * @module
 */

/** Base of every regledger error. */
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

/** An envelope is not shaped as CONTRACT.md §3 requires (missing or mistyped field). */
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
 * Base of the typed envelope verification failures (CONTRACT.md §3). The
 * class name is the `reason` reported by the CLI and HTTP API.
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

/** The envelope's key id is not in the trust store, or its embedded key is not the registered one. */
export class UntrustedIssuer extends EnvelopeVerificationError {}

/** The envelope's key id is revoked in the trust store. */
export class RevokedIssuer extends EnvelopeVerificationError {}

/** The envelope's `parameter_set_hash` differs from the hash pinned for its key id. */
export class WrongParameterSet extends EnvelopeVerificationError {}

/** The canonical signed body does not hash to `receipt.sha256` (or the parameter-set hash is wrong). */
export class HashMismatch extends EnvelopeVerificationError {}

/** The Ed25519 signature does not verify over the canonical signed body. */
export class InvalidSignature extends EnvelopeVerificationError {}

/** A supplied timestamp verifier rejected the envelope's timestamp block. */
export class TimestampInvalid extends EnvelopeVerificationError {}
