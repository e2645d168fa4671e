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

/**
 * An envelope the ledger cannot store (too large, a field too long): a 4xx.
 *
 * @example An issuer name over 512 UTF-8 bytes is refused, naming the field
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { LedgerInputError } from "./errors.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * const envelope = await signAuditRun(run, key, { issuer: "a".repeat(600) });
 * await assert.rejects(
 *   ledger.append(parseEnvelopeValue(envelope)),
 *   (e) => e instanceof LedgerInputError && e.pointer === "/issuer",
 * );
 * assert.equal(await ledger.size(), 0); // nothing was appended
 * await ledger.close();
 * ```
 */
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

/**
 * The disk holding the ledger is full: the write was refused and nothing of
 * it was acknowledged. Appends work again once space returns; no restart is
 * needed. `cause` holds the store's own error.
 */
export class LedgerStorageFullError extends LedgerStateError {}

/**
 * Whether `e` (from Deno KV, SQLite or a file write) says the disk is full:
 * SQLite's `SQLITE_FULL` ("database or disk is full") or the system's
 * `ENOSPC` ("No space left on device", os error 28).
 */
export function isStorageFull(e: unknown): boolean {
  for (let x = e, depth = 0; x instanceof Error && depth < 4; x = x.cause, depth++) {
    if (x instanceof LedgerStorageFullError) return true;
    if (/database or disk is full|No space left on device|os error 28|ENOSPC/i.test(x.message)) {
      return true;
    }
  }
  return false;
}

/**
 * The ledger is a read-only mirror (`ledger mirror`): it holds no signing
 * key and takes no appends; append to the log it mirrors.
 */
export class LedgerReadOnlyError extends LedgerStateError {}

/**
 * The stored data is not what the ledger wrote (decoding failed).
 *
 * @example An entry overwritten behind the ledger's back fails to read, naming its index
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { LedgerCorruptionError } from "./errors.ts";
 * import { entryKey } from "./kv_layout.ts";
 * import { openLedger } from "./ledger.ts";
 * const dataDir = await Deno.makeTempDir();
 * try {
 *   const key = await InProcessKeyProvider.generate("acme-1");
 *   const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 *   const ledger = await openLedger({ dataDir, origin: "example.org/log" });
 *   await ledger.append(parseEnvelopeValue(await signAuditRun(run, key, { issuer: "acme" })));
 *   await ledger.close();
 *   const kv = await Deno.openKv(`${dataDir}/ledger.kv`);
 *   await kv.set(entryKey(0), new Uint8Array([0xff, 0, 0, 0])); // not an entry the ledger wrote
 *   kv.close();
 *   const reopened = await openLedger({ dataDir, origin: "example.org/log" });
 *   await assert.rejects(
 *     reopened.get(0),
 *     (e) => e instanceof LedgerCorruptionError && e.index === 0,
 *   );
 *   const audit = await reopened.verify(); // the audit reports it instead of throwing
 *   assert.equal(audit.ok, false);
 *   assert.equal(audit.first_bad_index, 0);
 *   await reopened.close();
 * } finally {
 *   await Deno.remove(dataDir, { recursive: true });
 * }
 * ```
 */
export class LedgerCorruptionError extends RegledgerError {
  /** The entry index the bad data belongs to, when known. */
  readonly index: number | undefined;
  /** Build the error. */
  constructor(message: string, index?: number, options?: ErrorOptions) {
    super(message, options);
    this.index = index;
  }
}
