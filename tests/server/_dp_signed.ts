/**
 * Signed envelopes (trusted test issuer) whose `dp` block names a dataset,
 * for the privacy-budget server tests.
 *
 * @module
 */
import { calibrate, type DpSpec } from "../../core/dp/index.ts";
import { buildEnvelope } from "../../core/envelope.ts";
import type { Envelope } from "../../core/envelope_types.ts";
import type { JsonObject } from "../../core/commitments.ts";
import { testIssuer } from "./_helpers.ts";

/** Envelope `n` (distinct for distinct `n`) releasing `spec` (default Laplace ε 0.125) on `dataset`. */
export async function signedDpEnvelope(
  n: number,
  dataset: string,
  spec: DpSpec = { mechanism: "laplace", epsilon: 0.125, sensitivity: 0.01 },
  issuer = "acme",
): Promise<Envelope> {
  const field = calibrate(spec, 1);
  return await buildEnvelope({
    primitive: "drift",
    backend: "plaintext",
    parameterSet: { backend: "plaintext" },
    regulations: ["EU_AI_ACT_ART15"],
    result: { cvm: 0.25, n },
    inputs: { ref: [1, 2, 3], cur: [2, 3, n] },
    depthBudget: { declared: 1, consumed: 1 },
    issuer,
    issuedAt: "2026-03-01T00:00:00.000Z",
    dp: { applied: true, dataset, fields: { cvm: field } } as unknown as JsonObject,
  }, await testIssuer());
}
