/**
 * The ledger's public API: open a log on a store (Deno KV or memory),
 * append, read, prove, query and audit; the store interface a new engine
 * implements; the log client for a remote server.
 *
 * @module
 */
export {
  type AppendResult,
  type CommitInfo,
  type ConsistencyProofJson,
  type EntrySummary,
  entryToJson,
  type InclusionProofJson,
  Ledger,
  LedgerCorruptionError,
  LedgerInputError,
  LedgerRangeError,
  LedgerStateError,
  type LogEntry,
  openLedger,
  type OpenLedgerOptions,
  type QueryOptions,
  type QueryResult,
} from "./ledger.ts";
export {
  verifyLog,
  type VerifyLogOptions,
  type VerifyLogResult,
  type VerifyProgress,
} from "./verify_log.ts";
export { type CheckedEntry, checkEntry, EntryCheckError, type EntryRule } from "./entry_check.ts";
export { DEFAULT_ORIGIN, loadOrCreateLogKey, LOG_KEY_FILE, LogKeyError } from "./log_key.ts";
export { KvStore } from "./kv_store.ts";
export { MAX_ENVELOPE_BYTES } from "./kv_codec.ts";
export { MemoryStore, type MemoryStoreOptions } from "./memory_store.ts";
export type * from "./store.ts";
