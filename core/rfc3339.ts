/**
 * The one RFC 3339 date-time rule of regledger. The schema's `date-time`
 * format, the envelope builder, the ledger's index time keys and the HTTP
 * `from`/`to` parameters all call this module, so they cannot disagree.
 *
 * A date-time is valid when all of these hold:
 * - **Grammar** (RFC 3339 §5.6): `YYYY-MM-DDTHH:MM:SS[.F…](Z|±hh:mm)` with
 *   ASCII digits; `T` and `Z` may be lower case (§5.6 note); one or more
 *   fraction digits, any number of them. No space for `T`, no missing offset.
 * - **Calendar** (§5.7): month 01–12, a day that exists in that month of the
 *   proleptic Gregorian calendar (leap years: divisible by 4, except
 *   centuries not divisible by 400), hour 00–23, minute 00–59.
 * - **Offset**: `Z`, or `±hh:mm` with hh 00–23 and mm 00–59; `-00:00`
 *   (§4.3, "offset unknown") denotes the same instant as `Z`.
 * - **Leap second**: second `60` only where a leap second can occur: at
 *   23:59:60 UTC (after applying the offset, so `15:59:60-08:00` is allowed,
 *   §5.8) on the last day of a month (ITU-R TF.460 allows any month's end).
 *   Which leap seconds were actually inserted is not checked: that table is
 *   not known in advance.
 * - **Range**: the instant, in UTC, lies in the years 0000–9999 (so that
 *   every valid date-time has a UTC form in the same grammar).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDateTime, parseDateTime } from "./rfc3339.ts";
 *
 * assert.ok(isDateTime("1990-12-31T15:59:60-08:00"));
 * assert.ok(!isDateTime("2026-02-30T00:00:00Z"));
 * const t = parseDateTime("2026-01-01T01:30:00.25+02:00");
 * assert.deepEqual([t.utc.year, t.utc.month, t.utc.day, t.utc.hour], [2025, 12, 31, 23]);
 * assert.equal(t.utc.fraction, "25");
 * ```
 *
 * @module
 */

/** A calendar date and time of day in UTC, as parsed from an RFC 3339 date-time. */
export interface UtcDateTime {
  /** Year, 0–9999. */
  readonly year: number;
  /** Month, 1–12. */
  readonly month: number;
  /** Day of the month, 1–31. */
  readonly day: number;
  /** Hour, 0–23. */
  readonly hour: number;
  /** Minute, 0–59. */
  readonly minute: number;
  /** Second, 0–60 (60 only for a leap second). */
  readonly second: number;
  /** Fraction-of-second digits without trailing zeros (`""` for a whole second). */
  readonly fraction: string;
}

/** A valid RFC 3339 date-time: the text as written and the instant it denotes in UTC. */
export interface ParsedDateTime {
  /** The text exactly as given. */
  readonly text: string;
  /** The offset from UTC in minutes (east positive; `Z` and `-00:00` are 0). */
  readonly offsetMinutes: number;
  /** The same instant in UTC. */
  readonly utc: UtcDateTime;
}

const GRAMMAR = "must match YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm) (RFC 3339 §5.6)";

/** Whether `year` is a leap year of the proleptic Gregorian calendar. */
function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The number of days of `month` (1–12) in `year`. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The ASCII decimal number of `text[at, at + width)`, or -1 if any character is not 0-9. */
function digits(text: string, at: number, width: number): number {
  let n = 0;
  for (let i = at; i < at + width; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The fields of a date-time as written (local time), checked against the grammar and ranges. */
interface Written {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** `text.slice(fractionStart, fractionEnd)` are the fraction digits. */
  fractionStart: number;
  fractionEnd: number;
  offsetMinutes: number;
}

/**
 * The written fields, or the rule `text` breaks. A hand-written scanner,
 * not a regular expression: the builder and the schema format call it for
 * every envelope, and it must cost little next to a signature.
 */
function scan(text: string): Written | string {
  if (typeof text !== "string") return "must be a string";
  const n = text.length;
  if (
    n < 20 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 ||
    (text.charCodeAt(10) | 0x20) !== 116 || text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) return GRAMMAR;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if ((year | month | day | hour | minute | second) < 0) return GRAMMAR;
  let i = 19;
  let fractionEnd = 20;
  if (text.charCodeAt(19) === 46) {
    i = 20;
    while (i < n && digits(text, i, 1) >= 0) i++;
    if (i === 20) return GRAMMAR;
    fractionEnd = i;
  }
  let offsetMinutes = 0;
  const c = text.charCodeAt(i);
  if ((c | 0x20) === 122) {
    if (i + 1 !== n) return GRAMMAR;
  } else if (c === 43 || c === 45) {
    if (i + 6 !== n || text.charCodeAt(i + 3) !== 58) return GRAMMAR;
    const oh = digits(text, i + 1, 2);
    const om = digits(text, i + 4, 2);
    if ((oh | om) < 0) return GRAMMAR;
    if (oh > 23 || om > 59) return "offset must be Z or ±hh:mm with hh 00-23 and mm 00-59";
    offsetMinutes = (c === 45 && oh + om > 0 ? -1 : 1) * (oh * 60 + om);
  } else {
    return GRAMMAR;
  }
  if (month < 1 || month > 12) return "month must be 01-12";
  if (day < 1 || day > daysInMonth(year, month)) {
    return `day must be 01-${daysInMonth(year, month)} in ${text.slice(0, 7)}`;
  }
  if (hour > 23) return "hour must be 00-23";
  if (minute > 59) return "minute must be 00-59";
  if (second > 60) return "second must be 00-59 (60 only for a leap second)";
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    fractionStart: 20,
    fractionEnd,
    offsetMinutes,
  };
}

/** `w` in UTC, or the rule the instant breaks (outside 0000–9999 UTC, a misplaced leap second). */
function toUtc(text: string, w: Written): UtcDateTime | string {
  // Local minutes of the day minus the offset, carried into the day count.
  let days = daysFromCivil(w.year, w.month, w.day);
  let minuteOfDay = w.hour * 60 + w.minute - w.offsetMinutes;
  const carry = Math.floor(minuteOfDay / 1440);
  days += carry;
  minuteOfDay -= carry * 1440;
  const [year, month, day] = civilFromDays(days);
  if (year < 0 || year > 9999) return "must denote an instant in the years 0000-9999 UTC";
  const hour = Math.floor(minuteOfDay / 60);
  const minute = minuteOfDay % 60;
  if (w.second === 60 && (hour !== 23 || minute !== 59 || day !== daysInMonth(year, month))) {
    return "second 60 (a leap second) is allowed only at 23:59:60 UTC on the last day of a month";
  }
  let end = w.fractionEnd;
  while (end > w.fractionStart && text.charCodeAt(end - 1) === 48) end--;
  const fraction = end > w.fractionStart ? text.slice(w.fractionStart, end) : "";
  return { year, month, day, hour, minute, second: w.second, fraction };
}

/** The rule `text` breaks, or `undefined`: {@linkcode parse} without building the result. */
function problem(text: string): string | undefined {
  const w = scan(text);
  if (typeof w === "string") return w;
  // A UTC time that is no leap second is its own UTC form: nothing more to check.
  if (w.offsetMinutes === 0 && w.second !== 60) return undefined;
  const u = toUtc(text, w);
  return typeof u === "string" ? u : undefined;
}

/** The parsed date-time, or the rule it breaks. */
function parse(text: string): ParsedDateTime | string {
  const w = scan(text);
  if (typeof w === "string") return w;
  const utc = toUtc(text, w);
  if (typeof utc === "string") return utc;
  return { text, offsetMinutes: w.offsetMinutes, utc };
}

/**
 * Whether `text` is a valid RFC 3339 date-time under the rule of this module
 * (grammar, real calendar date, offset ranges, leap-second placement, UTC
 * years 0000–9999).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDateTime } from "./rfc3339.ts";
 *
 * assert.ok(isDateTime("2024-02-29T12:00:00.123456789012Z"));
 * assert.ok(!isDateTime("2025-02-29T12:00:00Z")); // 2025 is not a leap year
 * assert.ok(!isDateTime("2026-01-01T00:00:00+24:00"));
 * ```
 */
export function isDateTime(text: string): boolean {
  return problem(text) === undefined;
}

/**
 * The rule `text` breaks, or `undefined` when it is a valid RFC 3339
 * date-time. Messages never quote the text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dateTimeProblem } from "./rfc3339.ts";
 *
 * assert.equal(dateTimeProblem("2026-04-01T12:00:00Z"), undefined);
 * assert.equal(dateTimeProblem("2026-13-01T00:00:00Z"), "month must be 01-12");
 * ```
 */
export function dateTimeProblem(text: string): string | undefined {
  return problem(text);
}

/**
 * Parses an RFC 3339 date-time into the instant it denotes in UTC.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDateTime } from "./rfc3339.ts";
 *
 * const t = parseDateTime("1990-12-31T15:59:60-08:00");
 * assert.equal(t.offsetMinutes, -480);
 * assert.deepEqual(t.utc, {
 *   year: 1990, month: 12, day: 31, hour: 23, minute: 59, second: 60, fraction: "",
 * });
 * assert.throws(() => parseDateTime("2026-02-30T00:00:00Z"), RangeError);
 * ```
 *
 * @throws {RangeError} when `text` is not a valid date-time; the message names the rule.
 */
export function parseDateTime(text: string): ParsedDateTime {
  const r = parse(text);
  if (typeof r === "string") throw new RangeError(`not an RFC 3339 date-time: ${r}`);
  return r;
}

/**
 * `date` as an RFC 3339 date-time in UTC with millisecond precision
 * (`YYYY-MM-DDTHH:MM:SS.sssZ`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDateTime } from "./rfc3339.ts";
 *
 * assert.equal(formatDateTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6))), "2026-01-02T03:04:05.006Z");
 * assert.throws(() => formatDateTime(new Date(NaN)), RangeError);
 * ```
 *
 * @throws {RangeError} when `date` is invalid or outside the years 0000–9999.
 */
export function formatDateTime(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError("date must be a valid Date, got an invalid Date");
  const text = date.toISOString();
  if (text.length !== 24) {
    throw new RangeError("date must lie in the years 0000-9999 UTC to be written in RFC 3339");
  }
  return text;
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's
// civil-calendar algorithms): exact integer arithmetic, no Date object, so
// years 0000–9999 need no special cases.
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): [number, number, number] {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) -
      Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}
