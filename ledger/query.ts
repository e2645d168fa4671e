/**
 * Queries over a store's secondary indexes: by issuer, primitive, issue-time
 * range, breach, key id and regulation, in (issued_at, index) order, with
 * opaque cursors; each hit carries its regulations and result summary.
 *
 * The breach, key-id and regulation filters read each hit's leaf and
 * envelope, so a filtered page may scan more index hits than it returns.
 *
 * @module
 */
import { toBase64, utf8, utf8Length } from "../core/bytes.ts";
import { parseJson } from "../core/json_text.ts";
import { type ResultSummary, resultSummary } from "../core/primitives/breach.ts";
import { LedgerRangeError, LedgerStateError } from "./errors.ts";
import type { IndexHit, IndexSelector, LedgerStore } from "./store.ts";
import { utcTimeKey } from "./time_key.ts";
import type { EntrySummary, QueryOptions, QueryResult } from "./wire.ts";

// Cursors are base64url without padding, so they survive a query string
// unencoded. Earlier servers issued standard base64, whose `+` and `/` a
// client may send raw (URL decoding turns `+` into a space) or
// percent-encoded: every one of those spellings decodes to the same cursor.
function encodeCursor(issuedAt: string, index: number): string {
  return toBase64(utf8(JSON.stringify([issuedAt, index])))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(c: string): { issuedAt: string; index: number } {
  try {
    const std = c.replaceAll(" ", "+").replaceAll("-", "+").replaceAll("_", "/")
      .replace(/=+$/, "");
    const v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(std), (ch) => ch.charCodeAt(0)),
    ));
    if (
      Array.isArray(v) && v.length === 2 && typeof v[0] === "string" &&
      Number.isSafeInteger(v[1]) && v[1] >= 0
    ) return { issuedAt: v[0], index: v[1] };
  } catch {
    // fall through
  }
  throw new LedgerRangeError("cursor", "is not a cursor returned by query");
}

/** Largest number of index hits one page reads when filters that read envelopes skip hits. */
export const SCAN_BUDGET = 2000;

/** The members of a stored envelope a summary needs. */
interface EnvelopeView {
  regulations: string[];
  summary: ResultSummary;
}

/** Read what a listing shows of one stored envelope. */
function envelopeView(primitive: string, envelope: Uint8Array): EnvelopeView {
  let v: unknown;
  try {
    // Native envelopes are strict JSON: the engine's parser is the fast path.
    v = JSON.parse(decoder.decode(envelope));
  } catch {
    // Legacy envelopes may hold Python's NaN/Infinity: read them the way they were stored.
    v = parseJson(envelope, { allowNonFinite: true, maxBytes: envelope.length + 1 });
  }
  const o = (v !== null && typeof v === "object" ? v : {}) as Record<string, unknown>;
  const regulations = Array.isArray(o.regulations)
    ? o.regulations.filter((r): r is string => typeof r === "string")
    : [];
  return { regulations, summary: resultSummary(primitive, o.result, o.input_commitments) };
}

const decoder = new TextDecoder();

/**
 * The index selection of `opts` (issuer, primitive, and the time bounds in
 * the index keys' UTC form), every filter checked as {@link queryStore}
 * checks it.
 * @throws {LedgerRangeError} for a bad bound or filter.
 */
export function indexSelector(opts: QueryOptions): IndexSelector {
  for (const k of ["issuer", "primitive", "from", "to", "key_id", "regulation"] as const) {
    const v = opts[k];
    if (v !== undefined && (typeof v !== "string" || utf8Length(v) > 512)) {
      throw new LedgerRangeError(k, "must be a string of at most 512 bytes");
    }
  }
  if (opts.breached !== undefined && typeof opts.breached !== "boolean") {
    throw new LedgerRangeError("breached", `must be a boolean, got ${String(opts.breached)}`);
  }
  // Bounds compare with the index keys' UTC form, whatever offset the caller wrote.
  const bound = (k: "from" | "to") => {
    const v = opts[k];
    if (v === undefined) return undefined;
    const key = utcTimeKey(v);
    if (key === undefined) {
      throw new LedgerRangeError(k, `must be an RFC 3339 date-time, got ${JSON.stringify(v)}`);
    }
    return key;
  };
  return { issuer: opts.issuer, primitive: opts.primitive, from: bound("from"), to: bound("to") };
}

/**
 * The indexes of the entries {@link queryStore} lists for an issuer,
 * primitive and time selection, in the same (issued_at, index) order, a
 * page at a time, without reading the entries themselves (what an
 * evidence pack needs of its query: it reads the entries as bundles).
 * @throws {LedgerRangeError} for a bad bound or filter; breach, key id and
 *   regulation filters are refused (they need the entries).
 */
export async function* scanIndexes(
  store: Pick<LedgerStore, "scanIndex">,
  opts: Pick<QueryOptions, "issuer" | "primitive" | "from" | "to">,
  page = 1000,
): AsyncGenerator<number[]> {
  const o = opts as QueryOptions;
  if (o.breached !== undefined || o.key_id !== undefined || o.regulation !== undefined) {
    throw new LedgerRangeError("filter", "scanIndexes selects by issuer, primitive and time only");
  }
  const selector = indexSelector(opts);
  for (;;) {
    const hits = await store.scanIndex(selector, page);
    if (hits.length > 0) yield hits.map((h) => h.index);
    if (hits.length < page) return;
    selector.after = hits[hits.length - 1];
  }
}

/**
 * Entries of `store` by issuer, primitive, issue-time range, breach, key id
 * and regulation, paginated, each with its regulations and result summary.
 *
 * Issuer, primitive and time select through the store's indexes; breach, key
 * id and regulation are read from each hit's leaf and envelope. A page reads
 * at most {@link SCAN_BUDGET} index hits: when those filters skip that many,
 * the page holds fewer than `limit` entries (perhaps none) and its
 * `next_cursor` continues the scan; only a null `next_cursor` means the end.
 * @throws {LedgerRangeError} for a bad limit, bound, filter or cursor.
 */
export async function queryStore(
  store: LedgerStore,
  opts: QueryOptions = {},
): Promise<QueryResult> {
  const limit = opts.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
    throw new LedgerRangeError("limit", `must be an integer in [1, 1000], got ${String(limit)}`);
  }
  const { from, to } = indexSelector(opts);
  const filtered = opts.breached !== undefined || opts.key_id !== undefined ||
    opts.regulation !== undefined;
  let after = opts.cursor !== undefined && opts.cursor !== null
    ? decodeCursor(opts.cursor)
    : undefined;
  const entries: EntrySummary[] = [];
  let last: IndexHit | undefined;
  let more = false;
  let scanned = 0;
  // Without filters one scan of limit + 1 hits decides; with them, scan on until
  // limit + 1 hits pass, the index ends or the budget is spent.
  for (;;) {
    const want = limit + 1 - entries.length;
    const asked = filtered ? Math.min(Math.max(want, 200), SCAN_BUDGET - scanned) : want;
    const hits = await store.scanIndex(
      { issuer: opts.issuer, primitive: opts.primitive, from, to, after },
      asked,
    );
    // The store may be read concurrently: fetch the batch's entries together.
    const stored = await Promise.all(hits.map((h) => store.readEntry(h.index)));
    for (let k = 0; k < hits.length; k++) {
      const h = hits[k];
      const e = stored[k];
      if (!e) throw new LedgerStateError(`index names missing entry ${h.index}`);
      scanned++;
      const leaf = JSON.parse(decoder.decode(e.leaf)) as Record<string, string>;
      if (opts.key_id !== undefined && leaf.key_id !== opts.key_id) {
        last = h;
        continue;
      }
      const view = envelopeView(leaf.primitive, e.envelope);
      if (
        (opts.breached !== undefined && (view.summary.breached === true) !== opts.breached) ||
        (opts.regulation !== undefined && !view.regulations.includes(opts.regulation))
      ) {
        last = h;
        continue;
      }
      if (entries.length === limit) {
        more = true;
        break;
      }
      entries.push({
        index: h.index,
        issued_at: leaf.issued_at,
        issuer: leaf.issuer,
        primitive: leaf.primitive,
        key_id: leaf.key_id,
        envelope_sha256: leaf.envelope_sha256,
        leaf_hash: toBase64(e.hashes[0]),
        regulations: view.regulations,
        summary: view.summary,
      });
      last = h;
    }
    if (more || !filtered || hits.length < asked) break;
    if (scanned >= SCAN_BUDGET) {
      // The budget is spent with the index not ended: continue after the last hit read.
      more = true;
      break;
    }
    after = hits[hits.length - 1];
  }
  return { entries, next_cursor: more && last ? encodeCursor(last.issuedAt, last.index) : null };
}
