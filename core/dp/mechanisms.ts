/**
 * The Laplace and Gaussian mechanisms: validated parameters, calibrated
 * scales and noise draws.
 *
 * - Laplace: scale `b = Δ₁ / ε` gives ε-DP.
 * - Gaussian: `σ` is the smaller of two valid calibrations: the classic
 *   `Δ₂ √(2 ln(1.25/δ)) / ε` (Dwork–Roth Thm A.1, only for ε < 1) and the
 *   zCDP one (Bun–Steinke 2016: ρ = Δ₂²/(2σ²) gives
 *   (ρ + 2√(ρ ln(1/δ)), δ)-DP, solved for σ), valid for every ε.
 *
 * The caller supplies the sensitivity (L1 for Laplace, L2 for Gaussian, of
 * the whole released field): it is a modelling decision the library cannot
 * make.
 *
 * @module
 */
import { RegledgerError } from "../errors.ts";
import type { UniformSource } from "./random.ts";

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
  /** Laplace b or Gaussian σ. */
  scale: number;
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

/** Validate `spec` and compute its scale. @throws {DpParameterError} */
export function calibrate(spec: DpSpec): CalibratedSpec {
  const c = calibrateUnchecked(spec);
  if (!Number.isFinite(c.scale)) {
    throw new DpParameterError(
      "sensitivity",
      `noise scale overflows (sensitivity/epsilon too large)`,
    );
  }
  return c;
}

function calibrateUnchecked(spec: DpSpec): CalibratedSpec {
  if (spec.mechanism === "laplace") {
    if (spec.delta !== undefined && spec.delta !== 0) {
      throw new DpParameterError("delta", "the Laplace mechanism takes no delta");
    }
    return {
      mechanism: "laplace",
      epsilon: spec.epsilon,
      delta: 0,
      sensitivity: spec.sensitivity,
      scale: laplaceScale(spec.sensitivity, spec.epsilon),
    };
  }
  if (spec.mechanism === "gaussian") {
    const delta = spec.delta ?? NaN;
    return {
      mechanism: "gaussian",
      epsilon: spec.epsilon,
      delta,
      sensitivity: spec.sensitivity,
      scale: gaussianSigma(spec.sensitivity, spec.epsilon, delta),
    };
  }
  throw new DpParameterError("mechanism", `must be 'laplace' or 'gaussian', got ${spec.mechanism}`);
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

/** One noise draw for a calibrated spec. */
export function sampleNoise(spec: CalibratedSpec, random: UniformSource): number {
  return spec.mechanism === "laplace"
    ? sampleLaplace(spec.scale, random)
    : sampleGaussian(spec.scale, random);
}
