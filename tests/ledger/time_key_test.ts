/**
 * UTC index keys: text order of the keys is time order of the instants,
 * whatever offset and precision each was written with; invalid date-times
 * have no key.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareIndexTime, indexTime, utcTimeKey } from "../../ledger/time_key.ts";
import { INVALID, ORDERED, VALID } from "../core/_rfc3339_cases.ts";

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
  // A leap second sorts after every time of the second before it (see ledger/time_key.ts).
  assert.equal(utcTimeKey("2024-02-29T23:59:60Z"), "2024-02-29T23:59:59.999999999Z:");
  assert.equal(utcTimeKey("2016-12-31T15:59:60.25-08:00"), "2016-12-31T23:59:59.999999999Z:25");
  // Finer than nanoseconds: the further digits follow the nine-digit key.
  assert.equal(utcTimeKey("2026-01-01T00:00:00.1234567890Z"), "2026-01-01T00:00:00.123456789Z");
  assert.equal(utcTimeKey("2026-01-01T00:00:00.12345678901Z"), "2026-01-01T00:00:00.123456789Z01");
  for (
    const bad of [
      "2026-02-30T00:00:00Z",
      "2025-02-29T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01T00:00:00+24:00",
      "2026-01-01T00:00:00",
      "2026-01-01",
      "2026-01-01T00:00:00.Z",
      "2026-01-01T23:59:60Z",
      " 2026-01-01T00:00:00Z",
    ]
  ) {
    assert.equal(utcTimeKey(bad), undefined, bad);
  }
});

Deno.test("utcTimeKey: defined for exactly the shared table's valid date-times", () => {
  for (const [text, why] of VALID) {
    const key = utcTimeKey(text);
    assert.ok(key !== undefined, `${why}: ${text}`);
    assert.equal(indexTime(text), key);
  }
  for (const [text, why] of INVALID) {
    assert.equal(utcTimeKey(text), undefined, `${why}: ${JSON.stringify(text)}`);
    assert.equal(indexTime(text), text, "an invalid time is indexed by its own text");
  }
});

Deno.test("utcTimeKey: the shared ordered table keeps time order at any precision, leap seconds included", () => {
  const keys = ORDERED.map((group) => {
    const ks = group.map((t) => utcTimeKey(t));
    for (const k of ks) assert.equal(k, ks[0], `one instant, one key: ${group.join(" = ")}`);
    return ks[0]!;
  });
  for (let i = 1; i < keys.length; i++) {
    assert.ok(keys[i - 1] < keys[i], `${ORDERED[i - 1][0]} before ${ORDERED[i][0]}`);
  }
});

Deno.test("utcTimeKey: order of fractions finer than nanoseconds (property)", () => {
  // Two fractions of up to 20 digits in the same second: key order is numeric order.
  const digits = fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 20 });
  fc.assert(
    fc.property(digits, digits, (a, b) => {
      const ka = utcTimeKey(`2026-05-05T05:05:05.${a}Z`)!;
      const kb = utcTimeKey(`2026-05-05T05:05:05.${b}Z`)!;
      const w = Math.max(a.length, b.length);
      const na = BigInt(a.padEnd(w, "0"));
      const nb = BigInt(b.padEnd(w, "0"));
      const time = na < nb ? -1 : na > nb ? 1 : 0;
      assert.equal(ka < kb ? -1 : ka > kb ? 1 : 0, time, `${a} vs ${b}`);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("compareIndexTime is the UTF-8 byte order Deno KV sorts string key parts in", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  const byteOrder = (a: string, b: string) => {
    const x = bytes(a);
    const y = bytes(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return x[i] - y[i];
    }
    return x.length - y.length;
  };
  // Astral characters sort after U+E000–U+FFFF in UTF-8, unlike UTF-16 code units.
  assert.ok(compareIndexTime("a\u{1F600}", "a\uFFFD") > 0);
  assert.ok("a\u{1F600}" < "a\uFFFD");
  assert.ok(
    compareIndexTime("2026-01-01T00:00:00.000000000Z", "2026-01-01T00:00:00.000000000Z5") < 0,
  );
  fc.assert(
    fc.property(
      fc.string({ unit: "grapheme" }),
      fc.string({ unit: "grapheme" }),
      (a, b) => Math.sign(compareIndexTime(a, b)) === Math.sign(byteOrder(a, b)),
    ),
    { numRuns: 2000 },
  );
});
