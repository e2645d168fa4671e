/**
 * Remote audit through C2SP tiles vs the local audit, on the same log in
 * the same run (issue 13's goal: ≥ 50,000 entries/s and ≥ 0.5 of local):
 *
 * - remote: `LogClient.verify` against a real server (`startServer`, Deno KV)
 *   running in a child process on loopback — checkpoint, authenticated
 *   level-0 tiles, entry and envelope bundles, every entry checked (the
 *   fast path of ledger/remote_audit_fast.ts, `checkEntry` where it cannot
 *   vouch);
 * - remote, reference path (the before-and-after baseline of the fast path):
 *   the same audit with `fastPath: false`, `checkEntry` on every entry;
 * - local: `verifyLog` on the same KV file (what `ledger verify --data`
 *   runs: entries, chain, tree, every checkpoint, the stored tiles, the
 *   derived indexes);
 * - mirror: `mirrorLog` (`regledger ledger mirror`) from the same server into
 *   a fresh data directory each round: checkpoint, tiles and bundles, every
 *   entry checked, then written with its indexes and tiles (a final audit of
 *   the last mirror must pass).
 *
 * The log (≥ 100,000 entries; `--quick`: 10,000) has ~1.5 KB envelopes and is
 * written with the store's commits (98 entries each, with their tiles), as
 * the group commit writes it. Rates are medians over interleaved rounds.
 *
 * Run: deno run -A benchmarks/remote_audit.ts [--entries N] [--rounds R] [--quick]
 * Profiling: `--log DIR` builds the log in DIR once and reuses it later;
 * `--remote-only` runs only the remote audits (with `deno run --cpu-prof`);
 * `--profile-server DIR` has the server child write its CPU profile into DIR.
 * Writes benchmarks/results/remote_audit.json.
 *
 * @module
 */
import { LogClient } from "../ledger/client.ts";
import { parseVerifierKey } from "../ledger/note.ts";
import { auditThroughTiles } from "../ledger/remote_audit.ts";
import { KvStore } from "../ledger/kv_store.ts";
import { median } from "./_paired.ts";
import { buildBenchLog, pad } from "./_bench_log.ts";
import { verifyLog } from "../ledger/verify_log.ts";
import { mirrorLog } from "../ledger/mirror.ts";

// Child mode: serve DIR on a free loopback port, print the port, run until killed.
if (Deno.args[0] === "--serve") {
  const { startServer } = await import("../server/serve.ts");
  const { DEFAULT_CONFIG } = await import("../server/config.ts");
  const s = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: Deno.args[1],
    config: { ...DEFAULT_CONFIG, devMode: true, rateLimit: null, verifyWorkers: 0 },
    signals: true,
    status: () => {},
  });
  console.log(`port ${s.addr.port}`);
  await s.finished;
  Deno.exit(0);
}

function argValue(name: string, def: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : def;
}
const quick = Deno.args.includes("--quick");
const N = argValue("--entries", quick ? 10_000 : 100_000);
const ROUNDS = argValue("--rounds", quick ? 2 : 3);

const tmp = await Deno.makeTempDir({ prefix: "regledger-bench-remote-" });
// One signed template, varied per entry: real envelopes (the audits recompute
// each signed body), ~1.4 KB each; the ledger does not re-verify signatures.
console.log(`building a ${N}-entry log…`);
const b0 = performance.now();
// --log DIR: build the log there once and reuse it in later runs (profiling).
const keep = Deno.args.indexOf("--log");
const dir = keep >= 0 ? Deno.args[keep + 1] : `${tmp}/log`;
let meta: { origin: string; verifierKey: string };
try {
  meta = JSON.parse(await Deno.readTextFile(`${dir}/bench-meta.json`));
  if ((meta as { entries?: number }).entries !== N) throw new Error("another size");
} catch {
  if (keep >= 0) await Deno.remove(dir, { recursive: true }).catch(() => {});
  meta = await buildBenchLog(dir, N);
  if (keep >= 0) {
    await Deno.writeTextFile(`${dir}/bench-meta.json`, JSON.stringify({ ...meta, entries: N }));
  }
}
console.log(`built in ${((performance.now() - b0) / 1000).toFixed(1)} s`);

// --remote-only: just the remote audits (for profiling: `deno run --cpu-prof …`);
// --profile-server DIR: the server child writes its CPU profile into DIR.
const remoteOnly = Deno.args.includes("--remote-only");
const profServer = Deno.args.indexOf("--profile-server");
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    ...(profServer >= 0 ? ["--cpu-prof", `--cpu-prof-dir=${Deno.args[profServer + 1]}`] : []),
    new URL(import.meta.url).pathname,
    "--serve",
    dir,
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let out = "";
while (!/port \d+\n/.test(out)) {
  const { value, done } = await lines.read();
  if (done) throw new Error("server child exited");
  out += value;
}
const port = Number(/port (\d+)/.exec(out)![1]);
const client = new LogClient(`http://127.0.0.1:${port}`);

/** CPU seconds (user + system) used so far by process `pid` (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number | "self"): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return NaN;
  }
}
/** CPU µs per entry of the client (this process) and the server child over `run`. */
async function cpuPerEntry<T>(run: () => Promise<T>): Promise<[T, number, number]> {
  const c0 = cpuSeconds("self");
  const s0 = cpuSeconds(child.pid);
  const r = await run();
  return [r, (cpuSeconds("self") - c0) * 1e6 / N, (cpuSeconds(child.pid) - s0) * 1e6 / N];
}
const clientCpu: number[] = [];
const serverCpu: number[] = [];
const referenceClientCpu: number[] = [];
const remote: number[] = [];
const reference: number[] = [];
const fastRatios: number[] = [];
const local: number[] = [];
const ratios: number[] = [];
const mirrors: number[] = [];
const mirrorRatios: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    const [rr, cc, sc] = await cpuPerEntry(() => client.verify(meta.verifierKey));
    const remoteRate = N / ((performance.now() - t) / 1000);
    if (!rr.ok || rr.size !== N) throw new Error(`remote audit failed: ${JSON.stringify(rr)}`);
    if (remoteOnly) {
      console.log(
        `round ${round + 1}: remote ${remoteRate.toFixed(0)}/s ` +
          `(CPU µs/entry: client ${cc.toFixed(1)}, server ${sc.toFixed(1)})`,
      );
      continue;
    }
    t = performance.now();
    const cp = await client.tileCheckpoint();
    const [rf, rc] = await cpuPerEntry(() =>
      auditThroughTiles({
        checkpoint: cp,
        verifier: parseVerifierKey(meta.verifierKey),
        fetchTile: (path) => client.tile(path),
        fastPath: false,
      })
    );
    const referenceRate = N / ((performance.now() - t) / 1000);
    if (!rf.ok || rf.size !== N) throw new Error(`reference audit failed: ${JSON.stringify(rf)}`);
    reference.push(referenceRate);
    clientCpu.push(cc);
    serverCpu.push(sc);
    referenceClientCpu.push(rc);
    fastRatios.push(remoteRate / referenceRate);
    const store = await KvStore.open(`${dir}/ledger.kv`);
    t = performance.now();
    const lr = await verifyLog(store, meta);
    const localRate = N / ((performance.now() - t) / 1000);
    store.close();
    if (!lr.ok) throw new Error(`local audit failed: ${JSON.stringify(lr)}`);
    remote.push(remoteRate);
    local.push(localRate);
    ratios.push(remoteRate / localRate);
    const mstore = await KvStore.open(`${tmp}/mirror-${round}.kv`, { migrate: false });
    t = performance.now();
    const mr = await mirrorLog(
      {
        checkpoint: () => client.tileCheckpoint(),
        tile: (path) => client.tile(path),
      },
      mstore,
      { verifierKey: meta.verifierKey },
    );
    const mirrorRate = N / ((performance.now() - t) / 1000);
    if (mr.size !== N) throw new Error(`mirror copied ${mr.size} entries`);
    if (round === ROUNDS - 1) {
      const audit = await verifyLog(mstore, meta);
      if (!audit.ok) throw new Error(`the mirror does not audit: ${JSON.stringify(audit)}`);
    }
    mstore.close();
    mirrors.push(mirrorRate);
    mirrorRatios.push(mirrorRate / localRate);
    console.log(
      `round ${round + 1}: remote ${remoteRate.toFixed(0)}/s ` +
        `(CPU µs/entry: client ${cc.toFixed(1)}, server ${sc.toFixed(1)}; ` +
        `reference path ${referenceRate.toFixed(0)}/s, client ${rc.toFixed(1)} µs/entry), ` +
        `local ${localRate.toFixed(0)}/s, ` +
        `mirror ${mirrorRate.toFixed(0)}/s`,
    );
  }
} finally {
  child.kill("SIGTERM");
  await child.status;
  await lines.cancel().catch(() => {});
}

if (remoteOnly) {
  await Deno.remove(tmp, { recursive: true });
  Deno.exit(0);
}
const requests = 1 + 2 * Math.ceil(N / 256) + Math.ceil(N / 256) + Math.ceil(N / 65536) + 1;
const result = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  machine: `${navigator.hardwareConcurrency} cores (shared)`,
  load_avg_1m_at_end: Deno.loadavg()[0],
  entries: N,
  envelope_bytes: new TextEncoder().encode(`{"bench":0,"pad":"${pad}"}`).length,
  rounds: ROUNDS,
  remote_tiles_entries_per_s: Math.round(median(remote)),
  local_verify_log_entries_per_s: Math.round(median(local)),
  ratio_remote_to_local: Number(median(ratios).toFixed(3)),
  remote_reference_path_entries_per_s: Math.round(median(reference)),
  ratio_remote_to_reference_path: Number(median(fastRatios).toFixed(3)),
  // CPU time per entry (user + system, from /proc): less sensitive to a loaded machine than rates.
  remote_client_cpu_us_per_entry: Number(median(clientCpu).toFixed(1)),
  remote_server_cpu_us_per_entry: Number(median(serverCpu).toFixed(1)),
  remote_reference_path_client_cpu_us_per_entry: Number(median(referenceClientCpu).toFixed(1)),
  mirror_entries_per_s: Math.round(median(mirrors)),
  ratio_mirror_to_local: Number(median(mirrorRatios).toFixed(3)),
  approx_requests: requests,
  goal: "remote ≥ 50,000 entries/s and ≥ 0.5 of local (mirror: no goal set; reported)",
  setup: "server (Deno KV) in a child process on loopback; client in this process; " +
    "no auth, no rate limit",
};
console.table([
  {
    audit: "remote, through tiles",
    "entries/s": result.remote_tiles_entries_per_s,
    ratio: result.ratio_remote_to_local,
  },
  {
    audit: "remote, reference path (checkEntry only)",
    "entries/s": result.remote_reference_path_entries_per_s,
    ratio: Number((result.remote_reference_path_entries_per_s / median(local)).toFixed(3)),
  },
  {
    audit: "mirror (copy + store)",
    "entries/s": result.mirror_entries_per_s,
    ratio: result.ratio_mirror_to_local,
  },
  { audit: "local verifyLog (baseline)", "entries/s": result.local_verify_log_entries_per_s },
]);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/remote_audit.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
await Deno.remove(tmp, { recursive: true });
