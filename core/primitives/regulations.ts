/**
 * Regulation tags per primitive, as regaudit-fhe's `REGULATION_MAP`.
 *
 * @module
 */
import type { PrimitiveName } from "../envelope_types.ts";

/** Regulation tags recorded in each primitive's envelopes. */
export const REGULATIONS: Readonly<Record<PrimitiveName, readonly string[]>> = Object.freeze({
  fairness: Object.freeze([
    "NYC_LL144",
    "EU_AI_ACT_ART10",
    "EU_AI_ACT_ART15",
    "COLORADO_AI_ACT",
    "CFPB_ALG_DISCRIM",
  ]),
  provenance: Object.freeze(["EU_AI_ACT_ART10", "21_CFR_PART_11", "GDPR_ART22", "HIPAA"]),
  concordance: Object.freeze(["FDA_SAMD_PCCP", "EU_AI_ACT_ART15", "EMA_AI_GUIDANCE"]),
  calibration: Object.freeze(["FDA_SAMD_UQ", "EU_AI_ACT_ART15", "ISO_IEC_23053", "UNECE_WP29"]),
  drift: Object.freeze(["EU_AI_ACT_ART15", "FDA_SAMD_PCCP", "BASEL_III"]),
  disagreement: Object.freeze(["OCC_SR_11_7", "EU_AI_ACT_ART15", "FDA_SAMD_PCCP"]),
});
