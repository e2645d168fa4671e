/**
 * Submissions over real sockets: `regledger serve` runs as a child process
 * on loopback (rate limit off, access log on into /dev/null), 64 concurrent
 * keep-alive clients POST distinct signed envelopes to `/v1/envelopes`;
 * once with the default configuration (`REGLEDGER_VERIFY_WORKERS=auto`: no
 * worker on ≤ 2 cores) and once with one verification worker thread.
 *
 * The clients run in this process, on the same two cores as the server. The
 * headline rows use lean HTTP/1.1 clients (`http1_client.ts`: one keep-alive
 * TCP connection each, requests encoded before the clock starts, responses
 * checked by status line and `Content-Length` framing, as wrk does); the same
 * server is also driven by 64 `fetch` clients, which cost ~3× the client CPU
 * per request, and that row is reported beside it.
 *
 * Beside them, in the same run, two baselines on the same envelopes:
 *
 * - the in-process ledger append rate (`ledger.append`, 64 in flight, no
 *   verification, no HTTP) — what the log itself can take;
 * - the in-process app rate (`app.request`, 64 in flight: verification +
 *   append + Hono, no sockets).
 *
 * Goal (issue 5): ≥ 3,000 submissions/s with p99 ≤ 50 ms at 64 clients.
 * The machine is shared: the ratios are the figures that mean something.
 *
 * After one unrecorded warm-up round per mode, rounds of every mode are
 * interleaved so that each sees the same load.
 *
 * Run: deno run -A benchmarks/server.ts [--quick]
 * Writes benchmarks/results/server.json.
 *
 * @module
 */
import { buildEnvelope, parseEnvelopeText } from "../core/envelope.ts";
import { encodeRequest, Http1Connection } from "./http1_client.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { openLedger } from "../ledger/ledger.ts";
import { createApp } from "../server/app.ts";
import { DEFAULT_CONFIG } from "../server/config.ts";
import { loadOrCreateIssuerKey } from "../server/keys.ts";
import { bundledSchemas, ledgerLog, ServerAudits, TrustedEnvelopes } from "../server/services.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 2 : 4;
const PER_ROUND = quick ? 1000 : 5000;
const CONCURRENCY = 64;
const TOKEN = "bench-token-0123456789abcdef";

const signer = await InProcessKeyProvider.generate("bench-issuer");
let serial = 0;
/** `n` distinct signed envelopes. */
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

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Rate {
  per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** CPU time (all threads) of the process doing the work, per operation; null without /proc. */
  cpu_us_per_op: number | null;
  /**
   * CPU time of that process's JavaScript thread alone, per operation: HTTP,
   * parsing, middleware and the ledger's JS all take turns on it.
   */
  main_thread_us_per_op: number | null;
  /** HTTP rows: CPU of this process (the 64 clients), per operation, on the same cores. */
  client_cpu_us_per_op?: number | null;
  /** Every request's latency in ms, sorted (pooled over rounds by {@linkcode median}). */
  latencies_ms: number[];
}

/** User + system CPU milliseconds of process `pid` (or its thread `tid`) from Linux /proc, or null. */
function cpuMs(pid: number | "self", tid?: number): number | null {
  try {
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    const f = Deno.readTextFileSync(path).split(") ")[1].split(" ");
    const hz = 100; // USER_HZ on Linux
    return ((Number(f[11]) + Number(f[12])) * 1000) / hz;
  } catch {
    return null;
  }
}

const perOp = (a: number | null, b: number | null, n: number) =>
  a === null || b === null ? null : Math.round(((b - a) * 1000) / n);

/**
 * Run `work(i, client)` for i < n with `c` concurrent clients (each takes the
 * next i when its last one is done); returns rate and latency quantiles.
 */
async function drive(
  n: number,
  c: number,
  work: (i: number, client: number) => Promise<void>,
  pid: number | "self" = "self",
): Promise<Rate> {
  const lat: number[] = new Array(n);
  let next = 0;
  // A process's main thread has the process id as its thread id.
  const mainTid = pid === "self" ? Deno.pid : pid;
  const cpu0 = cpuMs(pid), main0 = cpuMs(pid, mainTid), client0 = cpuMs("self");
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async (_, client) => {
    for (let i = next++; i < n; i = next++) {
      const s = performance.now();
      await work(i, client);
      lat[i] = performance.now() - s;
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  const cpu1 = cpuMs(pid), main1 = cpuMs(pid, mainTid), client1 = cpuMs("self");
  lat.sort((a, b) => a - b);
  return {
    per_s: Math.round(n / secs),
    p50_ms: +quantile(lat, 0.5).toFixed(2),
    p99_ms: +quantile(lat, 0.99).toFixed(2),
    cpu_us_per_op: perOp(cpu0, cpu1, n),
    main_thread_us_per_op: perOp(main0, main1, n),
    latencies_ms: lat,
    ...(pid === "self" ? {} : { client_cpu_us_per_op: perOp(client0, client1, n) }),
  };
}

/** What a mode's rounds summarise to (see {@linkcode median}). */
type Summary = Omit<Rate, "latencies_ms"> & {
  /** Each round's rate. */
  rounds: number[];
  /** Each round's own p99 (ms). */
  round_p99_ms: number[];
};

/**
 * The median round's rate; p50 and p99 over every request of every round
 * (a single short round's p99 hangs on whether one stall fell inside it);
 * CPU per operation: the median over rounds.
 */
function median(rounds: Rate[]): Summary {
  const sorted = [...rounds].sort((a, b) => a.per_s - b.per_s);
  const med = (key: "cpu_us_per_op" | "main_thread_us_per_op" | "client_cpu_us_per_op") => {
    const xs = rounds.map((r) => r[key]).filter((x): x is number => typeof x === "number")
      .sort((a, b) => a - b);
    return xs.length ? xs[Math.floor((xs.length - 1) / 2)] : null;
  };
  const all = rounds.flatMap((r) => r.latencies_ms).sort((a, b) => a - b);
  const { latencies_ms: _, ...mid } = sorted[Math.floor((sorted.length - 1) / 2)];
  const out: Summary = {
    ...mid,
    p50_ms: +quantile(all, 0.5).toFixed(2),
    p99_ms: +quantile(all, 0.99).toFixed(2),
    cpu_us_per_op: med("cpu_us_per_op"),
    main_thread_us_per_op: med("main_thread_us_per_op"),
    rounds: rounds.map((r) => r.per_s),
    round_p99_ms: rounds.map((r) => r.p99_ms),
  };
  if ("client_cpu_us_per_op" in out) out.client_cpu_us_per_op = med("client_cpu_us_per_op");
  return out;
}

const tmp = await Deno.makeTempDir({ prefix: "regledger-bench-server-" });
const trustFile = `${tmp}/trust.json`;
await Deno.writeTextFile(trustFile, JSON.stringify({ [signer.keyId]: signer.publicKeyPem }));
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

// Baseline 1: the in-process ledger (append only: no parsing, verification or HTTP).
const ledger = await openLedger({ dataDir: `${tmp}/ledger` });
// Baseline 2: the in-process app (verification + append + Hono, no sockets).
const appDir = `${tmp}/app`;
const own = (await loadOrCreateIssuerKey(appDir)).provider;
const appLedger = await openLedger({ dataDir: appDir });
const appEnvelopes = await TrustedEnvelopes.open({
  trustedKeysPath: trustFile,
  own: { keyId: own.keyId, publicKeyPem: own.publicKeyPem },
});
const app = createApp({
  log: ledgerLog(appLedger),
  envelopes: appEnvelopes,
  audits: new ServerAudits(own, "bench"),
  schemas: bundledSchemas(),
  origin: "regledger.local/log",
}, {
  ...DEFAULT_CONFIG,
  apiKeys: [{ token: TOKEN, scopes: new Set(["ledger:append"]) }],
  rateLimit: null,
  accessLog: () => {},
});

/** `regledger serve` as a child process on a free loopback port. */
async function startServe(verifyWorkers: string, tag: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1",
      "--allow-sys=hostname",
      new URL("../cli/main.ts", import.meta.url).pathname,
      "serve",
      "--port",
      "0",
      "--data",
      `${tmp}/serve-${tag}`,
      "--trusted-keys",
      trustFile,
    ],
    cwd: new URL("../", import.meta.url).pathname,
    env: {
      REGLEDGER_API_KEYS: `${TOKEN}:ledger:append,ledger:read,metrics`,
      REGLEDGER_RATE_LIMIT: "0",
      REGLEDGER_VERIFY_WORKERS: verifyWorkers,
      // The lean clients open their connections up front and keep them across
      // interleaved rounds (idle for longer than the default header and keep-alive
      // timeouts, which close such connections) and do not reconnect.
      REGLEDGER_KEEPALIVE_TIMEOUT_MS: "600000",
      REGLEDGER_HEADERS_TIMEOUT_MS: "600000",
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let base: string | undefined;
  let buf = "";
  while (!base) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${buf}`);
    buf += value;
    base = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(buf)?.[1];
  }
  const workers = Number(/(\d+) verification worker/.exec(buf)?.[1] ?? -1);
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  for (let i = 0; i < 32; i++) {
    const r = await fetch(`${base}/healthz`); // warm up connections
    await r.body?.cancel();
  }
  return { child, base, workers };
}

const withDefault = await startServe("auto", "default");
const oneWorker = await startServe("1", "worker");
type Served = Awaited<ReturnType<typeof startServe>>;
/** 64 lean keep-alive connections to `s`, opened once and reused by every round. */
const connectionsOf = async (s: Served) => {
  const port = Number(new URL(s.base).port);
  return await Promise.all(
    Array.from({ length: CONCURRENCY }, () => Http1Connection.open("127.0.0.1", port)),
  );
};
const defaultConns = await connectionsOf(withDefault);
const workerConns = await connectionsOf(oneWorker);
const dec = new TextDecoder();
/** Lean clients: each of the 64 has its own connection and sends one request at a time. */
const lean = (s: Served, conns: Http1Connection[]) => async (texts: string[]) => {
  const host = new URL(s.base).host;
  const requests = texts.map((t) =>
    encodeRequest("POST", "/v1/envelopes", { host, ...headers }, t)
  );
  return await drive(texts.length, CONCURRENCY, async (i, client) => {
    const r = await conns[client].request(requests[i]);
    if (r.status !== 201) throw new Error(`server answered ${r.status}: ${dec.decode(r.body)}`);
  }, s.child.pid);
};
const viaFetch = (s: Served) => async (texts: string[]) =>
  await drive(texts.length, CONCURRENCY, async (i) => {
    const r = await fetch(`${s.base}/v1/envelopes`, { method: "POST", body: texts[i], headers });
    if (r.status !== 201) throw new Error(`server answered ${r.status}: ${await r.text()}`);
    await r.body?.cancel();
  }, s.child.pid);
const modes: [string, (texts: string[]) => Promise<Rate>][] = [
  ["ledger", async (texts) => {
    const parsed = texts.map((t) => parseEnvelopeText(t));
    return await drive(texts.length, CONCURRENCY, async (i) => {
      await ledger.append(parsed[i]);
    });
  }],
  ["app", async (texts) =>
    await drive(texts.length, CONCURRENCY, async (i) => {
      const r = await app.request("/v1/envelopes", { method: "POST", body: texts[i], headers });
      if (r.status !== 201) throw new Error(`in-process app answered ${r.status}`);
      await r.body?.cancel();
    })],
  ["http_default", lean(withDefault, defaultConns)],
  ["http_fetch", viaFetch(withDefault)],
  ["http_worker", lean(oneWorker, workerConns)],
];
// One unrecorded warm-up round per mode (JIT, connection pools, the KV file's
// first pages), then interleaved rounds: every mode sees the same machine
// load, on fresh envelopes.
for (const [, run] of modes) await run(await envelopes(Math.min(1000, PER_ROUND)));
const rounds: Record<string, Rate[]> = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of modes) {
    const texts = await envelopes(PER_ROUND);
    (rounds[name] ??= []).push(await run(texts));
  }
}
/** Mean group-commit batch size the server saw, from its /metrics. */
async function meanBatch(base: string): Promise<number | null> {
  const text = await (await fetch(`${base}/metrics`, { headers })).text();
  const sum = /regledger_group_commit_batch_size_sum (\S+)/.exec(text);
  const count = /regledger_group_commit_batch_size_count (\S+)/.exec(text);
  return sum && count ? +(Number(sum[1]) / Number(count[1])).toFixed(2) : null;
}
const batchDefault = await meanBatch(withDefault.base);
const batchWorker = await meanBatch(oneWorker.base);
for (const c of [...defaultConns, ...workerConns]) c.close();
for (const s of [withDefault, oneWorker]) {
  s.child.kill("SIGTERM");
  const exit = await s.child.status;
  if (exit.code !== 0) throw new Error(`serve exited with ${exit.code}`);
}
await ledger.close();
await appLedger.close();
appEnvelopes.close();
await Deno.remove(tmp, { recursive: true });

const httpRate = median(rounds.http_default);
const httpFetch = median(rounds.http_fetch);
const httpWorker = median(rounds.http_worker);
const appRate = median(rounds.app);
const appendRate = median(rounds.ledger);
const result = {
  benchmark: "server",
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  cores: navigator.hardwareConcurrency,
  load_average: Deno.loadavg(),
  rounds: ROUNDS,
  submissions_per_round: PER_ROUND,
  concurrency: CONCURRENCY,
  http_submissions: {
    ...httpRate,
    clients: "lean HTTP/1.1 (benchmarks/http1_client.ts)",
    verify_workers: withDefault.workers,
    mean_group_commit_batch: batchDefault,
  },
  http_submissions_fetch_clients: {
    ...httpFetch,
    clients: "fetch",
    verify_workers: withDefault.workers,
  },
  http_submissions_one_verify_worker: {
    ...httpWorker,
    verify_workers: oneWorker.workers,
    mean_group_commit_batch: batchWorker,
  },
  in_process_app: appRate,
  in_process_ledger_append: appendRate,
  ratio_http_to_ledger_append: +(httpRate.per_s / appendRate.per_s).toFixed(3),
  ratio_http_to_in_process_app: +(httpRate.per_s / appRate.per_s).toFixed(3),
  ratio_one_worker_to_default: +(httpWorker.per_s / httpRate.per_s).toFixed(3),
  ratio_fetch_clients_to_lean_clients: +(httpFetch.per_s / httpRate.per_s).toFixed(3),
  ratio_server_cpu_to_ledger_cpu: httpRate.cpu_us_per_op && appendRate.cpu_us_per_op
    ? +(httpRate.cpu_us_per_op / appendRate.cpu_us_per_op).toFixed(3)
    : null,
  // The rate at which server and clients together would keep every core busy:
  // no configuration of this machine can serve more submissions than this.
  cpu_ceiling_per_s: httpRate.cpu_us_per_op && httpRate.client_cpu_us_per_op
    ? Math.round(
      (navigator.hardwareConcurrency * 1e6) /
        (httpRate.cpu_us_per_op + httpRate.client_cpu_us_per_op),
    )
    : null,
  goal: {
    submissions_per_s: 3000,
    p99_ms: 50,
    met: httpRate.per_s >= 3000 && httpRate.p99_ms <= 50,
    met_with_fetch_clients: httpFetch.per_s >= 3000 && httpFetch.p99_ms <= 50,
  },
  note: "Rates: the median round of interleaved rounds; p50/p99: over every request of " +
    "every round of that mode. 2-core machine shared with other jobs; " +
    "serve runs in its own process, the 64 clients in this one (lean HTTP/1.1 clients for " +
    "http_submissions, fetch for http_submissions_fetch_clients). CPU µs/op: CPU time of " +
    "the process doing the work (the server for HTTP rows, this process otherwise), " +
    "all threads, per operation: less sensitive to the machine's load than rates. " +
    "main_thread_us_per_op: that process's JavaScript thread only. client_cpu_us_per_op: " +
    "the clients' CPU, which shares the cores. cpu_ceiling_per_s: cores × 1e6 / (server + " +
    "client CPU µs/op), the rate at which both would use every core.",
};

console.log(
  `regledger server benchmark (${ROUNDS} interleaved rounds of ${PER_ROUND}, ${CONCURRENCY} concurrent; rate: median round; latency: all requests)`,
);
console.log(
  "| what | per s | p50 ms | p99 ms | CPU µs/op | main thread µs/op | clients' CPU µs/op | rounds (per s) |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
for (
  const [name, r] of [
    [
      `HTTP POST /v1/envelopes (lean clients, default: ${withDefault.workers} verify workers)`,
      httpRate,
    ],
    ["HTTP POST /v1/envelopes (fetch clients, default)", httpFetch],
    ["HTTP POST /v1/envelopes (lean clients, 1 verify worker)", httpWorker],
    ["in-process app.request", appRate],
    ["in-process ledger.append (baseline)", appendRate],
  ] as const
) {
  console.log(
    `| ${name} | ${r.per_s} | ${r.p50_ms} | ${r.p99_ms} | ${r.cpu_us_per_op ?? "-"} | ${
      r.main_thread_us_per_op ?? "-"
    } | ${r.client_cpu_us_per_op ?? "-"} | ${r.rounds.join(", ")} |`,
  );
}
console.log(
  `ratios: HTTP/ledger append ${result.ratio_http_to_ledger_append}, ` +
    `HTTP/in-process app ${result.ratio_http_to_in_process_app}, ` +
    `1 worker/default ${result.ratio_one_worker_to_default}; ` +
    `fetch clients/lean clients ${result.ratio_fetch_clients_to_lean_clients}; ` +
    `server CPU/ledger CPU ${result.ratio_server_cpu_to_ledger_cpu}; ` +
    `mean group-commit batch over HTTP ${batchDefault}; clients' CPU ${httpRate.client_cpu_us_per_op} µs/op; ` +
    `CPU ceiling ${result.cpu_ceiling_per_s}/s; goal met: ${result.goal.met} ` +
    `(with fetch clients: ${result.goal.met_with_fetch_clients})`,
);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/server.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
