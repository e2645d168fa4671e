/**
 * The RFC 3339 date-time table shared by the tests of every user of
 * `core/rfc3339.ts` (schema format, envelope builder, index time keys, HTTP
 * `from`/`to`), so that they are held to the same answers.
 *
 * @module
 */

/** Valid date-times, each with why. */
export const VALID: readonly (readonly [string, string])[] = [
  ["2026-04-01T12:00:00Z", "plain UTC"],
  ["2026-04-01t12:00:00z", "lower-case t and z (§5.6 note)"],
  ["2024-02-29T00:00:00Z", "leap year"],
  ["2000-02-29T00:00:00Z", "century divisible by 400 is a leap year"],
  ["2026-04-30T23:59:59Z", "last day of a 30-day month"],
  ["2026-01-01T00:00:00.1234567890Z", "ten fraction digits"],
  ["2026-01-01T00:00:00.000000000000000000001Z", "21 fraction digits"],
  ["2026-01-01T00:00:00.5+05:30", "half-hour offset"],
  ["2026-01-01T00:00:00-00:00", "unknown local offset (§4.3)"],
  ["2026-01-01T00:00:00+23:59", "largest offset"],
  ["2026-01-01T00:00:00-23:59", "smallest offset"],
  ["2026-11-21T16:57:43.688091+00:00", "Python isoformat"],
  ["1990-12-31T23:59:60Z", "leap second, UTC (RFC 3339 §5.8)"],
  ["1990-12-31T15:59:60-08:00", "leap second with an offset (RFC 3339 §5.8)"],
  ["2016-12-31T23:59:60.5Z", "leap second with a fraction"],
  ["1998-06-30T23:59:60Z", "leap second at the end of June"],
  ["2017-01-01T05:29:60+05:30", "leap second in a half-hour zone"],
  ["0000-01-01T00:00:00Z", "first instant of year 0000"],
  ["9999-12-31T23:59:59.999999999999Z", "last instants of year 9999"],
];

/** Invalid date-times, each with the rule it breaks. */
export const INVALID: readonly (readonly [string, string])[] = [
  ["2026-13-01T00:00:00Z", "month 13"],
  ["2026-00-10T00:00:00Z", "month 00"],
  ["2026-01-00T00:00:00Z", "day 00"],
  ["2026-02-30T00:00:00Z", "30 February"],
  ["2025-02-29T00:00:00Z", "29 February in a common year"],
  ["1900-02-29T00:00:00Z", "century not divisible by 400 is a common year"],
  ["2026-04-31T00:00:00Z", "31 April"],
  ["2026-01-01T24:00:00Z", "hour 24"],
  ["2026-01-01T00:60:00Z", "minute 60"],
  ["2026-01-01T00:00:61Z", "second 61"],
  ["2026-01-01T00:00:00+24:00", "offset hour 24"],
  ["2026-01-01T00:00:00+05:60", "offset minute 60"],
  ["2026-01-01T00:00:00+0100", "offset without colon"],
  ["2026-01-01T00:00:00", "no offset"],
  ["2026-01-01", "date alone"],
  ["2026-01-01 00:00:00Z", "space for T"],
  ["2026-01-01T00:00:00.Z", "empty fraction"],
  ["2026-01-01T00:00Z", "no seconds"],
  ["2026-1-01T00:00:00Z", "one-digit month"],
  ["+2026-01-01T00:00:00Z", "signed year"],
  [" 2026-01-01T00:00:00Z", "leading space"],
  ["2026-01-01T00:00:00Z\n", "trailing newline"],
  ["\uff12026-01-01T00:00:00Z", "non-ASCII digit"],
  ["1990-12-31T23:58:60Z", "leap second on the wrong minute"],
  ["1990-12-31T22:59:60Z", "leap second on the wrong hour"],
  ["1990-12-30T23:59:60Z", "leap second not on the last day of a month"],
  ["1990-12-31T23:59:60+01:00", "leap second at 22:59:60 UTC"],
  ["0000-01-01T00:00:00+00:01", "instant in year -1 UTC"],
  ["9999-12-31T23:59:59-00:01", "instant in year 10000 UTC"],
  ["", "empty"],
];

/**
 * Valid date-times in strictly increasing time order; the texts of one group
 * denote the same instant.
 */
export const ORDERED: readonly (readonly string[])[] = [
  ["2016-12-31T23:59:59Z", "2017-01-01T00:59:59+01:00"],
  ["2016-12-31T23:59:59.1Z", "2016-12-31T23:59:59.100000000000Z"],
  ["2016-12-31T23:59:59.999999999Z", "2017-01-01T00:59:59.999999999+01:00"],
  ["2016-12-31T23:59:59.9999999991Z"],
  ["2016-12-31T23:59:59.99999999999Z"],
  ["2016-12-31T23:59:60Z", "2016-12-31T15:59:60-08:00", "2016-12-31t23:59:60.000z"],
  ["2016-12-31T23:59:60.000000000001Z"],
  ["2016-12-31T23:59:60.5Z"],
  ["2017-01-01T00:00:00Z", "2017-01-01T00:00:00.000000000000Z", "2016-12-31T19:00:00-05:00"],
  ["2017-01-01T00:00:00.0000000001Z"],
  ["2017-01-01T00:00:00.000000001Z", "2017-01-01T00:00:00.0000000010Z"],
  ["2017-01-01T00:00:00.01Z"],
];
