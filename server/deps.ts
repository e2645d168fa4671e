/**
 * What the HTTP layer needs from the rest of regledger, as three small
 * interfaces. `server/services.ts` implements them over `core/` and
 * `ledger/`; tests may pass their own. Keeping the seam narrow means a route
 * never reaches into storage or crypto directly.
 *
 * @module
 */
import type { ParsedEnvelope, PrimitiveName } from "../core/envelope_types.ts";

/** The answer of `POST /v1/envelopes` (CONTRACT §5): hashes in standard base64. */
export interface AppendReceipt {
  /** The entry's index in the log. */
  index: number;
  /** Size of the tree the proof and checkpoint are for. */
  tree_size: number;
  /** RFC 6962 leaf hash, base64. */
  leaf_hash: string;
  /** SHA-256 of the envelope's canonical bytes, base64. */
  envelope_sha256: string;
  /** A signed C2SP checkpoint for `tree_size`. */
  checkpoint: string;
  /** RFC 6962 inclusion proof of `index` in `tree_size`, base64 hashes. */
  inclusion_proof: string[];
  /** C2SP `tlog-proof@v1` text. */
  tlog_proof: string;
}

/** Result of an append: the receipt and whether the envelope was already logged. */
export interface AppendOutcome {
  /** The receipt. */
  receipt: AppendReceipt;
  /** True when the same envelope was already in the log (nothing was written). */
  existing: boolean;
}

/** One stored log entry. */
export interface StoredEntry {
  /** The entry's index. */
  index: number;
  /** The exact leaf bytes. */
  leaf: Uint8Array;
  /** RFC 6962 leaf hash of `leaf`. */
  leafHash: Uint8Array;
  /** The envelope's canonical bytes exactly as stored (valid UTF-8 JSON). */
  envelope: Uint8Array;
}

/** One entry in a query answer (the leaf's fields, no envelope). */
export interface EntrySummary {
  /** The entry's index. */
  index: number;
  /** RFC 6962 leaf hash, base64. */
  leaf_hash: string;
  /** SHA-256 of the envelope's canonical bytes, base64. */
  envelope_sha256: string;
  /** The envelope's issuer. */
  issuer: string;
  /** The envelope's primitive. */
  primitive: string;
  /** The envelope's `issued_at`. */
  issued_at: string;
  /** The envelope's `receipt.key_id`. */
  key_id: string;
}

/** Filters of `GET /v1/log/entries`; all optional, combined with AND. */
export interface EntryQuery {
  /** Exact issuer. */
  issuer?: string;
  /** Exact primitive. */
  primitive?: string;
  /** Inclusive lower bound on `issued_at` (RFC 3339, compared as instants). */
  from?: string;
  /** Exclusive upper bound on `issued_at`. */
  to?: string;
  /** Start scanning at this index (a previous page's `next_cursor`). */
  start?: number;
  /** Most entries to return. */
  limit: number;
}

/** A page of query results. */
export interface EntryPage {
  /** Matching entries in index order. */
  entries: EntrySummary[];
  /** Index to pass as `cursor` for the next page (where the scan stopped), or `null` at the end. */
  next_cursor: number | null;
}

/** The log, as the server uses it. */
export interface LogService {
  /** Append a verified envelope (idempotent by envelope hash). */
  append(parsed: ParsedEnvelope): Promise<AppendOutcome>;
  /** Current tree size. */
  size(): Promise<number>;
  /** Entry `index` (`0 ≤ index < size()`, checked by the caller). */
  get(index: number): Promise<StoredEntry>;
  /** The latest signed checkpoint text. */
  checkpoint(): Promise<string>;
  /** The verifier key in Go note format. */
  verifierKey(): string;
  /** Inclusion proof of `index` in the tree of size `treeSize` (checked by the caller). */
  proveInclusion(index: number, treeSize: number): Promise<Uint8Array[]>;
  /** Consistency proof between sizes `first ≤ second ≤ size()` (checked by the caller). */
  proveConsistency(first: number, second: number): Promise<Uint8Array[]>;
  /** A C2SP `tlog-proof@v1` text for entry `index` under `checkpoint`. */
  formatTlogProof(index: number, leaf: Uint8Array, proof: Uint8Array[], checkpoint: string): string;
  /** Entries matching a filter. */
  query(q: EntryQuery): Promise<EntryPage>;
  /** Index of the entry holding the envelope with this SHA-256, if logged. */
  findByEnvelopeHash?(sha256: Uint8Array): Promise<number | undefined>;
  /** Group-commit batch sizes observed since the last call (optional ledger hook). */
  drainBatchSizes?(): number[];
  /** Wait for in-flight appends and close storage. */
  close(): Promise<void>;
}

/** What verification found for a valid envelope. */
export interface VerifiedEnvelope {
  /** `native` or `legacy`. */
  kind: "native" | "legacy";
  /** The issuer key id that signed it. */
  key_id: string;
}

/** Counts of the trust store in use. */
export interface TrustStoreSummary {
  /** Trusted keys (including the server's own issuer key). */
  keys: number;
  /** Revoked key ids. */
  revoked: number;
}

/** Envelope parsing and verification against the server's trust store. */
export interface EnvelopeService {
  /** Parse an envelope text (lossless); throws `JsonParseError` / `InputValidationError`. */
  parse(text: string): ParsedEnvelope;
  /** Verify strictly against the current trust store; throws a typed `EnvelopeVerificationError`. */
  verify(parsed: ParsedEnvelope): Promise<VerifiedEnvelope>;
  /** Re-read the trust store file; the old store stays in use if this throws. */
  reloadTrustStore(): Promise<TrustStoreSummary>;
  /** Counts of the trust store in use. */
  trustStoreSummary(): TrustStoreSummary;
}

/** Running an audit on the server and signing its envelope. */
export interface AuditService {
  /** Primitives the server runs. */
  readonly primitives: readonly PrimitiveName[];
  /** Backends the server runs (`plaintext`, and `ckks` once available). */
  readonly backends: readonly string[];
  /**
   * Validate `input` against the primitive's schema, run it on `backend`,
   * and return the envelope signed with the server's issuer key.
   * Throws `InputValidationError` for bad input.
   */
  run(primitive: PrimitiveName, input: unknown, backend: string): Promise<ParsedEnvelope>;
}

/** The bundled JSON Schemas. */
export interface SchemaService {
  /** Names of every schema. */
  list(): string[];
  /** One schema by name, or `undefined`. */
  get(name: string): Record<string, unknown> | undefined;
}

/** Everything `createApp` calls. */
export interface ServerDeps {
  /** The log. */
  log: LogService;
  /** Envelope verification. */
  envelopes: EnvelopeService;
  /** Audits run on the server. */
  audits: AuditService;
  /** JSON Schemas. */
  schemas: SchemaService;
  /** Log origin (shown by `/version`). */
  origin: string;
}
