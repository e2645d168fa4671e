/**
 * Every circuit against the exact statistic on random inputs (plaintext
 * backend): the stated error bound holds, depth stays within the declared
 * budget, only the declared rotation steps are used, and the evaluator
 * works from the encrypted vectors and a JSON copy of the public layout.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type BaseLayout,
  type Circuit,
  CIRCUITS,
  concordanceCircuit,
  createCalibrationCircuit,
  fairnessCircuit,
  PlaintextBackend,
  runCircuitPlaintext,
} from "../../core/circuits/index.ts";
import { DepthBudgetExceededError } from "../../core/errors.ts";
import {
  calibrationStatistic,
  concordanceStatistic,
  disagreementStatistic,
  driftStatistic,
  fairnessStatistic,
  provenanceStatistic,
} from "../../core/primitives/index.ts";
import { seededRandom } from "../_random.ts";

function close(a: number, b: number, rel: number, abs = 1e-12): boolean {
  return Math.abs(a - b) <= Math.max(rel * Math.abs(b), abs);
}

/** Split run: owner packs, evaluator sees only encrypted vectors + JSON layout. */
function splitRun<I, O, L extends BaseLayout>(circuit: Circuit<I, O, L>, input: I) {
  const slots = circuit.minSlots(input);
  const owner = circuit.prepare(input, slots);
  assert.deepEqual(Object.keys(owner.vectors).sort(), circuit.inputNames(owner.layout).sort());
  const be = new PlaintextBackend({ slots, depthBudget: circuit.depth });
  const enc = Object.fromEntries(Object.entries(owner.vectors).map(([k, v]) => [k, be.encrypt(v)]));
  const publicLayout = JSON.parse(JSON.stringify(owner.layout)) as L;
  const out = circuit.evaluate(be, enc, publicLayout);
  const dec = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, be.decrypt(v)]));
  const stats = be.stats();
  assert(stats.depthConsumed <= circuit.depth);
  const allowed = new Set(circuit.rotationSteps(publicLayout));
  for (const s of stats.rotationSteps) assert(allowed.has(s), `undeclared rotation step ${s}`);
  return { result: circuit.finish(dec, owner.layout, input), stats };
}

const bin = (n: number) => fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n });

Deno.test("fairness circuit: exact on random inputs, depth 2", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70 }).chain((n) =>
        fc.record({
          y_true: bin(n),
          y_pred: bin(n),
          group_a: bin(n),
          group_b: bin(n),
          threshold: fc.double({ min: 0, max: 1, noNaN: true }),
        })
      ),
      (input) => {
        const { result, stats } = splitRun(fairnessCircuit, input);
        assert.deepEqual(result, fairnessStatistic(input));
        assert.equal(stats.depthConsumed, 2);
      },
    ),
    { numRuns: 60, seed: 1 },
  );
});

Deno.test("provenance circuit: aggregates to 1e-12, top-K exact", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }).chain((n) =>
        fc.record({
          attributions: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), {
            minLength: n,
            maxLength: n,
          }),
          row_ids: fc.array(fc.nat({ max: 2 ** 40 }), { minLength: n, maxLength: n }),
          n_buckets: fc.integer({ min: 1, max: 16 }),
        }).chain((r) =>
          fc.record({
            ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fc.constant(v)])),
            k: fc.integer({ min: 1, max: r.n_buckets }),
          })
        )
      ),
      (raw) => {
        const input = raw as {
          attributions: number[];
          row_ids: number[];
          n_buckets: number;
          k: number;
        };
        const { result, stats } = splitRun(CIRCUITS.provenance, input);
        const exact = provenanceStatistic(input);
        result.bucket_aggregates.forEach((v, b) =>
          assert(close(v, exact.bucket_aggregates[b], 1e-12, 1e-12))
        );
        // top-K agrees except where aggregates tie within float rounding
        const gap = Math.min(
          ...exact.bucket_aggregates.flatMap((x, i) =>
            exact.bucket_aggregates.slice(i + 1).map((y) => x === y ? Infinity : Math.abs(x - y))
          ),
        );
        if (gap > 1e-9) assert.deepEqual(result.topk_indices, exact.topk_indices);
        assert.equal(stats.depthConsumed, 1);
      },
    ),
    { numRuns: 60, seed: 2 },
  );
});

Deno.test("concordance circuit: C-index exact (error 0) for n <= 64, with ties", () => {
  const rows = (n: number) =>
    fc.record({
      risk: fc.array(fc.integer({ min: 0, max: 20 }).map((v) => v / 7), {
        minLength: n,
        maxLength: n,
      }),
      time: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: n, maxLength: n }),
      event: bin(n),
    });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }).chain(rows), (input) => {
      const { result, stats } = splitRun(concordanceCircuit, input);
      assert.deepEqual(result, concordanceStatistic(input));
      assert(stats.depthConsumed <= 6);
    }),
    { numRuns: 25, seed: 3 },
  );
  // the largest size of the goal, all values distinct (7 bit planes), N = 2^14 slots
  const rnd = mulberry(11);
  const n = 64;
  const input = {
    risk: Array.from({ length: n }, () => rnd()),
    time: Array.from({ length: n }, () => rnd() * 100),
    event: Array.from({ length: n }, () => (rnd() < 0.7 ? 1 : 0)),
  };
  assert.equal(concordanceCircuit.minSlots(input), 8192);
  const { result, stats } = splitRun(concordanceCircuit, input);
  assert.deepEqual(result, concordanceStatistic(input));
  assert.equal(stats.depthConsumed, 6);
});

Deno.test("concordance circuit: counts survive CKKS-sized noise (1e-6 per slot op)", () => {
  const rnd = mulberry(5);
  const n = 48;
  const input = {
    risk: Array.from({ length: n }, () => Math.round(rnd() * 30)),
    time: Array.from({ length: n }, () => Math.round(rnd() * 40)),
    event: Array.from({ length: n }, () => (rnd() < 0.6 ? 1 : 0)),
  };
  const { result } = runCircuitPlaintext(concordanceCircuit, input, {
    noise: 1e-6,
    random: mulberry(9),
  });
  assert.deepEqual(result, concordanceStatistic(input));
});

Deno.test("calibration circuit: membership exact; tie tolerance includes near-ties", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }).chain((n) =>
        fc.record({
          scores: fc.array(fc.integer({ min: 0, max: 10 }).map((v) => v / 10), {
            minLength: n,
            maxLength: n,
          }),
          quantiles: fc.array(fc.integer({ min: 0, max: 10 }).map((v) => v / 10), {
            minLength: n,
            maxLength: n,
          }),
        })
      ),
      (input) => {
        const { result, stats } = splitRun(CIRCUITS.calibration, input);
        assert.deepEqual(result, calibrationStatistic(input));
        assert.equal(stats.depthConsumed, 0);
      },
    ),
    { numRuns: 60, seed: 4 },
  );
  const lenient = createCalibrationCircuit({ tieTolerance: 1e-6 });
  const r =
    runCircuitPlaintext(lenient, { scores: [0.5 + 1e-7, 0.6], quantiles: [0.5, 0.5] }).result;
  assert.deepEqual(r.membership, [1, 0]);
  assert.throws(() => createCalibrationCircuit({ tieTolerance: -1 }), RangeError);
});

Deno.test("drift circuit: distance and W1 within 1e-12, depth 1", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100 }).chain((n) =>
        fc.record({
          p: fc.array(fc.double({ min: 0.01, max: 5, noNaN: true }), {
            minLength: n,
            maxLength: n,
          }),
          q: fc.array(fc.double({ min: 0.01, max: 5, noNaN: true }), {
            minLength: n,
            maxLength: n,
          }),
          drift_threshold: fc.constant(0.005),
        })
      ),
      (input) => {
        const { result, stats } = splitRun(CIRCUITS.drift, input);
        const exact = driftStatistic(input);
        assert(
          close(result.distance, exact.distance, 1e-12, 1e-14),
          `${result.distance} vs ${exact.distance}`,
        );
        assert(close(result.w1_distance, exact.w1_distance, 1e-12, 1e-14));
        if (Math.abs(exact.distance - 0.005) > 1e-12) {
          assert.equal(result.drift_bit, exact.drift_bit);
        }
        assert.equal(stats.depthConsumed, 1);
      },
    ),
    { numRuns: 60, seed: 5 },
  );
});

Deno.test("disagreement circuit: variance within 1e-9 relative, means within 1e-12, depth 3", () => {
  fc.assert(
    fc.property(
      fc.record({
        model_polynomials: fc.array(
          fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }),
          { minLength: 3, maxLength: 9 },
        ),
        test_input: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), {
          minLength: 1,
          maxLength: 40,
        }),
        threshold: fc.constant(0.05),
      }),
      (input) => {
        const { result, stats } = splitRun(CIRCUITS.disagreement, input);
        const exact = disagreementStatistic(input);
        assert(
          close(result.pairwise_variance, exact.pairwise_variance, 1e-9, 1e-12),
          `${result.pairwise_variance} vs ${exact.pairwise_variance}`,
        );
        result.per_model_outputs.forEach((v, i) =>
          assert(close(v, exact.per_model_outputs[i], 1e-12, 1e-12))
        );
        assert.equal(stats.depthConsumed, 3);
      },
    ),
    { numRuns: 60, seed: 6 },
  );
});

Deno.test("circuits: a budget below the declared depth is a typed error", () => {
  const input = { y_true: [1, 0], y_pred: [1, 1], group_a: [1, 0], group_b: [0, 1] };
  const be = new PlaintextBackend({ slots: 16, depthBudget: 1 });
  const { vectors, layout } = fairnessCircuit.prepare(input, 16);
  const enc = Object.fromEntries(Object.entries(vectors).map(([k, v]) => [k, be.encrypt(v)]));
  assert.throws(() => fairnessCircuit.evaluate(be, enc, layout), DepthBudgetExceededError);
  assert.throws(() => fairnessCircuit.prepare(input, 8), RangeError);
});

const mulberry = seededRandom;

Deno.test("circuits: decisions survive CKKS-sized noise (1e-7 per slot op)", () => {
  const rnd = mulberry(21);
  const n = 60;
  const bitsOf = () => Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0));
  const a = bitsOf();
  const fairness = {
    y_true: bitsOf(),
    y_pred: bitsOf(),
    group_a: a,
    group_b: a.map((x) => 1 - x),
    threshold: 0.1,
  };
  const noisy = { noise: 1e-7, random: mulberry(22) };
  assert.deepEqual(
    runCircuitPlaintext(fairnessCircuit, fairness, noisy).result,
    fairnessStatistic(fairness),
  );
  const prov = {
    attributions: Array.from({ length: n }, () => rnd() * 2 - 1),
    row_ids: Array.from({ length: n }, () => Math.floor(rnd() * 1e9)),
    n_buckets: 8,
    k: 3,
  };
  const p = runCircuitPlaintext(CIRCUITS.provenance, prov, noisy).result;
  const pe = provenanceStatistic(prov);
  p.bucket_aggregates.forEach((v, b) => assert(Math.abs(v - pe.bucket_aggregates[b]) < 1e-4));
  assert.deepEqual(p.topk_indices, pe.topk_indices);
  const drift = {
    p: Array.from({ length: n }, () => rnd()),
    q: Array.from({ length: n }, () => rnd()),
    drift_threshold: 0.005,
  };
  const d = runCircuitPlaintext(CIRCUITS.drift, drift, noisy).result;
  assert(Math.abs(d.distance - driftStatistic(drift).distance) < 1e-4);
  assert(Math.abs(d.w1_distance - driftStatistic(drift).w1_distance) < 1e-4);
});
