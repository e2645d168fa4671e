/**
 * The ledger's wire types: what an append, a read, a proof and a query
 * return, in the JSON shapes of the HTTP API (schemas/*.json) so the server
 * and the log client pass them through unchanged.
 *
 * @module
 */

/** The receipt of an append (`POST /v1/envelopes`, schemas/append-response.json). */
export interface AppendResult {
  /** The entry's index. */
  index: number;
  /** Tree size the proof and checkpoint are for. */
  tree_size: number;
  /** base64 RFC 6962 leaf hash. */
  leaf_hash: string;
  /** base64 SHA-256 of the envelope's canonical bytes. */
  envelope_sha256: string;
  /** Signed C2SP checkpoint for `tree_size`. */
  checkpoint: string;
  /** base64 RFC 6962 audit path, leaf to root. */
  inclusion_proof: string[];
  /** C2SP `tlog-proof@v1` receipt (leaf bytes in `extra`). */
  tlog_proof: string;
  /** True when the envelope was already in the log (nothing was appended). */
  existing: boolean;
}

/** One log entry as served (`GET /v1/log/entries/{index}`). */
export interface LogEntry {
  /** The entry's index. */
  index: number;
  /** base64 of the exact leaf bytes. */
  leaf: string;
  /** base64 RFC 6962 leaf hash. */
  leaf_hash: string;
  /**
   * The envelope's canonical text (JCS, or for legacy envelopes Python's
   * form with numbers as received). Use {@link entryToJson} to embed it
   * raw, so numbers such as `1.0` survive. (A legacy envelope holding
   * Python's `NaN`/`Infinity` extension is stored as received, so its text
   * is not strict JSON.)
   */
  envelope: string;
}

/** An inclusion proof (`GET /v1/log/proof/inclusion`). */
export interface InclusionProofJson {
  /** Entry index. */
  index: number;
  /** Tree size the proof is for. */
  tree_size: number;
  /** base64 leaf hash. */
  leaf_hash: string;
  /** base64 audit path. */
  proof: string[];
}

/** A consistency proof (`GET /v1/log/proof/consistency`). */
export interface ConsistencyProofJson {
  /** Older tree size. */
  first: number;
  /** Newer tree size. */
  second: number;
  /** base64 RFC 6962 §2.1.2 proof. */
  proof: string[];
}

/** One query hit. */
export interface EntrySummary {
  /** Entry index. */
  index: number;
  /** Envelope `issued_at`. */
  issued_at: string;
  /** Envelope `issuer`. */
  issuer: string;
  /** Envelope `primitive`. */
  primitive: string;
  /** Envelope `receipt.key_id`. */
  key_id: string;
  /** base64 envelope SHA-256. */
  envelope_sha256: string;
  /** base64 leaf hash. */
  leaf_hash: string;
}

/** Query options: any combination; results in (issued_at, index) order. */
export interface QueryOptions {
  /** Only this issuer. */
  issuer?: string;
  /** Only this primitive. */
  primitive?: string;
  /** `issued_at >= from`, compared as instants (any RFC 3339 offset and precision). */
  from?: string;
  /** `issued_at < to`, compared as instants. */
  to?: string;
  /**
   * Only entries whose result breaches (true) or does not breach (false)
   * its threshold (`resultBreached` in core/primitives/breach.ts); results
   * of primitives without a threshold never breach.
   */
  breached?: boolean;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  /**
   * Page size, 1 to 1000.
   * @default {100}
   */
  limit?: number;
}

/** A page of query results. */
export interface QueryResult {
  /** The hits. */
  entries: EntrySummary[];
  /** Cursor for the next page, null at the end. */
  next_cursor: string | null;
}

/** What `OpenLedgerOptions.onCommit` reports for one commit. */
export interface CommitInfo {
  /** Tree size after the commit. */
  tree_size: number;
  /** Entries appended by the commit. */
  entries: number;
  /** Commit attempts (1 when no other writer interfered). */
  attempts: number;
}

/** Embed an entry as JSON with its canonical envelope text spliced in raw. */
export function entryToJson(entry: LogEntry): string {
  return `{"index":${entry.index},"leaf":${JSON.stringify(entry.leaf)},"leaf_hash":${
    JSON.stringify(entry.leaf_hash)
  },"envelope":${entry.envelope}}`;
}
