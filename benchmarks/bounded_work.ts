/**
 * What issue 12's bounds cost and what they bound, each figure beside a
 * baseline measured in the same run (the 2 cores are shared):
 *
 * 1. The connection front (server/conn_front.ts): 64 keep-alive HTTP/1.1
 *    clients (`http1_client.ts`) GET a small JSON answer from `Deno.serve`
 *    directly and through the front, rounds interleaved: requests/s and
 *    p99 latency, and the ratio front/direct.
 * 2. The audit routes' worst cases at the default 1 MiB body limit
 *    (`ServerAudits.run`, what `POST /v1/audit/{primitive}` runs): time per
 *    worst input beside a small drift audit.
 * 3. `POST /v1/ckks/evaluate` (through `CkksRunner`, as the server runs it):
 *    peak RSS of this process (worker included) while evaluating the
 *    largest request the client makes for a fixture input, at the default
 *    maximum ring dimension (16384: concordance), the RSS before, and after
 *    the idle worker is stopped.
 *
 * Run: deno run -A benchmarks/bounded_work.ts [--quick]
 * Writes benchmarks/results/bounded_work.json.
 *
 * @module
 */
import { encodeRequest, Http1Connection } from "./http1_client.ts";
import { ConnectionFront } from "../server/conn_front.ts";
import { ServerAudits } from "../server/services.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import type { PrimitiveName } from "../core/envelope_types.ts";
import { EncryptedAuditClient } from "../core/fhe/split.ts";
import { PRIMITIVE_SPECS } from "../core/primitives/registry.ts";
import { CkksRunner } from "../server/ckks_runner.ts";
import { median } from "./_paired.ts";

const quick = Deno.args.includes("--quick");
const CLIENTS = 64;
const PER_CLIENT = quick ? 100 : 1000;
const ROUNDS = quick ? 1 : 3;
const mb = (b: number) => Math.round(b / 1e5) / 10;

// ---- 1. the connection front ------------------------------------------------
const body = JSON.stringify({ status: "ok", padding: "x".repeat(100) });
const backend = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  () => new Response(body, { headers: { "content-type": "application/json" } }),
);
const front = ConnectionFront.listen({
  hostname: "127.0.0.1",
  port: 0,
  backend: backend.addr,
  limits: {
    maxConnections: 1024,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
    requestTimeoutMs: 30_000,
  },
  log: () => {},
});

async function drive(port: number): Promise<{ rps: number; p99: number }> {
  const req = encodeRequest("GET", "/healthz", { host: "127.0.0.1" });
  const conns = await Promise.all(
    Array.from({ length: CLIENTS }, () => Http1Connection.open("127.0.0.1", port)),
  );
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(conns.map(async (c) => {
    for (let i = 0; i < PER_CLIENT; i++) {
      const s = performance.now();
      const r = await c.request(req);
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      lat.push(performance.now() - s);
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  for (const c of conns) c.close();
  lat.sort((a, b) => a - b);
  return { rps: (CLIENTS * PER_CLIENT) / secs, p99: lat[Math.floor(lat.length * 0.99)] };
}

await drive(backend.addr.port);
await drive(front.addr.port);
const direct: { rps: number; p99: number }[] = [];
const fronted: { rps: number; p99: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  direct.push(await drive(backend.addr.port));
  fronted.push(await drive(front.addr.port));
}
await front.close();
await backend.shutdown();
const conn = {
  direct_rps: Math.round(median(direct.map((x) => x.rps))),
  front_rps: Math.round(median(fronted.map((x) => x.rps))),
  direct_p99_ms: Math.round(median(direct.map((x) => x.p99)) * 100) / 100,
  front_p99_ms: Math.round(median(fronted.map((x) => x.p99)) * 100) / 100,
  ratio: 0,
};
conn.ratio = Math.round((conn.front_rps / conn.direct_rps) * 100) / 100;

// ---- 2. audit worst cases at 1 MiB ------------------------------------------
const LIM = 1024 * 1024;
const audits = new ServerAudits(await InProcessKeyProvider.generate("bench-1"), "bench");
function fill(make: (n: number) => unknown): unknown {
  let lo = 1, hi = 1 << 22;
  while (lo < hi) {
    const m = (lo + hi + 1) >> 1;
    if (JSON.stringify(make(m)).length <= LIM) lo = m;
    else hi = m - 1;
  }
  return make(lo);
}
const zeros = (n: number) => new Array(n).fill(0);
const worst: [string, PrimitiveName, unknown][] = [
  ["baseline: drift, 3 bins", "drift", { p: [5, 3, 2], q: [4, 4, 2] }],
  ["provenance, 2^20 buckets (refused)", "provenance", {
    attributions: [1],
    row_ids: [1],
    n_buckets: 1 << 20,
    k: 1 << 20,
  }],
  [
    "provenance, 1 MiB of rows",
    "provenance",
    fill((n) => ({
      attributions: zeros(n),
      row_ids: zeros(n),
      n_buckets: 65536,
      k: 100,
    })),
  ],
  [
    "concordance, 1 MiB",
    "concordance",
    fill((n) => ({
      risk: Array.from({ length: n }, (_, i) => i % 10),
      time: Array.from({ length: n }, (_, i) => i % 10),
      event: new Array(n).fill(1),
    })),
  ],
  ["calibration, 1 MiB", "calibration", fill((n) => ({ scores: zeros(n), quantiles: zeros(n) }))],
  [
    "disagreement, 1 MiB of models",
    "disagreement",
    fill((n) => ({
      model_polynomials: Array.from({ length: n }, () => [0, 0, 0, 0]),
      test_input: [0],
    })),
  ],
  [
    "disagreement, 1 MiB of inputs",
    "disagreement",
    fill((n) => ({
      model_polynomials: [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]],
      test_input: zeros(n),
    })),
  ],
];
const audit: { case: string; ms: number; outcome: string }[] = [];
for (const [name, p, input] of worst) {
  const t = performance.now();
  let outcome = "ok";
  try {
    await audits.run(p, input, "plaintext");
  } catch (e) {
    outcome = `${(e as Error).name}: ${(e as { rule?: string }).rule ?? ""}`;
  }
  audit.push({ case: name, ms: Math.round(performance.now() - t), outcome });
}

// ---- 3. CKKS evaluate: peak RSS ----------------------------------------------
const cases = JSON.parse(
  await Deno.readTextFile(
    new URL("../tests/fixtures/regaudit-fhe/primitives.json", import.meta.url),
  ),
).cases;
const ckksPrimitive = quick ? "drift" : "concordance";
const client = await EncryptedAuditClient.create(
  ckksPrimitive,
  PRIMITIVE_SPECS[ckksPrimitive].parse(cases[ckksPrimitive][0].input) as never,
);
const requestBytes = new TextEncoder().encode(JSON.stringify(client.request));
const runner = new CkksRunner({ idleMs: 500 });
const rssBefore = Deno.memoryUsage().rss;
let peak = rssBefore;
const sampler = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 20);
const t0 = performance.now();
const answer = await runner.evaluateBody(requestBytes.slice(), {
  maxBytes: 1 << 30,
  maxDegree: 16384,
});
const evalMs = Math.round(performance.now() - t0);
client.finish(answer as never);
client.dispose();
for (let i = 0; i < 100 && runner.workerAlive; i++) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, 200));
clearInterval(sampler);
const rssAfter = Deno.memoryUsage().rss;
runner.close();
const ckks = {
  primitive: ckksPrimitive,
  request_mb: mb(requestBytes.length),
  eval_ms: evalMs,
  rss_before_mb: mb(rssBefore),
  rss_peak_mb: mb(peak),
  rss_after_idle_stop_mb: mb(rssAfter),
};

console.log("\nconnection front (64 keep-alive clients, GET, small JSON)");
console.table([{ ...conn }]);
console.log("audit routes, worst inputs at a 1 MiB body");
console.table(audit);
console.log("POST /v1/ckks/evaluate through CkksRunner");
console.table([ckks]);
await Deno.writeTextFile(
  new URL("./results/bounded_work.json", import.meta.url),
  JSON.stringify(
    { when: new Date().toISOString(), quick, connection_front: conn, audit_worst: audit, ckks },
    null,
    2,
  ) + "\n",
);
