/**
 * Calibration circuit: membership margins `q − s`, depth 0.
 *
 * The per-class quantiles are public (as in regaudit-fhe); the scores are
 * encrypted. The evaluator returns `q − s` per class (a negation and a
 * plaintext addition: no level, no rotation); the owner decides
 * membership `margin >= −tieTolerance` and counts the set after
 * decryption. The released result is per class, so nothing beyond the
 * result's own granularity crosses the boundary.
 *
 * Error bound: membership is exact when |q − s| exceeds the backend's slot
 * error; a positive `tieTolerance` (default 0) resolves near-ties towards
 * inclusion, which keeps conformal coverage (never drops a true member
 * whose margin is within the tolerance). On the plaintext backend with
 * tolerance 0 the result is exact (IEEE subtraction preserves the sign).
 *
 * @module
 */
import type { CalibrationInput, CalibrationResult } from "../primitives/calibration.ts";
import { type BaseLayout, type Circuit, nextPowerOfTwo, requireSlots } from "./circuit.ts";
import type { SlotBackend, SlotVector } from "./slots.ts";

/** Public layout of the calibration circuit. */
export interface CalibrationLayout extends BaseLayout {
  /** Classes. */
  n: number;
  /** Public per-class quantiles. */
  quantiles: number[];
  /** Margins in [−tieTolerance, 0) count as members. */
  tieTolerance: number;
}

/** Options of {@linkcode createCalibrationCircuit}. */
export interface CalibrationCircuitOptions {
  /** Margins >= −tieTolerance count as members. @default {0} */
  tieTolerance?: number;
}

/**
 * A calibration circuit (declared depth 0).
 * @throws {RangeError} when `tieTolerance` is negative or not finite.
 */
export function createCalibrationCircuit(
  options: CalibrationCircuitOptions = {},
): Circuit<CalibrationInput, CalibrationResult, CalibrationLayout> {
  const tieTolerance = options.tieTolerance ?? 0;
  if (!Number.isFinite(tieTolerance) || tieTolerance < 0) {
    throw new RangeError(`tieTolerance must be finite and >= 0, got ${tieTolerance}`);
  }
  return {
    primitive: "calibration",
    depth: 0,
    errorBound: "membership exact when |q - s| > slot error + tieTolerance " +
      `(tieTolerance ${tieTolerance}); set_size exact when membership is`,
    minSlots(input) {
      return nextPowerOfTwo(input.scores.length);
    },
    prepare(input, slots) {
      requireSlots("calibration", input.scores.length, slots);
      return {
        vectors: { scores: Float64Array.from(input.scores) },
        layout: { slots, n: input.scores.length, quantiles: [...input.quantiles], tieTolerance },
      };
    },
    inputNames() {
      return ["scores"];
    },
    rotationSteps() {
      return [];
    },
    evaluate<V extends SlotVector>(
      be: SlotBackend<V>,
      enc: Record<string, V>,
      layout: CalibrationLayout,
    ) {
      return { margins: be.addPlain(be.negate(enc.scores), layout.quantiles) };
    },
    finish(dec, layout) {
      const membership: number[] = Array.from(
        { length: layout.n },
        (_, k) => (dec.margins[k] >= -layout.tieTolerance ? 1 : 0),
      );
      return { membership, set_size: membership.reduce((a, b) => a + b, 0) };
    },
  };
}

/** The calibration circuit with tie tolerance 0 (declared depth 0). */
export const calibrationCircuit: Circuit<CalibrationInput, CalibrationResult, CalibrationLayout> =
  createCalibrationCircuit();
