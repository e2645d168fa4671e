/** Shared keys, fixtures and helpers of the envelope tests (split from one file). */
import { sha256, toBase64 } from "../../core/bytes.ts";
import {
  buildEnvelope,
  type BuildEnvelopeOptions,
  parseEnvelopeText,
} from "../../core/envelope.ts";
import type { Envelope, JsonValue, ParsedEnvelope } from "../../core/envelope_types.ts";
import { canonicalize } from "../../core/jcs.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { checkEnvelope, type TimestampVerifier } from "../../core/verify.ts";

export const enc = new TextEncoder();
export const signer = await InProcessKeyProvider.generate("issuer-2026");
export const intruder = await InProcessKeyProvider.generate("issuer-2026"); // same id, other key

export const PARAMS = {
  backend: "seal-ckks",
  poly_modulus_degree: 16384,
  coeff_mod_bit_sizes: [60, 40, 40, 60],
  scaling_factor_bits: 40,
  security_bits: 128,
};

// A stand-in RFC 3161 TSA: the token binds the signed body and every other field of the block.
export function tsaToken(body: Uint8Array, block: Record<string, JsonValue>): string {
  const { token_b64: _t, ...rest } = block;
  return toBase64(sha256(body, enc.encode(canonicalize(rest))));
}
export function stamp(issuer: string, issuedAt: string) {
  return (body: Uint8Array) => {
    const block = { issuer, issued_at: issuedAt };
    return Promise.resolve({ ...block, token_b64: tsaToken(body, block) });
  };
}
export const tsaVerifier: TimestampVerifier = (body, ts) => ts.token_b64 === tsaToken(body, ts);

export function options(extra: Partial<BuildEnvelopeOptions> = {}): BuildEnvelopeOptions {
  return {
    primitive: "fairness",
    backend: "seal-ckks",
    parameterSet: PARAMS,
    regulations: ["NYC_LL144", "EU_AI_ACT_ART10"],
    result: { demographic_parity_gap: 0.125, group_rates: [0.5, 0.375], note: "é😀", flag: true },
    inputs: { y_pred: [1, 0, 1, 1], group: [0, 1, 1, 0] },
    depthBudget: { declared: 6, consumed: 4 },
    dp: { epsilon: 1.5, mechanism: "laplace" },
    issuer: "acme-bank",
    issuedAt: "2026-11-21T12:00:00.000Z",
    ...extra,
  };
}

export async function signed(
  extra: Partial<BuildEnvelopeOptions> = {},
  by = signer,
): Promise<Envelope> {
  return await buildEnvelope(options(extra), by);
}

export const store = TrustStore.fromObject({ keys: { [signer.keyId]: signer.publicKeyPem } });

export function reparse(env: unknown): ParsedEnvelope {
  return parseEnvelopeText(JSON.stringify(env, null, 2));
}

export async function reason(p: ParsedEnvelope, s = store, verifier?: TimestampVerifier) {
  const r = await checkEnvelope(p, s, { timestampVerifier: verifier });
  return r.valid ? "valid" : r.reason;
}

export function clone(env: Envelope): Envelope {
  return structuredClone(env) as Envelope;
}
