/**
 * How close an encrypted (CKKS) audit result is to the exact statistic,
 * as tested in `tests/fhe/` and measured in `benchmarks/fhe.ts`.
 *
 * CKKS at a 40-bit scale errs by about 1e-7 to 1e-6 per slot; each bound
 * below leaves one to three orders of magnitude of margin for the circuit's
 * sums over up to 64 rows.
 *
 * | primitive    | compared fields                              | bound                                  |
 * | ------------ | -------------------------------------------- | -------------------------------------- |
 * | fairness     | the three differences                        | 1e-4 absolute (exact: counts rounded)  |
 * | provenance   | each bucket aggregate                        | 1e-3 × max(1, \|exact\|)               |
 * | concordance  | C-index                                      | 0.01 (exact: counts rounded)           |
 * | calibration  | membership, set size                         | equal when \|q − s\| ≥ 1e-4            |
 * | drift        | distance, W1                                 | 1e-4 absolute                          |
 * | disagreement | pairwise variance, per-model means           | 1e-4 absolute                          |
 *
 * Decisions (drift bit, disagreement breach, membership) agree with the
 * exact statistic whenever the exact quantity is further than its tolerance
 * from the threshold; fairness breach and top-K membership whenever the gap
 * is at least {@linkcode DECISION_MARGIN}. The tests sample inputs exactly
 * at those margins and measure the flip rate. Exact ties between top-K
 * aggregates (for example empty buckets, all 0) are broken by CKKS noise
 * rather than by the lower index: the tests count them apart.
 *
 * @module
 */

/** Per-primitive error bounds of the CKKS path against the exact statistic. */
export const CKKS_TOLERANCES = {
  /** Absolute, on each of the three differences. */
  fairness: 1e-4,
  /** Relative, on each bucket aggregate: |Δ| ≤ 1e-3 · max(1, |exact|). */
  provenance: 1e-3,
  /** Absolute, on the C-index. */
  concordance: 0.01,
  /** Smallest |quantile − score| at which membership is guaranteed. */
  calibration: 1e-4,
  /** Absolute, on distance and W1. */
  drift: 1e-4,
  /** Absolute, on pairwise variance and each per-model mean. */
  disagreement: 1e-4,
} as const;

/** Gap (fairness threshold, top-K K-th vs (K+1)-th aggregate) at which decisions must agree. */
export const DECISION_MARGIN = 1e-3;
