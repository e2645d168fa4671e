/**
 * Conformal calibration: split-conformal prediction-set membership
 * (regaudit-fhe's ECP-QSSP oracle): class k is in the set when its
 * non-conformity score is at most its calibration quantile.
 *
 * @module
 */
import { finiteArray, requireObject, sameLength } from "./input_rules.ts";

/** Input of the calibration audit. */
export interface CalibrationInput {
  /** Per-class non-conformity scores of one test point. */
  scores: number[];
  /** Per-class calibration quantile thresholds (same length as `scores`). */
  quantiles: number[];
}

/** Result of the calibration audit. */
export interface CalibrationResult {
  /** 1 when `scores[k] <= quantiles[k]`, else 0. */
  membership: number[];
  /** Number of classes in the prediction set. */
  set_size: number;
}

const FIELDS = ["scores", "quantiles"] as const;

/**
 * Validate an untrusted value as a {@linkcode CalibrationInput}.
 * @throws {InputValidationError} naming the field and rule.
 */
export function parseCalibrationInput(value: unknown): CalibrationInput {
  const obj = requireObject(value, FIELDS);
  const scores = finiteArray(obj, "scores");
  const quantiles = finiteArray(obj, "quantiles");
  sameLength([["scores", scores], ["quantiles", quantiles]]);
  return { scores, quantiles };
}

/** The exact calibration statistic of a validated input. O(n). */
export function calibrationStatistic(input: CalibrationInput): CalibrationResult {
  const membership = input.scores.map((s, k) => (s <= input.quantiles[k] ? 1 : 0));
  let set_size = 0;
  for (const m of membership) set_size += m;
  return { membership, set_size };
}
