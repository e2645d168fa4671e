/**
 * A witness server's `add-checkpoint` rate end to end: a real
 * `regledger witness serve` process on loopback, lean keep-alive HTTP/1.1
 * clients (`http1_client.ts`), one client per log, each submitting its
 * log's next checkpoint (one more entry, a consistency proof from the
 * witness's size) as soon as the previous one is cosigned. Every request
 * is a real witness step: log signature verified, proof checked, state
 * committed to the witness's Deno KV file (check-and-set), cosignature
 * returned and checked by the client.
 *
 * Beside it, in the same run with interleaved rounds (the 2 cores are
 * shared: the ratios are the figures that mean something):
 * - `decide`: the pure decision (parse + `decideAddCheckpoint`, Ed25519
 *   cosignature) on the same requests in this process, no HTTP, no KV:
 *   what the server adds on top of the protocol's own work;
 * - `http_healthz`: `GET /healthz` on the same witness and connections
 *   (one KV read): the cost of HTTP alone;
 * - `http_add_checkpoint_mldsa`: a second witness that also cosigns with
 *   ML-DSA-44 (liboqs), the spec's SHOULD.
 *
 * Goal (issue 13): a witness handles ≥ 1,000 add-checkpoint/s (Ed25519).
 *
 * Also reported: the witness process's CPU time per request (from /proc;
 * needs -A), which says whether the witness was busy or waiting.
 *
 * Run: deno run -A benchmarks/witness_serve.ts [--quick]
 * Writes benchmarks/results/witness_serve.json.
 *
 * @module
 */
import { bytesEqual } from "../core/bytes.ts";
import { signCheckpoint } from "../ledger/checkpoint.ts";
import { MemoryHashStore, proveTree, treeHash } from "../ledger/merkle/mod.ts";
import { Ed25519NoteSigner } from "../ledger/note.ts";
import {
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  parseAddCheckpointRequest,
  type WitnessLog,
  type WitnessLogState,
} from "../ledger/witness/add_checkpoint.ts";
import { Ed25519CosignatureSigner } from "../ledger/witness/cosignature.ts";
import { encodeRequest, Http1Connection } from "./http1_client.ts";
import { median } from "./_paired.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 3 : 9;
const LOGS = 64; // one client (connection) per log: a witness serves many logs
const PER_ROUND = quick ? 15 : 50; // requests per log per round
const START = 1000; // the logs' size before the first request
const STEPS = ROUNDS * PER_ROUND;
const ROOT = new URL("../", import.meta.url).pathname;

// Logs and their request chains: the checkpoint at START + k with a proof from START + k - 1.
console.error(`preparing ${LOGS} logs × ${STEPS} checkpoints…`);
interface Chain {
  origin: string;
  key: Ed25519NoteSigner;
  first: string; // old 0 → START
  bodies: string[]; // k: START + k → START + k + 1
  roots: Uint8Array[];
}
const chains: Chain[] = [];
for (let l = 0; l < LOGS; l++) {
  const origin = `bench.example/log${l}`;
  const key = await Ed25519NoteSigner.generate(origin);
  const store = new MemoryHashStore();
  await store.appendLeafHashes(
    Array.from({ length: START + STEPS }, () => crypto.getRandomValues(new Uint8Array(32))),
  );
  const cp = async (size: number) => {
    const root = await treeHash(size, store);
    return { root, text: await signCheckpoint({ origin, size, root }, [key]) };
  };
  const first = formatAddCheckpointRequest(0, [], (await cp(START)).text);
  const bodies: string[] = [];
  const roots: Uint8Array[] = [];
  for (let k = 0; k < STEPS; k++) {
    const size = START + k + 1;
    const c = await cp(size);
    bodies.push(
      formatAddCheckpointRequest(size - 1, await proveTree(size, size - 1, store), c.text),
    );
    roots.push(c.root);
  }
  chains.push({ origin, key, first, bodies, roots });
}

const tmp = await Deno.makeTempDir({ prefix: "regledger-bench-witness-serve-" });
const policy = chains.map((c) => `log ${c.key.verifierKey()}\n`).join("") + "quorum none\n";
await Deno.writeTextFile(`${tmp}/logs`, policy);

/** `regledger witness serve` as a child process on a free loopback port. */
async function startWitness(tag: string, mlDsa: boolean) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1",
      "--allow-sys",
      "cli/main.ts",
      "witness",
      "serve",
      "--name",
      `bench.example/${tag}`,
      "--data",
      `${tmp}/${tag}`,
      "--port",
      "0",
      "--logs",
      `${tmp}/logs`,
      "--rate-limit",
      "0",
      ...(mlDsa ? [] : ["--no-ml-dsa"]),
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let url: string | undefined;
  while (!url) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`witness exited: ${buf}`);
    buf += value;
    url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(buf)?.[1];
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const port = Number(new URL(url).port);
  const conns = await Promise.all(
    Array.from({ length: LOGS }, () => Http1Connection.open("127.0.0.1", port)),
  );
  const host = new URL(url).host;
  const post = (body: string) =>
    encodeRequest("POST", "/add-checkpoint", { host, "content-type": "text/plain" }, body);
  // Each log's first checkpoint (old 0), not measured.
  await Promise.all(chains.map(async (c, l) => {
    const r = await conns[l].request(post(c.first));
    if (r.status !== 200) throw new Error(`first checkpoint: ${r.status}`);
  }));
  return { child, conns, host, post };
}
type Witness = Awaited<ReturnType<typeof startWitness>>;

const dec = new TextDecoder();
const edWitness = await startWitness("w-ed25519", false);
const pqWitness = await startWitness("w-mldsa", true);
const healthz = encodeRequest("GET", "/healthz", { host: edWitness.host });

/** One round of `mode`: every log's requests k in [from, to), logs concurrently; returns per second. */
async function timed(run: (l: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await Promise.all(chains.map((_, l) => run(l)));
  return (LOGS * PER_ROUND) / ((performance.now() - t0) / 1000);
}

/** CPU seconds (user + system) the process `pid` has used, from Linux /proc (NaN without it or -A). */
function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}
const cpuPerRequest: Record<string, number[]> = {};

function httpMode(w: Witness, name: string) {
  return async (from: number) => {
    const cpu0 = cpuSeconds(w.child.pid);
    const rate = await timed(async (l) => {
      const c = chains[l];
      for (let k = from; k < from + PER_ROUND; k++) {
        const r = await w.conns[l].request(w.post(c.bodies[k]));
        const body = dec.decode(r.body);
        if (r.status !== 200 || !body.startsWith("— bench.example/")) {
          throw new Error(`add-checkpoint answered ${r.status}: ${body}`);
        }
      }
    });
    (cpuPerRequest[name] ??= []).push(
      (cpuSeconds(w.child.pid) - cpu0) * 1000 / (LOGS * PER_ROUND),
    );
    return rate;
  };
}

// The pure decision, with its own in-memory state per log.
const cosigner = await Ed25519CosignatureSigner.generate("bench.example/pure");
const pureLogs: WitnessLog[] = chains.map((c) => ({
  origin: c.origin,
  verifiers: [c.key.verifier()],
}));
const pureState: WitnessLogState[] = [];
for (const [l, c] of chains.entries()) {
  const d = await decideAddCheckpoint(parseAddCheckpointRequest(c.first), pureLogs[l], undefined, [
    cosigner,
  ]);
  if (d.status !== 200) throw new Error("pure first checkpoint refused");
  pureState[l] = d.newState;
}

const modes: Record<string, (from: number) => Promise<number>> = {
  decide: (from) =>
    timed(async (l) => {
      for (let k = from; k < from + PER_ROUND; k++) {
        const req = parseAddCheckpointRequest(chains[l].bodies[k]);
        const d = await decideAddCheckpoint(req, pureLogs[l], pureState[l], [cosigner]);
        if (d.status !== 200 || !bytesEqual(d.newState.root, chains[l].roots[k])) {
          throw new Error(`pure decision ${d.status}`);
        }
        pureState[l] = d.newState;
      }
    }),
  http_healthz: () =>
    timed(async (l) => {
      for (let k = 0; k < PER_ROUND; k++) {
        const r = await edWitness.conns[l].request(healthz);
        if (r.status !== 200) throw new Error(`healthz ${r.status}`);
      }
    }),
  http_add_checkpoint: httpMode(edWitness, "http_add_checkpoint"),
  http_add_checkpoint_mldsa: httpMode(pqWitness, "http_add_checkpoint_mldsa"),
};

const rounds: Record<string, number[]> = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
for (let r = 0; r < ROUNDS; r++) {
  // Rotate the order so no mode always runs first (or right after another).
  const names = Object.keys(modes);
  for (let i = 0; i < names.length; i++) {
    const m = names[(i + r) % names.length];
    rounds[m].push(await modes[m](r * PER_ROUND));
  }
  console.error(`round ${r + 1}/${ROUNDS} done`);
}

for (const w of [edWitness, pqWitness]) {
  for (const c of w.conns) c.close();
  w.child.kill("SIGTERM");
  await w.child.status;
}
await Deno.remove(tmp, { recursive: true });

const rate = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, median(v)]));
const rows = [
  {
    figure: "add-checkpoint over HTTP, Ed25519 cosignature (witness process, KV commit)",
    key: "http_add_checkpoint",
    baseline: "decide",
  },
  {
    figure: "add-checkpoint over HTTP, same, vs GET /healthz on the same connections",
    key: "http_add_checkpoint",
    baseline: "http_healthz",
  },
  {
    figure: "add-checkpoint over HTTP, Ed25519 + ML-DSA-44 (liboqs) cosignatures",
    key: "http_add_checkpoint_mldsa",
    baseline: "http_add_checkpoint",
  },
  { figure: "pure decision in-process (baseline)", key: "decide", baseline: "decide" },
  { figure: "GET /healthz over HTTP (baseline)", key: "http_healthz", baseline: "http_healthz" },
].map((r) => ({ ...r, per_s: rate[r.key], ratio: rate[r.key] / rate[r.baseline] }));
const GOAL = 1000;
const goal = {
  goal: `http_add_checkpoint >= ${GOAL}/s`,
  per_s: Math.round(rate.http_add_checkpoint),
  met: rate.http_add_checkpoint >= GOAL,
};

console.log(
  `witness_serve benchmark (${quick ? "quick" : "full"}): ${ROUNDS} rounds, ${LOGS} logs × ` +
    `${PER_ROUND} requests per round, one keep-alive client per log`,
);
console.log(`${"figure".padEnd(78)} ${"per s".padStart(8)}  ${"baseline".padEnd(20)} ratio`);
for (const r of rows) {
  console.log(
    `${r.figure.padEnd(78)} ${Math.round(r.per_s).toString().padStart(8)}  ${
      r.baseline.padEnd(20)
    } ${r.ratio.toFixed(3)}`,
  );
}
for (const [k, v] of Object.entries(cpuPerRequest)) {
  console.log(`witness process CPU per request, ${k}: ${median(v).toFixed(3)} ms`);
}
console.log(`goal ${goal.goal}: ${goal.per_s}/s ${goal.met ? "met" : "NOT met"}`);

await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/witness_serve.json", import.meta.url),
  JSON.stringify(
    {
      benchmark: "witness_serve",
      date: new Date().toISOString(),
      quick,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      os: Deno.build.os,
      arch: Deno.build.arch,
      rounds: ROUNDS,
      logs: LOGS,
      requests_per_log_per_round: PER_ROUND,
      rate_from: "median round",
      rounds_per_s: Object.fromEntries(
        Object.entries(rounds).map(([k, v]) => [k, v.map((x) => Math.round(x))]),
      ),
      witness_cpu_ms_per_request: Object.fromEntries(
        Object.entries(cpuPerRequest).map(([k, v]) => [k, +median(v).toFixed(3)]),
      ),
      rates_per_s: Object.fromEntries(Object.entries(rate).map(([k, v]) => [k, Math.round(v)])),
      figures: rows.map((r) => ({
        figure: r.figure,
        per_s: Math.round(r.per_s),
        baseline: r.baseline,
        ratio: +r.ratio.toFixed(3),
      })),
      goal,
    },
    null,
    2,
  ) + "\n",
);
