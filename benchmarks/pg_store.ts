/**
 * The ledger on PostgreSQL (issue 16), each figure beside a baseline
 * measured in the same run on the same throwaway cluster (fsync ON, as in
 * production; the machine's 2 cores are shared, so ratios are what mean
 * something):
 *
 * 1. Durable appends of ~1.5 KB envelopes from 64 concurrent appenders in
 *    one process (group commit, `PgStore`) vs raw batched inserts of the
 *    SAME rows (entries, envelope and signed-body indexes, issuer and
 *    primitive indexes, checkpoints: read back from the ledger's tables)
 *    into copies of its tables in the same database, in transactions of the
 *    ledger's average batch size. Goal ≥ 0.6.
 * 2. Inclusion proof latency (p50, p99; cold then warm hash cache) at
 *    1,000,000 entries (`--quick`: 100,000), the log built through
 *    `PgStore.commit` in commits of 1,000 valid entries (real envelopes made
 *    by substitution in a canonical template, spot-checked by parsing; real
 *    leaves, hashes and a signed checkpoint per commit); beside one raw
 *    `SELECT` of an entry's stored hashes. Goal p50 ≤ 2 ms.
 * 3. Appends per second through 1, 2 and 3 `serve --store` processes on one
 *    database (48 HTTP submitters spread over them; each server verifies
 *    every envelope's signature), in the order 1,2,3,3,2,1; with the group
 *    commits and the commits retried because another process moved the head
 *    (from each server's /metrics).
 *
 * Run: deno run -A benchmarks/pg_store.ts [--quick | --servers-only]
 * Writes benchmarks/results/pg_store.json.
 *
 * @module
 */
import postgres from "postgres";
import { sha256, toBase64 } from "../core/bytes.ts";
import {
  buildEnvelope,
  parseEnvelopeText,
  parseEnvelopeValue,
  resolveEnvelope,
  signedBodySha256,
} from "../core/envelope.ts";
import type { Envelope, ParsedEnvelope } from "../core/envelope_types.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { signCheckpoint } from "../ledger/checkpoint.ts";
import { encodeLeaf, LEAF_VERSION } from "../ledger/leaf.ts";
import { openLedger } from "../ledger/ledger.ts";
import {
  type HashReader,
  leafHash,
  storedHashesForBatch,
  storedHashIndex,
  treeHash,
} from "../ledger/merkle/mod.ts";
import { Ed25519NoteSigner } from "../ledger/note.ts";
import { PgStore } from "../ledger/pg/store.ts";
import type { NewEntry } from "../ledger/store.ts";
import { startCluster } from "../tests/pg/_cluster.ts";
import { killServe, type ServeChild, startServe, submitUntilAcked } from "../tests/pg/_serve.ts";
import { signedEnvelope, TOKENS, writeTrustFile } from "../tests/server/_helpers.ts";
import { median } from "./_paired.ts";

const quick = Deno.args.includes("--quick");
/** Only the server figures: parts 1 and 2 run tiny and the file keeps their last figures. */
const serversOnly = Deno.args.includes("--servers-only");
const ENTRIES = serversOnly ? 300 : quick ? 4000 : 15000;
const ROUNDS = quick ? 3 : 5;
const PROOF_LOG = serversOnly ? 2000 : quick ? 100_000 : 1_000_000;
const SERVER_APPENDS = quick ? 400 : 900;
const ORIGIN = "bench.example/log";
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

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
/** Envelope `i`: the template varied (the ledger stores what its caller verified). */
function envelope(i: number, padding = pad): ParsedEnvelope {
  const e = structuredClone(template) as Envelope;
  e.result = padding > 0 ? { ...e.result, n: i, note: "x".repeat(padding) } : { ...e.result, n: i };
  return parseEnvelopeValue(e);
}

/**
 * Small envelope `i` (~600 bytes, no padding) made fast for the big log: the
 * template's canonical text and canonical signed body with `"n":MARK`
 * replaced by `"n":i` (an integer in place of an integer keeps both
 * canonical); checked against a full parse every 50,000 entries.
 */
const MARK = 987654321;
const small = envelope(MARK, 0);
const smallText = new TextDecoder().decode(small.canonical);
const smallBody = new TextDecoder().decode(resolveEnvelope(small).body);
for (const t of [smallText, smallBody]) {
  if (t.split(`"n":${MARK}`).length !== 2) throw new Error("template marker not unique");
}
const enc = new TextEncoder();
function smallEnvelope(i: number): { canonical: Uint8Array; sha: Uint8Array; bodySha: Uint8Array } {
  const canonical = enc.encode(smallText.replace(`"n":${MARK}`, `"n":${i}`));
  const bodySha = sha256(enc.encode(smallBody.replace(`"n":${MARK}`, `"n":${i}`)));
  if (i % 50_000 === 0) {
    const pe = parseEnvelopeText(canonical);
    if (toBase64(pe.canonical) !== toBase64(canonical)) throw new Error("not canonical");
    if (toBase64(signedBodySha256(pe)) !== toBase64(bodySha)) throw new Error("body differs");
  }
  return { canonical, sha: sha256(canonical), bodySha };
}

console.log("starting a PostgreSQL cluster (fsync on)…");
const cluster = await startCluster({ fsync: true, sharedBuffers: "512MB" });
const tmp = await Deno.makeTempDir({ prefix: "regledger-pg-bench-" });
try {
  // -------------------------------------------------------------------------
  // 1. Durable appends vs raw batched inserts of the same rows.
  const url1 = await cluster.createDatabase();
  const key = await Ed25519NoteSigner.generate(ORIGIN);
  let commits = 0;
  const ledger = await openLedger({
    store: await PgStore.open(url1),
    logKey: key,
    origin: ORIGIN,
    onCommit: () => commits++,
  });
  await ledger.append(envelope(-1));
  const raw = postgres(url1, { onnotice: () => {}, max: 4 });
  const TABLES = ["entries", "envelope_index", "body_index", "issuer_index", "primitive_index"];
  await raw.unsafe(
    "CREATE SCHEMA rawbench; " +
      [...TABLES, "checkpoints"].map((t) =>
        `CREATE TABLE rawbench.${t} (LIKE regledger.${t} INCLUDING ALL);`
      ).join(" "),
  );
  console.log(`building ${ENTRIES} envelopes…`);
  const envs = Array.from({ length: ENTRIES }, (_, i) => envelope(i));
  const per = Math.floor(ENTRIES / ROUNDS);
  const appendRates: number[] = [];
  const rawRates: number[] = [];
  const batches: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const slice = envs.slice(round * per, (round + 1) * per);
    const first = await ledger.size();
    const c0 = commits;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < slice.length) await ledger.append(slice[next++]);
    }));
    appendRates.push(slice.length / ((performance.now() - t0) / 1000));
    const batch = Math.max(1, Math.round(slice.length / (commits - c0)));
    batches.push(batch);
    // The rows the ledger wrote this round, read back (not timed).
    const end = first + slice.length;
    const rows: Record<string, postgres.Row[]> = {};
    for (const t of TABLES) {
      rows[t] = await raw.unsafe(
        `SELECT * FROM regledger.${t} WHERE idx >= $1 AND idx < $2 ORDER BY idx`,
        [first, end],
      );
    }
    const cps = await raw`SELECT * FROM regledger.checkpoints WHERE size > ${first}
                          AND size <= ${end} ORDER BY size`;
    const t1 = performance.now();
    for (let i = 0; i < slice.length; i += batch) {
      const lo = first + i;
      const hi = Math.min(first + i + batch, end);
      await raw.begin((tx) => [
        ...TABLES.map((t) => {
          const part = rows[t].filter((r) => Number(r.idx) >= lo && Number(r.idx) < hi);
          return tx`INSERT INTO ${tx("rawbench." + t)} ${tx(part)}`;
        }),
        tx`INSERT INTO rawbench.checkpoints ${tx([cps[Math.floor(i / batch)] ?? cps[0]])}
           ON CONFLICT DO NOTHING`,
      ]);
    }
    rawRates.push(slice.length / ((performance.now() - t1) / 1000));
    console.log(
      `  round ${round + 1}: ledger ${Math.round(appendRates[round])}/s, ` +
        `raw ${Math.round(rawRates[round])}/s (batch ${batch})`,
    );
  }
  await ledger.close();
  await raw.end();
  const appendRatio = median(appendRates.map((x, i) => x / rawRates[i]));

  // -------------------------------------------------------------------------
  // 2. Inclusion proofs at PROOF_LOG entries, built through PgStore.commit.
  console.log(`building a ${PROOF_LOG}-entry log through PgStore.commit…`);
  const url2 = await cluster.createDatabase();
  const b0 = performance.now();
  {
    const store = await PgStore.open(url2);
    const meta = { origin: ORIGIN, verifierKey: key.verifierKey() };
    let version: string | null = null;
    let prev: Uint8Array = new Uint8Array(32);
    const B = 1000;
    for (let n0 = 0; n0 < PROOF_LOG; n0 += B) {
      const k = Math.min(B, PROOF_LOG - n0);
      const leafHashes: Uint8Array[] = [];
      const made: Omit<NewEntry, "hashes" | "endsCommit">[] = [];
      for (let i = 0; i < k; i++) {
        const { canonical, sha, bodySha } = smallEnvelope(n0 + i);
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
        leafHashes.push(prev);
        made.push({
          index: n0 + i,
          leaf,
          envelope: canonical,
          envelopeSha256: sha,
          bodySha256: bodySha,
          issuer: "bench-bank",
          primitive: "fairness",
          issuedAt: "2026-11-21T00:00:00.000Z",
        });
      }
      const fresh = await storedHashesForBatch(n0, leafHashes, store);
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
      const checkpoint = await signCheckpoint({ origin: ORIGIN, size: n0 + k, root }, [key]);
      let off = 0;
      const entries: NewEntry[] = made.map((m, i) => {
        const count = storedHashIndex(0, n0 + i + 1) - storedHashIndex(0, n0 + i);
        const e = { ...m, hashes: fresh.slice(off, off + count), endsCommit: i === k - 1 };
        off += count;
        return e;
      });
      const r = await store.commit(version, {
        entries,
        head: { size: n0 + k, root, lastLeafHash: prev },
        checkpoint,
        meta,
      });
      if (!r.ok) throw new Error("build commit failed");
      version = r.version;
      if ((n0 / B) % 50 === 49) console.log(`  built ${n0 + k}/${PROOF_LOG}`);
    }
    store.close();
    await store.closed();
  }
  const buildSeconds = (performance.now() - b0) / 1000;
  const proofLedger = await openLedger({
    store: await PgStore.open(url2),
    logKey: key,
    origin: ORIGIN,
  });
  const one = postgres(url2, { onnotice: () => {}, max: 1 });
  const cold: number[] = [];
  const warm: number[] = [];
  const get: number[] = [];
  let maxLen = 0;
  const SAMPLES = quick ? 400 : 2000;
  for (let s = 0; s < SAMPLES; s++) {
    const i = Math.floor(Math.random() * PROOF_LOG);
    let t = performance.now();
    await one`SELECT hashes FROM regledger.entries WHERE idx = ${i}`;
    get.push(performance.now() - t);
    t = performance.now();
    const p = await proofLedger.proveInclusion(i);
    (s < SAMPLES / 2 ? cold : warm).push(performance.now() - t);
    maxLen = Math.max(maxLen, p.proof.length);
  }
  await one.end();
  await proofLedger.close();
  for (const xs of [cold, warm, get]) xs.sort((a, b) => a - b);

  // -------------------------------------------------------------------------
  // 3. 1, 2 and 3 serve processes on one database.
  const trust = `${tmp}/trust.json`;
  await writeTrustFile(trust);
  const configs = quick ? ["1", "2", "3"] : ["1", "2", "3", "3", "2", "1"];
  const texts = await Promise.all(
    Array.from(
      { length: SERVER_APPENDS * configs.length },
      async (_, i) => JSON.stringify(await signedEnvelope(1_000_000 + i)),
    ),
  );
  let used = 0;
  type Run = { rate: number; commits: number; retries: number };
  const serverRuns: Record<string, Run[]> = { "1": [], "2": [], "3": [] };
  for (const cfg of configs) {
    const n = Number(cfg[0]);
    const url = await cluster.createDatabase();
    const data = `${tmp}/data-${cfg}-${serverRuns[cfg].length}`;
    const servers: ServeChild[] = [await startServe(data, url, trust)];
    for (let k = 1; k < n; k++) servers.push(await startServe(data, url, trust));
    try {
      const batch = texts.slice(used, used + SERVER_APPENDS);
      used += SERVER_APPENDS;
      let next = 0;
      const deadline = Date.now() + 300_000;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 48 }, async (_, w) => {
        while (next < batch.length) {
          const t = batch[next++];
          await submitUntilAcked(() => [servers[w % n].base], 0, t, deadline);
        }
      }));
      if (batch.length !== SERVER_APPENDS) throw new Error("not enough envelopes prepared");
      const rate = batch.length / ((performance.now() - t0) / 1000);
      let commitCount = 0;
      let retries = 0;
      for (const s of servers) {
        const m = await (await fetch(`${s.base}/metrics`, {
          headers: { authorization: `Bearer ${TOKENS.metrics}` },
        })).text();
        commitCount += Number(
          /^regledger_group_commit_batch_size_count\S* (\d+)/m.exec(m)?.[1] ?? 0,
        );
        retries += Number(/^regledger_group_commit_retries_total\S* (\d+)/m.exec(m)?.[1] ?? 0);
      }
      serverRuns[cfg].push({ rate, commits: commitCount, retries });
      console.log(
        `  ${cfg} server(s): ${Math.round(rate)}/s, ${commitCount} commits, ${retries} retried`,
      );
    } finally {
      await Promise.all(servers.map((s) => killServe(s, "SIGTERM")));
    }
  }
  const serverFigure = (cfg: string) => {
    const runs = serverRuns[cfg];
    const commitsN = runs.reduce((s, r) => s + r.commits, 0);
    return {
      appends_per_s: Math.round(median(runs.map((r) => r.rate))),
      avg_batch: round1((runs.length * SERVER_APPENDS) / Math.max(1, commitsN)),
      retried_commit_fraction: round3(
        runs.reduce((s, r) => s + r.retries, 0) / Math.max(1, commitsN),
      ),
    };
  };
  const s1 = serverFigure("1");
  const s2 = serverFigure("2");
  const s3 = serverFigure("3");

  const results = {
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    postgres: (await cluster.psql("postgres", "SHOW server_version")).trim(),
    machine: `${navigator.hardwareConcurrency} cores (shared by PostgreSQL, servers, clients)`,
    settings: "fsync on, synchronous_commit on, shared_buffers 512MB, loopback TCP",
    append: {
      entries: per * ROUNDS,
      envelope_bytes: envs[0].canonical.length,
      appenders: 64,
      ledger_per_s: Math.round(median(appendRates)),
      raw_batched_inserts_per_s: Math.round(median(rawRates)),
      ratio: round3(appendRatio),
      goal_ratio: 0.6,
      avg_batch: median(batches),
      baseline: "the same rows (entries, 4 index tables, checkpoints) inserted into copies " +
        "of the ledger's tables, one transaction per batch of the ledger's average size",
    },
    inclusion_proof: {
      log_entries: PROOF_LOG,
      build_seconds: Math.round(buildSeconds),
      p50_ms_cold: round3(pct(cold, 0.5)),
      p99_ms_cold: round3(pct(cold, 0.99)),
      p50_ms_warm: round3(pct(warm, 0.5)),
      p99_ms_warm: round3(pct(warm, 0.99)),
      raw_select_p50_ms: round3(pct(get, 0.5)),
      max_proof_hashes: maxLen,
      goal_p50_ms: 2,
    },
    servers: {
      appends_per_config: SERVER_APPENDS,
      submitters: 48,
      one: s1,
      two: s2,
      three: s3,
      ratio_two_to_one: round3(s2.appends_per_s / s1.appends_per_s),
      ratio_three_to_one: round3(s3.appends_per_s / s1.appends_per_s),
      note: "one database is one serialization point (the head row): more processes add " +
        "HTTP and signature-verification capacity, not commit capacity; on 2 shared cores " +
        "the processes also compete with PostgreSQL and the clients for CPU",
    },
  };
  console.table({
    "durable appends /s": results.append.ledger_per_s,
    "raw batched inserts /s": results.append.raw_batched_inserts_per_s,
    "ratio (goal ≥ 0.6)": results.append.ratio,
    [`proof p50 ms cold @${PROOF_LOG}`]: results.inclusion_proof.p50_ms_cold,
    [`proof p50 ms warm @${PROOF_LOG}`]: results.inclusion_proof.p50_ms_warm,
    "raw SELECT p50 ms": results.inclusion_proof.raw_select_p50_ms,
    "1 server /s": s1.appends_per_s,
    "2 servers /s": s2.appends_per_s,
    "3 servers /s": s3.appends_per_s,
  });
  const out = new URL("./results/pg_store.json", import.meta.url);
  const written = serversOnly
    ? {
      ...JSON.parse(await Deno.readTextFile(out)),
      servers: { ...results.servers, date: results.date },
    }
    : results;
  await Deno.writeTextFile(out, JSON.stringify(written, null, 2) + "\n");
  console.log(`wrote ${out.pathname}`);
} finally {
  await cluster.destroy();
  await Deno.remove(tmp, { recursive: true });
}
