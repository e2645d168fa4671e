/**
 * Cross-model disagreement (regaudit-fhe's ECMD-JPS): M ≥ 3 models, each a
 * degree-3 surrogate polynomial `c0 + c1 x + c2 x² + c3 x³`, evaluated on
 * every test input. `pairwise_variance` is the mean over model pairs of the
 * mean over inputs of the squared output difference; `per_model_outputs`
 * the mean output per model; `breach = pairwise_variance > threshold`.
 *
 * @module
 */
import { InputValidationError } from "../errors.ts";
import {
  finiteArray,
  finiteArrayAt,
  optionalNumber,
  pointer,
  requireObject,
} from "./input_rules.ts";

/** Input of the disagreement audit. */
export interface DisagreementInput {
  /** Per model `[c0, c1, c2, c3]`; at least 3 models. */
  model_polynomials: number[][];
  /** Test inputs every model is evaluated on. */
  test_input: number[];
  /** Breach threshold on `pairwise_variance`, at least 0. @default {0.05} */
  threshold?: number;
}

/** Result of the disagreement audit. */
export interface DisagreementResult {
  /** Mean over pairs i<j of mean over inputs of (P_i − P_j)². */
  pairwise_variance: number;
  /** pairwise_variance > threshold. */
  breach: boolean;
  /** Mean of P_i over the test inputs, per model. */
  per_model_outputs: number[];
}

/** Default breach threshold. */
export const DISAGREEMENT_DEFAULT_THRESHOLD = 0.05;
/** Fewest models a disagreement audit accepts. */
export const MIN_MODELS = 3;

const FIELDS = ["model_polynomials", "test_input", "threshold"] as const;

/**
 * Validate an untrusted value as a {@linkcode DisagreementInput}.
 * @throws {InputValidationError} naming the field and rule.
 */
export function parseDisagreementInput(value: unknown): DisagreementInput {
  const obj = requireObject(value, FIELDS);
  const models = obj.model_polynomials;
  if (models === undefined) {
    throw new InputValidationError("/model_polynomials", "required", "required field is missing");
  }
  if (!Array.isArray(models)) {
    throw new InputValidationError(
      "/model_polynomials",
      "type",
      "must be an array of [c0, c1, c2, c3]",
    );
  }
  if (models.length < MIN_MODELS) {
    throw new InputValidationError(
      "/model_polynomials",
      "min-models",
      `needs at least ${MIN_MODELS} models, got ${models.length}`,
    );
  }
  const model_polynomials = models.map((m, i) => {
    const c = finiteArrayAt(m, ["model_polynomials", i]);
    if (c.length !== 4) {
      throw new InputValidationError(
        pointer("model_polynomials", i),
        "coefficients",
        `a degree-3 surrogate needs exactly 4 coefficients [c0, c1, c2, c3], got ${c.length}`,
      );
    }
    return c;
  });
  const test_input = finiteArray(obj, "test_input");
  const threshold = optionalNumber(
    obj,
    "threshold",
    DISAGREEMENT_DEFAULT_THRESHOLD,
    0,
    Number.MAX_VALUE,
  );
  return { model_polynomials, test_input, threshold };
}

/** `c0 + c1 x + c2 x² + c3 x³`, in regaudit-fhe's operation order. */
export function evalCubic(c: readonly number[], x: number): number {
  const x2 = x * x;
  return c[1] * x + c[2] * x2 + c[3] * (x2 * x) + c[0];
}

/**
 * The exact disagreement statistic of a validated input, in O(M n): for
 * each test input, the sum over model pairs i < j of (P_i − P_j)² equals
 * M · Σ_i (P_i − P̄)² (P̄ the mean over models), so the pairs are never
 * enumerated. Centering first keeps it as accurate as the pairwise sum;
 * the pairwise loop made a 1 MiB request of 100,000 models take minutes.
 */
export function disagreementStatistic(input: DisagreementInput): DisagreementResult {
  const xs = input.test_input;
  const n = xs.length;
  const outs = input.model_polynomials.map((c) => xs.map((x) => evalCubic(c, x)));
  const m = outs.length;
  let acc = 0;
  for (let t = 0; t < n; t++) {
    let mean = 0;
    for (let i = 0; i < m; i++) mean += outs[i][t];
    mean /= m;
    let ss = 0;
    for (let i = 0; i < m; i++) ss += (outs[i][t] - mean) ** 2;
    acc += m * ss / n;
  }
  const pairwise_variance = acc / (m * (m - 1) / 2);
  return {
    pairwise_variance,
    breach: pairwise_variance > (input.threshold ?? DISAGREEMENT_DEFAULT_THRESHOLD),
    per_model_outputs: outs.map((o) => o.reduce((a, b) => a + b, 0) / n),
  };
}
