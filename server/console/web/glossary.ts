/// <reference lib="dom" />
/**
 * Plain-language meanings: what each primitive checks and what each
 * statistic is. Statistic texts come from the primitives' own output
 * schemas (bundled), so the console and the schemas say the same thing.
 *
 * @module
 */
import calibration from "../../../schemas/calibration.output.json" with { type: "json" };
import concordance from "../../../schemas/concordance.output.json" with { type: "json" };
import disagreement from "../../../schemas/disagreement.output.json" with { type: "json" };
import drift from "../../../schemas/drift.output.json" with { type: "json" };
import fairness from "../../../schemas/fairness.output.json" with { type: "json" };
import provenance from "../../../schemas/provenance.output.json" with { type: "json" };

type Schema = { properties?: Record<string, { description?: string }> };
const SCHEMAS: Record<string, Schema> = {
  calibration,
  concordance,
  disagreement,
  drift,
  fairness,
  provenance,
};

/** One sentence per primitive: what question the audit answers. */
export const PRIMITIVE_MEANING: Record<string, string> = {
  fairness: "Do two groups get positive predictions, true positives and precise predictions at " +
    "the same rates?",
  drift: "Has the distribution of a model input or score moved away from its reference?",
  calibration: "Which classes does a conformal prediction set contain for a case?",
  disagreement: "Do several models give the same answer on the same input?",
  concordance: "Does the model rank risks in the order events actually happened (C-index)?",
  provenance: "Which feature buckets carry most of the model's attribution?",
};

/** What statistic `name` of `primitive` means, from the output schema. */
export function statisticMeaning(primitive: string, name: string): string {
  return SCHEMAS[primitive]?.properties?.[name]?.description ?? "";
}

/** Names people use for the regulation tags envelopes carry. */
export const REGULATION_NAMES: Record<string, string> = {
  NYC_LL144: "New York City Local Law 144 (automated employment decision tools)",
  EU_AI_ACT_ART10: "EU AI Act, Article 10 (data and data governance)",
  EU_AI_ACT_ART15: "EU AI Act, Article 15 (accuracy, robustness, cybersecurity)",
  COLORADO_AI_ACT: "Colorado AI Act (SB 24-205)",
  CFPB_ALG_DISCRIM: "CFPB guidance on algorithmic discrimination",
  "21_CFR_PART_11": "21 CFR Part 11 (electronic records)",
  GDPR_ART22: "GDPR Article 22 (automated decisions)",
  HIPAA: "HIPAA",
  FDA_SAMD_PCCP: "FDA SaMD predetermined change control plan",
  FDA_SAMD_UQ: "FDA SaMD uncertainty quantification",
  EMA_AI_GUIDANCE: "EMA reflection paper on AI",
  ISO_IEC_23053: "ISO/IEC 23053 (ML framework)",
  UNECE_WP29: "UNECE WP.29 (vehicle regulations)",
  BASEL_III: "Basel III (model risk)",
  OCC_SR_11_7: "OCC/Fed SR 11-7 (model risk management)",
};

/** A regulation tag with its name when known. */
export function regulationName(tag: string): string {
  return REGULATION_NAMES[tag] ?? tag;
}

/** A number for people: up to 6 significant digits. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}
