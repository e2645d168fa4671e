/**
 * The six audit primitives: validated inputs, exact statistics, regulation
 * tags. Running and signing an audit is `core/audit`.
 *
 * @module
 */
export * from "./registry.ts";
export * from "./regulations.ts";
export * from "./fairness.ts";
export * from "./provenance.ts";
export * from "./concordance.ts";
export * from "./calibration.ts";
export * from "./drift.ts";
export * from "./disagreement.ts";
