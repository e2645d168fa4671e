/**
 * Submissions over real sockets: `regledger serve` runs as a child process
 * on loopback (rate limit off, access log on into /dev/null), 64 concurrent
 * keep-alive clients POST distinct signed envelopes to `/v1/envelopes`.
 * Beside it, in the same run, two baselines on the same envelopes:
 *
 * - the in-process ledger append rate (`ledger.append`, 64 in flight, no
 *   verification, no HTTP) — what the log itself can take;
 * - the in-process app rate (`app.request`, 64 in flight: verification +
 *   append + Hono, no sockets).
 *
 * Goal (issue 5): ≥ 3,000 submissions/s with p99 ≤ 50 ms at 64 clients.
 * The machine is shared: the ratios are the figures that mean something.
 *
 * Run: deno run -A benchmarks/server.ts [--quick]
 * Writes benchmarks/results/server.json.
 *
 * @module
 */
import { buildEnvelope, parseEnvelopeText } from "../core/envelope.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { openLedger } from "../ledger/ledger.ts";
import { createApp } from "../server/app.ts";
import { DEFAULT_CONFIG } from "../server/config.ts";
import { loadOrCreateIssuerKey } from "../server/keys.ts";
import { bundledSchemas, ledgerLog, ServerAudits, TrustedEnvelopes } from "../server/services.ts";

const quick = Deno.args.includes("--quick");
const N = quick ? 2000 : 8000;
const CONCURRENCY = 64;
const TOKEN = "bench-token-0123456789abcdef";

const signer = await InProcessKeyProvider.generate("bench-issuer");
async function envelopes(tag: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < N; i++) {
    out.push(JSON.stringify(
      await buildEnvelope({
        primitive: "drift",
        backend: "plaintext",
        parameterSet: { backend: "plaintext" },
        regulations: ["EU_AI_ACT_ART15"],
        result: { cvm: 0.25, n: i, tag },
        inputs: { reference: [1, 2, 3], current: [2, 3, i] },
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

/** Run `work(i)` for i < n with `c` workers; returns rate and latency quantiles. */
async function drive(n: number, c: number, work: (i: number) => Promise<void>) {
  const lat: number[] = new Array(n);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => {
    for (let i = next++; i < n; i = next++) {
      const s = performance.now();
      await work(i);
      lat[i] = performance.now() - s;
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return {
    per_s: Math.round(n / secs),
    p50_ms: +quantile(lat, 0.5).toFixed(2),
    p99_ms: +quantile(lat, 0.99).toFixed(2),
  };
}

const tmp = await Deno.makeTempDir({ prefix: "regledger-bench-server-" });
const trustFile = `${tmp}/trust.json`;
await Deno.writeTextFile(trustFile, JSON.stringify({ [signer.keyId]: signer.publicKeyPem }));

// --- Baseline 1: in-process ledger appends.
const inprocTexts = await envelopes("ledger");
const parsed = inprocTexts.map((t) => parseEnvelopeText(t));
const ledger = await openLedger({ dataDir: `${tmp}/ledger` });
const appendRate = await drive(N, CONCURRENCY, async (i) => {
  await ledger.append(parsed[i]);
});
await ledger.close();

// --- Baseline 2: in-process app (verification + append + Hono, no sockets).
const appDir = `${tmp}/app`;
const own = (await loadOrCreateIssuerKey(appDir)).provider;
const appLedger = await openLedger({ dataDir: appDir });
const app = createApp({
  log: ledgerLog(appLedger),
  envelopes: await TrustedEnvelopes.open({
    trustedKeysPath: trustFile,
    own: { keyId: own.keyId, publicKeyPem: own.publicKeyPem },
  }),
  audits: new ServerAudits(own, "bench"),
  schemas: bundledSchemas(),
  origin: "regledger.local/log",
}, {
  ...DEFAULT_CONFIG,
  apiKeys: [{ token: TOKEN, scopes: new Set(["ledger:append"]) }],
  rateLimit: null,
  accessLog: () => {},
});
const appTexts = await envelopes("app");
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const appRate = await drive(N, CONCURRENCY, async (i) => {
  const r = await app.request("/v1/envelopes", { method: "POST", body: appTexts[i], headers });
  if (r.status !== 201) throw new Error(`in-process app answered ${r.status}`);
  await r.body?.cancel();
});
await appLedger.close();

// --- Real sockets: serve as a child process.
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-net=127.0.0.1",
    "--allow-sys=hostname",
    new URL("../tests/server/_serve_main.ts", import.meta.url).pathname,
    "--port",
    "0",
    "--data",
    `${tmp}/serve`,
    "--trusted-keys",
    trustFile,
  ],
  cwd: new URL("../", import.meta.url).pathname,
  env: { REGLEDGER_API_KEYS: `${TOKEN}:ledger:append`, REGLEDGER_RATE_LIMIT: "0" },
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
(async () => {
  while (!(await reader.read()).done) { /* drain */ }
})();
const httpTexts = await envelopes("http");
// Warm up connections and the server's JIT with a few requests.
for (let i = 0; i < 32; i++) {
  const r = await fetch(`${base}/healthz`);
  await r.body?.cancel();
}
const httpRate = await drive(N, CONCURRENCY, async (i) => {
  const r = await fetch(`${base}/v1/envelopes`, { method: "POST", body: httpTexts[i], headers });
  if (r.status !== 201) throw new Error(`server answered ${r.status}: ${await r.text()}`);
  await r.body?.cancel();
});
child.kill("SIGTERM");
const exit = await child.status;
await Deno.remove(tmp, { recursive: true });

const result = {
  benchmark: "server",
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  submissions: N,
  concurrency: CONCURRENCY,
  http_submissions: httpRate,
  in_process_app: appRate,
  in_process_ledger_append: appendRate,
  ratio_http_to_ledger_append: +(httpRate.per_s / appendRate.per_s).toFixed(3),
  ratio_http_to_in_process_app: +(httpRate.per_s / appRate.per_s).toFixed(3),
  goal: {
    submissions_per_s: 3000,
    p99_ms: 50,
    met: httpRate.per_s >= 3000 && httpRate.p99_ms <= 50,
  },
  server_exit_code: exit.code,
  note:
    "2-core machine shared with other jobs; serve runs in its own process, clients in this one.",
};

console.log(`regledger server benchmark (${N} submissions, ${CONCURRENCY} concurrent)`);
console.log("| what | per s | p50 ms | p99 ms |");
console.log("| --- | ---: | ---: | ---: |");
for (
  const [name, r] of [
    ["HTTP POST /v1/envelopes (sockets)", httpRate],
    ["in-process app.request", appRate],
    ["in-process ledger.append (baseline)", appendRate],
  ] as const
) {
  console.log(`| ${name} | ${r.per_s} | ${r.p50_ms} | ${r.p99_ms} |`);
}
console.log(
  `ratio HTTP / ledger append: ${result.ratio_http_to_ledger_append}; ` +
    `HTTP / in-process app: ${result.ratio_http_to_in_process_app}; goal met: ${result.goal.met}`,
);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/server.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
