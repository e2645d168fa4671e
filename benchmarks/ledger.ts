/**
 * Ledger benchmarks, each figure beside a baseline measured in the same run
 * (the machine is shared, so the ratios are what mean something):
 *
 * 1. Durable append of ~1.5 KB envelopes from 64 concurrent appenders
 *    (group commit) vs raw batched Deno KV writes of the same envelope bytes
 *    in batches of the same average size. Goal ≥ 20,000/s and ≥ 60%.
 * 2. Inclusion proof latency (p50, p99) on a large log (1,000,000 entries
 *    with `--million`, else 100,000), cold and warm cache, beside one raw KV
 *    `get` of an entry. Goal p50 ≤ 1 ms, proofs ≤ 20 hashes.
 * 3. `verifyLog` rate vs raw SHA-256 over the same bytes (each entry's leaf
 *    and envelope, one call each). Goal ≥ 100,000/s and ≥ 50%.
 * 4. Storage bytes per entry (KV file size / entries) vs envelope bytes.
 *
 * Rates are medians over interleaved rounds; ratios are medians of the
 * per-round paired ratios.
 *
 * Run: deno run -A benchmarks/ledger.ts [--entries N] [--million] [--quick]
 * Writes benchmarks/results/ledger.json; without `--million` it keeps the
 * 1,000,000-entry proof and verify figures already there (with their date).
 *
 * @module
 */
import { sha256, toBase64 } from "../core/bytes.ts";
import { buildEnvelope, parseEnvelopeValue, signedBodySha256 } from "../core/envelope.ts";
import type { Envelope, ParsedEnvelope } from "../core/envelope_types.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { signCheckpoint } from "../ledger/checkpoint.ts";
import { encodeLeaf, LEAF_VERSION } from "../ledger/leaf.ts";
import {
  type HashReader,
  leafHash,
  storedHashesForBatch,
  storedHashIndex,
  treeHash,
} from "../ledger/merkle/mod.ts";
import { KvStore, openLedger } from "../ledger/index.ts";
import { loadOrCreateLogKey } from "../ledger/log_key.ts";
import type { NewEntry } from "../ledger/store.ts";
import { median } from "./_paired.ts";

function argValue(name: string, def: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : def;
}
const quick = Deno.args.includes("--quick");
const million = Deno.args.includes("--million");
const ENTRIES = argValue("--entries", quick ? 5000 : 20000);
const PROOF_LOG = million ? 1_000_000 : argValue("--proof-log", quick ? 20_000 : 100_000);
const APPENDERS = 64;

const tmp = await Deno.makeTempDir({ prefix: "regledger-bench-" });

async function dirBytes(dir: string, prefix = "ledger.kv"): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.startsWith(prefix)) n += (await Deno.stat(`${dir}/${e.name}`)).size;
  }
  return n;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

// ---------------------------------------------------------------------------
// Envelopes: one signed template, varied (the ledger does not verify signatures).
const signer = await InProcessKeyProvider.generate("bench-issuer");
const template = await buildEnvelope({
  primitive: "fairness",
  backend: "plaintext",
  parameterSet: { backend: "plaintext" },
  regulations: ["EU_AI_ACT_ART15", "NYC_LL144"],
  result: { demographic_parity_gap: 0.0421, n: 0 },
  inputs: { y_pred: [1, 0, 1, 1], group: [0, 1, 0, 1] },
  depthBudget: { declared: 2, consumed: 2 },
  issuer: "bench-bank",
  issuedAt: "2026-11-21T00:00:00.000Z",
}, signer);
const pad = Math.max(0, 1500 - parseEnvelopeValue(template).canonical.length - 20);
function envelope(i: number): ParsedEnvelope {
  const e = structuredClone(template) as Envelope;
  e.result = { ...e.result, n: i, note: "x".repeat(pad) };
  return parseEnvelopeValue(e);
}
/** The template with `n: i` and no padding: a distinct signed body in ~600 bytes. */
function smallEnvelope(i: number): ParsedEnvelope {
  const e = structuredClone(template) as Envelope;
  e.result = { ...e.result, n: i };
  return parseEnvelopeValue(e);
}
console.log(`building ${ENTRIES} envelopes…`);
const envs = Array.from({ length: ENTRIES }, (_, i) => envelope(i));
const envBytes = envs.reduce((s, e) => s + e.canonical.length, 0) / envs.length;

// ---------------------------------------------------------------------------
// 1. Durable append, 64 appenders, vs raw batched KV writes: interleaved
// rounds (ledger, raw, ledger, raw, …), median rate of each.
const ROUNDS = quick ? 3 : 7;
const appendDir = `${tmp}/append`;
const ledger = await openLedger({ dataDir: appendDir });
await ledger.append(envelope(-1)); // key, meta and first commit outside the timing
const rawKv = await Deno.openKv(`${tmp}/raw.kv`);
const sizes = new Set<number>();
const appendRates: number[] = [];
const rawRates: number[] = [];
const rowsRates: number[] = [];
const rowsKv = await Deno.openKv(`${tmp}/rows.kv`);
const per = Math.floor(ENTRIES / ROUNDS);
for (let round = 0; round < ROUNDS; round++) {
  const slice = envs.slice(round * per, (round + 1) * per);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: APPENDERS }, async () => {
    while (next < slice.length) {
      const r = await ledger.append(slice[next++]);
      sizes.add(r.tree_size);
    }
  }));
  appendRates.push(slice.length / ((performance.now() - t0) / 1000));
  // The ledger's average batch so far (at most 98: KV allows 100 checks per commit).
  const batch = Math.max(1, Math.min(98, Math.round(((round + 1) * per) / sizes.size)));
  const t1 = performance.now();
  for (let i = 0; i < slice.length; i += batch) {
    let op = rawKv.atomic();
    for (let j = i; j < Math.min(i + batch, slice.length); j++) {
      op = op.set(["raw", round * per + j], slice[j].canonical);
    }
    if (!(await op.commit()).ok) throw new Error("raw commit failed");
  }
  rawRates.push(slice.length / ((performance.now() - t1) / 1000));
  // Second baseline: the same rows the ledger writes per entry (entry, envelope
  // index with its uniqueness check, two secondary indexes), without the
  // ledger's CPU work: what Deno KV alone costs for this layout.
  const t2 = performance.now();
  for (let i = 0; i < slice.length; i += batch) {
    let op = rowsKv.atomic();
    for (let j = i; j < Math.min(i + batch, slice.length); j++) {
      const n = round * per + j;
      const e = slice[j];
      op = op.set(["e", n], e.canonical)
        .check({ key: ["s", e.sha256], versionstamp: null })
        .set(["s", e.sha256], new Uint8Array(8))
        .set(["i", "bench-bank", "2026-11-21T00:00:00.000Z", n], new Uint8Array(0))
        .set(["p", "fairness", "2026-11-21T00:00:00.000Z", n], new Uint8Array(0));
    }
    if (!(await op.commit()).ok) throw new Error("rows commit failed");
  }
  rowsRates.push(slice.length / ((performance.now() - t2) / 1000));
}
rowsKv.close();
const rowsRate = median(rowsRates);
/** Median of the per-round ratios a[i] / b[i] (rounds are adjacent in time, so paired). */
const pairedRatio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));
rawKv.close();
const appendRate = median(appendRates);
const rawRate = median(rawRates);
const commits = sizes.size;
const avgBatch = (per * ROUNDS) / commits;

// ---------------------------------------------------------------------------
// 3. verifyLog vs raw SHA-256 over the same bytes, interleaved.
const stored = await ledger.store.readEntries(0, await ledger.size());
const verifyRates: number[] = [];
const shaRates: number[] = [];
const scanRates: number[] = [];
let sink = 0;
let vr = { ok: false, size: 0 } as Awaited<ReturnType<typeof ledger.verify>>;
for (let round = 0; round < ROUNDS; round++) {
  const vStart = performance.now();
  vr = await ledger.verify();
  verifyRates.push(vr.size / ((performance.now() - vStart) / 1000));
  if (!vr.ok) throw new Error(`benchmark log does not verify: ${vr.reason}`);
  const sStart = performance.now();
  for (const e of stored) sink ^= sha256(e.leaf)[0] ^ sha256(e.envelope)[0];
  shaRates.push(stored.length / ((performance.now() - sStart) / 1000));
  // Second baseline: read back every row of the ledger and hash each entry's
  // leaf and envelope: the floor for any audit that reads the store.
  const kStart = performance.now();
  let rows = 0;
  for await (
    const r of (ledger.store as KvStore).kv.list<Uint8Array>({ prefix: [] }, { batchSize: 1000 })
  ) {
    rows++;
    if (r.key[0] === "e") sink ^= sha256(r.value)[0];
  }
  for (const e of stored) sink ^= sha256(e.leaf)[0];
  scanRates.push(stored.length / ((performance.now() - kStart) / 1000));
  if (rows === 0) throw new Error("nothing scanned");
}
const scanRate = median(scanRates);
const verifyRate = median(verifyRates);
const shaRate = median(shaRates);
await ledger.close();
const storageBytes = (await dirBytes(appendDir)) / (per * ROUNDS + 1);
const rawStorageBytes = (await dirBytes(tmp, "raw.kv")) / (per * ROUNDS);

// ---------------------------------------------------------------------------
// 2. Inclusion proofs on a large log, built with batched commits.
async function buildLog(dir: string, n: number): Promise<void> {
  const key = await loadOrCreateLogKey(dir);
  const store = await KvStore.open(`${dir}/ledger.kv`);
  const meta = { origin: key.name, verifierKey: key.verifierKey() };
  let version: string | null = null;
  let prev: Uint8Array = new Uint8Array(32);
  const B = 98;
  for (let n0 = 0; n0 < n; n0 += B) {
    const k = Math.min(B, n - n0);
    const leaves: Uint8Array[] = [];
    const hashes: Uint8Array[] = [];
    const shas: Uint8Array[] = [];
    const bodies: Uint8Array[] = [];
    const bodyShas: Uint8Array[] = [];
    for (let i = 0; i < k; i++) {
      // A small real envelope per entry (the audit recomputes each signed body).
      const pe = smallEnvelope(n0 + i);
      const env = pe.canonical;
      bodies.push(env);
      bodyShas.push(signedBodySha256(pe));
      const sha = sha256(env);
      const leaf = encodeLeaf({
        envelope_sha256: toBase64(sha),
        index: n0 + i,
        issued_at: "2026-11-21T00:00:00.000Z",
        issuer: "bench-bank",
        key_id: "bench-issuer",
        prev: toBase64(prev),
        primitive: "fairness",
        v: LEAF_VERSION,
      });
      prev = leafHash(leaf);
      leaves.push(leaf);
      hashes.push(prev);
      shas.push(sha);
    }
    const fresh = await storedHashesForBatch(n0, hashes, store);
    const base = storedHashIndex(0, n0);
    const reader: HashReader = {
      async readHashes(idx) {
        const old = idx.filter((i) => i < base);
        const got = old.length ? await store.readHashes(old) : [];
        let j = 0;
        return idx.map((i) => (i < base ? got[j++] : fresh[i - base]));
      },
    };
    const root = await treeHash(n0 + k, reader);
    const checkpoint = await signCheckpoint({ origin: key.name, size: n0 + k, root }, [key]);
    const entries: NewEntry[] = [];
    let off = 0;
    for (let i = 0; i < k; i++) {
      const count = storedHashIndex(0, n0 + i + 1) - storedHashIndex(0, n0 + i);
      entries.push({
        index: n0 + i,
        leaf: leaves[i],
        hashes: fresh.slice(off, off + count),
        endsCommit: i === k - 1,
        envelope: bodies[i],
        envelopeSha256: shas[i],
        bodySha256: bodyShas[i],
        issuer: "bench-bank",
        primitive: "fairness",
        issuedAt: "2026-11-21T00:00:00.000Z",
      });
      off += count;
    }
    const r = await store.commit(version, {
      entries,
      head: { size: n0 + k, root, lastLeafHash: prev },
      checkpoint,
      meta,
    });
    if (!r.ok) throw new Error("build commit failed");
    version = r.version;
    store.rememberHashes(base, fresh);
    if ((n0 / B) % 1000 === 0) console.log(`  built ${n0 + k}/${n}`);
  }
  store.close();
}

console.log(`building a ${PROOF_LOG}-entry log for proofs…`);
const proofDir = `${tmp}/proof`;
const b0 = performance.now();
await buildLog(proofDir, PROOF_LOG);
const buildMs = performance.now() - b0;

async function proofLatencies(samples: number): Promise<
  { cold: number[]; warm: number[]; get: number[]; maxLen: number }
> {
  const l = await openLedger({ dataDir: proofDir });
  const kv = (l.store as KvStore).kv;
  const cold: number[] = [];
  const warm: number[] = [];
  const get: number[] = [];
  let maxLen = 0;
  for (let s = 0; s < samples; s++) {
    const i = Math.floor(Math.random() * PROOF_LOG);
    let t = performance.now();
    await kv.get(["e", i]);
    get.push(performance.now() - t);
    t = performance.now();
    const p = await l.proveInclusion(i);
    (s < samples / 2 ? cold : warm).push(performance.now() - t);
    maxLen = Math.max(maxLen, p.proof.length);
  }
  await l.close();
  return {
    cold: cold.sort((a, b) => a - b),
    warm: warm.sort((a, b) => a - b),
    get: get.sort((a, b) => a - b),
    maxLen,
  };
}
const lat = await proofLatencies(quick ? 400 : 2000);

// Verify the big log too (rate on small envelopes).
const bl = await openLedger({ dataDir: proofDir });
const bv0 = performance.now();
const bvr = await bl.verify();
const bigVerifyMs = performance.now() - bv0;
await bl.close();
if (!bvr.ok) throw new Error(`built log does not verify: ${bvr.reason}`);

await Deno.remove(tmp, { recursive: true });

const results = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  machine: `${navigator.hardwareConcurrency} cores (shared)`,
  append: {
    entries: per * ROUNDS,
    rounds: ROUNDS,
    envelope_bytes: Math.round(envBytes),
    appenders: APPENDERS,
    commits,
    avg_batch: +avgBatch.toFixed(1),
    entries_per_s: Math.round(appendRate),
    baseline_raw_kv_batched_entries_per_s: Math.round(rawRate),
    ratio: +pairedRatio(appendRates, rawRates).toFixed(3),
    baseline_same_kv_rows_entries_per_s: Math.round(rowsRate),
    ratio_to_same_rows: +pairedRatio(appendRates, rowsRates).toFixed(3),
    goal: "≥ 20,000/s and ≥ 0.60",
  },
  inclusion_proof: {
    log_entries: PROOF_LOG,
    build_s: +(buildMs / 1000).toFixed(1),
    p50_ms_cold_cache: +pct(lat.cold, 0.5).toFixed(4),
    p99_ms_cold_cache: +pct(lat.cold, 0.99).toFixed(4),
    p50_ms_warm_cache: +pct(lat.warm, 0.5).toFixed(4),
    p99_ms_warm_cache: +pct(lat.warm, 0.99).toFixed(4),
    baseline_raw_kv_get_p50_ms: +pct(lat.get, 0.5).toFixed(4),
    ratio_p50_cold_to_get: +(pct(lat.cold, 0.5) / pct(lat.get, 0.5)).toFixed(2),
    max_proof_hashes: lat.maxLen,
    goal: "p50 ≤ 1 ms, ≤ 20 hashes",
  },
  verify: {
    entries: vr.size,
    entries_per_s: Math.round(verifyRate),
    baseline_raw_sha256_entries_per_s: Math.round(shaRate),
    ratio: +pairedRatio(verifyRates, shaRates).toFixed(3),
    baseline_kv_scan_plus_sha256_entries_per_s: Math.round(scanRate),
    ratio_to_kv_scan_plus_sha256: +pairedRatio(verifyRates, scanRates).toFixed(3),
    large_log_entries: bvr.size,
    large_log_entries_per_s: Math.round(bvr.size / (bigVerifyMs / 1000)),
    goal: "≥ 100,000/s and ≥ 0.50",
  },
  storage: {
    bytes_per_entry: Math.round(storageBytes),
    envelope_bytes_per_entry: Math.round(envBytes),
    overhead_ratio: +(storageBytes / envBytes).toFixed(2),
    baseline_raw_kv_bytes_per_entry: Math.round(rawStorageBytes),
    ratio_to_raw_kv: +(storageBytes / rawStorageBytes).toFixed(2),
  },
};

const rows: [string, string, string, string][] = [
  ["figure", "ledger", "baseline", "ratio"],
  [
    `append ${results.append.envelope_bytes} B x${APPENDERS} (entries/s)`,
    String(results.append.entries_per_s),
    `${results.append.baseline_raw_kv_batched_entries_per_s} raw KV`,
    String(results.append.ratio),
  ],
  [
    "append vs the same KV rows (entries/s)",
    String(results.append.entries_per_s),
    `${results.append.baseline_same_kv_rows_entries_per_s} KV rows`,
    String(results.append.ratio_to_same_rows),
  ],
  [
    `inclusion proof p50 @${PROOF_LOG} (ms, cold/warm)`,
    `${results.inclusion_proof.p50_ms_cold_cache}/${results.inclusion_proof.p50_ms_warm_cache}`,
    `${results.inclusion_proof.baseline_raw_kv_get_p50_ms} KV get`,
    String(results.inclusion_proof.ratio_p50_cold_to_get),
  ],
  [
    "verifyLog (entries/s)",
    String(results.verify.entries_per_s),
    `${results.verify.baseline_raw_sha256_entries_per_s} SHA-256`,
    String(results.verify.ratio),
  ],
  [
    "verifyLog vs KV scan + SHA-256 (entries/s)",
    String(results.verify.entries_per_s),
    `${results.verify.baseline_kv_scan_plus_sha256_entries_per_s} scan+SHA`,
    String(results.verify.ratio_to_kv_scan_plus_sha256),
  ],
  [
    "storage (bytes/entry)",
    String(results.storage.bytes_per_entry),
    `${results.storage.baseline_raw_kv_bytes_per_entry} raw KV (${results.storage.envelope_bytes_per_entry} B envelope)`,
    String(results.storage.ratio_to_raw_kv),
  ],
];
const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join("  "));
console.log(
  `commits ${commits} (avg batch ${results.append.avg_batch}), max proof ${lat.maxLen} hashes, ` +
    `large-log verify ${results.verify.large_log_entries_per_s}/s (sink ${sink & 0})`,
);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
const resultsUrl = new URL("./results/ledger.json", import.meta.url);
// Without --million, keep the 1,000,000-entry figures of an earlier run (the
// build takes minutes), marked with the date they were measured; this run's
// smaller proof log is reported beside them.
let out: Record<string, unknown> = results;
if (!million) {
  const prev = await Deno.readTextFile(resultsUrl).then(JSON.parse).catch(() => null);
  const big = prev?.inclusion_proof;
  if (big && big.log_entries >= 1_000_000) {
    const measured = big.measured ?? prev.date;
    out = {
      ...results,
      inclusion_proof: { ...big, measured },
      inclusion_proof_this_run: results.inclusion_proof,
      verify: {
        ...results.verify,
        large_log_entries: prev.verify.large_log_entries,
        large_log_entries_per_s: prev.verify.large_log_entries_per_s,
        large_log_measured: prev.verify.large_log_measured ?? measured,
        this_run_proof_log_entries: results.verify.large_log_entries,
        this_run_proof_log_entries_per_s: results.verify.large_log_entries_per_s,
      },
    };
  }
}
await Deno.writeTextFile(resultsUrl, JSON.stringify(out, null, 2) + "\n");
console.log("wrote benchmarks/results/ledger.json");
