/**
 * Entry bundles (uint16 length prefixes, C2SP tlog-tiles) and envelope
 * bundles (uint32 length prefixes, docs/tiles.md): exact bytes, round
 * trips, and strict decoding.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_ENVELOPE_BYTES } from "../../ledger/index.ts";
import {
  BundleError,
  bundlePrefix,
  decodeEntryBundle,
  decodeEnvelopeBundle,
  DEFAULT_MAX_ENVELOPE_BYTES,
  encodeEntryBundle,
  encodeEnvelopeBundle,
} from "../../ledger/tiles/mod.ts";

const b = (...xs: number[]) => new Uint8Array(xs);

function isBundleError(rule: string) {
  return (e: unknown) => {
    assert.ok(e instanceof BundleError, String(e));
    assert.equal(e.rule, rule, e.message);
    return true;
  };
}

Deno.test("entry bundle bytes: big-endian uint16 length, then the leaf", () => {
  const leaves = [b(0xaa), b(), new Uint8Array(0x1234).fill(7)];
  const bytes = encodeEntryBundle(leaves);
  assert.deepEqual([...bytes.subarray(0, 5)], [0x00, 0x01, 0xaa, 0x00, 0x00]);
  assert.deepEqual([...bytes.subarray(5, 7)], [0x12, 0x34]);
  assert.equal(bytes.length, 2 + 1 + 2 + 2 + 0x1234);
  assert.deepEqual(decodeEntryBundle(bytes), leaves);
  assert.deepEqual(decodeEntryBundle(bytes, 3), leaves);
  // The largest leaf the framing can carry, and one byte more.
  const max = new Uint8Array(0xffff).fill(1);
  assert.deepEqual(decodeEntryBundle(encodeEntryBundle([max]), 1), [max]);
  assert.throws(() => encodeEntryBundle([new Uint8Array(0x10000)]), isBundleError("too-large"));
});

Deno.test("envelope bundle bytes: big-endian uint32 length, up to the ledger's limit", () => {
  assert.equal(DEFAULT_MAX_ENVELOPE_BYTES, MAX_ENVELOPE_BYTES);
  const bytes = encodeEnvelopeBundle([b(1, 2), b()]);
  assert.deepEqual([...bytes], [0, 0, 0, 2, 1, 2, 0, 0, 0, 0]);
  assert.deepEqual(decodeEnvelopeBundle(bytes, 2), [b(1, 2), b()]);
  const largest = new Uint8Array(MAX_ENVELOPE_BYTES).fill(0x7b);
  const big = encodeEnvelopeBundle([b(9), largest]);
  assert.deepEqual([...big.subarray(5, 9)], [0x00, 0x08, 0x00, 0x00]); // 524288
  assert.deepEqual(decodeEnvelopeBundle(big, 2), [b(9), largest]);
  const over = new Uint8Array(MAX_ENVELOPE_BYTES + 1);
  assert.throws(() => encodeEnvelopeBundle([over]), isBundleError("too-large"));
  assert.deepEqual(
    decodeEnvelopeBundle(encodeEnvelopeBundle([over], { maxEnvelopeBytes: 2 ** 20 }), 1, {
      maxEnvelopeBytes: 2 ** 20,
    }),
    [over],
  );
  // A length over the limit is refused from the prefix, before any copy.
  assert.throws(
    () => decodeEnvelopeBundle(b(0xff, 0xff, 0xff, 0xff, 1)),
    (e: unknown) => isBundleError("too-large")(e) && (e as BundleError).item === 0,
  );
  assert.throws(() => encodeEnvelopeBundle([b()], { maxEnvelopeBytes: 2 ** 32 }), RangeError);
});

Deno.test("strict decoding names what is wrong", () => {
  const two = encodeEntryBundle([b(1, 2, 3), b(4)]);
  const cases: [Uint8Array, number | undefined, string][] = [
    [b(), undefined, "count"], // empty
    [b(), 1, "count"],
    [b(0), undefined, "truncated"], // half a length prefix
    [b(0, 3, 1, 2), undefined, "truncated"], // entry cut short
    [two.subarray(0, two.length - 1), 2, "truncated"],
    [two, 1, "trailing"], // the path says 1 entry
    [new Uint8Array([...two, 0]), 2, "trailing"],
    [new Uint8Array([...two, 0, 0]), 2, "trailing"],
    [two, 3, "count"], // the path says 3 entries
    [encodeEntryBundle(Array.from({ length: 256 }, () => b(1))), 255, "trailing"],
    [
      new Uint8Array([...encodeEntryBundle(Array.from({ length: 256 }, () => b())), 0, 0]),
      undefined,
      "count",
    ],
  ];
  for (const [bytes, width, rule] of cases) {
    assert.throws(
      () => decodeEntryBundle(bytes, width),
      isBundleError(rule),
      `${[...bytes]} w=${width}`,
    );
  }
  assert.throws(() => encodeEntryBundle([]), isBundleError("count"));
  assert.throws(
    () => encodeEntryBundle(Array.from({ length: 257 }, () => b())),
    isBundleError("count"),
  );
  assert.throws(() => decodeEntryBundle(two, 0), RangeError);
  assert.throws(() => decodeEntryBundle(two, 257), RangeError);
  // 256 entries is a full bundle.
  assert.equal(
    decodeEntryBundle(encodeEntryBundle(Array.from({ length: 256 }, () => b()))).length,
    256,
  );
});

Deno.test("bundles round-trip; any truncation or extension is refused (property)", () => {
  const items = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 256 });
  fc.assert(
    fc.property(items, fc.nat(), (xs, cut) => {
      for (
        const [enc, dec] of [
          [encodeEntryBundle, decodeEntryBundle],
          [encodeEnvelopeBundle, decodeEnvelopeBundle],
        ] as const
      ) {
        const bytes = enc(xs);
        assert.deepEqual(dec(bytes, xs.length), xs);
        const shorter = bytes.subarray(0, cut % bytes.length);
        assert.throws(() => dec(shorter, xs.length), BundleError);
        assert.throws(() => dec(new Uint8Array([...bytes, cut & 0xff]), xs.length), BundleError);
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test("a partial bundle is a prefix of every wider version (property)", () => {
  const items = fc.array(fc.uint8Array({ maxLength: 100 }), { minLength: 1, maxLength: 256 });
  fc.assert(
    fc.property(items, fc.nat(), (xs, w) => {
      const width = 1 + (w % xs.length);
      assert.deepEqual(
        bundlePrefix(encodeEntryBundle(xs), width, "entries"),
        encodeEntryBundle(xs.slice(0, width)),
      );
      assert.deepEqual(
        bundlePrefix(encodeEnvelopeBundle(xs), width, "envelopes"),
        encodeEnvelopeBundle(xs.slice(0, width)),
      );
    }),
    { numRuns: 100 },
  );
  const two = encodeEntryBundle([b(1), b(2, 3)]);
  assert.throws(() => bundlePrefix(two, 3, "entries"), isBundleError("count"));
  assert.throws(() => bundlePrefix(two.subarray(0, 4), 2, "entries"), isBundleError("truncated"));
  assert.throws(() => bundlePrefix(two.subarray(0, 3), 2, "entries"), isBundleError("count"));
  assert.throws(() => bundlePrefix(two.subarray(0, 4), 2, "envelopes"), isBundleError("truncated"));
  assert.throws(() => bundlePrefix(two, 0, "entries"), RangeError);
});
