/**
 * Evidence packs of 10,000 entries (issue 15's goals: export ≤ 10 s,
 * verification ≤ 5 s), beside baselines measured in the same run on the
 * same entries:
 *
 * - export: `writeEvidencePack` over a Deno KV ledger (what
 *   `evidence export --data` and `GET /v1/evidence` run) to a file, vs
 *   `verifyLog` of the same log (`ledger verify --data`: reads every entry
 *   and checks the tree and every checkpoint);
 * - verify: `verifyEvidencePack` of that pack (what `evidence verify`
 *   runs), vs raw envelope verification (`checkEnvelope` of the same
 *   envelopes against the same trust store, no receipts or manifest).
 *
 * Times are medians over interleaved rounds (the 2 cores are shared).
 *
 * Run: deno run -A benchmarks/evidence.ts [--entries N] [--rounds R]
 * Writes benchmarks/results/evidence.json.
 *
 * @module
 */
import { buildEnvelope, parseEnvelopeText } from "../core/envelope.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { TrustStore } from "../core/trust_store.ts";
import { checkEnvelope } from "../core/verify.ts";
import { writeEvidencePack } from "../ledger/evidence/export.ts";
import { localEvidenceSource } from "../ledger/evidence/sources.ts";
import { verifyEvidencePack } from "../ledger/evidence/verify.ts";
import { openLedger } from "../ledger/index.ts";
import { median } from "./_paired.ts";

function argValue(name: string, def: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : def;
}

const N = argValue("--entries", 10_000);
const ROUNDS = argValue("--rounds", 3);
const dir = await Deno.makeTempDir({ prefix: "regledger-bench-evidence-" });
const key = await InProcessKeyProvider.generate("bench-1");
const trust = TrustStore.fromObject({ [key.keyId]: key.publicKeyPem });
const ledger = await openLedger({ dataDir: dir });

console.error(`building a log of ${N} signed envelopes…`);
const envelopeTexts: Uint8Array[] = [];
for (let start = 0; start < N; start += 500) {
  const batch = [];
  for (let i = start; i < Math.min(N, start + 500); i++) {
    const wave = 0.05 + 0.04 * Math.sin(i / 50);
    batch.push(buildEnvelope({
      primitive: "drift",
      backend: "plaintext",
      parameterSet: { backend: "plaintext" },
      regulations: ["EU_AI_ACT_ART72"],
      result: { distance: wave, w1_distance: wave * 2, drift_bit: wave > 0.08 },
      inputs: { drift_threshold: 0.08, run: i },
      depthBudget: { declared: 1, consumed: 1 },
      issuer: i % 2 ? "acme" : "globex",
      issuedAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    }, key));
  }
  const envs = await Promise.all(batch);
  await Promise.all(envs.map((e) => {
    const bytes = new TextEncoder().encode(JSON.stringify(e));
    envelopeTexts.push(bytes);
    return ledger.append(parseEnvelopeText(bytes));
  }));
}

const times = {
  export: [] as number[],
  verifyLog: [] as number[],
  verify: [] as number[],
  raw: [] as number[],
};
const pack = `${dir}/pack.zip`;
let packBytes = 0;
let entries = 0;
for (let r = 0; r < ROUNDS; r++) {
  let t = performance.now();
  const file = await Deno.open(pack, { write: true, create: true, truncate: true });
  const w = file.writable.getWriter();
  const s = await writeEvidencePack(
    localEvidenceSource(ledger, trust.toJSON()),
    {},
    (c) => w.write(c),
  );
  await w.close();
  times.export.push(performance.now() - t);
  packBytes = s.bytes;
  entries = s.entries;

  t = performance.now();
  const audit = await ledger.verify();
  times.verifyLog.push(performance.now() - t);
  if (!audit.ok) throw new Error(`verifyLog: ${audit.reason}`);

  t = performance.now();
  const v = await verifyEvidencePack(await Deno.readFile(pack));
  times.verify.push(performance.now() - t);
  if (!v.ok || v.entries !== N) throw new Error(`pack: ${JSON.stringify(v.problems[0])}`);

  t = performance.now();
  for (const e of envelopeTexts) {
    const c = await checkEnvelope(parseEnvelopeText(e), trust);
    if (!c.valid) throw new Error("raw verification failed");
  }
  times.raw.push(performance.now() - t);
}
await ledger.close();
await Deno.remove(dir, { recursive: true });

const s = (ms: number) => Math.round(ms) / 1000;
const results = {
  entries,
  rounds: ROUNDS,
  pack_bytes: packBytes,
  export_s: s(median(times.export)),
  verify_log_baseline_s: s(median(times.verifyLog)),
  export_vs_verify_log: Math.round((median(times.export) / median(times.verifyLog)) * 100) / 100,
  verify_s: s(median(times.verify)),
  raw_envelope_verify_baseline_s: s(median(times.raw)),
  verify_vs_raw_envelope_verify: Math.round((median(times.verify) / median(times.raw)) * 100) / 100,
  goals: { export_s: 10, verify_s: 5 },
  deno: Deno.version.deno,
  date: new Date().toISOString(),
};
console.table([
  {
    figure: "export (pack of all entries)",
    seconds: results.export_s,
    baseline: "verifyLog",
    baseline_s: results.verify_log_baseline_s,
    ratio: results.export_vs_verify_log,
    goal_s: 10,
  },
  {
    figure: "verify pack",
    seconds: results.verify_s,
    baseline: "raw envelope verification",
    baseline_s: results.raw_envelope_verify_baseline_s,
    ratio: results.verify_vs_raw_envelope_verify,
    goal_s: 5,
  },
]);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/evidence.json", import.meta.url),
  JSON.stringify(results, null, 2) + "\n",
);
