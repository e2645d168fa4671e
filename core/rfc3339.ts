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

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Whether `year` is a leap year of the proleptic Gregorian calendar. */
function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The number of days of `month` (1–12) in `year`. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The parsed date-time, or the rule it breaks. One function for both, so the
 * boolean test and the throwing parse cannot drift apart.
 */
function parse(text: string): ParsedDateTime | string {
  if (typeof text !== "string") return "must be a string";
  const m = DATE_TIME.exec(text);
  if (m === null) {
    return "must match YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm) (RFC 3339 §5.6)";
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12) return "month must be 01-12";
  if (day < 1 || day > daysInMonth(year, month)) {
    return `day must be 01-${daysInMonth(year, month)} in ${m[1]}-${m[2]}`;
  }
  if (hour > 23) return "hour must be 00-23";
  if (minute > 59) return "minute must be 00-59";
  if (second > 60) return "second must be 00-59 (60 only for a leap second)";
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return "offset must be Z or ±hh:mm with hh 00-23 and mm 00-59";
    offsetMinutes = (m[8] === "-" && oh + om > 0 ? -1 : 1) * (oh * 60 + om);
  }
  // Local minutes of the day minus the offset, carried into the day count.
  let days = daysFromCivil(year, month, day);
  let minuteOfDay = hour * 60 + minute - offsetMinutes;
  const carry = Math.floor(minuteOfDay / 1440);
  days += carry;
  minuteOfDay -= carry * 1440;
  const [uy, um, ud] = civilFromDays(days);
  if (uy < 0 || uy > 9999) return "must denote an instant in the years 0000-9999 UTC";
  const uh = Math.floor(minuteOfDay / 60);
  const umin = minuteOfDay % 60;
  if (second === 60 && (uh !== 23 || umin !== 59 || ud !== daysInMonth(uy, um))) {
    return "second 60 (a leap second) is allowed only at 23:59:60 UTC on the last day of a month";
  }
  return {
    text,
    offsetMinutes,
    utc: {
      year: uy,
      month: um,
      day: ud,
      hour: uh,
      minute: umin,
      second,
      fraction: (m[7] ?? "").replace(/0+$/, ""),
    },
  };
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
  return typeof parse(text) !== "string";
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
  const r = parse(text);
  return typeof r === "string" ? r : undefined;
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
