/**
 * Envelope build+sign and verify rates, each beside the raw Web Crypto
 * Ed25519 sign / verify rate over the same body bytes, measured in the same
 * run with interleaved rounds (the machine is shared: the ratios are the
 * figures that mean something).
 *
 * Goals (issue 2): verify ≥ 70% of raw verify; build ≥ 70% of raw sign.
 *
 * Run: deno run --allow-read --allow-write=benchmarks/results benchmarks/envelope.ts [--quick]
 * Writes benchmarks/results/envelope.json.
 *
 * @module
 */
import {
  buildEnvelope,
  type BuildEnvelopeOptions,
  commitInputs,
  parseEnvelopeText,
  signedBodyBytes,
} from "../core/envelope.ts";
import { fromBase64 } from "../core/bytes.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { TrustStore } from "../core/trust_store.ts";
import { readTrustStoreFile } from "../core/trust_store_file.ts";
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
const ROUNDS = quick ? 60 : 500;

const signer = await InProcessKeyProvider.generate("bench-2026-11");
const store = TrustStore.fromObject({ keys: { [signer.keyId]: signer.publicKeyPem } });

// A fairness-sized envelope: 4 groups, 2 committed inputs of 200 values.
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
  issuedAt: "2026-11-21T12:00:00.000Z",
};
const env = await buildEnvelope(options, signer);
const text = JSON.stringify(env, null, 2);
const parsed = parseEnvelopeText(text);
const body = signedBodyBytes(parsed) as Uint8Array<ArrayBuffer>;
const signature = fromBase64(env.receipt.signature_b64);
const legacyText = await Deno.readFile(
  new URL(
    "../tests/fixtures/regaudit-fhe/envelopes/fairness-valid.json",
    import.meta.url,
  ),
);
const legacyStore = await readTrustStoreFile(
  new URL("../tests/fixtures/regaudit-fhe/trust_store.json", import.meta.url).pathname,
);
const legacyParsed = parseEnvelopeText(legacyText);

// Raw Web Crypto baseline over the same body bytes.
// Keys imported once (PKCS#8 / raw), as the envelope code holds them.
const generated = await crypto.subtle.generateKey("Ed25519", true, [
  "sign",
  "verify",
]) as CryptoKeyPair;
const pair = {
  privateKey: await crypto.subtle.importKey(
    "pkcs8",
    await crypto.subtle.exportKey("pkcs8", generated.privateKey),
    "Ed25519",
    false,
    ["sign"],
  ),
  publicKey: await crypto.subtle.importKey(
    "raw",
    await crypto.subtle.exportKey("raw", generated.publicKey),
    "Ed25519",
    false,
    ["verify"],
  ),
};
const rawSig = new Uint8Array(await crypto.subtle.sign("Ed25519", pair.privateKey, body));
const withInputs = { ...options, inputCommitments: undefined, inputs };

const ops: Record<string, () => Promise<unknown>> = {
  raw_sign: () => crypto.subtle.sign("Ed25519", pair.privateKey, body),
  build_sign: () => buildEnvelope(options, signer),
  build_sign_commit_inputs: () => buildEnvelope(withInputs, signer),
  raw_verify: () => crypto.subtle.verify("Ed25519", pair.publicKey, rawSig, body),
  verify: () => verifyEnvelope(parsed, store),
  parse_verify: () => verifyEnvelope(parseEnvelopeText(text), store),
  legacy_parse_verify: () => verifyEnvelope(parseEnvelopeText(legacyText), legacyStore),
  // Web Crypto runs Ed25519 off the main thread: with requests in flight
  // together (a server), throughput exceeds the one-at-a-time rate.
  raw_sign_x16: () =>
    Promise.all(
      Array.from({ length: 16 }, () => crypto.subtle.sign("Ed25519", pair.privateKey, body)),
    ),
  build_sign_x16: () =>
    Promise.all(Array.from({ length: 16 }, () => buildEnvelope(options, signer))),
  raw_verify_x16: () =>
    Promise.all(
      Array.from(
        { length: 16 },
        () => crypto.subtle.verify("Ed25519", pair.publicKey, rawSig, body),
      ),
    ),
  verify_x16: () => Promise.all(Array.from({ length: 16 }, () => verifyEnvelope(parsed, store))),
};
const BATCH: Record<string, number> = {
  raw_sign_x16: 16,
  build_sign_x16: 16,
  raw_verify_x16: 16,
  verify_x16: 16,
};

// Sanity: every op succeeds before it is timed.
for (const f of Object.values(ops)) await f();
if (!(await crypto.subtle.verify("Ed25519", pair.publicKey, rawSig, body))) throw new Error("raw");
if (signature.length !== 64 || !(await verifyEnvelope(legacyParsed, legacyStore)).valid) {
  throw new Error("setup");
}

// Interleave at a fine grain: every round times a few calls of every op in
// turn, so each figure and its baseline share the machine's load (2 shared
// cores here). Rates are total calls over total time; ratios follow.
const CALLS = 4;
const rates = await interleave(ops, { rounds: ROUNDS, calls: CALLS, batch: BATCH });
const pairedRatio = (op: string, base: string) => rates[op] / rates[base];

const rows: Figure[] = [
  { figure: "raw Web Crypto Ed25519 sign", per_s: rates.raw_sign, baseline: "-", ratio: 1 },
  {
    figure: "envelope build+sign",
    per_s: rates.build_sign,
    baseline: "raw sign",
    ratio: pairedRatio("build_sign", "raw_sign"),
    goal: 0.7,
  },
  {
    figure: "envelope build+sign incl. committing 2×200 inputs",
    per_s: rates.build_sign_commit_inputs,
    baseline: "raw sign",
    ratio: pairedRatio("build_sign_commit_inputs", "raw_sign"),
  },
  { figure: "raw Web Crypto Ed25519 verify", per_s: rates.raw_verify, baseline: "-", ratio: 1 },
  {
    figure: "envelope verify (parsed, trust store)",
    per_s: rates.verify,
    baseline: "raw verify",
    ratio: pairedRatio("verify", "raw_verify"),
    goal: 0.7,
  },
  {
    figure: "envelope parse+verify (native text)",
    per_s: rates.parse_verify,
    baseline: "raw verify",
    ratio: pairedRatio("parse_verify", "raw_verify"),
  },
  {
    figure: "raw Web Crypto sign, 16 in flight",
    per_s: rates.raw_sign_x16,
    baseline: "raw sign",
    ratio: pairedRatio("raw_sign_x16", "raw_sign"),
  },
  {
    figure: "envelope build+sign, 16 in flight",
    per_s: rates.build_sign_x16,
    baseline: "raw ×16",
    ratio: pairedRatio("build_sign_x16", "raw_sign_x16"),
  },
  {
    figure: "raw Web Crypto verify, 16 in flight",
    per_s: rates.raw_verify_x16,
    baseline: "raw verify",
    ratio: pairedRatio("raw_verify_x16", "raw_verify"),
  },
  {
    figure: "envelope verify, 16 in flight",
    per_s: rates.verify_x16,
    baseline: "raw ×16",
    ratio: pairedRatio("verify_x16", "raw_verify_x16"),
  },
  {
    figure: "legacy regaudit-fhe parse+verify",
    per_s: rates.legacy_parse_verify,
    baseline: "raw verify",
    ratio: pairedRatio("legacy_parse_verify", "raw_verify"),
  },
];

console.log(
  `envelope benchmark: ${ROUNDS} rounds, each timing ${CALLS} calls of every op in turn`,
);
console.log(`envelope ${text.length} bytes of JSON text, signed body ${body.length} bytes\n`);
printFigures(rows, 52);

const result = {
  ...runContext("envelope"),
  rounds: ROUNDS,
  calls_per_op_per_round: CALLS,
  envelope_text_bytes: text.length,
  signed_body_bytes: body.length,
  rates_per_s: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(v)])),
  figures: figuresJson(rows),
  note:
    "Shared 2-core machine: absolute rates are noisy; ops are interleaved a few calls at a time so each ratio compares figures measured under the same load. Deno's Web Crypto Ed25519 signs and verifies synchronously on the calling thread (inside the promise-returning call), so the envelope's own work adds directly to it.",
};
await writeResult("envelope", result);
