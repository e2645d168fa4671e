/**
 * The one rule for reading an audit result: "does it breach its threshold"
 * and "which numbers does a chart plot", used by the ledger's `breached`
 * query filter, the entries listing's summaries and anything later that asks.
 *
 * Three primitives carry a threshold and a breach bit in their result
 * (schemas/*.output.json): fairness `threshold_breached`, disagreement
 * `breach`, drift `drift_bit`. Provenance, concordance and calibration have
 * no threshold: their results never breach.
 *
 * @module
 */
import { committedThreshold, THRESHOLD_RULES } from "./thresholds.ts";

/** The result field holding the breach bit, per primitive with a threshold. */
export const BREACH_FIELD: Readonly<Record<string, string>> = {
  fairness: "threshold_breached",
  disagreement: "breach",
  drift: "drift_bit",
};

/**
 * The statistics of each primitive's result that a chart plots, in display
 * order: result fields holding one number, except provenance's two, read
 * from its arrays (`top_bucket` = `topk_indices[0]`, the largest bucket;
 * `top_bucket_aggregate` = `bucket_aggregates[top_bucket]`).
 */
export const STATISTICS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  fairness: Object.freeze([
    "demographic_parity_diff",
    "equal_opportunity_diff",
    "predictive_parity_diff",
  ]),
  provenance: Object.freeze(["top_bucket", "top_bucket_aggregate"]),
  concordance: Object.freeze(["c_index", "concordant_pairs", "comparable_pairs"]),
  calibration: Object.freeze(["set_size"]),
  drift: Object.freeze(["distance", "w1_distance"]),
  disagreement: Object.freeze(["pairwise_variance"]),
});

/** What a listing shows of one result (`GET /v1/log/entries`, `summary`). */
export interface ResultSummary {
  /**
   * The breach bit: `true`/`false` as the result says, `null` for a
   * primitive without a threshold or a result without a boolean bit.
   */
  breached: boolean | null;
  /** Each of the primitive's {@link STATISTICS}: a finite number, or null when absent. */
  statistics: Record<string, number | null>;
  /**
   * The threshold each statistic was compared with, when the envelope's
   * input commitments reveal it (`core/primitives/thresholds.ts`); fairness
   * compares magnitudes (`|value| > threshold`), drift and disagreement values.
   */
  thresholds: Record<string, number>;
}

function own(o: Readonly<Record<string, unknown>>, k: string): boolean {
  return Object.hasOwn(o, k);
}

/** The breach bit of `result`, or null (no threshold, not an object, no boolean bit). */
function breachBit(primitive: string, result: unknown): boolean | null {
  const field = own(BREACH_FIELD, primitive) ? BREACH_FIELD[primitive] : undefined;
  if (field === undefined || result === null || typeof result !== "object") return null;
  const bit = (result as Record<string, unknown>)[field];
  return typeof bit === "boolean" ? bit : null;
}

const finite = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : null;

/**
 * Whether `result` (an envelope's `result` for `primitive`) breaches its
 * threshold: its breach bit is `true`. A result without the bit, of a
 * primitive without a threshold, or not an object, does not breach.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultBreached } from "./breach.ts";
 * assert.equal(resultBreached("fairness", { threshold_breached: true }), true);
 * assert.equal(resultBreached("drift", { drift_bit: false }), false);
 * assert.equal(resultBreached("calibration", { set_size: 3 }), false);
 * ```
 */
export function resultBreached(primitive: string, result: unknown): boolean {
  return breachBit(primitive, result) === true;
}

/**
 * The summary of `result` (an envelope's `result` for `primitive`): its
 * breach bit, its {@link STATISTICS} and, given the envelope's
 * `input_commitments`, the thresholds they were compared with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commitInput } from "../commitments.ts";
 * import { resultSummary } from "./breach.ts";
 * const result = { distance: 0.03, w1_distance: 0.2, drift_bit: true };
 * assert.deepEqual(resultSummary("drift", result, [commitInput("drift_threshold", 0.01)]), {
 *   breached: true,
 *   statistics: { distance: 0.03, w1_distance: 0.2 },
 *   thresholds: { distance: 0.01 },
 * });
 * assert.deepEqual(resultSummary("calibration", { membership: [1, 0], set_size: 1 }), {
 *   breached: null,
 *   statistics: { set_size: 1 },
 *   thresholds: {},
 * });
 * ```
 */
export function resultSummary(
  primitive: string,
  result: unknown,
  inputCommitments?: unknown,
): ResultSummary {
  const names = own(STATISTICS, primitive) ? STATISTICS[primitive] : [];
  const r = result !== null && typeof result === "object" && !Array.isArray(result)
    ? result as Record<string, unknown>
    : {};
  const statistics: Record<string, number | null> = {};
  if (primitive === "provenance") {
    const top = Array.isArray(r.topk_indices) ? finite(r.topk_indices[0]) : null;
    const aggregates = Array.isArray(r.bucket_aggregates) ? r.bucket_aggregates : [];
    statistics.top_bucket = top !== null && Number.isInteger(top) && top >= 0 ? top : null;
    statistics.top_bucket_aggregate = statistics.top_bucket === null
      ? null
      : finite(aggregates[statistics.top_bucket]);
  } else {
    for (const n of names) statistics[n] = own(r, n) ? finite(r[n]) : null;
  }
  const thresholds: Record<string, number> = {};
  const t = committedThreshold(primitive, inputCommitments);
  if (t !== undefined) {
    for (const n of THRESHOLD_RULES[primitive].statistics) thresholds[n] = t;
  }
  return { breached: breachBit(primitive, result), statistics, thresholds };
}
