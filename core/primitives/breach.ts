/**
 * The one rule for "does this audit result breach its threshold", used by
 * the ledger's `breached` query filter and anything later that asks.
 *
 * Three primitives carry a threshold and a breach bit in their result
 * (schemas/*.output.json): fairness `threshold_breached`, disagreement
 * `breach`, drift `drift_bit`. Provenance, concordance and calibration have
 * no threshold: their results never breach.
 *
 * @module
 */

/** The result field holding the breach bit, per primitive with a threshold. */
export const BREACH_FIELD: Readonly<Record<string, string>> = {
  fairness: "threshold_breached",
  disagreement: "breach",
  drift: "drift_bit",
};

/**
 * Whether `result` (an envelope's `result` for `primitive`) breaches its
 * threshold: its breach bit is `true`. A result without the bit, of a
 * primitive without a threshold, or not an object, does not breach.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultBreached } from "./breach.ts";
 * assert.equal(resultBreached("fairness", { threshold_breached: true }), true);
 * assert.equal(resultBreached("drift", { drift_bit: false }), false);
 * assert.equal(resultBreached("calibration", { set_size: 3 }), false);
 * ```
 */
export function resultBreached(primitive: string, result: unknown): boolean {
  const field = Object.hasOwn(BREACH_FIELD, primitive) ? BREACH_FIELD[primitive] : undefined;
  if (field === undefined || result === null || typeof result !== "object") return false;
  return (result as Record<string, unknown>)[field] === true;
}
