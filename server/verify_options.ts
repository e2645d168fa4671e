/**
 * Verification options the server uses on the main thread and in its
 * verification workers alike: a hybrid (Ed25519 + ML-DSA-65) envelope's
 * ML-DSA-65 signature is checked with liboqs where it loads (several times
 * faster than the JavaScript default, `benchmarks/hybrid_envelope.ts`); the
 * WebAssembly module is loaded only once a hybrid envelope arrives.
 *
 * @module
 */
import type { ParsedEnvelope } from "../core/envelope_types.ts";
import { defaultMlDsa65Engine } from "../core/ml_dsa65_liboqs.ts";
import type { VerifyOptions } from "../core/verify.ts";

/** The options to verify `parsed` with: the shared ML-DSA-65 engine when its receipt is hybrid. */
export async function hybridOptions(parsed: ParsedEnvelope): Promise<VerifyOptions> {
  // `value` only chooses the engine; verification itself reads the canonical bytes.
  const receipt = parsed.value?.receipt as { pq_signature_b64?: unknown } | undefined;
  return receipt?.pq_signature_b64 === undefined
    ? {}
    : { mlDsa65Engine: await defaultMlDsa65Engine() };
}
