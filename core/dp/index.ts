/**
 * Differential privacy for released audit aggregates: Laplace and Gaussian
 * mechanisms on a CSPRNG, the envelope `dp` block, and an accountant
 * (basic composition, RDP for the Gaussian mechanism) that refuses a
 * release exceeding its budget.
 *
 * @module
 */
export * from "./random.ts";
export * from "./mechanisms.ts";
export * from "./discrete.ts";
export * from "./accountant.ts";
export * from "./release.ts";
export * from "./budgets.ts";
