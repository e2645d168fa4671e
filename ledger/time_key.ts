/**
 * The time part of the ledger's secondary-index keys: an RFC 3339 date-time
 * rewritten as the same instant in UTC with nine fraction digits,
 * `YYYY-MM-DDTHH:MM:SS.fffffffffZ`, so that text order is time order whatever
 * offset or precision an issuer wrote (`2026-01-01T01:00:00+02:00`,
 * `2025-12-31T23:00:00.5Z`, Python's `…+00:00`). The envelope and the leaf keep
 * the issuer's own text; only index keys and query bounds use this form.
 *
 * @module
 */

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const pad = (n: number, w: number) => String(n).padStart(w, "0");

/**
 * The UTC key of an RFC 3339 date-time, or `undefined` when `text` is not one
 * (out-of-range fields included: month 13, hour 24, second 61, offset ±24:00).
 * A leap second (`:60`) counts as the last instant of its minute.
 */
export function utcTimeKey(text: string): string | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const frac = (m[7] ?? "").padEnd(9, "0");
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const last = new Date(0);
  last.setUTCFullYear(y, mo, 0); // day 0 of the next month: the last day of month mo
  if (d > last.getUTCDate()) return undefined;
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  // Whole seconds in UTC (a leap second folds onto :59, keeping its fraction order).
  const leap = s === 60;
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi - offsetMin, leap ? 59 : s, 0);
  const year = t.getUTCFullYear();
  if (year < 0 || year > 9999) return undefined;
  const fraction = leap ? "999999999" : frac;
  return `${pad(year, 4)}-${pad(t.getUTCMonth() + 1, 2)}-${pad(t.getUTCDate(), 2)}T` +
    `${pad(t.getUTCHours(), 2)}:${pad(t.getUTCMinutes(), 2)}:${pad(t.getUTCSeconds(), 2)}.` +
    `${fraction}Z`;
}

/** The index-key form of an entry's `issued_at`: its UTC key, or the text itself if not RFC 3339. */
export function indexTime(issuedAt: string): string {
  return utcTimeKey(issuedAt) ?? issuedAt;
}
