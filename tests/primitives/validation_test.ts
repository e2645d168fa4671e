/**
 * Every input-validation rule: the error is an InputValidationError whose
 * pointer names the field and whose rule names what was broken, raised
 * before anything is computed.
 */
import assert from "node:assert/strict";
import { InputValidationError } from "../../core/errors.ts";
import type { PrimitiveName } from "../../core/envelope_types.ts";
import { exactStatistic, parseInput } from "../../core/primitives/index.ts";

const valid: Record<PrimitiveName, Record<string, unknown>> = {
  fairness: { y_true: [1, 0, 1], y_pred: [1, 1, 0], group_a: [1, 0, 1], group_b: [0, 1, 0] },
  provenance: { attributions: [0.5, -1], row_ids: [3, 7], n_buckets: 4, k: 2 },
  concordance: { risk: [0.1, 0.2], time: [1, 2], event: [1, 0] },
  calibration: { scores: [0.1, 0.9], quantiles: [0.5, 0.5] },
  drift: { p: [1, 2, 3], q: [3, 2, 1] },
  disagreement: {
    model_polynomials: [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]],
    test_input: [0.5],
  },
};

function rejects(
  primitive: PrimitiveName,
  patch: Record<string, unknown>,
  pointer: string,
  rule: string,
) {
  const input = { ...valid[primitive], ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete input[k];
  assert.throws(() => parseInput(primitive, input), (e: unknown) => {
    assert(e instanceof InputValidationError, `expected InputValidationError, got ${e}`);
    assert.equal(e.pointer, pointer, e.message);
    assert.equal(e.rule, rule, e.message);
    assert(e.message.startsWith(pointer), "message names the field");
    return true;
  });
}

Deno.test("validation: the valid base inputs pass and get defaults", () => {
  assert.equal(parseInput("fairness", valid.fairness).threshold, 0.1);
  assert.equal(parseInput("drift", valid.drift).drift_threshold, 0.005);
  assert.equal(parseInput("disagreement", valid.disagreement).threshold, 0.05);
  for (const p of Object.keys(valid) as PrimitiveName[]) parseInput(p, valid[p]);
});

Deno.test("validation: document shape (type, required, unknown-field)", () => {
  for (const bad of [null, [], 3, "x"]) {
    assert.throws(
      () => parseInput("fairness", bad),
      (e: unknown) => e instanceof InputValidationError && e.pointer === "" && e.rule === "type",
    );
  }
  rejects("fairness", { y_true: undefined }, "/y_true", "required");
  rejects("fairness", { extra: 1 }, "/extra", "unknown-field");
  rejects("calibration", { scores: "0.1" }, "/scores", "type");
  rejects("calibration", { scores: [0.1, "0.2"] }, "/scores/1", "type");
});

Deno.test("validation: non-finite values", () => {
  rejects("concordance", { risk: [0.1, NaN] }, "/risk/1", "finite");
  rejects("calibration", { quantiles: [Infinity, 0] }, "/quantiles/0", "finite");
  rejects("drift", { q: [1, -Infinity, 1] }, "/q/1", "finite");
  rejects("disagreement", { test_input: [NaN] }, "/test_input/0", "finite");
  rejects(
    "disagreement",
    { model_polynomials: [[0, 1, 0, 0], [0, NaN, 0, 0], [1, 0, 0, 0]] },
    "/model_polynomials/1/1",
    "finite",
  );
  rejects("provenance", { attributions: [1, Infinity] }, "/attributions/1", "finite");
  rejects("fairness", { threshold: NaN }, "/threshold", "finite");
});

Deno.test("validation: non-binary labels, predictions, groups and events", () => {
  rejects("fairness", { y_true: [1, 0.5, 1] }, "/y_true/1", "binary");
  rejects("fairness", { y_pred: [2, 1, 0] }, "/y_pred/0", "binary");
  rejects("fairness", { group_a: [1, 0, -1] }, "/group_a/2", "binary");
  rejects("fairness", { group_b: [0, 1, 0.0001] }, "/group_b/2", "binary");
  rejects("concordance", { event: [1, 3] }, "/event/1", "binary");
});

Deno.test("validation: length mismatches", () => {
  rejects("fairness", { y_pred: [1, 1] }, "/y_pred", "same-length");
  rejects("fairness", { group_b: [0, 1, 0, 1] }, "/group_b", "same-length");
  rejects("provenance", { row_ids: [1, 2, 3] }, "/row_ids", "same-length");
  rejects("concordance", { time: [1] }, "/time", "same-length");
  rejects("calibration", { quantiles: [0.5] }, "/quantiles", "same-length");
  rejects("drift", { q: [1, 2] }, "/q", "same-length");
});

Deno.test("validation: empty arrays and empty groups", () => {
  rejects("concordance", { risk: [] }, "/risk", "non-empty");
  rejects("disagreement", { test_input: [] }, "/test_input", "non-empty");
  rejects("fairness", { group_a: [0, 0, 0] }, "/group_a", "non-empty-group");
  rejects("fairness", { group_b: [0, 0, 0] }, "/group_b", "non-empty-group");
});

Deno.test("validation: k outside [1, n_buckets], bad n_buckets", () => {
  rejects("provenance", { k: 0 }, "/k", "range");
  rejects("provenance", { k: 5 }, "/k", "range");
  rejects("provenance", { k: 1.5 }, "/k", "integer");
  rejects("provenance", { n_buckets: 0 }, "/n_buckets", "range");
  rejects("provenance", { n_buckets: 2.5 }, "/n_buckets", "integer");
  rejects("provenance", { k: undefined }, "/k", "required");
  // k == n_buckets is allowed
  parseInput("provenance", { ...valid.provenance, k: 4 });
});

Deno.test("validation: non-integer, negative or unsafe row ids", () => {
  rejects("provenance", { row_ids: [3, 7.5] }, "/row_ids/1", "integer");
  rejects("provenance", { row_ids: [-1, 7] }, "/row_ids/0", "non-negative");
  rejects("provenance", { row_ids: [3, 2 ** 53] }, "/row_ids/1", "integer");
});

Deno.test("validation: negative or all-zero histograms", () => {
  rejects("drift", { p: [1, -0.5, 1] }, "/p/1", "non-negative");
  rejects("drift", { q: [0, 0, 0] }, "/q", "non-zero-sum");
  rejects("drift", { drift_threshold: -0.1 }, "/drift_threshold", "range");
});

Deno.test("validation: fewer than 3 models, polynomials without exactly 4 coefficients", () => {
  rejects(
    "disagreement",
    { model_polynomials: [[0, 1, 0, 0], [0, 0, 1, 0]] },
    "/model_polynomials",
    "min-models",
  );
  rejects(
    "disagreement",
    { model_polynomials: [[0, 1, 0, 0], [0, 0, 1], [1, 0, 0, 0]] },
    "/model_polynomials/1",
    "coefficients",
  );
  rejects(
    "disagreement",
    { model_polynomials: [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0, 0]] },
    "/model_polynomials/2",
    "coefficients",
  );
  rejects(
    "disagreement",
    { model_polynomials: [[0, 1, 0, 0], [0, 0, 1, 0], []] },
    "/model_polynomials/2",
    "non-empty",
  );
  rejects("disagreement", { model_polynomials: "x" }, "/model_polynomials", "type");
});

Deno.test("validation: thresholds out of range", () => {
  rejects("fairness", { threshold: 1.5 }, "/threshold", "range");
  rejects("fairness", { threshold: -0.01 }, "/threshold", "range");
  rejects("disagreement", { threshold: -1 }, "/threshold", "range");
  rejects("fairness", { threshold: "0.2" }, "/threshold", "type");
});

Deno.test("validation: finite inputs that overflow the statistic are refused (overflow)", () => {
  const cases: [PrimitiveName, Record<string, unknown>, string][] = [
    ["disagreement", { test_input: [1e300] }, "/test_input"],
    ["provenance", { attributions: [1.7e308, 1.7e308], row_ids: [1, 1] }, "/attributions"],
  ];
  for (const [p, patch, pointer] of cases) {
    assert.throws(
      () => exactStatistic(p, parseInput(p, { ...valid[p], ...patch })),
      (e: unknown) =>
        e instanceof InputValidationError && e.pointer === pointer && e.rule === "overflow",
    );
  }
});
