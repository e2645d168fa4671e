/**
 * The six audit circuits, their common shape and the plaintext backend.
 *
 * | primitive    | depth | rotations            | outputs                      |
 * | ------------ | ----- | -------------------- | ---------------------------- |
 * | fairness     | 2     | log2 P               | 8 counts                     |
 * | provenance   | 1     | log2 P               | n_buckets aggregates         |
 * | concordance  | 6     | 2·log2 W + 1         | 2 counts (exact)             |
 * | calibration  | 0     | 0                    | per-class margins            |
 * | drift        | 1     | 2·log2 P             | L2 distance + CDF difference |
 * | disagreement | 3     | ≤ 2·log2(Mp·P)       | A, B, per-model sums         |
 *
 * @module
 */
import type { PrimitiveName } from "../envelope_types.ts";
import type { BaseLayout, Circuit } from "./circuit.ts";
import { calibrationCircuit } from "./calibration.ts";
import { concordanceCircuit } from "./concordance.ts";
import { disagreementCircuit } from "./disagreement.ts";
import { driftCircuit } from "./drift.ts";
import { fairnessCircuit } from "./fairness.ts";
import { provenanceCircuit } from "./provenance.ts";
import type { InputOf, ResultOf } from "../primitives/registry.ts";

export * from "./circuit.ts";
export * from "./plaintext.ts";
export * from "./slots.ts";
export { fairnessCircuit, type FairnessLayout } from "./fairness.ts";
export { provenanceCircuit, type ProvenanceLayout } from "./provenance.ts";
export {
  CONCORDANCE_MAX_BITS,
  concordanceCircuit,
  type ConcordanceLayout,
  timeCodes,
} from "./concordance.ts";
export {
  calibrationCircuit,
  type CalibrationCircuitOptions,
  type CalibrationLayout,
  createCalibrationCircuit,
} from "./calibration.ts";
export { driftCircuit, type DriftLayout } from "./drift.ts";
export { disagreementCircuit, type DisagreementLayout } from "./disagreement.ts";

/** Each primitive's circuit, typed by primitive. */
export const CIRCUITS: {
  readonly [P in PrimitiveName]: Circuit<InputOf<P>, ResultOf<P>, BaseLayout>;
} = {
  fairness: fairnessCircuit,
  provenance: provenanceCircuit,
  concordance: concordanceCircuit,
  calibration: calibrationCircuit,
  drift: driftCircuit,
  disagreement: disagreementCircuit,
};
