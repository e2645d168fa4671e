/**
 * How long appends stop after PostgreSQL crashes and restarts under load
 * (`pg_ctl stop -m immediate`, then `pg_ctl start`), round after round:
 *
 * - **store**: a `Ledger` on `PgStore` (8 concurrent appenders), whose pool is
 *   replaced after a connection failure (`ledger/pg/pool.ts`);
 * - **baseline**, in the same process on the same cluster: a plain
 *   postgres.js 3.4.9 pool (what the store used before) running 8 loops of
 *   a small write transaction (`sql.begin`, one INSERT) — the driver alone,
 *   whose pooled connections can be left unable to send after a crash
 *   (porsager/postgres#1154).
 *
 * For each round: the time from PostgreSQL accepting connections again to
 * the first completed operation of each side ("resume"). A resume longer
 * than 5 s is a stall (the driver's connect timeout here is 10 s; the
 * chaos test gives a server 30 s).
 *
 * Run: deno run -A benchmarks/pg_restart.ts [--rounds N]   (default 15)
 * Writes benchmarks/results/pg_restart.json.
 *
 * @module
 */
import postgres from "postgres";
import { openLedger } from "../ledger/ledger.ts";
import { Ed25519NoteSigner } from "../ledger/note.ts";
import { PgStore } from "../ledger/pg/store.ts";
import { makeEnvelope } from "../tests/ledger/_helpers.ts";
import { startCluster } from "../tests/pg/_cluster.ts";

const ri = Deno.args.indexOf("--rounds");
const ROUNDS = ri >= 0 ? Number(Deno.args[ri + 1]) : 15;
const WORKERS = 8;
const GIVE_UP_MS = 30_000;

/** The driver's uncaught write-after-close TypeError would end the run: count it instead. */
let uncaught = 0;
globalThis.addEventListener("error", (ev) => {
  uncaught++;
  ev.preventDefault();
});

const cluster = await startCluster();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
try {
  const storeUrl = await cluster.createDatabase();
  const baseUrl = await cluster.createDatabase();
  const origin = "regledger.local/log";
  const ledger = await openLedger({
    store: await PgStore.open(storeUrl),
    logKey: await Ed25519NoteSigner.generate(origin),
    origin,
  });
  const base = postgres(baseUrl, { max: 10, connect_timeout: 10, onnotice: () => {} });
  await base`CREATE TABLE t (id bigserial PRIMARY KEY, v bytea NOT NULL)`;

  let stop = false;
  const done = { store: 0, baseline: 0 };
  let n = 0;
  const loops = [
    ...Array.from({ length: WORKERS }, async () => {
      while (!stop) {
        const env = await makeEnvelope(1_000_000 + n++);
        try {
          await ledger.append(env);
          done.store++;
        } catch {
          await sleep(20);
        }
      }
    }),
    ...Array.from({ length: WORKERS }, async () => {
      while (!stop) {
        try {
          await base.begin((tx) => tx`INSERT INTO t (v) VALUES (${new Uint8Array(64)})`);
          done.baseline++;
        } catch {
          await sleep(20);
        }
      }
    }),
  ];

  const rounds: { store_ms: number; baseline_ms: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await sleep(300 + Math.random() * 500);
    await cluster.stop("immediate");
    await sleep(Math.random() * 500);
    await cluster.start(); // returns once PostgreSQL accepts connections
    const t0 = performance.now();
    const from = { ...done };
    const resume = { store: NaN, baseline: NaN };
    while (
      (Number.isNaN(resume.store) || Number.isNaN(resume.baseline)) &&
      performance.now() - t0 < GIVE_UP_MS
    ) {
      for (const k of ["store", "baseline"] as const) {
        if (Number.isNaN(resume[k]) && done[k] > from[k]) resume[k] = performance.now() - t0;
      }
      await sleep(5);
    }
    const row = {
      store_ms: Math.round(resume.store || GIVE_UP_MS),
      baseline_ms: Math.round(resume.baseline || GIVE_UP_MS),
    };
    rounds.push(row);
    console.error(`round ${r + 1}: store ${row.store_ms} ms, baseline ${row.baseline_ms} ms`);
  }
  stop = true;
  await Promise.race([Promise.all(loops), sleep(GIVE_UP_MS)]);
  await Promise.race([ledger.close(), sleep(10_000)]);
  await Promise.race([base.end({ timeout: 1 }), sleep(5_000)]);

  const summary = (k: "store_ms" | "baseline_ms") => {
    const xs = rounds.map((r) => r[k]).sort((a, b) => a - b);
    return {
      median_ms: xs[Math.floor(xs.length / 2)],
      max_ms: xs[xs.length - 1],
      stalls_over_5s: xs.filter((x) => x > 5000).length,
    };
  };
  const result = {
    rounds: ROUNDS,
    workers_each: WORKERS,
    store: summary("store_ms"),
    baseline_plain_postgres_js: summary("baseline_ms"),
    uncaught_driver_errors: uncaught,
    per_round: rounds,
    load_average: Deno.loadavg(),
    date: new Date().toISOString(),
  };
  console.log("| side | median resume | max resume | stalls > 5 s |");
  console.log("| --- | --- | --- | --- |");
  for (
    const [name, s] of [["store (pool replaced)", result.store], [
      "baseline (plain postgres.js pool)",
      result.baseline_plain_postgres_js,
    ]] as const
  ) {
    console.log(`| ${name} | ${s.median_ms} ms | ${s.max_ms} ms | ${s.stalls_over_5s}/${ROUNDS} |`);
  }
  console.log(`uncaught driver errors (would have ended a server): ${uncaught}`);
  await Deno.mkdir("benchmarks/results", { recursive: true });
  await Deno.writeTextFile(
    "benchmarks/results/pg_restart.json",
    JSON.stringify(result, null, 2) + "\n",
  );
} finally {
  await cluster.destroy();
}
Deno.exit(0);
