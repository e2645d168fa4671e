/**
 * Witnessed appends (issue 13): the time from submission to a witnessed
 * receipt, and what configuring witnesses costs appends that do not wait.
 *
 * Everything runs as real processes on loopback: two `regledger witness
 * serve` witnesses (Ed25519 and ML-DSA-44 cosignatures, rate limit off) and
 * three `regledger serve` log servers — `plain` (no witnesses, the
 * baseline), `two` (`--witness` for both witnesses, quorum 2) and `one`
 * (the first witness only). The clients are lean keep-alive HTTP/1.1
 * connections in this process (`http1_client.ts`).
 *
 * Modes, in interleaved rounds so that each sees the same machine load:
 *
 * - `throughput_plain` / `throughput_two`: 64 clients POST distinct
 *   envelopes without `wait` as fast as the server answers. Their ratio is
 *   what background witnessing costs an append that does not wait.
 * - `witnessed_two_at_R` / `witnessed_one_at_R`: `POST /v1/envelopes?wait=witnessed`
 *   from an open-loop generator at R/s (500 by default, the issue's
 *   figure): request i is sent when it is due, at t0 + i/R, whether or not
 *   earlier ones were answered (a new connection is opened whenever all
 *   are busy, so the generator never waits for the server), and its
 *   latency runs from when it was due to its answer, so a slow server
 *   cannot hide its queue (no coordinated omission). Goal: p50 ≤ 200 ms,
 *   p99 ≤ 1 s.
 * - `unwitnessed_two_at_R`: the same open-loop load without `wait` on the
 *   witnessed server: the latency baseline for the witnessed rows.
 *
 * For the witnessed rows the server's `regledger_witnessed_phase_seconds`
 * (read from `/metrics` before and after) says where the time went: the
 * append itself, waiting for a round whose checkpoint covers the entry,
 * that round up to the quorum, building the receipt.
 *
 * Run: deno run -A benchmarks/witnessed_append.ts [--quick] [--rate 500[,100]] [--seconds 5]
 * Writes benchmarks/results/witnessed_append.json.
 *
 * @module
 */
import { buildEnvelope } from "../core/envelope.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { openLedger } from "../ledger/ledger.ts";
import { encodeRequest, Http1Connection } from "./http1_client.ts";

const quick = Deno.args.includes("--quick");
function arg(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}
/** Open-loop rates (the issue's 500/s by default). */
const RATES = (arg("--rate") ?? arg("--rates") ?? "500").split(",").map(Number);
if (RATES.some((r) => !Number.isFinite(r) || r <= 0)) {
  throw new Error("--rate wants positive numbers, e.g. 500 or 100,500");
}
const ROUNDS = Number(arg("--rounds") ?? (quick ? 1 : 3));
const PACED_SECONDS = Number(arg("--seconds") ?? (quick ? 2 : 5));
/** Most connections the open-loop generator opens to one server. */
const MAX_CONNECTIONS = 2000;
const THROUGHPUT_N = quick ? 1000 : 4000;
const CONCURRENCY = 64;
const TOKEN = "bench-token-0123456789abcdef";
const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

const signer = await InProcessKeyProvider.generate("bench-issuer");
let serial = 0;
async function envelopes(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = serial++;
    out.push(JSON.stringify(
      await buildEnvelope({
        primitive: "drift",
        backend: "plaintext",
        parameterSet: { backend: "plaintext" },
        regulations: ["EU_AI_ACT_ART15"],
        result: { cvm: 0.25, n: k },
        inputs: { reference: [1, 2, 3], current: [2, 3, k] },
        depthBudget: { declared: 1, consumed: 1 },
        issuer: "bench",
      }, signer),
    ));
  }
  return out;
}

interface Child {
  proc: Deno.ChildProcess;
  base: string;
  stdout: string;
}

/** Spawn `regledger <args>`, wait for "listening on URL" on stderr. */
async function spawn(args: string[], env: Record<string, string> = {}): Promise<Child> {
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1",
      "--allow-sys=hostname",
      MAIN,
      ...args,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const err = proc.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let base: string | undefined;
  while (!base) {
    const { value, done } = await err.read();
    if (done) throw new Error(`${args[0]} exited: ${buf}`);
    buf += value;
    base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(buf)?.[1];
  }
  (async () => {
    while (!(await err.read()).done) { /* drain */ }
  })();
  const child: Child = { proc, base, stdout: "" };
  (async () => {
    for await (const t of proc.stdout.pipeThrough(new TextDecoderStream())) child.stdout += t;
  })();
  return child;
}

const tmp = await Deno.makeTempDir({ prefix: "regledger-bench-witnessed-" });
const trustFile = `${tmp}/trust.json`;
await Deno.writeTextFile(trustFile, JSON.stringify({ [signer.keyId]: signer.publicKeyPem }));
// The witnessed logs' keys exist before the witnesses are told about them.
const logKeys: Record<string, string> = {};
for (const tag of ["two", "one"]) {
  const l = await openLedger({ dataDir: `${tmp}/log-${tag}`, origin: `bench.local/${tag}` });
  logKeys[tag] = l.verifierKey;
  await l.close();
}
// Each log has its own origin: a witness keeps one tree per origin.
const witnesses: Child[] = [];
const witnessKeys: string[][] = [];
for (const i of [1, 2]) {
  const w = await spawn([
    "witness",
    "serve",
    "--name",
    `bench.local/witness${i}`,
    "--data",
    `${tmp}/witness${i}`,
    "--port",
    "0",
    "--rate-limit",
    "0",
    "--log",
    logKeys.two,
    ...(i === 1 ? ["--log", logKeys.one] : []),
  ]);
  while (w.stdout.split("\n").filter((l) => l).length < 2) {
    await new Promise((r) => setTimeout(r, 20));
  }
  witnesses.push(w);
  witnessKeys.push(w.stdout.trim().split("\n"));
}
const witnessArgs = (ws: number[]) =>
  ws.flatMap((i) => witnessKeys[i].flatMap((k) => ["--witness", `${witnesses[i].base}=${k}`]));
const serveEnv = {
  REGLEDGER_API_KEYS: `${TOKEN}:ledger:append,ledger:read,metrics`,
  REGLEDGER_RATE_LIMIT: "0",
  REGLEDGER_ACCESS_LOG: "0",
  // The generator's connections stay open between modes, and it may open many.
  REGLEDGER_KEEPALIVE_TIMEOUT_MS: "600000",
  REGLEDGER_MAX_CONNECTIONS: String(MAX_CONNECTIONS + 2 * CONCURRENCY),
};
const serve = (tag: string, extra: string[]) =>
  spawn(
    [
      "serve",
      "--port",
      "0",
      "--data",
      `${tmp}/log-${tag}`,
      "--origin",
      `bench.local/${tag}`,
      "--trusted-keys",
      trustFile,
      ...extra,
    ],
    serveEnv,
  );
const servers = {
  plain: await serve("plain", []),
  two: await serve("two", [...witnessArgs([0, 1]), "--witness-quorum", "2"]),
  one: await serve("one", witnessArgs([0])),
};
const conns: Record<string, Http1Connection[]> = {};
for (const [tag, s] of Object.entries(servers)) {
  const port = Number(new URL(s.base).port);
  const host = new URL(s.base).host;
  conns[tag] = await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const c = await Http1Connection.open("127.0.0.1", port);
      // One request now: an idle connection is then under the keep-alive
      // timeout (raised above), not the first-header one, while envelopes are made.
      const r = await c.request(encodeRequest("GET", "/healthz", { host }));
      if (r.status !== 200) throw new Error(`${tag}: /healthz ${r.status}`);
      return c;
    }),
  );
}
const dec = new TextDecoder();
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const requestsFor = (tag: string, texts: string[], wait: boolean) => {
  const host = new URL(servers[tag as keyof typeof servers].base).host;
  const path = wait ? "/v1/envelopes?wait=witnessed" : "/v1/envelopes";
  return texts.map((t) => encodeRequest("POST", path, { host, ...headers }, t));
};

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Round {
  /** Requests answered per second (first due to last answer). */
  per_s: number;
  latencies_ms: number[];
  /** Requests sent per second (first due to last sent); open loop only. */
  sent_per_s?: number;
  /** Most a send was late against its due time, in ms; open loop only. */
  max_send_late_ms?: number;
  /** Most requests in flight at once (each on its own connection); open loop only. */
  connections?: number;
  /** Phase means (ms) from the server's metrics over this round. */
  phases_ms?: Record<string, number>;
}

/** Closed loop: 64 clients, each sends its next request when the last is answered. */
async function throughput(tag: string, texts: string[]): Promise<Round> {
  const reqs = requestsFor(tag, texts, false);
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  // The first 64: the open loop may have opened more on this server.
  await Promise.all(
    conns[tag].slice(0, CONCURRENCY).map(async (c) => {
      for (let i = next++; i < reqs.length; i = next++) {
        const s = performance.now();
        const r = await c.request(reqs[i]);
        if (r.status !== 201) throw new Error(`${tag}: ${r.status} ${dec.decode(r.body)}`);
        lat.push(performance.now() - s);
      }
    }),
  );
  return { per_s: Math.round(texts.length / ((performance.now() - t0) / 1000)), latencies_ms: lat };
}

/**
 * Open loop at `rate`/s: request i is sent at t0 + i/rate on a free
 * connection, or on a new one when all are busy (the generator never waits
 * for an answer), and its latency runs from when it was due to its answer.
 */
async function paced(tag: string, texts: string[], wait: boolean, rate: number): Promise<Round> {
  const reqs = requestsFor(tag, texts, wait);
  const pool = conns[tag];
  const port = Number(new URL(servers[tag as keyof typeof servers].base).port);
  const free = [...pool];
  const waiting: ((c: Http1Connection) => void)[] = [];
  let inFlight = 0;
  let peak = 0;
  const take = async (): Promise<Http1Connection> => {
    peak = Math.max(peak, ++inFlight);
    if (free.length > 0) return free.pop()!;
    if (pool.length < MAX_CONNECTIONS) {
      const c = await Http1Connection.open("127.0.0.1", port);
      pool.push(c);
      return c;
    }
    return await new Promise<Http1Connection>((r) => waiting.push(r));
  };
  const give = (c: Http1Connection) => {
    inFlight--;
    const w = waiting.shift();
    if (w) w(c);
    else free.push(c);
  };
  const before = wait ? await phaseSums(servers[tag as keyof typeof servers].base) : undefined;
  const lat: number[] = new Array(reqs.length);
  const all: Promise<void>[] = [];
  let late = 0;
  let i = 0;
  const t0 = performance.now();
  // Every request due by now goes out, then sleep until the next is due.
  while (i < reqs.length) {
    const now = performance.now();
    for (; i < reqs.length && t0 + (i * 1000) / rate <= now; i++) {
      const due = t0 + (i * 1000) / rate;
      late = Math.max(late, now - due);
      const req = reqs[i];
      const k = i;
      all.push((async () => {
        const c = await take();
        try {
          const r = await c.request(req);
          if (r.status !== 201) throw new Error(`${tag}: ${r.status} ${dec.decode(r.body)}`);
          if (wait) {
            const body = dec.decode(r.body);
            for (const w of tag === "two" ? [1, 2] : [1]) {
              if (!body.includes(`bench.local/witness${w}`)) {
                throw new Error(
                  `${tag}: a wait=witnessed receipt without witness${w}'s cosignature`,
                );
              }
            }
          }
        } finally {
          give(c);
        }
        lat[k] = performance.now() - due;
      })());
    }
    if (i < reqs.length) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
  }
  const sentAt = performance.now();
  await Promise.all(all);
  const round: Round = {
    per_s: Math.round(reqs.length / ((performance.now() - t0) / 1000)),
    sent_per_s: Math.round(reqs.length / ((sentAt - t0) / 1000)),
    max_send_late_ms: +late.toFixed(1),
    connections: peak,
    latencies_ms: lat,
  };
  if (before) {
    const after = await phaseSums(servers[tag as keyof typeof servers].base);
    round.phases_ms = {};
    for (const [k, v] of Object.entries(after)) {
      const b = before[k] ?? { sum: 0, count: 0 };
      if (v.count > b.count) round.phases_ms[k] = ((v.sum - b.sum) / (v.count - b.count)) * 1000;
    }
  }
  return round;
}

/** `regledger_witnessed_phase_seconds` sums and counts by phase, from `/metrics`. */
async function phaseSums(base: string): Promise<Record<string, { sum: number; count: number }>> {
  const text = await (await fetch(`${base}/metrics`, { headers })).text();
  const out: Record<string, { sum: number; count: number }> = {};
  for (
    const m of text.matchAll(
      /^regledger_witnessed_phase_seconds_(sum|count)\{phase="(\w+)"\} (\S+)$/gm,
    )
  ) {
    (out[m[2]] ??= { sum: 0, count: 0 })[m[1] as "sum" | "count"] = Number(m[3]);
  }
  // The add-checkpoint request itself (HTTP, the witness's work, verifying its cosignatures).
  for (
    const m of text.matchAll(
      /^regledger_witness_request_duration_seconds_(sum|count)\{witness="[^"]*?(\d+)"\} (\S+)$/gm,
    )
  ) {
    const k = `witness${m[2]}_request`;
    (out[k] ??= { sum: 0, count: 0 })[m[1] as "sum" | "count"] = Number(m[3]);
  }
  return out;
}

function summary(rounds: Round[]) {
  const all = rounds.flatMap((r) => r.latencies_ms).sort((a, b) => a - b);
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const out: Record<string, unknown> & {
    per_s: number;
    p50_ms: number;
    p99_ms: number;
    rounds: number[];
  } = {
    per_s: median(rounds.map((r) => r.per_s)),
    p50_ms: +quantile(all, 0.5).toFixed(1),
    p90_ms: +quantile(all, 0.9).toFixed(1),
    p99_ms: +quantile(all, 0.99).toFixed(1),
    max_ms: +all[all.length - 1].toFixed(1),
    requests: all.length,
    rounds: rounds.map((r) => r.per_s),
  };
  if (rounds[0].sent_per_s !== undefined) {
    out.sent_per_s = median(rounds.map((r) => r.sent_per_s!));
    out.max_send_late_ms = Math.max(...rounds.map((r) => r.max_send_late_ms!));
    out.connections = Math.max(...rounds.map((r) => r.connections!));
  }
  if (rounds[0].phases_ms) {
    const phases: Record<string, number> = {};
    for (const k of Object.keys(rounds[0].phases_ms)) {
      phases[k] = +(rounds.reduce((a, r) => a + (r.phases_ms![k] ?? 0), 0) / rounds.length)
        .toFixed(1);
    }
    out.phase_means_ms = phases;
  }
  return out;
}

/** Each mode starts from a quiet server: witnessing caught up, commits and KV settled. */
const settle = () => new Promise((r) => setTimeout(r, 500));
const modes: [string, () => Promise<Round>][] = [];
for (const rate of RATES) {
  const n = Math.round(rate * PACED_SECONDS);
  // The baseline first, then the witnessed rows: each pair sees the same machine.
  modes.push(
    [`unwitnessed_two_at_${rate}`, async () => await paced("two", await envelopes(n), false, rate)],
    [`witnessed_two_at_${rate}`, async () => await paced("two", await envelopes(n), true, rate)],
    [`witnessed_one_at_${rate}`, async () => await paced("one", await envelopes(n), true, rate)],
  );
}
modes.push(
  ["throughput_plain", async () => await throughput("plain", await envelopes(THROUGHPUT_N))],
  ["throughput_two", async () => await throughput("two", await envelopes(THROUGHPUT_N))],
);
// Warm-up (JIT, KV pages, connections, the witnesses' first cosignatures), not recorded.
for (const [, run] of modes.slice(-2)) await run();
for (const rate of RATES) {
  await paced("two", await envelopes(rate), false, rate);
  await paced("two", await envelopes(rate), true, rate);
  await paced("one", await envelopes(rate), true, rate);
}
const rounds: Record<string, Round[]> = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of modes) {
    await settle();
    (rounds[name] ??= []).push(await run());
  }
}

/** add-checkpoint requests the server made, and its witnessed size, from its /metrics. */
async function witnessFigures(base: string) {
  const text = await (await fetch(`${base}/metrics`, { headers })).text();
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  return {
    add_checkpoint_requests: sum(/^regledger_witness_requests_total\{[^}]*\} (\d+)$/gm),
    cosigned: sum(/^regledger_witness_requests_total\{[^}]*outcome="cosigned"[^}]*\} (\d+)$/gm),
    failures: sum(/^regledger_witness_failures_total\{[^}]*\} (\d+)$/gm),
    witnessed_tree_size: Number(/^regledger_witnessed_tree_size (\S+)$/m.exec(text)?.[1]),
  };
}
const figures = {
  two: await witnessFigures(servers.two.base),
  one: await witnessFigures(servers.one.base),
};

for (const cs of Object.values(conns)) for (const c of cs) c.close();
for (const c of [...Object.values(servers), ...witnesses]) {
  c.proc.kill("SIGTERM");
  const st = await c.proc.status;
  if (st.code !== 0) throw new Error(`a child exited with ${st.code}`);
}
await Deno.remove(tmp, { recursive: true });

const s = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, summary(v)]));
const at = (rate: number) => ({
  rate_per_s: rate,
  p50_ratio_witnessed_two_to_unwitnessed: +(s[`witnessed_two_at_${rate}`].p50_ms /
    s[`unwitnessed_two_at_${rate}`].p50_ms).toFixed(2),
  goal_met_two_witnesses: s[`witnessed_two_at_${rate}`].p50_ms <= 200 &&
    s[`witnessed_two_at_${rate}`].p99_ms <= 1000,
  goal_met_one_witness: s[`witnessed_one_at_${rate}`].p50_ms <= 200 &&
    s[`witnessed_one_at_${rate}`].p99_ms <= 1000,
});
const result = {
  benchmark: "witnessed_append",
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  cores: navigator.hardwareConcurrency,
  load_average: Deno.loadavg(),
  rounds: ROUNDS,
  paced_rates_per_s: RATES,
  paced_seconds_per_round: PACED_SECONDS,
  throughput_requests_per_round: THROUGHPUT_N,
  concurrency: CONCURRENCY,
  ...s,
  witness_requests: figures,
  ratio_throughput_two_witnesses_to_plain: +(s.throughput_two.per_s / s.throughput_plain.per_s)
    .toFixed(3),
  goal: { p50_ms: 200, p99_ms: 1000, by_rate: RATES.map(at) },
  note: "Real processes on loopback: 2 witnesses (regledger witness serve, Ed25519 + " +
    "ML-DSA-44 cosignatures), 3 log servers, clients in this process, all on a shared " +
    "2-core machine. *_at_<rate>: open loop at that rate (each request sent when due, on a " +
    "new connection when all are busy; sent_per_s and max_send_late_ms say whether the " +
    "generator kept time), latency from when the request was due to its answer (queueing " +
    "included, no coordinated omission); phase_means_ms: the server's " +
    "regledger_witnessed_phase_seconds and add-checkpoint request means over the mode; " +
    "unwitnessed_two_at_<rate> is the same load " +
    "without wait on the same server (the baseline: when it cannot keep up, queueing " +
    "dominates every paced row). throughput_*: closed loop, 64 clients, no wait; the ratio " +
    "is the cost of background witnessing to appends that do not wait. Rates: median " +
    "round; latencies: every request of every round.",
};

console.log(
  `regledger witnessed-append benchmark (${ROUNDS} interleaved rounds; paced ${
    RATES.join(" and ")
  }/s for ${PACED_SECONDS} s; throughput ${THROUGHPUT_N} at ${CONCURRENCY} clients)`,
);
console.log(
  "| what | answered per s | sent per s | p50 ms | p90 ms | p99 ms | max ms | most in flight | rounds (per s) |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
const rows: [string, string][] = [];
for (const rate of RATES) {
  rows.push(
    [
      `POST ?wait=witnessed, 2 witnesses (quorum 2), open loop ${rate}/s`,
      `witnessed_two_at_${rate}`,
    ],
    [`POST ?wait=witnessed, 1 witness, open loop ${rate}/s`, `witnessed_one_at_${rate}`],
    [
      `POST without wait, same server, open loop ${rate}/s (baseline)`,
      `unwitnessed_two_at_${rate}`,
    ],
  );
}
rows.push(
  ["POST without wait, 2 witnesses configured, 64 clients", "throughput_two"],
  ["POST without wait, no witnesses, 64 clients (baseline)", "throughput_plain"],
);
for (const [name, key] of rows) {
  const r = s[key];
  console.log(
    `| ${name} | ${r.per_s} | ${
      r.sent_per_s ?? "-"
    } | ${r.p50_ms} | ${r.p90_ms} | ${r.p99_ms} | ${r.max_ms} | ${r.connections ?? CONCURRENCY} | ${
      r.rounds.join(", ")
    } |`,
  );
}
console.log("\nwhere a wait=witnessed request's time went (server phase means, ms):");
const PHASES = [
  "append",
  "wait_for_round",
  "round_to_quorum",
  "receipt",
  "total",
  "round_start_to_send",
  "witness1_request",
  "witness2_request",
  "round_start_to_quorum",
];
console.log(`| what | ${PHASES.join(" | ")} |`);
console.log(`| --- |${" ---: |".repeat(PHASES.length)}`);
for (const [name, key] of rows) {
  const ph = s[key].phase_means_ms as Record<string, number> | undefined;
  if (ph) console.log(`| ${name} | ${PHASES.map((p) => ph[p] ?? "-").join(" | ")} |`);
}
console.log(
  `ratios: throughput with 2 witnesses / without ${result.ratio_throughput_two_witnesses_to_plain}; ` +
    result.goal.by_rate.map((g) =>
      `at ${g.rate_per_s}/s witnessed p50 / unwitnessed p50 ${g.p50_ratio_witnessed_two_to_unwitnessed}, ` +
      `goal met: 2 witnesses ${g.goal_met_two_witnesses}, 1 witness ${g.goal_met_one_witness}`
    ).join("; ") +
    `; add-checkpoint requests (2 witnesses) ${figures.two.add_checkpoint_requests}, failures ${figures.two.failures}`,
);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/witnessed_append.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
