/**
 * UTC index keys: text order of the keys is time order of the instants,
 * whatever offset and precision each was written with; invalid date-times
 * have no key.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { utcTimeKey } from "../../ledger/time_key.ts";

/** An instant (ms since epoch plus extra nanoseconds) written with an offset and precision. */
function write(ms: number, nanos: number, offsetMin: number, frac: number): string {
  const local = new Date(ms + offsetMin * 60_000).toISOString();
  const digits = (local.slice(20, 23) + String(nanos).padStart(6, "0")).slice(0, frac);
  const zone = offsetMin === 0 && frac % 2 === 0
    ? "Z"
    : `${offsetMin < 0 ? "-" : "+"}${
      String(Math.floor(Math.abs(offsetMin) / 60)).padStart(2, "0")
    }:${String(Math.abs(offsetMin) % 60).padStart(2, "0")}`;
  return local.slice(0, 19) + (frac > 0 ? "." + digits : "") + zone;
}

const instant = fc.record({
  ms: fc.integer({ min: Date.UTC(1001, 0, 2), max: Date.UTC(9998, 11, 30) }),
  nanos: fc.integer({ min: 0, max: 999_999 }),
  offset: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
  frac: fc.integer({ min: 0, max: 9 }),
});

/** The instant the text denotes, as [ms, sub-ms nanoseconds] (truncated to its precision). */
const denoted = (x: { ms: number; nanos: number; frac: number }): [number, number] => {
  const msDigits = Math.min(x.frac, 3);
  const unit = 10 ** (3 - msDigits);
  const ms = x.ms - (((x.ms % unit) + unit) % unit); // floor, also before 1970
  const nanos = x.frac <= 3 ? 0 : x.nanos - (x.nanos % 10 ** (9 - x.frac));
  return [ms, nanos];
};

Deno.test("utcTimeKey: key order is time order across offsets and precisions (property)", () => {
  fc.assert(
    fc.property(instant, instant, (a, b) => {
      const ka = utcTimeKey(write(a.ms, a.nanos, a.offset, a.frac));
      const kb = utcTimeKey(write(b.ms, b.nanos, b.offset, b.frac));
      assert.ok(ka !== undefined && kb !== undefined);
      const [ma, na] = denoted(a);
      const [mb, nb] = denoted(b);
      const time = Math.sign(ma - mb || na - nb);
      const text = ka < kb ? -1 : ka > kb ? 1 : 0;
      assert.equal(
        text,
        time,
        `${write(a.ms, a.nanos, a.offset, a.frac)} vs ${write(b.ms, b.nanos, b.offset, b.frac)}`,
      );
    }),
    {
      numRuns: 2000,
      // Around the epoch (negative milliseconds truncate downwards) and across midnight.
      examples: [
        [{ ms: 0, nanos: 0, offset: 0, frac: 0 }, { ms: -1, nanos: 0, offset: 0, frac: 0 }],
        [{ ms: 86_399_999, nanos: 1, offset: 60, frac: 9 }, {
          ms: 86_400_000,
          nanos: 0,
          offset: -60,
          frac: 0,
        }],
      ],
    },
  );
});

Deno.test("utcTimeKey: the same instant in any offset has one key; known answers; invalid text has none", () => {
  const same = [
    "2026-01-01T00:00:00Z",
    "2026-01-01T02:00:00+02:00",
    "2025-12-31T18:30:00-05:30",
    "2026-01-01T00:00:00.000000+00:00",
    "2026-01-01t00:00:00.0z",
  ];
  for (const s of same) assert.equal(utcTimeKey(s), "2026-01-01T00:00:00.000000000Z", s);
  assert.equal(utcTimeKey("2026-11-21T16:57:43.688091+00:00"), "2026-11-21T16:57:43.688091000Z");
  assert.equal(utcTimeKey("2024-02-29T23:59:60Z"), "2024-02-29T23:59:59.999999999Z");
  for (
    const bad of [
      "2026-02-30T00:00:00Z",
      "2025-02-29T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01T00:00:00+24:00",
      "2026-01-01T00:00:00",
      "2026-01-01",
      "2026-01-01T00:00:00.1234567890Z",
      " 2026-01-01T00:00:00Z",
    ]
  ) {
    assert.equal(utcTimeKey(bad), undefined, bad);
  }
});
