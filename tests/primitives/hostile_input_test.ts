/**
 * Hostile input: whatever JSON-like value arrives, runAudit either returns a
 * result or throws InputValidationError (never a TypeError, RangeError or a
 * hang), and results of accepted inputs are finite.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type PrimitiveName, PRIMITIVES } from "../../core/envelope_types.ts";
import { InputValidationError } from "../../core/errors.ts";
import { runAudit } from "../../core/audit/index.ts";

const base: Record<PrimitiveName, Record<string, unknown>> = {
  fairness: {
    y_true: [1, 0, 1],
    y_pred: [1, 1, 0],
    group_a: [1, 0, 1],
    group_b: [0, 1, 0],
    threshold: 0.2,
  },
  provenance: { attributions: [0.5, -1, 2], row_ids: [3, 7, 11], n_buckets: 4, k: 2 },
  concordance: { risk: [0.1, 0.2, 0.3], time: [1, 2, 3], event: [1, 0, 1] },
  calibration: { scores: [0.1, 0.9, 0.4], quantiles: [0.5, 0.5, 0.5] },
  drift: { p: [1, 2, 3], q: [3, 2, 1], drift_threshold: 0.01 },
  disagreement: {
    model_polynomials: [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]],
    test_input: [0.5, -0.5],
    threshold: 0.1,
  },
};

const weird = fc.oneof(
  fc.anything(),
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    1e308,
    -1e308,
    2 ** 53,
    0.5,
    -1,
    3,
    "1",
    true,
    null,
    [],
    {},
  ),
  fc.array(fc.oneof(fc.double(), fc.integer(), fc.constant(null), fc.string()), { maxLength: 6 }),
);

function finiteDeep(v: unknown): boolean {
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(finiteDeep);
  if (typeof v === "object" && v !== null) return Object.values(v).every(finiteDeep);
  return true;
}

function accepts(p: PrimitiveName, value: unknown): void {
  try {
    const run = runAudit(p, value);
    assert(finiteDeep(run.result), `${p}: non-finite result for ${JSON.stringify(value)}`);
  } catch (e) {
    if (!(e instanceof InputValidationError)) {
      throw new Error(`${p}: ${e} for ${JSON.stringify(value)}`, { cause: e });
    }
  }
}

Deno.test("hostile input: any top-level value", () => {
  fc.assert(
    fc.property(fc.constantFrom(...PRIMITIVES), fc.anything(), (p, v) => accepts(p, v)),
    { numRuns: 300, seed: 11 },
  );
});

Deno.test("hostile input: one field of a valid input replaced by anything", () => {
  fc.assert(
    fc.property(fc.constantFrom(...PRIMITIVES), fc.nat(), weird, (p, i, v) => {
      const keys = Object.keys(base[p]);
      accepts(p, { ...base[p], [keys[i % keys.length]]: v });
    }),
    { numRuns: 600, seed: 12 },
  );
});

Deno.test("hostile input: one element of a valid array replaced by anything", () => {
  fc.assert(
    fc.property(fc.constantFrom(...PRIMITIVES), fc.nat(), fc.nat(), weird, (p, i, j, v) => {
      const arrays = Object.entries(base[p]).filter(([, x]) => Array.isArray(x));
      const [key, arr] = arrays[i % arrays.length] as [string, unknown[]];
      const copy = structuredClone(arr);
      copy[j % copy.length] = v;
      accepts(p, { ...base[p], [key]: copy });
    }),
    { numRuns: 600, seed: 13 },
  );
});

Deno.test("hostile input: extreme finite magnitudes give finite or refused results", () => {
  // 1e300 squared overflows: such inputs must not produce Infinity in a signed result
  for (const v of [1e300, -1e300, 1e200]) {
    accepts("disagreement", { ...base.disagreement, test_input: [v] });
    accepts("drift", { ...base.drift, p: [v, v] });
    accepts("provenance", { ...base.provenance, attributions: [v, v, v] });
  }
});
