/**
 * The time part of the ledger's secondary-index keys: an RFC 3339 date-time
 * (the one rule of `core/rfc3339.ts`) rewritten as the same instant in UTC,
 * so that text order is time order whatever offset or precision an issuer
 * wrote (`2026-01-01T01:00:00+02:00`, `2025-12-31T23:00:00.5Z`, Python's
 * `…+00:00`). The envelope and the leaf keep the issuer's own text; only
 * index keys and query bounds use this form.
 *
 * The key is `YYYY-MM-DDTHH:MM:SS.fffffffffZ` (nine fraction digits) followed
 * by:
 * - nothing, for a time with at most nine significant fraction digits;
 * - the further fraction digits without trailing zeros, for a finer time
 *   (`…00.000000000Z5` is half a nanosecond later than `…00.000000000Z`: a
 *   key that is a prefix of another sorts first, and digit strings without
 *   trailing zeros sort as the fractions they write);
 * - `:` and the leap second's fraction digits, for a leap second
 *   (`23:59:60.5Z` is `…23:59:59.999999999Z:5`): `:` sorts after every
 *   digit, so a leap second comes after every time of its last normal second
 *   and before the next day.
 *
 * Times of at most nine fraction digits that are not leap seconds keep the
 * key they had before finer times were supported.
 *
 * @module
 */
import { parseDateTime } from "../core/rfc3339.ts";

const pad = (n: number, w: number) => String(n).padStart(w, "0");

/**
 * The UTC key of an RFC 3339 date-time, or `undefined` when `text` is not a
 * valid one (`core/rfc3339.ts`: out-of-range fields, impossible dates,
 * misplaced leap seconds, offsets like ±24:00 included).
 */
export function utcTimeKey(text: string): string | undefined {
  let u;
  try {
    u = parseDateTime(text).utc;
  } catch {
    return undefined;
  }
  const date = `${pad(u.year, 4)}-${pad(u.month, 2)}-${pad(u.day, 2)}T`;
  if (u.second === 60) {
    return `${date}${pad(u.hour, 2)}:${pad(u.minute, 2)}:59.999999999Z:${u.fraction}`;
  }
  return `${date}${pad(u.hour, 2)}:${pad(u.minute, 2)}:${pad(u.second, 2)}.` +
    `${u.fraction.slice(0, 9).padEnd(9, "0")}Z${u.fraction.slice(9)}`;
}

/** The index-key form of an entry's `issued_at`: its UTC key, or the text itself if not RFC 3339. */
export function indexTime(issuedAt: string): string {
  return utcTimeKey(issuedAt) ?? issuedAt;
}

/**
 * Compare two index times (or query bounds) in the order every store's index
 * keys sort in: by code point, which is the UTF-8 byte order Deno KV sorts
 * string key parts in. UTC keys are ASCII, but an `issued_at` that is not
 * RFC 3339 is kept as written ({@link indexTime}).
 */
export function compareIndexTime(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}
