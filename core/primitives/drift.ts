/**
 * Distribution drift between two histograms (regaudit-fhe's EW1-CDSF):
 * with `F_p`, `F_q` the cumulative sums of the normalised histograms,
 * `distance = Σ_k (F_p(k) − F_q(k))²` (the CDF L2 / Cramér–von Mises style
 * distance), `w1_distance = Σ_k |F_p(k) − F_q(k)|` (Wasserstein-1 on unit
 * bins), and `drift_bit = distance > drift_threshold`.
 *
 * @module
 */
import { InputValidationError } from "../errors.ts";
import {
  finiteArray,
  type InputObject,
  optionalNumber,
  pointer,
  requireObject,
  sameLength,
} from "./input_rules.ts";

/** Input of the drift audit. */
export interface DriftInput {
  /** Reference histogram (non-negative counts or masses, not all zero). */
  p: number[];
  /** Current histogram, same bins as `p`. */
  q: number[];
  /** Drift decision threshold on `distance`, at least 0. @default {0.005} */
  drift_threshold?: number;
}

/** Result of the drift audit. */
export interface DriftResult {
  /** Σ (F_p − F_q)² over bins. */
  distance: number;
  /** Σ |F_p − F_q| over bins. */
  w1_distance: number;
  /** distance > drift_threshold. */
  drift_bit: boolean;
}

/** Default drift threshold (regaudit-fhe's `w1_circuit_d6` default). */
export const DRIFT_DEFAULT_THRESHOLD = 0.005;

const FIELDS = ["p", "q", "drift_threshold"] as const;

function histogram(obj: InputObject, key: string): number[] {
  const h = finiteArray(obj, key);
  let sum = 0;
  for (let i = 0; i < h.length; i++) {
    if (h[i] < 0) {
      throw new InputValidationError(pointer(key, i), "non-negative", `must be >= 0, got ${h[i]}`);
    }
    sum += h[i];
  }
  if (sum === 0) {
    throw new InputValidationError(pointer(key), "non-zero-sum", "histogram must not be all zero");
  }
  return h;
}

/**
 * Validate an untrusted value as a {@linkcode DriftInput}.
 * @throws {InputValidationError} naming the field and rule.
 */
export function parseDriftInput(value: unknown): DriftInput {
  const obj = requireObject(value, FIELDS);
  const p = histogram(obj, "p");
  const q = histogram(obj, "q");
  sameLength([["p", p], ["q", q]]);
  const drift_threshold = optionalNumber(
    obj,
    "drift_threshold",
    DRIFT_DEFAULT_THRESHOLD,
    0,
    Number.MAX_VALUE,
  );
  return { p, q, drift_threshold };
}

/**
 * `h / Σh` (the input is validated: Σh > 0). When Σh overflows (bins near
 * the float64 maximum), divides by the largest bin first so the result is
 * still the normalised histogram.
 */
export function normalise(h: readonly number[]): number[] {
  let s = 0;
  for (const v of h) s += v;
  if (Number.isFinite(s)) return h.map((v) => v / s);
  const m = Math.max(...h);
  const scaled = h.map((v) => v / m);
  let t = 0;
  for (const v of scaled) t += v;
  return scaled.map((v) => v / t);
}

/** Distance, W1 and drift bit from the CDF difference vector. */
export function driftFromCdfDiff(diff: ArrayLike<number>, threshold: number): DriftResult {
  let distance = 0;
  let w1 = 0;
  for (let k = 0; k < diff.length; k++) {
    distance += diff[k] * diff[k];
    w1 += Math.abs(diff[k]);
  }
  return { distance, w1_distance: w1, drift_bit: distance > threshold };
}

/** The exact drift statistic of a validated input. O(n). */
export function driftStatistic(input: DriftInput): DriftResult {
  const pn = normalise(input.p);
  const qn = normalise(input.q);
  const diff = new Float64Array(pn.length);
  let fp = 0, fq = 0;
  for (let k = 0; k < pn.length; k++) {
    fp += pn[k];
    fq += qn[k];
    diff[k] = fp - fq;
  }
  return driftFromCdfDiff(diff, input.drift_threshold ?? DRIFT_DEFAULT_THRESHOLD);
}
