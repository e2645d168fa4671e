/**
 * What the HTTP layer needs from the rest of regledger, as three small
 * interfaces. `server/services.ts` implements them over `core/` and
 * `ledger/`; tests may pass their own. Keeping the seam narrow means a route
 * never reaches into storage or crypto directly.
 *
 * @module
 */
import type { ParsedEnvelope, PrimitiveName } from "../core/envelope_types.ts";
import type { TrustStoreJson } from "../core/trust_store.ts";
import type { CkksEvaluator } from "./routes/ckks.ts";
import type { PrivacyBudgetStatus } from "../ledger/privacy_budget.ts";
import type {
  AppendResult,
  ConsistencyProofJson,
  InclusionProofJson,
  LogEntry,
  QueryOptions,
  QueryResult,
} from "../ledger/ledger.ts";
import type { WitnessingStatus } from "./witnessing.ts";

export type {
  AppendResult,
  ConsistencyProofJson,
  InclusionProofJson,
  LogEntry,
  QueryOptions,
  QueryResult,
};

/**
 * The log, as the server uses it: the subset of `ledger/ledger.ts`'s
 * `Ledger` that the routes call, so tests may pass a fake and the real
 * ledger fits without an adapter.
 */
export interface LogService {
  /** The log's verifier key (Go note format). */
  readonly verifierKey: string;
  /**
   * Every verifier key of the log, one per checkpoint signature (Ed25519
   * first, then ML-DSA-44). Default: `[verifierKey]`.
   */
  readonly verifierKeys?: readonly string[];
  /** Append a verified envelope (idempotent by envelope hash). */
  append(parsed: ParsedEnvelope): Promise<AppendResult>;
  /** Current tree size. */
  size(): Promise<number>;
  /** Entry `index`, or null beyond the log. */
  get(index: number): Promise<LogEntry | null>;
  /** The latest signed checkpoint text. */
  checkpoint(): Promise<string>;
  /** Inclusion proof of `index` in the tree of size `treeSize` (default: current). */
  proveInclusion(index: number, treeSize?: number): Promise<InclusionProofJson>;
  /**
   * The inclusion proofs (base64 audit paths) of many entries in the tree
   * of size `treeSize`, a size the log has reached, in one store read
   * (witnessed receipts, `server/witnessing_proofs.ts`). Optional:
   * `proveInclusion` per entry otherwise.
   */
  proveInclusions?(indices: readonly number[], treeSize: number): Promise<string[][]>;
  /** Consistency proof between sizes `first ≤ second ≤ size()`. */
  proveConsistency(first: number, second: number): Promise<ConsistencyProofJson>;
  /** Entries by issuer, primitive and issue time, paginated. */
  query(opts: QueryOptions): Promise<QueryResult>;
  /**
   * A C2SP tile of the current tree (hash tile level 0-63 or a bundle), or
   * null beyond it; without it the tile routes answer 404.
   */
  tile?(
    tile: { level: number | "entries" | "envelopes"; n: number; width: number },
  ): Promise<Uint8Array | null>;
  /** Index of the entry holding the envelope with this SHA-256, if logged. */
  findByEnvelopeHash?(sha256: Uint8Array): Promise<number | undefined>;
  /**
   * Index of the entry holding the signed body with this SHA-256 (the
   * ledger's identity, `docs/formats.md` §2.6), if logged.
   */
  findBySignedBody?(sha256: Uint8Array): Promise<number | undefined>;
  /**
   * An issuer's privacy budget on a dataset, its spend and the entries that
   * spent it (`GET /v1/privacy/budget`); without it that route answers 404.
   */
  privacyBudget?(issuer: string, dataset: string): Promise<PrivacyBudgetStatus>;
  /** Wait for in-flight appends and close storage. */
  close(): Promise<void>;
}

/** What verification found for a valid envelope. */
export interface VerifiedEnvelope {
  /** `native` or `legacy`. */
  kind: "native" | "legacy";
  /** The issuer key id that signed it. */
  key_id: string;
  /**
   * The `timestamp` block: absent, verified, or `not-checked` (a legacy
   * envelope's block with a token, valid by regaudit-fhe's rules; the server
   * has no timestamp verifier, so `POST /v1/envelopes` refuses it).
   */
  timestamp: "absent" | "verified" | "not-checked";
}

/** Counts of the trust store in use. */
export interface TrustStoreSummary {
  /** Trusted keys (including the server's own issuer key). */
  keys: number;
  /** Revoked key ids. */
  revoked: number;
  /** Privacy budgets in force, when the server has a budget file (reloaded with the trust store). */
  privacy_budgets?: number;
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
  /** The trust store in use, in its full JSON shape (public keys, revocations, pins). */
  trustStoreJson(): TrustStoreJson;
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

/**
 * The log's witnessing (`serve --witness URL=VKEY`, `server/witnessing.ts`):
 * what the routes need of it.
 */
export interface WitnessingService {
  /** How long `?wait=witnessed` waits, in ms. */
  readonly waitTimeoutMs: number;
  /** The checkpoint `GET /checkpoint` serves (the newest quorum-cosigned one). */
  publishedCheckpoint(): Promise<string>;
  /**
   * `receipt` re-issued against a quorum-cosigned checkpoint that includes
   * its entry, or `undefined` when none does within `waitTimeoutMs`.
   */
  witnessedReceipt<R extends Omit<AppendResult, "existing">>(
    receipt: R,
    opts?: { submittedAt?: number },
  ): Promise<R | undefined>;
  /** Where witnessing stands, per witness (`/readyz`). */
  status(): WitnessingStatus;
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
  /**
   * The split flow's evaluator behind `POST /v1/ckks/evaluate` (the runner
   * gives one running in a worker). Default: evaluate in this thread.
   */
  ckksEvaluate?: CkksEvaluator;
  /** Witnessing, when the server has witnesses. */
  witnessing?: WitnessingService;
}
