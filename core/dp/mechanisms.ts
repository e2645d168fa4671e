/**
 * The Laplace and Gaussian mechanisms: validated parameters, calibrated
 * scales and noise draws.
 *
 * Releases use exact discrete samplers on a power-of-two grid `g` (see
 * `discrete.ts`): the value is rounded to a multiple of `g` and an integer
 * noise `Z` times `g` is added, so the released number is a deterministic
 * function of an exactly sampled integer (no floating-point leak). Rounding
 * can move a value by half a grid step, so the grid sensitivity is
 * `Δ_g = ⌈Δ/g⌉ + d` steps for d values under L1 (`⌈Δ/g + √d⌉` under L2),
 * and the noise is calibrated to `Δ_g`:
 *
 * - Laplace: discrete Laplace with scale `τ ≥ Δ_g/ε` steps gives ε-DP.
 * - Gaussian: discrete Gaussian with `σ = Δ_g/√(2ρ)` steps gives ρ-zCDP
 *   (CKS 2020, Thm 4), hence (ρ + 2√(ρ ln(1/δ)), δ)-DP (Bun–Steinke 2016);
 *   ρ is solved from (ε, δ).
 *
 * `g = 2^(⌊log2(nominal scale)⌋ − 20 − min(⌈log2 d⌉, 10))`, so the grid
 * costs about 2^-20 of extra noise. The continuous samplers (`sampleLaplace`, `sampleGaussian`)
 * and `gaussianSigma` (the smaller of the classic and zCDP calibrations)
 * remain for analysis; releases do not use them.
 *
 * The caller supplies the sensitivity (L1 for Laplace, L2 for Gaussian, of
 * the whole released field): it is a modelling decision the library cannot
 * make.
 *
 * @module
 */
import { RegledgerError } from "../errors.ts";
import type { UniformSource } from "./random.ts";
import { type Rational, sampleDiscreteGaussian, sampleDiscreteLaplace } from "./discrete.ts";

/** A differential-privacy parameter is invalid. */
export class DpParameterError extends RegledgerError {
  /** The parameter name (`epsilon`, `delta`, `sensitivity`, `mechanism`, `field`). */
  readonly parameter: string;
  /** Build the error. */
  constructor(parameter: string, message: string) {
    super(`${parameter}: ${message}`);
    this.parameter = parameter;
  }
}

/** The two mechanisms. */
export type DpMechanism = "laplace" | "gaussian";

/** A release policy for one numeric field. */
export interface DpSpec {
  /** Which mechanism. */
  mechanism: DpMechanism;
  /** Privacy loss ε > 0. */
  epsilon: number;
  /** δ in (0, 1) for Gaussian; 0 (or absent) for Laplace. */
  delta?: number;
  /** L1 (Laplace) or L2 (Gaussian) sensitivity of the whole field, > 0. */
  sensitivity: number;
}

/** A validated spec with its noise scale. */
export interface CalibratedSpec {
  /** Which mechanism. */
  mechanism: DpMechanism;
  /** ε. */
  epsilon: number;
  /** δ (0 for Laplace). */
  delta: number;
  /** Sensitivity. */
  sensitivity: number;
  /** Laplace b or Gaussian σ of the noise actually added, in the field's units. */
  scale: number;
  /** The power-of-two grid the released value lies on. */
  grid: number;
  /** How many values the field holds (rounding to the grid costs up to one step each). */
  dimension: number;
}

function positiveFinite(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new DpParameterError(name, `must be a finite number > 0, got ${v}`);
  }
  return v;
}

/** Laplace scale `Δ₁/ε`. @throws {DpParameterError} on invalid parameters. */
export function laplaceScale(sensitivity: number, epsilon: number): number {
  return positiveFinite("sensitivity", sensitivity) / positiveFinite("epsilon", epsilon);
}

/** Gaussian σ for (ε, δ)-DP (see module doc). @throws {DpParameterError} on invalid parameters. */
export function gaussianSigma(sensitivity: number, epsilon: number, delta: number): number {
  const s = positiveFinite("sensitivity", sensitivity);
  const eps = positiveFinite("epsilon", epsilon);
  if (typeof delta !== "number" || !(delta > 0 && delta < 1)) {
    throw new DpParameterError("delta", `must lie in (0, 1), got ${delta}`);
  }
  const l = Math.log(1 / delta);
  const sqrtRho = -Math.sqrt(l) + Math.sqrt(l + eps); // root of ρ + 2√(ρ l) = ε
  let sigma = s / (Math.SQRT2 * sqrtRho);
  if (eps < 1) sigma = Math.min(sigma, (s * Math.sqrt(2 * Math.log(1.25 / delta))) / eps);
  return sigma;
}

/**
 * Gaussian σ from the zCDP calibration alone: ρ solves
 * `ρ + 2√(ρ ln(1/δ)) = ε` and `σ = Δ/√(2ρ)` (valid for the discrete
 * Gaussian too). @throws {DpParameterError} on invalid parameters.
 */
export function gaussianSigmaZcdp(sensitivity: number, epsilon: number, delta: number): number {
  const s = positiveFinite("sensitivity", sensitivity);
  const eps = positiveFinite("epsilon", epsilon);
  checkDelta(delta);
  const l = Math.log(1 / delta);
  return s / (Math.SQRT2 * (Math.sqrt(l + eps) - Math.sqrt(l)));
}

function checkDelta(delta: unknown): asserts delta is number {
  if (typeof delta !== "number" || !(delta > 0 && delta < 1)) {
    throw new DpParameterError("delta", `must lie in (0, 1), got ${delta}`);
  }
}

const GRID_BITS = 20;
const DEN = 1n << BigInt(GRID_BITS);

/** `x` as a rational `num/2^20`, rounded up (more noise is always safe). */
function ceilRational(x: number): Rational {
  return { num: BigInt(Math.ceil(x * 2 ** GRID_BITS)) + 1n, den: DEN };
}

/**
 * The sensitivity in grid steps after rounding each of `dimension` values to
 * the grid (each rounding moves a value by at most half a step, so two
 * neighbouring outputs differ by at most one extra step per value): L1
 * (Laplace) `⌈Δ/g⌉ + d`, L2 (Gaussian) `⌈Δ/g + √d⌉`.
 */
export function gridSensitivity(
  sensitivity: number,
  grid: number,
  dimension = 1,
  mechanism: DpMechanism = "laplace",
): number {
  return mechanism === "laplace"
    ? Math.ceil(sensitivity / grid) + dimension
    : Math.ceil(sensitivity / grid + Math.sqrt(dimension));
}

/**
 * Validate `spec` and compute its grid and scale for a field of `dimension`
 * values (default 1).
 * @throws {DpParameterError} on invalid parameters or a scale that overflows.
 */
export function calibrate(spec: DpSpec, dimension = 1): CalibratedSpec {
  if (!Number.isSafeInteger(dimension) || dimension < 1) {
    throw new DpParameterError("field", `dimension must be a positive integer, got ${dimension}`);
  }
  let nominal: number;
  let delta = 0;
  if (spec.mechanism === "laplace") {
    if (spec.delta !== undefined && spec.delta !== 0) {
      throw new DpParameterError("delta", "the Laplace mechanism takes no delta");
    }
    nominal = laplaceScale(spec.sensitivity, spec.epsilon);
  } else if (spec.mechanism === "gaussian") {
    checkDelta(spec.delta);
    delta = spec.delta;
    nominal = gaussianSigmaZcdp(spec.sensitivity, spec.epsilon, delta);
  } else {
    throw new DpParameterError(
      "mechanism",
      `must be 'laplace' or 'gaussian', got ${(spec as { mechanism: unknown }).mechanism}`,
    );
  }
  if (!Number.isFinite(nominal) || nominal > 2 ** 900 || nominal < 2 ** -900) {
    throw new DpParameterError("sensitivity", `noise scale ${nominal} is out of range`);
  }
  // A field of d values gets a grid finer by up to 2^10, so that the d extra
  // rounding steps stay a ~2^-20 fraction of the noise (and counts stay < 2^53).
  const extra = Math.min(Math.ceil(Math.log2(dimension)), 10);
  const grid = 2 ** (Math.floor(Math.log2(nominal)) - GRID_BITS - extra);
  const steps = gridSensitivity(spec.sensitivity, grid, dimension, spec.mechanism);
  const stepScale = spec.mechanism === "laplace"
    ? steps / spec.epsilon
    : gaussianSigmaZcdp(steps, spec.epsilon, delta);
  const r = ceilRational(stepScale);
  return {
    mechanism: spec.mechanism,
    epsilon: spec.epsilon,
    delta,
    sensitivity: spec.sensitivity,
    scale: (Number(r.num) / 2 ** GRID_BITS) * grid,
    grid,
    dimension,
  };
}

/**
 * Release `value` under `spec`: round to the grid and add exactly sampled
 * integer noise times the grid.
 * @throws {DpParameterError} when `value` is too large for the grid (|value| > 2^50 grid steps).
 */
export function releaseValue(value: number, spec: CalibratedSpec, random: UniformSource): number {
  const k = Math.round(value / spec.grid);
  if (!(Math.abs(k) <= 2 ** 50)) {
    throw new DpParameterError("sensitivity", `value ${value} is too large for the noise grid`);
  }
  // the calibrated scale is num/2^20 grid steps exactly; round up anything else
  const stepScale = { num: BigInt(Math.ceil((spec.scale / spec.grid) * 2 ** GRID_BITS)), den: DEN };
  if (stepScale.num <= 0n) throw new DpParameterError("sensitivity", "noise scale must be > 0");
  const z = spec.mechanism === "laplace"
    ? sampleDiscreteLaplace(stepScale, random)
    : sampleDiscreteGaussian({ num: stepScale.num * stepScale.num, den: DEN * DEN }, random);
  return (k + Number(z)) * spec.grid;
}

/** One Laplace(0, b) draw by inversion. */
export function sampleLaplace(b: number, random: UniformSource): number {
  let u = random.next() - 0.5;
  while (u === -0.5) u = random.next() - 0.5; // keep log finite
  return -b * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

/** One N(0, σ²) draw (Box–Muller). */
export function sampleGaussian(sigma: number, random: UniformSource): number {
  let u = random.next();
  while (u === 0) u = random.next();
  return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}
