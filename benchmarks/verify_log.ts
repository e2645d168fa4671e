/**
 * What bounds the local audit (`verifyLog` on Deno KV, what
 * `ledger verify --data` runs), each part measured in the same run on the
 * same ≥ 100,000-entry log (issue 13: "≥ 100,000 entries/s; say what bounds
 * it"):
 *
 * - verifyLog itself, entries/s;
 * - the KV scan alone: each prefix the audit reads (`e` entries, `s`
 *   envelope index, `b` signed-body index, `i`, `p`, `ip` secondary indexes,
 *   `cp` checkpoints, `t` tiles), one `kv.list` each, rows touched but not
 *   checked; then all of them one after another and all concurrently;
 * - the checks' CPU alone on entries already in memory: `checkEntry`
 *   (canonical leaf, chain, envelope hash), the signed-body hash, the Merkle
 *   recomputation;
 * - SHA-256 alone: the same calls' bytes hashed with `core/bytes.ts`.
 *
 * The statement in `bound` says which of these the audit is at, in numbers
 * from this run. The log is written with the store's commits (98 entries
 * each, with tiles and a checkpoint), as the group commit writes it.
 *
 * Run: deno run -A benchmarks/verify_log.ts [--entries N] [--rounds R] [--quick]
 *   [--keep DIR] (build the log in DIR once and reuse it) [--only-verify] (for
 *   `--cpu-prof`: build or reuse, run verifyLog R times, print nothing else)
 * Writes benchmarks/results/verify_log.json (not with --only-verify).
 *
 * @module
 */
import process from "node:process";
import { sha256 } from "../core/bytes.ts";
import { storedSignedBodySha256 } from "../core/envelope_stored.ts";
import { checkEntry } from "../ledger/entry_check.ts";
import { KvStore } from "../ledger/kv_store.ts";
import { ZERO_PREV } from "../ledger/leaf.ts";
import { nodeHash } from "../ledger/merkle/mod.ts";
import type { StoredEntry } from "../ledger/store.ts";
import { median } from "./_paired.ts";
import { buildBenchLog } from "./_bench_log.ts";
import { verifyLog } from "../ledger/verify_log.ts";

function argValue(name: string, def: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : def;
}
const quick = Deno.args.includes("--quick");
const onlyVerify = Deno.args.includes("--only-verify");
const N = argValue("--entries", quick ? 20_000 : 100_000);
const ROUNDS = argValue("--rounds", quick ? 2 : 3);
const keepAt = Deno.args.indexOf("--keep");
const keep = keepAt >= 0 ? Deno.args[keepAt + 1] : undefined;
const log = (s: string) => onlyVerify || console.log(s);
/** CPU µs per entry (all threads) of each verifyLog / one-thread verifyLog / serial scan run. */
const verifyCpu: number[] = [];
const oneThreadCpu: number[] = [];
const scanCpu: number[] = [];
/** Per verifyLog run with the worker: CPU µs per entry of each kind of thread. */
const verifyThreads: Record<string, number>[] = [];

// Real envelopes (the audit recomputes each signed body), ~1.4 KB each, as in
// benchmarks/remote_audit.ts; the ledger does not re-verify signatures.
const tmp = keep ?? await Deno.makeTempDir({ prefix: "regledger-bench-verify-" });
const dir = `${tmp}/log`;
let meta: { origin: string; verifierKey: string; entries: number } | undefined;
try {
  meta = JSON.parse(await Deno.readTextFile(`${dir}/meta.json`));
} catch {
  meta = undefined;
}
if (meta?.entries !== N) {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  log(`building a ${N}-entry log…`);
  const b0 = performance.now();
  meta = { ...await buildBenchLog(dir, N), entries: N };
  await Deno.writeTextFile(`${dir}/meta.json`, JSON.stringify(meta));
  log(`built in ${((performance.now() - b0) / 1000).toFixed(1)} s`);
}
const { origin, verifierKey } = meta!;

/** CPU seconds this process (all its threads) used since `from` (`process.cpuUsage`). */
function cpuSince(from: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1e6;
}

/**
 * CPU seconds of each of this process's threads, by kind (Linux
 * `/proc/self/task`; empty elsewhere): "main" (the JS thread), "worker"
 * (the check worker), "kv" (Deno KV's SQLite thread, `sw-*`), "v8" (V8's
 * helpers: GC, compilation), "other".
 */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const t of Deno.readDirSync("/proc/self/task")) {
      let stat: string;
      try {
        stat = Deno.readTextFileSync(`/proc/self/task/${t.name}/stat`);
      } catch {
        continue; // the thread ended
      }
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const sec = (Number(f[11]) + Number(f[12])) / 100; // utime + stime, USER_HZ ticks
      const kind = String(Deno.pid) === t.name
        ? "main"
        : comm.startsWith("worker")
        ? "worker"
        : comm.startsWith("sw-")
        ? "kv"
        : comm.startsWith("V8")
        ? "v8"
        : "other";
      out.set(kind, (out.get(kind) ?? 0) + sec);
    }
  } catch {
    // no /proc: no per-thread figures
  }
  return out;
}

/** Entries/s of verifyLog and the CPU it used, µs per entry (all threads). */
async function timeVerify(checkWorker?: boolean): Promise<number> {
  const store = await KvStore.open(`${dir}/ledger.kv`, { migrate: false });
  try {
    const before = threadCpu();
    const c0 = process.cpuUsage();
    const t = performance.now();
    const r = await verifyLog(store, { origin, verifierKey, checkWorker });
    const rate = N / ((performance.now() - t) / 1000);
    const totalUs = cpuSince(c0) / N * 1e6;
    (checkWorker === false ? oneThreadCpu : verifyCpu).push(totalUs);
    const after = threadCpu();
    if (checkWorker !== false && after.has("main")) {
      // The worker's thread may be gone by now: it is what the process
      // used (getrusage counts ended threads) beyond the threads still here.
      const us: Record<string, number> = {};
      let rest = totalUs;
      for (const [k, v] of after) {
        if (k === "worker") continue;
        us[k] = (v - (before.get(k) ?? 0)) / N * 1e6;
        rest -= us[k];
      }
      us.worker = Math.max(0, rest);
      verifyThreads.push(us);
    }
    if (!r.ok || r.size !== N) throw new Error(`audit failed: ${JSON.stringify(r)}`);
    return rate;
  } finally {
    store.close();
  }
}

if (onlyVerify) {
  const w = Deno.args.includes("--no-worker") ? false : undefined;
  for (let i = 0; i < ROUNDS; i++) console.log(`verifyLog ${Math.round(await timeVerify(w))}/s`);
  Deno.exit(0);
}

const PREFIXES = ["e", "s", "b", "i", "p", "ip", "cp", "t"] as const;

/** List `prefix` on `kv` to the end: rows and bytes (values touched, not checked). */
async function listPrefix(kv: Deno.Kv, prefix: string): Promise<number> {
  let rows = 0;
  let bytes = 0;
  for await (const r of kv.list<Uint8Array>({ prefix: [prefix] }, { batchSize: 1000 })) {
    rows++;
    bytes += r.value.length;
  }
  if (bytes < 0) throw new Error("unreachable");
  return rows;
}

/** Seconds to list each prefix alone, all one after another, all at once. */
async function timeScans(): Promise<
  { each: Record<string, number>; serial: number; concurrent: number; rows: Record<string, number> }
> {
  const kv = await Deno.openKv(`${dir}/ledger.kv`);
  try {
    const each: Record<string, number> = {};
    const rows: Record<string, number> = {};
    for (const p of PREFIXES) {
      const t = performance.now();
      rows[p] = await listPrefix(kv, p);
      each[p] = (performance.now() - t) / 1000;
    }
    const c0 = process.cpuUsage();
    let t = performance.now();
    for (const p of PREFIXES) await listPrefix(kv, p);
    const serial = (performance.now() - t) / 1000;
    scanCpu.push(cpuSince(c0) / N * 1e6);
    t = performance.now();
    await Promise.all(PREFIXES.map((p) => listPrefix(kv, p)));
    const concurrent = (performance.now() - t) / 1000;
    return { each, serial, concurrent, rows };
  } finally {
    kv.close();
  }
}

// Entries in memory, for the CPU-only figures.
const entries: StoredEntry[] = [];
{
  const store = await KvStore.open(`${dir}/ledger.kv`);
  for (let a = 0; a < N; a += 1000) {
    entries.push(...await store.readEntries(a, Math.min(N, a + 1000)));
  }
  store.close();
}

/** Seconds for the audit's per-entry checks alone (no KV): entry check, body hash, Merkle. */
function timeChecks(): { checks: number; body: number; merkle: number } {
  let t = performance.now();
  let prev: Uint8Array = ZERO_PREV;
  const leafHashes: Uint8Array[] = new Array(entries.length);
  for (let n = 0; n < entries.length; n++) {
    const e = entries[n];
    prev = checkEntry(n, e.leaf, e.envelope, prev).leafHash;
    leafHashes[n] = prev;
  }
  const checks = (performance.now() - t) / 1000;
  t = performance.now();
  let sink = 0;
  for (const e of entries) sink ^= storedSignedBodySha256(e.envelope)[0];
  const body = (performance.now() - t) / 1000;
  t = performance.now();
  // The frontier recomputation: one node hash per entry on average.
  const frontier: Uint8Array[] = [];
  const levels: number[] = [];
  for (const lh of leafHashes) {
    frontier.push(lh);
    levels.push(0);
    while (levels.length >= 2 && levels[levels.length - 1] === levels[levels.length - 2]) {
      const r = frontier.pop()!;
      const l = frontier.pop()!;
      levels.pop();
      levels.push(levels.pop()! + 1);
      frontier.push(nodeHash(l, r));
    }
  }
  const merkle = (performance.now() - t) / 1000;
  if (sink < 0) throw new Error("unreachable");
  return { checks, body, merkle };
}

/** Seconds to SHA-256 each entry's leaf, envelope, and one 65-byte node input. */
function timeSha(): { leafEnvelope: number; node: number } {
  let sink = 0;
  let t = performance.now();
  for (const e of entries) sink ^= sha256(e.leaf)[0] ^ sha256(e.envelope)[0];
  const leafEnvelope = (performance.now() - t) / 1000;
  const node = new Uint8Array(65);
  node[0] = 1;
  t = performance.now();
  for (let i = 0; i < entries.length; i++) {
    node[1] = i;
    sink ^= sha256(node)[0];
  }
  const nodeT = (performance.now() - t) / 1000;
  if (sink < 0) throw new Error("unreachable");
  return { leafEnvelope, node: nodeT };
}

const verifyRates: number[] = [];
const oneThreadRates: number[] = [];
const scanRuns: Awaited<ReturnType<typeof timeScans>>[] = [];
const checkRuns: ReturnType<typeof timeChecks>[] = [];
const shaRuns: ReturnType<typeof timeSha>[] = [];
for (let round = 0; round < ROUNDS; round++) {
  verifyRates.push(await timeVerify());
  oneThreadRates.push(await timeVerify(false));
  scanRuns.push(await timeScans());
  checkRuns.push(timeChecks());
  shaRuns.push(timeSha());
  log(
    `round ${round + 1}: verifyLog ${Math.round(verifyRates[round])}/s ` +
      `(one thread ${Math.round(oneThreadRates[round])}/s), ` +
      `scan (serial) ${Math.round(N / scanRuns[round].serial)}/s, ` +
      `scan (concurrent) ${Math.round(N / scanRuns[round].concurrent)}/s`,
  );
}
const rate = (sec: number[]) => Math.round(N / median(sec));
const verifyRate = Math.round(median(verifyRates));
const scanEach = Object.fromEntries(
  PREFIXES.map((p) => [p, rate(scanRuns.map((s) => s.each[p]))]),
);
const scanSerial = rate(scanRuns.map((s) => s.serial));
const scanConcurrent = rate(scanRuns.map((s) => s.concurrent));
const checksRate = rate(checkRuns.map((c) => c.checks));
const bodyRate = rate(checkRuns.map((c) => c.body));
const merkleRate = rate(checkRuns.map((c) => c.merkle));
const cpuRate = rate(checkRuns.map((c) => c.checks + c.body + c.merkle));
const shaLeafEnvRate = rate(shaRuns.map((s) => s.leafEnvelope));
const shaNodeUs = +(median(shaRuns.map((s) => s.node)) / N * 1e6).toFixed(3);
const oneThreadRate = Math.round(median(oneThreadRates));
const rowsPerEntry = Object.values(scanRuns[0].rows).reduce((a, b) => a + b, 0) / N;
const fmt = (x: number) => x.toLocaleString("en-US");
const scanBest = Math.max(scanSerial, scanConcurrent);
const us = (xs: number[]) => +median(xs).toFixed(1);
const scanUs = us(scanCpu);
const verifyUs = us(verifyCpu);
const oneThreadUs = us(oneThreadCpu);
const checksUs = +(1e6 / cpuRate).toFixed(1);
const cores = navigator.hardwareConcurrency;
/** Median CPU µs per entry of each kind of thread over the worker runs (empty without /proc). */
const threadUs: Record<string, number> = {};
for (const k of ["main", "worker", "kv", "v8", "other"]) {
  const xs = verifyThreads.map((t) => t[k]).filter((x) => x !== undefined);
  if (xs.length > 0) threadUs[k] = +median(xs).toFixed(1);
}
const threadNote = threadUs.main === undefined
  ? ""
  : ` By thread, verifyLog's CPU per entry was: main (JavaScript: KV rows decoded, tree, checkpoints, index digest) ${threadUs.main} µs, check worker ${threadUs.worker} µs, Deno KV's SQLite thread ${threadUs.kv} µs, V8's helpers (GC) ${threadUs.v8} µs; the main thread alone caps it at ${
    fmt(Math.round(1e6 / threadUs.main))
  } entries/s on an idle core, and 100,000 entries/s would need that thread at 10 µs per entry.`;
const bound = `On this machine (${cores} cores, load ${
  Deno.loadavg()[0].toFixed(1)
} at the end), verifyLog ran at ${fmt(verifyRate)} entries/s (${
  fmt(oneThreadRate)
} with every check on one thread). Per entry it read ${
  rowsPerEntry.toFixed(2)
} KV rows (entry, envelope and signed-body index, issuer, primitive and issuer+primitive index). Listing those rows alone, with no check, took ${scanUs} µs of CPU per entry (the JS thread and Deno KV's SQLite thread together; ${
  fmt(scanSerial)
} entries/s one prefix after another, ${
  fmt(scanConcurrent)
} with all prefixes at once); the checks alone (entry check, signed-body hash, Merkle) took ${checksUs} µs on one core (${
  fmt(cpuRate)
} entries/s); verifyLog took ${verifyUs} µs of CPU per entry in all (${oneThreadUs} µs on one thread). 100,000 entries/s leaves 10 µs per entry per core: the KV listing alone needs ${
  (scanUs / 10).toFixed(1)
} cores' worth of that, the checks ${(checksUs / 10).toFixed(1)}. ${
  scanUs >= checksUs
    ? "Deno KV's row reads are the larger part: "
    : "The checks are the larger part (they run on a worker, the reads on the main thread): "
}at best, with both spread perfectly over ${cores} idle cores, ${
  fmt(Math.round(cores * 1e6 / verifyUs))
} entries/s. 100,000 entries/s needs both: fewer, larger rows per entry (e.g. the indexes audited from tiles or bundles rather than row by row, or a store that lists rows in bulk) and the checks on ${
  Math.ceil(checksUs / 10)
} cores (ranges checked by several workers).${threadNote}`;
const result = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  machine: `${navigator.hardwareConcurrency} cores (shared)`,
  load_avg_1m_at_end: Deno.loadavg()[0],
  entries: N,
  envelope_bytes: Math.round(entries.reduce((s, e) => s + e.envelope.length, 0) / N),
  rounds: ROUNDS,
  verify_log_entries_per_s: verifyRate,
  kv_scan_each_prefix_entries_per_s: scanEach,
  kv_scan_rows_per_entry: Object.fromEntries(
    PREFIXES.map((p) => [p, +(scanRuns[0].rows[p] / N).toFixed(3)]),
  ),
  kv_scan_serial_entries_per_s: scanSerial,
  kv_scan_concurrent_entries_per_s: scanConcurrent,
  checks_cpu_entries_per_s: cpuRate,
  check_entry_entries_per_s: checksRate,
  signed_body_hash_entries_per_s: bodyRate,
  merkle_entries_per_s: merkleRate,
  sha256_leaf_and_envelope_entries_per_s: shaLeafEnvRate,
  sha256_65_byte_node_us: shaNodeUs,
  verify_log_one_thread_entries_per_s: oneThreadRate,
  ratio_verify_to_kv_scan: +(verifyRate / scanBest).toFixed(3),
  cpu_us_per_entry_kv_scan: scanUs,
  cpu_us_per_entry_checks: checksUs,
  cpu_us_per_entry_verify_log: verifyUs,
  cpu_us_per_entry_verify_log_one_thread: oneThreadUs,
  cpu_us_per_entry_verify_log_by_thread: threadUs,
  ratio_worker_to_one_thread: +(verifyRate / oneThreadRate).toFixed(3),
  goal: "≥ 100,000 entries/s; say what bounds it",
  bound,
};
console.table([
  { figure: "verifyLog (checks on a worker)", "entries/s": verifyRate },
  { figure: "verifyLog (one thread)", "entries/s": oneThreadRate },
  ...PREFIXES.map((p) => ({ figure: `KV list "${p}" alone`, "entries/s": scanEach[p] })),
  { figure: "KV list, all prefixes serially", "entries/s": scanSerial },
  { figure: "KV list, all prefixes at once", "entries/s": scanConcurrent },
  { figure: "checks CPU (no KV)", "entries/s": cpuRate },
  { figure: "  checkEntry", "entries/s": checksRate },
  { figure: "  signed-body hash", "entries/s": bodyRate },
  { figure: "  Merkle", "entries/s": merkleRate },
  { figure: "SHA-256 leaf+envelope", "entries/s": shaLeafEnvRate },
]);
console.log(`sha256 of 65 bytes: ${shaNodeUs} µs`);
console.log(bound);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/verify_log.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
if (!keep) await Deno.remove(tmp, { recursive: true });
