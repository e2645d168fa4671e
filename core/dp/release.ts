/**
 * Noising the numeric fields of an audit result, and the `dp` block that
 * records what was applied inside the signed envelope body.
 *
 * Values are released on a power-of-two grid with exactly sampled discrete
 * noise (see `mechanisms.ts`). Named fields must be numbers or arrays of
 * numbers; for an array the
 * spec's sensitivity is that of the whole vector (L1 for Laplace, L2 for
 * Gaussian) and every element gets an independent draw at that scale.
 * Booleans and derived fields (breach bits, top-K) are not noised here:
 * recompute them from the noised values (post-processing keeps the
 * guarantee) — `runAudit` does that per primitive.
 *
 * @module
 */
import type { PrivacyAccountant, PrivacySpent } from "./accountant.ts";
import {
  calibrate,
  type CalibratedSpec,
  DpParameterError,
  type DpSpec,
  releaseValue,
} from "./mechanisms.ts";
import { datasetIdProblem } from "./budgets.ts";
import { cryptoUniform, type UniformSource } from "./random.ts";

/**
 * The `dp` block of an envelope: per noised field, what was applied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DpBlock, privatizeResult } from "./release.ts";
 *
 * const { dp } = privatizeResult(
 *   { gap: 0.04 },
 *   { gap: { mechanism: "gaussian", epsilon: 1, delta: 1e-6, sensitivity: 0.01 } },
 * );
 * const block: DpBlock = dp;
 * assert.deepEqual(Object.keys(block.fields), ["gap"]);
 * assert.equal(block.fields.gap.mechanism, "gaussian");
 * ```
 */
export interface DpBlock {
  /** Always true when present. */
  applied: true;
  /** Per noised field: mechanism, ε, δ, sensitivity and scale. */
  fields: Record<string, CalibratedSpec>;
  /** The accountant's totals after this release, when one was used. */
  accounting?: PrivacySpent;
  /**
   * The dataset the release drew on (an identifier or commitment, see
   * `budgets.ts`): the ledger charges the release to the issuer's budget
   * for it. Absent: no budget applies.
   */
  dataset?: string;
}

/** Options of {@linkcode privatizeResult}. */
export interface PrivatizeOptions {
  /** Randomness. @default {cryptoUniform()} (CSPRNG) */
  random?: UniformSource;
  /** Charged before any noise is drawn; a refused release throws and changes nothing. */
  accountant?: PrivacyAccountant;
  /** The dataset to record in the block (checked by `datasetIdProblem`). */
  dataset?: string;
}

/**
 * Return a copy of `result` with each field named in `specs` noised, and
 * the `dp` block describing it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { privatizeResult } from "./release.ts";
 * import { PrivacyAccountant } from "./accountant.ts";
 * const accountant = new PrivacyAccountant({ epsilon: 1 });
 * const { result, dp } = privatizeResult(
 *   { c_index: 0.71, comparable_pairs: 120 },
 *   { c_index: { mechanism: "laplace", epsilon: 0.5, sensitivity: 0.02 } },
 *   { accountant },
 * );
 * assert.ok(Math.abs(dp.fields.c_index.scale - 0.04) < 1e-6); // sensitivity / epsilon
 * assert.equal(accountant.spent().epsilon, 0.5);
 * assert.equal(typeof result.c_index, "number");
 * ```
 *
 * @throws {DpParameterError} on an unknown or non-numeric field or invalid parameters.
 * @throws {PrivacyBudgetExceededError} when the accountant refuses the release.
 */
export function privatizeResult<R extends object>(
  result: R,
  specs: Record<string, DpSpec>,
  options: PrivatizeOptions = {},
): { result: R; dp: DpBlock } {
  const names = Object.keys(specs);
  if (options.dataset !== undefined) {
    const bad = datasetIdProblem(options.dataset);
    if (bad) throw new DpParameterError("dataset", bad);
  }
  if (names.length === 0) throw new DpParameterError("field", "no field to noise");
  const calibrated: Record<string, CalibratedSpec> = {};
  const values = result as Record<string, unknown>;
  for (const name of names) {
    if (!(name in values)) throw new DpParameterError("field", `result has no field '${name}'`);
    const v = values[name];
    const numeric = typeof v === "number" ||
      (Array.isArray(v) && v.every((x) => typeof x === "number"));
    if (!numeric) {
      throw new DpParameterError("field", `'${name}' is not a number or an array of numbers`);
    }
    calibrated[name] = calibrate(specs[name], Array.isArray(v) ? Math.max(v.length, 1) : 1);
  }
  const accounting = options.accountant?.charge(Object.values(calibrated));
  const random = options.random ?? cryptoUniform();
  const out: Record<string, unknown> = { ...values };
  for (const name of names) {
    const v = values[name] as number | number[];
    const s = calibrated[name];
    out[name] = typeof v === "number"
      ? releaseValue(v, s, random)
      : v.map((x) => releaseValue(x, s, random));
    const noisy = out[name] as number | number[];
    if (!(typeof noisy === "number" ? Number.isFinite(noisy) : noisy.every(Number.isFinite))) {
      throw new DpParameterError("sensitivity", `noise on '${name}' overflowed (scale ${s.scale})`);
    }
  }
  const dp: DpBlock = { applied: true, fields: calibrated };
  if (accounting) dp.accounting = accounting;
  if (options.dataset !== undefined) dp.dataset = options.dataset;
  return { result: out as R, dp };
}
