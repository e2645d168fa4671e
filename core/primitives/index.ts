/**
 * The six audit primitives: validated inputs, exact statistics, regulation
 * tags and the high-level {@linkcode runAudit}.
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
export * from "./audit.ts";
export * from "./sign.ts";
