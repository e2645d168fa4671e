/**
 * Append throughput with dual-signed checkpoints (Ed25519 + ML-DSA-44)
 * beside Ed25519-only checkpoints, in the same run, on the same machine
 * (issue 13, goal ≥ 0.9 of Ed25519-only).
 *
 * Three ledgers on their own Deno KV files, appended to in interleaved
 * rounds (ed25519, dual/noble, dual/liboqs, ed25519, …):
 * - `ed25519`: `pqLogKey: false` (how a log made before this change signs);
 * - `dual-noble`: the default ML-DSA-44 engine (@noble/post-quantum);
 * - `dual-liboqs`: liboqs's ML-DSA-44 (WebAssembly), `mlDsaEngine` option.
 *
 * Each with 64 concurrent appenders (group commit: one checkpoint, so one
 * ML-DSA-44 signature, per commit of up to 98 entries) and with 1 appender
 * (one checkpoint per entry: the worst case, where the signature is paid per
 * entry). Also the raw cost of one signature of each kind.
 *
 * Rates are medians over rounds; ratios are medians of per-round paired ratios.
 *
 * Run: deno run -A benchmarks/pq_checkpoint.ts [--quick]
 * Writes benchmarks/results/pq_checkpoint.json.
 *
 * @module
 */
import { buildEnvelope, parseEnvelopeValue } from "../core/envelope.ts";
import type { Envelope, ParsedEnvelope } from "../core/envelope_types.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { formatCheckpoint } from "../ledger/checkpoint.ts";
import { type Ledger, openLedger } from "../ledger/index.ts";
import { Ed25519NoteSigner } from "../ledger/note.ts";
import { MlDsa44NoteSigner } from "../ledger/witness/mldsa.ts";
import { createLiboqsMlDsa44Engine } from "../ledger/witness/mldsa_liboqs.ts";
import { median } from "./_paired.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 3 : 7;
const PER_ROUND = quick ? 1000 : 3000;
const SINGLE_PER_ROUND = quick ? 50 : 200;
const APPENDERS = 64;
const pairedRatio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));

const tmp = await Deno.makeTempDir({ prefix: "regledger-bench-pq-" });
const signer = await InProcessKeyProvider.generate("bench-issuer");
const template = await buildEnvelope({
  primitive: "fairness",
  backend: "plaintext",
  parameterSet: { backend: "plaintext" },
  regulations: ["EU_AI_ACT_ART15"],
  result: { demographic_parity_gap: 0.0421, n: 0 },
  inputs: { y_pred: [1, 0, 1, 1], group: [0, 1, 0, 1] },
  depthBudget: { declared: 2, consumed: 2 },
  issuer: "bench-bank",
  issuedAt: "2026-11-21T00:00:00.000Z",
}, signer);
const pad = Math.max(0, 1500 - parseEnvelopeValue(template).canonical.length - 20);
function envelope(tag: string, i: number): ParsedEnvelope {
  const e = structuredClone(template) as Envelope;
  e.result = { ...e.result, n: i, note: tag + "x".repeat(pad) };
  return parseEnvelopeValue(e);
}

const liboqs = await createLiboqsMlDsa44Engine();
const VARIANTS = ["ed25519", "dual-noble", "dual-liboqs"] as const;
type Variant = typeof VARIANTS[number];
const ledgers = {} as Record<Variant, Ledger>;
const commits = {} as Record<Variant, { commits: number; entries: number }>;
for (const v of VARIANTS) {
  commits[v] = { commits: 0, entries: 0 };
  ledgers[v] = await openLedger({
    dataDir: `${tmp}/${v}`,
    ...(v === "ed25519" ? { pqLogKey: false as const } : {}),
    ...(v === "dual-liboqs" ? { mlDsaEngine: liboqs } : {}),
    onCommit: (i) => {
      commits[v].commits++;
      commits[v].entries += i.entries;
    },
  });
  const first = await ledgers[v].append(envelope(v, -1)); // keys, meta, first commit untimed
  const sigs = first.checkpoint.split("\n— ").length - 1;
  if (sigs !== (v === "ed25519" ? 1 : 2)) throw new Error(`${v}: ${sigs} signatures`);
  commits[v] = { commits: 0, entries: 0 };
}

async function round(v: Variant, tag: string, n: number, appenders: number): Promise<number> {
  const envs = Array.from({ length: n }, (_, i) => envelope(`${v}-${tag}`, i));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: appenders }, async () => {
    while (next < envs.length) await ledgers[v].append(envs[next++]);
  }));
  return n / ((performance.now() - t0) / 1000);
}

const rates = { concurrent: {}, single: {} } as Record<
  "concurrent" | "single",
  Record<Variant, number[]>
>;
for (const mode of ["concurrent", "single"] as const) {
  for (const v of VARIANTS) rates[mode][v] = [];
}
for (let r = 0; r < ROUNDS; r++) {
  for (const v of VARIANTS) {
    rates.concurrent[v].push(await round(v, `c${r}`, PER_ROUND, APPENDERS));
  }
}
const batchOf = {} as Record<Variant, number>;
for (const v of VARIANTS) batchOf[v] = commits[v].entries / Math.max(1, commits[v].commits);
for (let r = 0; r < ROUNDS; r++) {
  for (const v of VARIANTS) rates.single[v].push(await round(v, `s${r}`, SINGLE_PER_ROUND, 1));
}
for (const v of VARIANTS) await ledgers[v].close();

// One signature of each kind over a checkpoint text.
const text = new TextEncoder().encode(
  formatCheckpoint({ origin: "regledger.local/log", size: 12345, root: new Uint8Array(32) }),
);
async function msPerSign(sign: () => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < 10; i++) await sign();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await sign();
  return (performance.now() - t0) / n;
}
const ed = await Ed25519NoteSigner.generate("regledger.local/log");
const noble = MlDsa44NoteSigner.generate("regledger.local/log");
const oqs = MlDsa44NoteSigner.generate("regledger.local/log", { engine: liboqs });
const signMs = {
  ed25519: await msPerSign(() => ed.sign(text), quick ? 100 : 500),
  ml_dsa_44_noble: await msPerSign(() => noble.sign(text), quick ? 20 : 100),
  ml_dsa_44_liboqs: await msPerSign(() => oqs.sign(text), quick ? 50 : 300),
};
liboqs.destroy();
await Deno.remove(tmp, { recursive: true });

const r2 = (x: number) => Math.round(x * 1000) / 1000;
const summary = (mode: "concurrent" | "single") => ({
  appenders: mode === "concurrent" ? APPENDERS : 1,
  entries_per_round: mode === "concurrent" ? PER_ROUND : SINGLE_PER_ROUND,
  rounds: ROUNDS,
  ed25519_entries_per_s: Math.round(median(rates[mode].ed25519)),
  dual_noble_entries_per_s: Math.round(median(rates[mode]["dual-noble"])),
  dual_liboqs_entries_per_s: Math.round(median(rates[mode]["dual-liboqs"])),
  ratio_dual_noble_to_ed25519: r2(pairedRatio(rates[mode]["dual-noble"], rates[mode].ed25519)),
  ratio_dual_liboqs_to_ed25519: r2(
    pairedRatio(rates[mode]["dual-liboqs"], rates[mode].ed25519),
  ),
  ...(mode === "concurrent"
    ? {
      avg_batch: Object.fromEntries(VARIANTS.map((v) => [v, Math.round(batchOf[v] * 10) / 10])),
    }
    : {}),
});
const result = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  machine: `${navigator.hardwareConcurrency} cores (shared)`,
  envelope_bytes: envelope("x", 0).canonical.length,
  goal: "dual-signed append ≥ 0.9 of Ed25519-only (64 appenders, group commit)",
  group_commit: summary("concurrent"),
  one_appender: summary("single"),
  sign_ms: {
    ed25519: r2(signMs.ed25519),
    ml_dsa_44_noble: r2(signMs.ml_dsa_44_noble),
    ml_dsa_44_liboqs: r2(signMs.ml_dsa_44_liboqs),
  },
};
console.table({
  "64 appenders": {
    ed25519: result.group_commit.ed25519_entries_per_s,
    "dual (noble)": result.group_commit.dual_noble_entries_per_s,
    "dual (liboqs)": result.group_commit.dual_liboqs_entries_per_s,
    "ratio noble": result.group_commit.ratio_dual_noble_to_ed25519,
    "ratio liboqs": result.group_commit.ratio_dual_liboqs_to_ed25519,
  },
  "1 appender": {
    ed25519: result.one_appender.ed25519_entries_per_s,
    "dual (noble)": result.one_appender.dual_noble_entries_per_s,
    "dual (liboqs)": result.one_appender.dual_liboqs_entries_per_s,
    "ratio noble": result.one_appender.ratio_dual_noble_to_ed25519,
    "ratio liboqs": result.one_appender.ratio_dual_liboqs_to_ed25519,
  },
});
console.log("avg batch (64 appenders):", result.group_commit.avg_batch);
console.log("ms per signature:", result.sign_ms);
await Deno.writeTextFile(
  new URL("./results/pq_checkpoint.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
