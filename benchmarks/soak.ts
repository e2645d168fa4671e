/**
 * Soak: `regledger serve` as a child process for a few minutes under mixed
 * traffic, then the checks issue 12 asks for.
 *
 * - appends from several client processes (`POST /v1/audit/drift`, each
 *   acknowledged index and leaf hash kept), reads, inclusion proofs and
 *   checkpoints from this process;
 * - hostile clients: idle and slow-header connections beyond the
 *   connection cap, half-sent bodies, deeply nested JSON, oversized bodies;
 * - SIGKILL of the server and a restart, every `--kill-every` seconds;
 * - a full-disk episode when run as root (the data directory is a small
 *   tmpfs that a spacer file fills, then frees).
 *
 * Every second it samples the server's RSS and open descriptors
 * (`/proc/PID`). At the end: every acknowledged entry is in the log with
 * its leaf hash, `regledger ledger verify` passes, no 5xx other than the
 * documented 503s (storage full, busy, over the cap, restarting), and the
 * RSS after the load is compared with the RSS before it.
 *
 * Run: deno run -A benchmarks/soak.ts [--minutes 3] [--quick]
 * Writes benchmarks/results/soak.json.
 *
 * @module
 */
const ROOT = new URL("../", import.meta.url).pathname;
const args = Deno.args;
const arg = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};

// ---- client mode: one appending process -------------------------------------
if (args[0] === "--client") {
  const [, urlFile, token, untilText, out] = args;
  const until = Number(untilText);
  const acked: { index: number; leaf_hash: string }[] = [];
  const statuses: Record<string, number> = {};
  let n = 0;
  while (Date.now() < until) {
    const url = (await Deno.readTextFile(urlFile)).trim();
    const p = Array.from({ length: 8 }, () => 1 + Math.floor(Math.random() * 100));
    const q = Array.from({ length: 8 }, () => 1 + Math.floor(Math.random() * 100));
    try {
      const r = await fetch(`${url}/v1/audit/drift`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ p, q, drift_threshold: 0.01 + (n++ % 1000) / 1e6 }),
      });
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status === 201 || r.status === 200) {
        const b = await r.json();
        acked.push({ index: b.receipt.index, leaf_hash: b.receipt.leaf_hash });
      } else {
        await r.body?.cancel();
        if (r.status === 503) await new Promise((res) => setTimeout(res, 200));
      }
    } catch {
      statuses["refused"] = (statuses["refused"] ?? 0) + 1; // server restarting
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  await Deno.writeTextFile(out, JSON.stringify({ acked, statuses }));
  Deno.exit(0);
}

// ---- the soak ---------------------------------------------------------------
const quick = args.includes("--quick");
const minutes = arg("--minutes", quick ? 1 : 3);
const killEvery = arg("--kill-every", quick ? 25 : 50);
const CLIENTS = 3;
const work = await Deno.makeTempDir({ prefix: "regledger-soak-" });
let data = `${work}/data`;
await Deno.mkdir(data);
let tmpfs = false;
if (Deno.uid?.() === 0) {
  const m = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=512m", "tmpfs", data],
    stderr: "null",
  }).output();
  tmpfs = m.success;
}
data = `${data}/ledger`;
const urlFile = `${work}/url.txt`;

let server: Deno.ChildProcess | null = null;
let serverLog = "";
async function startServer(): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1,localhost",
      "--allow-sys=hostname",
      "cli/main.ts",
      "serve",
      "--port",
      "0",
      "--data",
      data,
    ],
    cwd: ROOT,
    env: {
      REGLEDGER_ACCESS_LOG: "0",
      REGLEDGER_RATE_LIMIT: "0",
      REGLEDGER_MAX_CONNECTIONS: "96",
      REGLEDGER_HEADERS_TIMEOUT_MS: "2000",
      REGLEDGER_KEEPALIVE_TIMEOUT_MS: "2000",
      REGLEDGER_REQUEST_TIMEOUT_MS: "5000",
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  server = child;
  const reader = child.stderr.getReader();
  const dec = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${text}`);
    text += dec.decode(value, { stream: true });
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(text);
    if (m) {
      serverLog += text;
      // Keep draining its stderr.
      (async () => {
        for (;;) {
          const r = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (r.done) return;
          serverLog += dec.decode(r.value);
        }
      })();
      await Deno.writeTextFile(urlFile, m[1]);
      return m[1];
    }
  }
}

function procStatus(pid: number): { rssMb: number; fds: number } | null {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/status`);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
    const fds = [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
    return { rssMb: Math.round(rss), fds };
  } catch {
    return null;
  }
}

let clients: Deno.ChildProcess[] = [];
const cleanup = async () => {
  for (const c of [server, ...clients]) {
    try {
      c?.kill("SIGKILL");
    } catch { /* already exited */ }
  }
  if (tmpfs) await new Deno.Command("umount", { args: [`${work}/data`] }).output();
  await Deno.remove(work, { recursive: true }).catch(() => {});
};
addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  console.error("soak aborted:", e.reason);
  void cleanup().finally(() => Deno.exit(1));
});
let url = await startServer();
const token = (await Deno.readTextFile(`${data}/admin-token`)).trim();
const auth = { authorization: `Bearer ${token}` };
const t0 = Date.now();
const until = t0 + minutes * 60_000;
await new Promise((r) => setTimeout(r, 1000));
const baseline = procStatus(server!.pid);

clients = Array.from({ length: CLIENTS }, (_, i) =>
  new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      import.meta.url,
      "--client",
      urlFile,
      token,
      String(until),
      `${work}/c${i}.json`,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn());

const statuses: Record<string, number> = {};
const latencies: number[] = [];
const samples: { t: number; rss_mb: number; fds: number }[] = [];
const events: string[] = [];
const count = (k: string | number) => (statuses[k] = (statuses[k] ?? 0) + 1);

async function timed(path: string, init?: RequestInit): Promise<void> {
  const s = performance.now();
  try {
    const r = await fetch(`${url}${path}`, init);
    await r.body?.cancel();
    count(r.status);
    if (r.status < 500) latencies.push(performance.now() - s);
  } catch {
    count("refused");
  }
}

const readers = (async () => {
  while (Date.now() < until) {
    const size = Number(
      await fetch(`${url}/readyz`).then((r) => r.json()).then((j) => j.tree_size ?? 0).catch(
        () => 0,
      ),
    );
    await timed("/v1/log/checkpoint");
    if (size > 1) {
      const i = Math.floor(Math.random() * size);
      await timed(`/v1/log/entries/${i}`, { headers: auth });
      await timed(`/v1/log/proof/inclusion?index=${i}&tree_size=${size}`, { headers: auth });
    }
    await new Promise((r) => setTimeout(r, 5));
  }
})();

const hostile = (async () => {
  const enc = new TextEncoder();
  while (Date.now() < until) {
    const port = Number(new URL(url).port);
    const conns: Deno.Conn[] = [];
    for (let i = 0; i < 150; i++) {
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        conns.push(c);
        if (i % 3 === 1) await c.write(enc.encode("GET /healthz HTTP/1.1\r\nhost: x\r\n"));
        if (i % 3 === 2) {
          await c.write(enc.encode("POST /v1/verify HTTP/1.1\r\ncontent-length: 999\r\n\r\n{"));
        }
      } catch {
        break;
      }
    }
    await timed("/v1/verify", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: "[".repeat(50_000) + "]".repeat(50_000),
    });
    await timed("/v1/envelopes", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: "x".repeat(3 * 1024 * 1024),
    });
    await new Promise((r) => setTimeout(r, 6000));
    for (const c of conns) {
      try {
        c.close();
      } catch { /* the server closed it */ }
    }
  }
})();

const sampler = setInterval(() => {
  const s = server ? procStatus(server.pid) : null;
  if (s) samples.push({ t: Math.round((Date.now() - t0) / 1000), rss_mb: s.rssMb, fds: s.fds });
}, 1000);

// Chaos: SIGKILL + restart, and (tmpfs) one full-disk episode.
let kills = 0;
let fullDisk: { seconds: number; readyz_503: boolean; recovered: boolean } | null = null;
while (Date.now() < until - 10_000) {
  await new Promise((r) => setTimeout(r, killEvery * 1000 / 2));
  if (tmpfs && fullDisk === null) {
    const spacer = `${work}/data/spacer`;
    // Fill the tmpfs: the server's appends now fail with a full disk.
    await new Deno.Command("sh", {
      args: ["-c", `dd if=/dev/zero of=${spacer} bs=1M count=1024 2>/dev/null; true`],
    }).output();
    const s = Date.now();
    await new Promise((r) => setTimeout(r, 5000));
    const rz = await fetch(`${url}/readyz`).then((r) => r.status).catch(() => 0);
    await Deno.remove(spacer);
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      await new Promise((r) => setTimeout(r, 200));
      recovered = (await fetch(`${url}/readyz`).then((r) => r.status).catch(() => 0)) === 200;
    }
    fullDisk = { seconds: Math.round((Date.now() - s) / 1000), readyz_503: rz === 503, recovered };
    events.push(`full disk: readyz ${rz}, recovered ${recovered}`);
    continue;
  }
  await new Promise((r) => setTimeout(r, killEvery * 1000 / 2));
  if (Date.now() > until - 10_000) break;
  server!.kill("SIGKILL");
  await server!.status;
  kills++;
  url = await startServer();
  events.push(`SIGKILL ${kills}, restarted at ${url}`);
}

await Promise.all([readers, hostile, ...clients.map((c) => c.status)]);
// Load over: let the server settle, then measure memory against the baseline.
await new Promise((r) => setTimeout(r, 8000));
clearInterval(sampler);
const after = procStatus(server!.pid);

// Every acknowledged entry is in the log with its leaf hash.
const acked: { index: number; leaf_hash: string }[] = [];
for (let i = 0; i < CLIENTS; i++) {
  const c = JSON.parse(await Deno.readTextFile(`${work}/c${i}.json`));
  acked.push(...c.acked);
  for (const [k, v] of Object.entries(c.statuses as Record<string, number>)) {
    statuses[k] = (statuses[k] ?? 0) + v;
  }
}
let lost = 0;
for (const a of acked) {
  const r = await fetch(`${url}/v1/log/entries/${a.index}`, { headers: auth });
  const b = r.status === 200 ? await r.json() : null;
  if (b?.leaf_hash !== a.leaf_hash) lost++;
}
server!.kill("SIGTERM");
await server!.status;
const verify = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "cli/main.ts", "ledger", "verify", "--data", data],
  cwd: ROOT,
  stdout: "piped",
  stderr: "piped",
}).output();
const verified = verify.success;
server = null;
clients = [];
await cleanup();

latencies.sort((a, b) => a - b);
const fiveHundreds = Object.entries(statuses).filter(([k]) => /^5\d\d$/.test(k) && k !== "503");
const rss = samples.map((s) => s.rss_mb);
const result = {
  when: new Date().toISOString(),
  minutes,
  tmpfs_full_disk: fullDisk ?? "not run (needs root for a tmpfs)",
  sigkill_restarts: kills,
  acknowledged: acked.length,
  lost,
  log_verifies: verified,
  statuses,
  unexpected_5xx: Object.fromEntries(fiveHundreds),
  read_p99_ms: Math.round((latencies[Math.floor(latencies.length * 0.99)] ?? 0) * 10) / 10,
  read_p50_ms: Math.round((latencies[Math.floor(latencies.length * 0.5)] ?? 0) * 10) / 10,
  rss_mb: {
    baseline: baseline?.rssMb,
    peak: Math.max(...rss),
    after_load: after?.rssMb,
  },
  fds: { baseline: baseline?.fds, peak: Math.max(...samples.map((s) => s.fds)), after: after?.fds },
  events,
  rss_over_time: samples.filter((_, i) => i % 10 === 0),
};
console.table([{
  minutes,
  acknowledged: acked.length,
  lost,
  verifies: verified,
  kills,
  unexpected_5xx: fiveHundreds.length,
  read_p99_ms: result.read_p99_ms,
  rss_base: result.rss_mb.baseline,
  rss_peak: result.rss_mb.peak,
  rss_after: result.rss_mb.after_load,
  fds_peak: result.fds.peak,
}]);
console.log(JSON.stringify({ statuses, full_disk: result.tmpfs_full_disk, events }, null, 1));
await Deno.writeTextFile(
  new URL("./results/soak.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
if (lost > 0 || !verified || fiveHundreds.length > 0) {
  console.error("soak FAILED", verified ? "" : new TextDecoder().decode(verify.stdout));
  console.error(serverLog.split("\n").filter((l) => /fail|error|Uncaught/i.test(l)).join("\n"));
  Deno.exit(1);
}
