/**
 * Group fairness: demographic-parity, equal-opportunity and
 * predictive-parity differences between groups A and B (regaudit-fhe's
 * EGF-IMSS oracle semantics).
 *
 * Every denominator is floored at 1, as regaudit-fhe does: a group with no
 * positive labels has an equal-opportunity rate of 0, a group with no
 * positive predictions a predictive-parity rate of 0.
 *
 * @module
 */
import { InputValidationError } from "../errors.ts";
import { binaryArray, optionalNumber, requireObject, sameLength } from "./input_rules.ts";

/** Input of the fairness audit (JSON field names as regaudit-fhe). */
export interface FairnessInput {
  /** Binary outcome labels. */
  y_true: number[];
  /** Binary model predictions. */
  y_pred: number[];
  /** Membership indicator (0/1) of protected group A. */
  group_a: number[];
  /** Membership indicator (0/1) of protected group B. */
  group_b: number[];
  /** Breach threshold on max |difference|, in [0, 1]. @default {0.1} */
  threshold?: number;
}

/** Result of the fairness audit. */
export interface FairnessResult {
  /** P(ŷ=1 | A) − P(ŷ=1 | B). */
  demographic_parity_diff: number;
  /** TPR(A) − TPR(B). */
  equal_opportunity_diff: number;
  /** PPV(A) − PPV(B). */
  predictive_parity_diff: number;
  /** max |difference| > threshold. */
  threshold_breached: boolean;
}

/** Default breach threshold. */
export const FAIRNESS_DEFAULT_THRESHOLD = 0.1;

const FIELDS = ["y_true", "y_pred", "group_a", "group_b", "threshold"] as const;

/**
 * Validate an untrusted value as a {@linkcode FairnessInput}.
 * @throws {InputValidationError} naming the field and rule.
 */
export function parseFairnessInput(value: unknown): FairnessInput {
  const obj = requireObject(value, FIELDS);
  const y_true = binaryArray(obj, "y_true");
  const y_pred = binaryArray(obj, "y_pred");
  const group_a = binaryArray(obj, "group_a");
  const group_b = binaryArray(obj, "group_b");
  sameLength([["y_true", y_true], ["y_pred", y_pred], ["group_a", group_a], [
    "group_b",
    group_b,
  ]]);
  for (const [name, g] of [["group_a", group_a], ["group_b", group_b]] as const) {
    if (!g.some((v) => v === 1)) {
      throw new InputValidationError(
        `/${name}`,
        "non-empty-group",
        "group has no members; disparity metrics are undefined for an empty group",
      );
    }
  }
  const threshold = optionalNumber(obj, "threshold", FAIRNESS_DEFAULT_THRESHOLD, 0, 1);
  return { y_true, y_pred, group_a, group_b, threshold };
}

/** The eight counts every fairness metric is a ratio of. */
export interface FairnessCounts {
  /** Group sizes. */
  n_a: number;
  /** Group sizes. */
  n_b: number;
  /** Positive labels per group. */
  pos_a: number;
  /** Positive labels per group. */
  pos_b: number;
  /** Positive predictions per group. */
  pred_a: number;
  /** Positive predictions per group. */
  pred_b: number;
  /** True positives per group. */
  tp_a: number;
  /** True positives per group. */
  tp_b: number;
}

/** Count the confusion-matrix cells per group. */
export function fairnessCounts(input: FairnessInput): FairnessCounts {
  const c: FairnessCounts = {
    n_a: 0,
    n_b: 0,
    pos_a: 0,
    pos_b: 0,
    pred_a: 0,
    pred_b: 0,
    tp_a: 0,
    tp_b: 0,
  };
  const { y_true, y_pred, group_a, group_b } = input;
  for (let i = 0; i < y_true.length; i++) {
    const y = y_true[i], p = y_pred[i], a = group_a[i], b = group_b[i];
    c.n_a += a;
    c.n_b += b;
    c.pos_a += y * a;
    c.pos_b += y * b;
    c.pred_a += p * a;
    c.pred_b += p * b;
    c.tp_a += y * p * a;
    c.tp_b += y * p * b;
  }
  return c;
}

/** Turn the eight counts into the report (owner side, after decryption too). */
export function fairnessFromCounts(c: FairnessCounts, threshold: number): FairnessResult {
  const dp = c.pred_a / Math.max(c.n_a, 1) - c.pred_b / Math.max(c.n_b, 1);
  const eo = c.tp_a / Math.max(c.pos_a, 1) - c.tp_b / Math.max(c.pos_b, 1);
  const pp = c.tp_a / Math.max(c.pred_a, 1) - c.tp_b / Math.max(c.pred_b, 1);
  return {
    demographic_parity_diff: dp,
    equal_opportunity_diff: eo,
    predictive_parity_diff: pp,
    threshold_breached: Math.max(Math.abs(dp), Math.abs(eo), Math.abs(pp)) > threshold,
  };
}

/** The exact fairness statistic of a validated input. O(n). */
export function fairnessStatistic(input: FairnessInput): FairnessResult {
  return fairnessFromCounts(fairnessCounts(input), input.threshold ?? FAIRNESS_DEFAULT_THRESHOLD);
}
