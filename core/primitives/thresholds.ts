/**
 * The threshold an audit compared its statistic with, read back from the
 * envelope's signed input commitments.
 *
 * A result carries the breach bit but not the threshold: the threshold is an
 * input, and an envelope holds only its commitment
 * `sha256(JCS({"name": n, "value": v}))` (docs/formats.md §2.3). A
 * commitment to a number has few plausible preimages, so the threshold is
 * recovered by matching the commitment against candidate values: the
 * primitive's default, every multiple of 0.001 in [0, 1] and every multiple
 * of 0.0001 in [0, 0.1] (the values a person types). A value found this way
 * is exactly the signed one; a threshold off the grid stays unknown
 * (`undefined`), never guessed.
 *
 * @module
 */
import { sha256Hex } from "../bytes.ts";
import { DISAGREEMENT_DEFAULT_THRESHOLD } from "./disagreement.ts";
import { DRIFT_DEFAULT_THRESHOLD } from "./drift.ts";
import { FAIRNESS_DEFAULT_THRESHOLD } from "./fairness.ts";

/** How a primitive with a threshold uses it. */
export interface ThresholdRule {
  /** The input field holding the threshold. */
  readonly input: string;
  /** The result statistics compared with it. */
  readonly statistics: readonly string[];
  /** True when the magnitude is compared (`|value| > threshold`), false for `value > threshold`. */
  readonly absolute: boolean;
  /** The default when the input leaves it out. */
  readonly default: number;
}

/** The threshold rule of each primitive that has one (the others never breach). */
export const THRESHOLD_RULES: Readonly<Record<string, ThresholdRule>> = Object.freeze({
  fairness: Object.freeze({
    input: "threshold",
    statistics: Object.freeze([
      "demographic_parity_diff",
      "equal_opportunity_diff",
      "predictive_parity_diff",
    ]),
    absolute: true,
    default: FAIRNESS_DEFAULT_THRESHOLD,
  }),
  drift: Object.freeze({
    input: "drift_threshold",
    statistics: Object.freeze(["distance"]),
    absolute: false,
    default: DRIFT_DEFAULT_THRESHOLD,
  }),
  disagreement: Object.freeze({
    input: "threshold",
    statistics: Object.freeze(["pairwise_variance"]),
    absolute: false,
    default: DISAGREEMENT_DEFAULT_THRESHOLD,
  }),
});

/** Commitment hex → value, per input name, built on first use. */
const tables = new Map<string, Map<string, number>>();

function candidateTable(input: string): Map<string, number> {
  let t = tables.get(input);
  if (t !== undefined) return t;
  t = new Map();
  const name = JSON.stringify(input);
  const add = (v: number) => {
    // JCS writes numbers as ECMAScript does; Python's json (legacy envelopes) adds ".0"
    // to integral floats, so both texts of 0 and 1 are candidates.
    const texts = [String(v)];
    if (Number.isInteger(v)) texts.push(`${v}.0`);
    for (const text of texts) t!.set(sha256Hex(`{"name":${name},"value":${text}}`), v);
  };
  for (const rule of Object.values(THRESHOLD_RULES)) {
    if (rule.input === input) add(rule.default);
  }
  // k / 10^d is the double nearest the decimal k·10^-d, as parsing that decimal gives.
  for (let k = 0; k <= 1000; k++) {
    add(k / 1000);
    add(k / 10_000);
  }
  tables.set(input, t);
  return t;
}

/**
 * The threshold `primitive`'s audit used, recovered from the envelope's
 * `input_commitments`; `undefined` when the primitive has no threshold, the
 * commitment is missing, or its value is not a candidate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commitInput } from "../commitments.ts";
 * import { committedThreshold } from "./thresholds.ts";
 * const commitments = [commitInput("drift_threshold", 0.02), commitInput("p", [1, 2])];
 * assert.equal(committedThreshold("drift", commitments), 0.02);
 * assert.equal(committedThreshold("drift", [commitInput("drift_threshold", Math.PI)]), undefined);
 * assert.equal(committedThreshold("calibration", commitments), undefined);
 * ```
 */
export function committedThreshold(primitive: string, commitments: unknown): number | undefined {
  const rule = Object.hasOwn(THRESHOLD_RULES, primitive) ? THRESHOLD_RULES[primitive] : undefined;
  if (rule === undefined || !Array.isArray(commitments)) return undefined;
  for (const c of commitments) {
    if (c !== null && typeof c === "object" && c.name === rule.input) {
      return typeof c.sha256 === "string"
        ? candidateTable(rule.input).get(c.sha256.toLowerCase())
        : undefined;
    }
  }
  return undefined;
}
