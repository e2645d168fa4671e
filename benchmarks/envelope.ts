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
import { verifyEnvelope } from "../core/verify.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 5 : 25;
const ROUND_MS = quick ? 60 : 100;

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
    "../tests/core/fixtures/regaudit_fhe_0.0.8/envelopes/fairness-valid.json",
    import.meta.url,
  ),
);
const legacyStore = await TrustStore.fromFile(
  new URL("../tests/core/fixtures/regaudit_fhe_0.0.8/trust_store.json", import.meta.url).pathname,
);
const legacyParsed = parseEnvelopeText(legacyText);

// Raw Web Crypto baseline: keys imported once, the same body bytes.
const pair = await crypto.subtle.generateKey("Ed25519", false, ["sign", "verify"]) as CryptoKeyPair;
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

async function rate(f: () => Promise<unknown>, ms: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 16; i++) await f();
    n += 16;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, f] of Object.entries(ops)) {
    samples[name].push((await rate(f, ROUND_MS)) * (BATCH[name] ?? 1));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Each round runs every op back to back, so a figure and its baseline see the
// same machine load: the ratio is the median of the per-round ratios.
const pairedRatio = (op: string, base: string) =>
  median(samples[op].map((x, i) => x / samples[base][i]));
const rates = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));

const rows: { figure: string; per_s: number; baseline: string; ratio: number; goal?: number }[] = [
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
  `envelope benchmark: ${ROUNDS} interleaved rounds × ${ROUND_MS} ms per op; rates are medians, ratios medians of per-round ratios`,
);
console.log(`envelope ${text.length} bytes of JSON text, signed body ${body.length} bytes\n`);
console.log(
  `${"figure".padEnd(52)} ${"ops/s".padStart(9)}  ${"vs".padEnd(10)} ${"ratio".padStart(6)}  goal`,
);
for (const r of rows) {
  const goal = r.goal === undefined
    ? ""
    : `≥ ${r.goal.toFixed(2)} ${r.ratio >= r.goal ? "met" : "NOT met"}`;
  console.log(
    `${r.figure.padEnd(52)} ${Math.round(r.per_s).toString().padStart(9)}  ${
      r.baseline.padEnd(10)
    } ${r.ratio.toFixed(2).padStart(6)}  ${goal}`,
  );
}

const result = {
  benchmark: "envelope",
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  v8: Deno.version.v8,
  os: Deno.build.os,
  arch: Deno.build.arch,
  rounds: ROUNDS,
  round_ms: ROUND_MS,
  envelope_text_bytes: text.length,
  signed_body_bytes: body.length,
  rates_per_s: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(v)])),
  samples_per_s: Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [k, v.map((x) => Math.round(x))]),
  ),
  figures: rows.map((r) => ({
    figure: r.figure,
    per_s: Math.round(r.per_s),
    baseline: r.baseline,
    ratio: Number(r.ratio.toFixed(3)),
    ...(r.goal === undefined ? {} : { goal: r.goal, met: r.ratio >= r.goal }),
  })),
  note:
    "Shared 2-core machine: absolute rates are noisy. Each ratio is the median over rounds of (figure rate / baseline rate) measured back to back in the same round. One-at-a-time rates are latency-bound: Web Crypto runs Ed25519 off the main thread.",
};
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/envelope.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
console.log("\nwrote benchmarks/results/envelope.json");
