/**
 * The ledger's public API: open a log on Deno KV, append, read, prove,
 * query and audit; plus the pure verifiers (Merkle proofs, checkpoints,
 * receipts) that run anywhere.
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
export { DEFAULT_ORIGIN, loadOrCreateLogKey, LOG_KEY_FILE, LogKeyError } from "./log_key.ts";
export {
  type DecodedEntryValue,
  KvStore,
  LedgerCorruptionError,
  MAX_ENVELOPE_BYTES,
} from "./kv_store.ts";
export type * from "./store.ts";
