/**
 * Test helpers for privacy budgets: envelopes whose signed `dp` block names
 * a dataset (varied copies of one signed template, as in `_helpers.ts`: the
 * ledger stores what its caller verified), and the recomputation of an
 * issuer's spend from envelopes alone.
 *
 * @module
 */
import { calibrate, type DpSpec } from "../../core/dp/index.ts";
import { parseEnvelopeValue } from "../../core/envelope.ts";
import type { Envelope, ParsedEnvelope } from "../../core/envelope_types.ts";
import { templateEnvelope } from "./_helpers.ts";

/** What a DP envelope releases. */
export interface DpEnvelopeOptions {
  issuer?: string;
  dataset: string;
  /** Per noised field (default one Laplace field of ε 0.125). */
  specs?: DpSpec[];
}

/** Distinct envelope `i` releasing `specs` on `dataset`. */
export async function dpEnvelope(i: number, o: DpEnvelopeOptions): Promise<ParsedEnvelope> {
  const env = structuredClone(await templateEnvelope()) as Envelope;
  env.result = { ...env.result, n: i };
  if (o.issuer) env.issuer = o.issuer;
  const specs = o.specs ?? [{ mechanism: "laplace", epsilon: 0.125, sensitivity: 0.01 }];
  const fields = Object.fromEntries(specs.map((s, k) => [`f${k}`, calibrate(s, 1)]));
  (env as unknown as Record<string, unknown>).dp = { applied: true, dataset: o.dataset, fields };
  return parseEnvelopeValue(env);
}
