/**
 * Hybrid (Ed25519 + ML-DSA-65) envelope verification beside raw Ed25519 +
 * ML-DSA-65 verification of the same signed-body bytes under the same keys,
 * measured in the same run with interleaved rounds (the machine is shared:
 * the ratios are the figures that mean something). Both ML-DSA-65 engines
 * are measured: @noble/post-quantum (the default) and liboqs (WebAssembly,
 * `VerifyOptions.mlDsa65Engine`), each against a raw baseline of the same
 * engine. Hybrid build+sign is shown beside raw Ed25519 + ML-DSA-65 signing.
 *
 * Goal (issue 15): hybrid envelope verification ≥ 0.7 of raw Ed25519 +
 * ML-DSA-65 verification.
 *
 * Run: deno run --allow-read --allow-write=benchmarks/results benchmarks/hybrid_envelope.ts [--quick]
 * Writes benchmarks/results/hybrid_envelope.json.
 *
 * @module
 */
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import {
  buildEnvelope,
  type BuildEnvelopeOptions,
  commitInputs,
  parseEnvelopeText,
  signedBodyBytes,
} from "../core/envelope.ts";
import { fromBase64 } from "../core/bytes.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { createLiboqsMlDsa65Engine } from "../core/ml_dsa65_liboqs.ts";
import { TrustStore } from "../core/trust_store.ts";
import { verifyEnvelope } from "../core/verify.ts";
import {
  type Figure,
  figuresJson,
  interleave,
  printFigures,
  runContext,
  writeResult,
} from "./_interleaved.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 10 : 120;

const signer = await InProcessKeyProvider.generate("bench-pq-2026-12", { pq: true });
const store = TrustStore.fromObject({
  keys: {
    [signer.keyId]: {
      public_key_pem: signer.publicKeyPem,
      pq_public_key_pem: signer.mlDsa65!.publicKeyPem,
    },
  },
});
const oqs = await createLiboqsMlDsa65Engine();

// The same fairness-sized envelope as benchmarks/envelope.ts.
const inputs = {
  y_pred: Array.from({ length: 200 }, (_, i) => (i * 7919) % 2),
  group: Array.from({ length: 200 }, (_, i) => (i * 104729) % 4),
};
const options: BuildEnvelopeOptions = {
  primitive: "fairness",
  backend: "seal-ckks",
  parameterSet: {
    backend: "seal-ckks",
    poly_modulus_degree: 16384,
    coeff_mod_bit_sizes: [60, 40, 40, 40, 40, 60],
    scaling_factor_bits: 40,
    security_bits: 128,
    multiplicative_depth: 4,
  },
  regulations: ["NYC_LL144", "EU_AI_ACT_ART10", "EU_AI_ACT_ART15", "COLORADO_AI_ACT"],
  result: {
    demographic_parity_gap: 0.0912345678901234,
    equalized_odds_gap: 0.123456789012345,
    group_rates: [0.41234567, 0.50234567, 0.46234567, 0.49134567],
    groups: ["a", "b", "c", "d"],
  },
  inputCommitments: commitInputs(inputs),
  depthBudget: { declared: 6, consumed: 4 },
  dp: { epsilon: 1, delta: 1e-6, mechanism: "gaussian" },
  issuer: "acme-bank",
  issuedAt: "2026-12-02T12:00:00.000Z",
};
const env = await buildEnvelope(options, signer);
const text = JSON.stringify(env, null, 2);
const parsed = parseEnvelopeText(text);
const body = signedBodyBytes(parsed) as Uint8Array<ArrayBuffer>;
const edSig = fromBase64(env.receipt.signature_b64) as Uint8Array<ArrayBuffer>;
const pqSig = fromBase64(env.receipt.pq_signature_b64!);
const pqPublic = signer.mlDsa65PrivateKey!.publicKey.raw;
const pqSecret = ml_dsa65.keygen(
  fromBase64(signer.mlDsa65PrivateKey!.toPkcs8Pem().split("\n").slice(1, -2).join("")).slice(-32),
).secretKey;
const edPublic = await crypto.subtle.importKey(
  "raw",
  signer.privateKey.publicKey.raw as Uint8Array<ArrayBuffer>,
  "Ed25519",
  false,
  ["verify"],
);
const edPrivate = await crypto.subtle.importKey(
  "pkcs8",
  fromBase64(signer.privateKey.toPkcs8Pem().split("\n").slice(1, -2).join("")) as Uint8Array<
    ArrayBuffer
  >,
  "Ed25519",
  false,
  ["sign"],
);
const CTX = { context: new Uint8Array(0) };

async function rawVerify(pq: (s: Uint8Array, m: Uint8Array, k: Uint8Array) => boolean) {
  const ed = await crypto.subtle.verify("Ed25519", edPublic, edSig, body);
  if (!ed || !pq(pqSig, body, pqPublic)) throw new Error("raw verification failed");
}
const noblePq = (s: Uint8Array, m: Uint8Array, k: Uint8Array) => ml_dsa65.verify(s, m, k, CTX);
const oqsPq = (s: Uint8Array, m: Uint8Array, k: Uint8Array) => oqs.verify(s, m, k);

const ops: Record<string, () => Promise<unknown>> = {
  raw_ed25519_verify: () => crypto.subtle.verify("Ed25519", edPublic, edSig, body),
  raw_hybrid_verify_noble: () => rawVerify(noblePq),
  hybrid_verify_noble: () => verifyEnvelope(parsed, store),
  hybrid_parse_verify_noble: () => verifyEnvelope(parseEnvelopeText(text), store),
  raw_hybrid_verify_liboqs: () => rawVerify(oqsPq),
  hybrid_verify_liboqs: () => verifyEnvelope(parsed, store, { mlDsa65Engine: oqs }),
  raw_hybrid_sign: async () => {
    await crypto.subtle.sign("Ed25519", edPrivate, body);
    ml_dsa65.sign(body, pqSecret, {
      ...CTX,
      extraEntropy: crypto.getRandomValues(new Uint8Array(32)),
    });
  },
  hybrid_build_sign: () => buildEnvelope(options, signer),
};

// Sanity: every op succeeds (and the envelope verifies) before it is timed.
for (const f of Object.values(ops)) await f();
if (!(await verifyEnvelope(parsed, store)).valid) throw new Error("setup");

// Interleave: every round times a few calls of every op in turn, so each
// figure and its baseline share the machine's load. Rates are total calls
// over total time; ratios follow.
const CALLS = 3;
const rates = await interleave(ops, { rounds: ROUNDS, calls: CALLS, progressEvery: 20 });
oqs.destroy();
const ratio = (op: string, base: string) => rates[op] / rates[base];

const rows: Figure[] = [
  {
    figure: "raw Web Crypto Ed25519 verify",
    per_s: rates.raw_ed25519_verify,
    baseline: "-",
    ratio: 1,
  },
  {
    figure: "raw Ed25519 + ML-DSA-65 verify (noble)",
    per_s: rates.raw_hybrid_verify_noble,
    baseline: "-",
    ratio: 1,
  },
  {
    figure: "hybrid envelope verify (noble)",
    per_s: rates.hybrid_verify_noble,
    baseline: "raw noble",
    ratio: ratio("hybrid_verify_noble", "raw_hybrid_verify_noble"),
    goal: 0.7,
  },
  {
    figure: "hybrid envelope parse+verify (noble)",
    per_s: rates.hybrid_parse_verify_noble,
    baseline: "raw noble",
    ratio: ratio("hybrid_parse_verify_noble", "raw_hybrid_verify_noble"),
  },
  {
    figure: "raw Ed25519 + ML-DSA-65 verify (liboqs)",
    per_s: rates.raw_hybrid_verify_liboqs,
    baseline: "-",
    ratio: 1,
  },
  {
    figure: "hybrid envelope verify (liboqs engine)",
    per_s: rates.hybrid_verify_liboqs,
    baseline: "raw liboqs",
    ratio: ratio("hybrid_verify_liboqs", "raw_hybrid_verify_liboqs"),
    goal: 0.7,
  },
  {
    figure: "raw Ed25519 + ML-DSA-65 sign (noble)",
    per_s: rates.raw_hybrid_sign,
    baseline: "-",
    ratio: 1,
  },
  {
    figure: "hybrid envelope build+sign",
    per_s: rates.hybrid_build_sign,
    baseline: "raw sign",
    ratio: ratio("hybrid_build_sign", "raw_hybrid_sign"),
  },
];

console.log(`hybrid envelope benchmark: ${ROUNDS} rounds, each timing ${CALLS} calls of every op`);
console.log(`envelope ${text.length} bytes of JSON text, signed body ${body.length} bytes\n`);
printFigures(rows, 44);

const result = {
  ...runContext("hybrid_envelope"),
  rounds: ROUNDS,
  calls_per_op_per_round: CALLS,
  envelope_text_bytes: text.length,
  signed_body_bytes: body.length,
  rates_per_s: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(v)])),
  figures: figuresJson(rows),
  note:
    "Shared 2-core machine: absolute rates are noisy; ops are interleaved a few calls at a time so each ratio compares figures measured under the same load. The raw baselines verify the same signed-body bytes with the same keys: Web Crypto Ed25519 plus ML-DSA-65 (FIPS 204 pure, empty context) of the named engine.",
};
await writeResult("hybrid_envelope", result);
