/**
 * The ledger's error classes. Each carries a stable `name` (the CLI and HTTP
 * API report it) and may carry `cause`.
 *
 * @module
 */
import { RegledgerError } from "../core/errors.ts";

/** A bad argument (index or size out of range, malformed cursor): a 4xx, not a 5xx. */
export class LedgerRangeError extends RegledgerError {
  /** The argument at fault. */
  readonly argument: string;
  /** Build the error. */
  constructor(argument: string, message: string, options?: ErrorOptions) {
    super(`${argument}: ${message}`, options);
    this.argument = argument;
  }
}

/** An envelope the ledger cannot store (too large, a field too long): a 4xx. */
export class LedgerInputError extends RegledgerError {
  /** The envelope field at fault, as a JSON pointer ("" for the whole envelope). */
  readonly pointer: string;
  /** Build the error. */
  constructor(pointer: string, message: string, options?: ErrorOptions) {
    super(`${pointer || "/"}: ${message}`, options);
    this.pointer = pointer;
  }
}

/**
 * The store belongs to another log (other origin or key), the ledger is
 * closed, or the storage engine is not available (Deno KV without
 * `--unstable-kv`).
 */
export class LedgerStateError extends RegledgerError {}

/** The stored data is not what the ledger wrote (decoding failed). */
export class LedgerCorruptionError extends RegledgerError {
  /** The entry index the bad data belongs to, when known. */
  readonly index: number | undefined;
  /** Build the error. */
  constructor(message: string, index?: number, options?: ErrorOptions) {
    super(message, options);
    this.index = index;
  }
}
