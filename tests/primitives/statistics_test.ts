/**
 * Exact statistics against independent implementations: a naive O(n²)
 * Harrell C-index, a BigInt bucket hash, a brute-force top-K, on random
 * inputs (fast-check) with many ties.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  bucketOf,
  concordanceStatistic,
  denseRanks,
  provenanceStatistic,
  topK,
} from "../../core/primitives/index.ts";

/** regaudit-fhe's oracle, transcribed: O(n²). */
function naiveCIndex(risk: number[], time: number[], event: number[]) {
  let conc = 0, comp = 0;
  for (let i = 0; i < risk.length; i++) {
    if (event[i] !== 1) continue;
    for (let j = 0; j < risk.length; j++) {
      if (i === j || time[j] <= time[i]) continue;
      comp++;
      if (risk[i] > risk[j]) conc++;
      else if (risk[i] === risk[j]) conc += 0.5;
    }
  }
  return { concordant_pairs: conc, comparable_pairs: comp, c_index: comp > 0 ? conc / comp : 0.5 };
}

const survival = fc.integer({ min: 1, max: 60 }).chain((n) =>
  fc.record({
    // small integer domains force ties in risk and in time
    risk: fc.array(fc.integer({ min: -5, max: 5 }).map((v) => v / 4), {
      minLength: n,
      maxLength: n,
    }),
    time: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: n, maxLength: n }),
    event: fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n }),
  })
);

Deno.test("concordance: O(n log n) equals the naive O(n²) oracle, ties included", () => {
  fc.assert(
    fc.property(survival, ({ risk, time, event }) => {
      assert.deepEqual(concordanceStatistic({ risk, time, event }), naiveCIndex(risk, time, event));
    }),
    { numRuns: 300, seed: 42 },
  );
});

Deno.test("concordance: continuous values, larger n", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.double({ min: -3, max: 3, noNaN: true }),
          fc.double({ min: 0, max: 50, noNaN: true }),
          fc.constantFrom(0, 1),
        ),
        { minLength: 1, maxLength: 300 },
      ),
      (rows) => {
        const risk = rows.map((r) => r[0]),
          time = rows.map((r) => r[1]),
          event = rows.map((r) => r[2]);
        assert.deepEqual(
          concordanceStatistic({ risk, time, event }),
          naiveCIndex(risk, time, event),
        );
      },
    ),
    { numRuns: 50, seed: 7 },
  );
});

Deno.test("concordance: no comparable pair gives 0.5; perfect and reversed orders", () => {
  assert.equal(concordanceStatistic({ risk: [1, 2], time: [3, 3], event: [1, 1] }).c_index, 0.5);
  assert.equal(
    concordanceStatistic({ risk: [1, 2], time: [1, 2], event: [0, 0] }).comparable_pairs,
    0,
  );
  const n = 50;
  const time = Array.from({ length: n }, (_, i) => i);
  const event = time.map(() => 1);
  const perfect = concordanceStatistic({ risk: time.map((t) => -t), time, event });
  assert.deepEqual(perfect, { concordant_pairs: 1225, comparable_pairs: 1225, c_index: 1 });
  assert.equal(concordanceStatistic({ risk: time, time, event }).c_index, 0);
  assert.equal(concordanceStatistic({ risk: time.map(() => 0), time, event }).c_index, 0.5);
});

Deno.test("denseRanks: equal values share a rank, ranks are consecutive", () => {
  assert.deepEqual(Array.from(denseRanks([3, 1, 3, 2, -1]).ranks), [3, 1, 3, 2, 0]);
  assert.equal(denseRanks([5, 5, 5]).distinct, 1);
});

Deno.test("provenance: bucket hash equals exact BigInt arithmetic", () => {
  const a = 713480528n, b = 1242808857n, p = 2n ** 31n - 1n;
  fc.assert(
    fc.property(fc.maxSafeNat(), fc.integer({ min: 1, max: 5000 }), (r, nb) => {
      const expected = Number(((a * BigInt(r) + b) % p) % BigInt(nb));
      assert.equal(bucketOf(r, nb), expected);
    }),
    { numRuns: 2000, seed: 3 },
  );
  for (const r of [0, 1, 2 ** 31 - 2, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
    assert.equal(bucketOf(r, 1_000_003), Number(((a * BigInt(r) + b) % p) % 1_000_003n));
  }
});

Deno.test("provenance: top-K is the stable descending order (ties by lower index)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 40 }),
      fc.nat(),
      (agg, kSeed) => {
        const k = 1 + (kSeed % agg.length);
        const { indices, indicator } = topK(agg, k);
        // brute force: bucket i precedes j iff agg_i > agg_j or (equal and i < j)
        const expected = agg.map((v, i) => ({ v, i }))
          .sort((x, y) => (x.v !== y.v ? y.v - x.v : x.i - y.i)).slice(0, k).map((x) => x.i);
        assert.deepEqual(indices, expected);
        assert.equal(indicator.reduce((s, v) => s + v, 0), k);
      },
    ),
    { numRuns: 300, seed: 5 },
  );
  const r = provenanceStatistic({ attributions: [1, 1], row_ids: [0, 0], n_buckets: 3, k: 3 });
  assert.equal(r.bucket_aggregates.reduce((s, v) => s + v, 0), 2);
});
