/// <reference lib="dom" />
/**
 * The API shapes the console reads (docs/formats.md §8).
 *
 * @module
 */

/** The result summary the entries listing gives each entry. */
export interface ResultSummary {
  /** Whether the result breaches its threshold (null: the primitive has none). */
  breached: boolean | null;
  /** Scalar statistics of the result, by name (null: missing or not a number). */
  statistics: Record<string, number | null>;
  /** Thresholds the statistics were compared with, by statistic name. */
  thresholds: Record<string, number>;
}

/** One row of `GET /v1/log/entries`. */
export interface EntryRow {
  index: number;
  issued_at: string;
  issuer: string;
  primitive: string;
  key_id: string;
  envelope_sha256: string;
  leaf_hash: string;
  regulations?: string[];
  summary?: ResultSummary;
}

/** A page of the listing. */
export interface EntryPage {
  entries: EntryRow[];
  next_cursor: string | null;
}

/** `GET /v1/log/entries/{index}/bundle`. */
export interface EntryBundle {
  index: number;
  tree_size: number;
  leaf: string;
  leaf_hash: string;
  inclusion_proof: string[];
  checkpoint: string;
  tlog_proof: string;
  verifier_key: string;
  envelope: Envelope;
}

/** An audit envelope as JSON (docs/formats.md §3). */
export interface Envelope {
  schema: string;
  primitive: string;
  backend: string;
  parameter_set: Record<string, unknown>;
  parameter_set_hash: string;
  regulations: string[];
  result: Record<string, unknown>;
  input_commitments: { name: string; sha256: string }[];
  depth_budget?: { consumed?: number; declared?: number };
  issued_at: string;
  issuer: string;
  dp?: Record<string, unknown>;
  timestamp?: Record<string, unknown>;
  receipt: {
    sha256: string;
    signature_alg: string;
    signature_b64: string;
    key_id: string;
    public_key_pem: string;
  };
  [k: string]: unknown;
}

/** `GET /v1/trust-store`. */
export interface TrustStoreView {
  keys: Record<string, string>;
  revoked: string[];
  parameter_set_pins: Record<string, string>;
  [k: string]: unknown;
}
