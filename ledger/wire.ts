/**
 * The ledger's wire types: what an append, a read, a proof and a query
 * return, in the JSON shapes of the HTTP API (schemas/*.json) so the server
 * and the log client pass them through unchanged.
 *
 * @module
 */
import type { ResultSummary } from "../core/primitives/breach.ts";

export type { ResultSummary };

/**
 * The receipt of an append (`POST /v1/envelopes`, schemas/append-response.json).
 *
 * @example Append twice: the second append finds the existing entry
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import type { AppendResult } from "./wire.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * const envelope = parseEnvelopeValue(await signAuditRun(run, key, { issuer: "acme" }));
 * const first: AppendResult = await ledger.append(envelope);
 * assert.equal(first.index, 0);
 * assert.equal(first.tree_size, 1);
 * assert.equal(first.existing, false);
 * assert.ok(first.tlog_proof.startsWith("c2sp.org/tlog-proof@v1\n"));
 * assert.ok(first.checkpoint.startsWith("example.org/log\n1\n"));
 * const again = await ledger.append(envelope);
 * assert.equal(again.existing, true);
 * assert.equal(again.index, 0);
 * await ledger.close();
 * ```
 */
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

/**
 * One log entry as served (`GET /v1/log/entries/{index}`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import type { LogEntry } from "./wire.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * const envelope = parseEnvelopeValue(await signAuditRun(run, key, { issuer: "acme" }));
 * const { index, leaf_hash } = await ledger.append(envelope);
 * const entry: LogEntry | null = await ledger.get(index);
 * assert.ok(entry !== null);
 * assert.equal(entry.leaf_hash, leaf_hash);
 * assert.equal(JSON.parse(entry.envelope).issuer, "acme"); // the canonical envelope text
 * assert.equal(await ledger.get(1), null); // past the end
 * await ledger.close();
 * ```
 */
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
  /** Envelope `regulations` (`[]` when it has none). */
  regulations: string[];
  /**
   * The result's breach bit, the statistics a chart plots and the thresholds
   * they were compared with (`resultSummary` in core/primitives/breach.ts).
   */
  summary: ResultSummary;
}

/**
 * Query options: any combination; results in (issued_at, index) order.
 *
 * @example Filter by issuer and a time range, one entry per page
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import type { QueryOptions } from "./wire.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * const envelope = parseEnvelopeValue(await signAuditRun(run, key, { issuer: "acme" }));
 * for (const issuedAt of ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"]) {
 *   await ledger.append(
 *     parseEnvelopeValue(await signAuditRun(run, key, { issuer: "acme", issuedAt })),
 *   );
 * }
 * const options: QueryOptions = { issuer: "acme", from: "2026-01-15T00:00:00+01:00", limit: 1 };
 * const page = await ledger.query(options);
 * assert.deepEqual(page.entries.map((e) => e.issued_at), ["2026-02-01T00:00:00Z"]);
 * assert.equal((await ledger.query({ issuer: "someone-else" })).entries.length, 0);
 * await ledger.close();
 * ```
 */
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
  /** Only entries signed under this issuer key id (`receipt.key_id`). */
  key_id?: string;
  /** Only entries whose envelope lists this regulation tag (exact match). */
  regulation?: string;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  /**
   * Page size, 1 to 1000.
   * @default {100}
   */
  limit?: number;
}

/**
 * A page of query results.
 *
 * @example Page through a log with `next_cursor`
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import type { QueryResult } from "./wire.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * const envelope = parseEnvelopeValue(await signAuditRun(run, key, { issuer: "acme" }));
 * for (const issuer of ["acme", "globex", "initech"]) {
 *   await ledger.append(parseEnvelopeValue(await signAuditRun(run, key, { issuer })));
 * }
 * const seen: string[] = [];
 * let cursor: string | undefined;
 * do {
 *   const page: QueryResult = await ledger.query({ limit: 2, cursor });
 *   assert.ok(page.entries.length <= 2);
 *   seen.push(...page.entries.map((e) => e.issuer));
 *   cursor = page.next_cursor ?? undefined;
 * } while (cursor !== undefined);
 * assert.deepEqual(seen.sort(), ["acme", "globex", "initech"]);
 * await ledger.close();
 * ```
 */
export interface QueryResult {
  /** The hits. */
  entries: EntrySummary[];
  /** Cursor for the next page, null at the end. */
  next_cursor: string | null;
}

/**
 * What `OpenLedgerOptions.onCommit` reports for one commit.
 *
 * @example Count commits for metrics
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import type { CommitInfo } from "./wire.ts";
 * const commits: CommitInfo[] = [];
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({
 *   store: new MemoryStore(),
 *   logKey,
 *   origin: "example.org/log",
 *   onCommit: (info) => commits.push(info),
 * });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * await ledger.append(parseEnvelopeValue(await signAuditRun(run, key, { issuer: "acme" })));
 * assert.deepEqual(commits, [{ tree_size: 1, entries: 1, attempts: 1 }]);
 * await ledger.close();
 * ```
 */
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
