/**
 * Queries over a store's secondary indexes: by issuer, primitive, issue-time
 * range and breach, in (issued_at, index) order, with opaque cursors.
 *
 * The `breached` filter reads each hit's envelope (its `result`), so a page
 * of breaches may scan more index hits than it returns.
 *
 * @module
 */
import { toBase64, utf8, utf8Length } from "../core/bytes.ts";
import { parseJson } from "../core/json_text.ts";
import { resultBreached } from "../core/primitives/breach.ts";
import { LedgerRangeError, LedgerStateError } from "./errors.ts";
import type { IndexHit, LedgerStore } from "./store.ts";
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

/** Whether the stored envelope's result breaches its threshold. */
function envelopeBreached(primitive: string, envelope: Uint8Array): boolean {
  // Legacy envelopes may hold Python's NaN/Infinity: read them the way they were stored.
  const v = parseJson(envelope, { allowNonFinite: true, maxBytes: envelope.length + 1 });
  return resultBreached(primitive, (v as Record<string, unknown> | null)?.result);
}

/**
 * Entries of `store` by issuer, primitive, issue-time range and breach, paginated.
 * @throws {LedgerRangeError} for a bad limit, bound or cursor.
 */
export async function queryStore(
  store: LedgerStore,
  opts: QueryOptions = {},
): Promise<QueryResult> {
  const limit = opts.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
    throw new LedgerRangeError("limit", `must be an integer in [1, 1000], got ${String(limit)}`);
  }
  for (const k of ["issuer", "primitive", "from", "to"] as const) {
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
  const from = bound("from");
  const to = bound("to");
  let after = opts.cursor !== undefined && opts.cursor !== null
    ? decodeCursor(opts.cursor)
    : undefined;
  const entries: EntrySummary[] = [];
  let last: IndexHit | undefined;
  let more = false;
  // Without the breach filter one scan of limit + 1 hits decides; with it, scan on until
  // limit + 1 hits pass or the index ends.
  for (;;) {
    const want = limit + 1 - entries.length;
    const asked = opts.breached === undefined ? want : Math.max(want, 100);
    const hits = await store.scanIndex(
      { issuer: opts.issuer, primitive: opts.primitive, from, to, after },
      asked,
    );
    for (const h of hits) {
      const e = await store.readEntry(h.index);
      if (!e) throw new LedgerStateError(`index names missing entry ${h.index}`);
      const leaf = JSON.parse(new TextDecoder().decode(e.leaf)) as Record<string, string>;
      if (
        opts.breached !== undefined &&
        envelopeBreached(leaf.primitive, e.envelope) !== opts.breached
      ) continue;
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
      });
      last = h;
    }
    if (more || opts.breached === undefined || hits.length < asked) break;
    after = hits[hits.length - 1];
  }
  return { entries, next_cursor: more && last ? encodeCursor(last.issuedAt, last.index) : null };
}
