/**
 * Entries-listing benchmark (issue 14: "an entries page ≤ 200 ms on a
 * 1,000,000-entry log"): one page of `Ledger.query` (limit 100) with and
 * without filters, each beside baselines measured in the same rounds —
 * reading from the store the page's entries and every index hit the query
 * scanned (`readEntry`, concurrently), and 100 consecutive entries
 * (`readEntries`) —
 * plus one page over loopback HTTP (`GET /v1/log/entries`) and the paged
 * fetch of a chart: one issuer's drift audits over a year, limit 1000;
 * on Deno KV, the issuer+primitive page and the chart with and without the
 * `"ip"` index (the filtering fallback), beside the issuer-only page.
 *
 * The log is built with the store directly (batched commits, as
 * benchmarks/ledger.ts does): real envelopes, each signed by its issuer's
 * key (10 issuers, each with a key rotated mid-year), a year of issue times,
 * the six primitives in turn, thresholds in the input commitments and about
 * one breach in ten; entry `i` carries the extra tag `RARE_TAG` when
 * `i % 50,000 == 7` (a filter that skips almost everything: its page is
 * bounded by the scan budget).
 *
 * Run: deno run -A benchmarks/entries_page.ts [--entries N] [--data DIR] [--quick]
 * (`--data DIR` keeps the built log there and reuses it on the next run).
 * Writes benchmarks/results/entries_page.json.
 *
 * @module
 */
import { type AuditRun, runAudit, signAuditRun } from "../core/audit/index.ts";
import { toBase64 } from "../core/bytes.ts";
import { parseEnvelopeValue, signedBodySha256 } from "../core/envelope.ts";
import type { PrimitiveName } from "../core/envelope_types.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { signCheckpoint } from "../ledger/checkpoint.ts";
import { KvStore, openLedger } from "../ledger/index.ts";
import { encodeLeaf, LEAF_VERSION } from "../ledger/leaf.ts";
import { loadOrCreateLogKey } from "../ledger/log_key.ts";
import {
  type HashReader,
  leafHash,
  storedHashesForBatch,
  storedHashIndex,
  treeHash,
} from "../ledger/merkle/mod.ts";
import { IP_MARK_KEY } from "../ledger/kv_layout.ts";
import { queryStore } from "../ledger/query.ts";
import type { IndexHit, IndexSelector, LedgerStore, NewEntry } from "../ledger/store.ts";
import type { QueryOptions, QueryResult } from "../ledger/wire.ts";
import { DEFAULT_CONFIG, parseApiKeys } from "../server/config.ts";
import { startServer } from "../server/serve.ts";
import { median } from "./_paired.ts";

function argValue(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}
const quick = Deno.args.includes("--quick");
const ENTRIES = Number(argValue("--entries") ?? (quick ? 20_000 : 1_000_000));
const ROUNDS = quick ? 5 : 15;
const LIMIT = 100;
const ISSUERS = 10;
const PRIMS: PrimitiveName[] = [
  "fairness",
  "provenance",
  "concordance",
  "calibration",
  "drift",
  "disagreement",
];
const YEAR_START = Date.parse("2026-01-01T00:00:00Z");
const STEP_MS = Math.floor((365 * 86_400_000) / ENTRIES);
const THRESHOLD: Partial<Record<PrimitiveName, [string, number]>> = {
  fairness: ["threshold", 0.2],
  drift: ["drift_threshold", 0.01],
  disagreement: ["threshold", 0.05],
};
const BREACH: Partial<Record<PrimitiveName, string>> = {
  fairness: "threshold_breached",
  drift: "drift_bit",
  disagreement: "breach",
};

const issuerOf = (i: number) => `bank-${String(i % ISSUERS).padStart(2, "0")}`;
const primitiveOf = (i: number) => PRIMS[Math.floor(i / ISSUERS) % PRIMS.length];
const keyIdOf = (i: number) => `${issuerOf(i)}-k${i < ENTRIES / 2 ? 1 : 2}`;
const timeOf = (i: number) => new Date(YEAR_START + i * STEP_MS).toISOString();

const cases = JSON.parse(
  await Deno.readTextFile(
    new URL("../tests/fixtures/regaudit-fhe/primitives.json", import.meta.url),
  ),
).cases;
const runs = new Map<PrimitiveName, AuditRun<PrimitiveName>>();
for (const p of PRIMS) {
  const input = { ...cases[p][0].input };
  const t = THRESHOLD[p];
  if (t) input[t[0]] = t[1];
  runs.set(p, runAudit(p, input) as AuditRun<PrimitiveName>);
}
const keys = new Map<string, InProcessKeyProvider>();
for (let n = 0; n < ISSUERS; n++) {
  for (const k of [1, 2]) {
    const id = `${issuerOf(n)}-k${k}`;
    keys.set(id, await InProcessKeyProvider.generate(id));
  }
}

/** Entry i's envelope: its primitive's run with the statistics moved and the breach bit set. */
async function envelopeOf(i: number) {
  const p = primitiveOf(i);
  const run = runs.get(p)!;
  const result = { ...run.result } as Record<string, unknown>;
  const wave = Math.sin(i / 5000);
  for (const [k, v] of Object.entries(result)) {
    if (typeof v === "number" && !Number.isInteger(v)) result[k] = v * (1 + 0.1 * wave);
  }
  const bit = BREACH[p];
  if (bit) result[bit] = (i * 2654435761) % 10 === 0;
  const env = await signAuditRun(
    {
      ...run,
      result,
      regulations: i % 50_000 === 7 ? [...run.regulations, "RARE_TAG"] : run.regulations,
    } as unknown as AuditRun<PrimitiveName>,
    keys.get(keyIdOf(i))!,
    { issuer: issuerOf(i), issuedAt: timeOf(i) },
  );
  return parseEnvelopeValue(env);
}

async function buildLog(dir: string, n: number): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const key = await loadOrCreateLogKey(dir);
  const store = await KvStore.open(`${dir}/ledger.kv`);
  const meta = { origin: key.name, verifierKey: key.verifierKey() };
  let version: string | null = null;
  let prev: Uint8Array = new Uint8Array(32);
  const B = 98;
  const t0 = performance.now();
  for (let n0 = 0; n0 < n; n0 += B) {
    const k = Math.min(B, n - n0);
    const built = await Promise.all(Array.from({ length: k }, (_, j) => envelopeOf(n0 + j)));
    const hashes: Uint8Array[] = [];
    const pending: Omit<NewEntry, "hashes" | "endsCommit">[] = [];
    for (let j = 0; j < k; j++) {
      const i = n0 + j;
      const pe = built[j];
      const sha = pe.sha256;
      const leaf = encodeLeaf({
        envelope_sha256: toBase64(sha),
        index: i,
        issued_at: pe.value.issued_at,
        issuer: pe.value.issuer,
        key_id: pe.value.receipt.key_id,
        prev: toBase64(prev),
        primitive: pe.value.primitive,
        v: LEAF_VERSION,
      });
      prev = leafHash(leaf);
      hashes.push(prev);
      pending.push({
        index: i,
        leaf,
        envelope: pe.canonical,
        envelopeSha256: sha,
        bodySha256: signedBodySha256(pe),
        issuer: pe.value.issuer,
        primitive: pe.value.primitive,
        issuedAt: pe.value.issued_at,
      });
    }
    const fresh = await storedHashesForBatch(n0, hashes, store);
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
    const checkpoint = await signCheckpoint({ origin: key.name, size: n0 + k, root }, [key]);
    const entries: NewEntry[] = [];
    let off = 0;
    for (let j = 0; j < k; j++) {
      const count = storedHashIndex(0, n0 + j + 1) - storedHashIndex(0, n0 + j);
      entries.push({
        ...pending[j],
        hashes: fresh.slice(off, off + count),
        endsCommit: j === k - 1,
      });
      off += count;
    }
    const r = await store.commit(version, {
      entries,
      head: { size: n0 + k, root, lastLeafHash: prev },
      checkpoint,
      meta,
    });
    if (!r.ok) throw new Error("build commit failed");
    version = r.version;
    store.rememberHashes(base, fresh);
    if ((n0 / B) % 500 === 0) {
      const s = (performance.now() - t0) / 1000;
      console.log(`  built ${n0 + k}/${n} (${s.toFixed(0)} s)`);
    }
  }
  store.close();
}

const keep = argValue("--data");
const dir = keep ?? await Deno.makeTempDir({ prefix: "regledger-entries-bench-" });
let buildS: number | null = null;
{
  let size = -1;
  try {
    const l = await openLedger({ dataDir: dir });
    size = await l.size();
    await l.close();
  } catch {
    size = -1;
  }
  if (size !== ENTRIES) {
    if (size > 0) throw new Error(`${dir} holds a log of ${size} entries, not ${ENTRIES}`);
    console.log(`building a ${ENTRIES}-entry log in ${dir}…`);
    const b0 = performance.now();
    await buildLog(dir, ENTRIES);
    buildS = (performance.now() - b0) / 1000;
  } else console.log(`reusing the ${ENTRIES}-entry log in ${dir}`);
}

const ledger = await openLedger({ dataDir: dir });
const store = ledger.store;
const mid = timeOf(Math.floor(ENTRIES / 2));
console.log(
  "query                            entries/scanned  page ms  read same  read scanned  readEntries  page/same page/scanned",
);
const QUERIES: [string, QueryOptions][] = [
  ["no filter, first page", {}],
  ["no filter, from mid-year", { from: mid }],
  ["issuer", { issuer: "bank-03" }],
  ["issuer + primitive", { issuer: "bank-03", primitive: "drift" }],
  ["primitive + breached=true", { primitive: "drift", breached: true }],
  ["issuer + key_id (from mid-year)", { issuer: "bank-03", key_id: "bank-03-k2", from: mid }],
  ["regulation (1 in 6 entries)", { regulation: "NYC_LL144" }],
  ["one month", {
    from: timeOf(Math.floor(ENTRIES / 3)),
    to: timeOf(Math.floor(ENTRIES / 3) + Math.floor(ENTRIES / 12)),
  }],
  ["regulation (rare: scan budget)", { regulation: "RARE_TAG" }],
];

interface Row {
  query: string;
  entries: number;
  scanned: number;
  page_ms: number;
  read_same_ms: number;
  read_scanned_ms: number;
  read_range_ms: number;
  ratio_same: number;
  ratio_scanned: number;
}
/** The store, counting the index hits a query scans (what a filtered page must read). */
const scannedHits: IndexHit[] = [];
// queryStore reads through these two methods only.
const counting = {
  scanIndex: async (sel: IndexSelector, limit: number) => {
    const hits = await store.scanIndex(sel, limit);
    scannedHits.push(...hits);
    return hits;
  },
  readEntry: (i: number) => store.readEntry(i),
} as unknown as LedgerStore;
const readAll = (idx: number[]) => Promise.all(idx.map((i) => store.readEntry(i)));
const rows: Row[] = [];
for (const [name, q] of QUERIES) {
  const opts = { ...q, limit: LIMIT };
  scannedHits.length = 0;
  const first = await queryStore(counting, opts); // warm the cache once, as a console's second view
  const idx = first.entries.map((e) => e.index);
  const scanned = scannedHits.map((h) => h.index);
  const start = idx[0] ?? 0;
  const page: number[] = [];
  const same: number[] = [];
  const scan: number[] = [];
  const range: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    await ledger.query(opts);
    page.push(performance.now() - t);
    t = performance.now();
    await readAll(idx);
    same.push(performance.now() - t);
    t = performance.now();
    await readAll(scanned);
    scan.push(performance.now() - t);
    t = performance.now();
    await store.readEntries(start, start + LIMIT);
    range.push(performance.now() - t);
  }
  const row = {
    query: name,
    entries: first.entries.length,
    scanned: scanned.length,
    page_ms: median(page),
    read_same_ms: median(same),
    read_scanned_ms: median(scan),
    read_range_ms: median(range),
    ratio_same: median(page) / Math.max(median(same), 1e-3),
    ratio_scanned: median(page) / Math.max(median(scan), 1e-3),
  };
  rows.push(row);
  console.log(
    `${name.padEnd(32)} ${String(row.entries).padStart(4)}/${String(row.scanned).padStart(5)}  ${
      row.page_ms.toFixed(1).padStart(7)
    } ${row.read_same_ms.toFixed(1).padStart(7)} ${row.read_scanned_ms.toFixed(1).padStart(7)} ${
      row.read_range_ms.toFixed(1).padStart(7)
    }   ×${row.ratio_same.toFixed(1)} ×${row.ratio_scanned.toFixed(1)}`,
  );
}

// A chart: every drift audit of one issuer over the year, pages of 1000.
const chart: number[] = [];
let chartPoints = 0;
let chartPages = 0;
async function chartOnce(query: (o: QueryOptions) => Promise<QueryResult>): Promise<number> {
  const t = performance.now();
  let cursor: string | undefined;
  chartPoints = 0;
  chartPages = 0;
  do {
    const p = await query({ issuer: "bank-03", primitive: "drift", limit: 1000, cursor });
    chartPoints += p.entries.length;
    chartPages++;
    cursor = p.next_cursor ?? undefined;
  } while (cursor);
  return performance.now() - t;
}
for (let r = 0; r < (quick ? 2 : 3); r++) chart.push(await chartOnce((o) => ledger.query(o)));

// Issuer + primitive with and without the Deno KV "ip" index, beside the issuer-only page,
// in the same rounds: without it is the filtering fallback a log has until a writer's open
// builds the index, measured by removing the index's mark for a moment (restored after).
let ipIndex: Record<string, number> | null = null;
if (store instanceof KvStore) {
  const ipOpts = { issuer: "bank-03", primitive: "drift", limit: LIMIT };
  const unbuilt = new KvStore(store.kv); // shares the handle, never closed itself
  await store.kv.delete(IP_MARK_KEY);
  try {
    const [issuerOnly, indexed, filtered, chartFiltered]: number[][] = [[], [], [], []];
    for (let r = 0; r < ROUNDS; r++) {
      let t = performance.now();
      await queryStore(store, { issuer: "bank-03", limit: LIMIT });
      issuerOnly.push(performance.now() - t);
      t = performance.now();
      await queryStore(store, ipOpts);
      indexed.push(performance.now() - t);
      t = performance.now();
      await queryStore(unbuilt, ipOpts);
      filtered.push(performance.now() - t);
    }
    for (let r = 0; r < (quick ? 2 : 3); r++) {
      chartFiltered.push(await chartOnce((o) => queryStore(unbuilt, o)));
    }
    ipIndex = {
      issuer_page_ms: median(issuerOnly),
      ip_page_ms: median(indexed),
      ip_page_without_index_ms: median(filtered),
      ratio_with_index: median(indexed) / median(issuerOnly),
      ratio_without_index: median(filtered) / median(issuerOnly),
      chart_ms: median(chart),
      chart_without_index_ms: median(chartFiltered),
    };
  } finally {
    await store.kv.set(IP_MARK_KEY, new Uint8Array(0));
  }
  console.log(
    `issuer+primitive page: ${ipIndex.ip_page_ms.toFixed(1)} ms with the "ip" index (×${
      ipIndex.ratio_with_index.toFixed(2)
    } the issuer page), ${ipIndex.ip_page_without_index_ms.toFixed(1)} ms without (×${
      ipIndex.ratio_without_index.toFixed(2)
    }); chart ${ipIndex.chart_ms.toFixed(0)} ms with, ${
      ipIndex.chart_without_index_ms.toFixed(0)
    } ms without`,
  );
}
await ledger.close();

// Over loopback HTTP: the page a console fetches, beside GET /v1/log/checkpoint (same server).
const token = "bench-entries-page-token-0123456789";
const server = await startServer({
  host: "127.0.0.1",
  port: 0,
  dataDir: dir,
  config: {
    ...DEFAULT_CONFIG,
    apiKeys: parseApiKeys(`${token}:ledger:read`),
    rateLimit: null,
    accessLog: () => {},
    verifyWorkers: 0,
  },
  signals: false,
  status: () => {},
});
const base = `http://127.0.0.1:${server.addr.port}`;
const get = async (path: string) => {
  const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const bytes = (await r.arrayBuffer()).byteLength;
  if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
  return bytes;
};
const http: Record<string, { ms: number; bytes: number; checkpoint_ms: number }> = {};
for (
  const [name, path] of [
    ["no filter", "/v1/log/entries?limit=100"],
    ["issuer + primitive", "/v1/log/entries?issuer=bank-03&primitive=drift&limit=100"],
    ["issuer + primitive, limit 1000", "/v1/log/entries?issuer=bank-03&primitive=drift&limit=1000"],
  ] as const
) {
  const bytes = await get(path);
  const ms: number[] = [];
  const cp: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    await get(path);
    ms.push(performance.now() - t);
    t = performance.now();
    await get("/v1/log/checkpoint");
    cp.push(performance.now() - t);
  }
  http[name] = { ms: median(ms), bytes, checkpoint_ms: median(cp) };
  console.log(
    `HTTP ${name.padEnd(32)} ${median(ms).toFixed(1).padStart(7)} ms  ${bytes} B   (checkpoint ${
      median(cp).toFixed(1)
    } ms)`,
  );
}
await server.shutdown();
await server.finished;
console.log(
  `chart: ${chartPoints} points in ${chartPages} pages of ≤1000: ${median(chart).toFixed(0)} ms`,
);
if (keep === undefined) await Deno.remove(dir, { recursive: true });

const out = {
  date: new Date().toISOString(),
  entries: ENTRIES,
  limit: LIMIT,
  rounds: ROUNDS,
  build_s: buildS,
  goal_ms: 200,
  pages: rows,
  http,
  chart: { points: chartPoints, pages: chartPages, ms: median(chart) },
  ip_index: ipIndex,
  note:
    "page_ms: median Ledger.query; read_same_ms: the page's entries by readEntry, concurrently; read_scanned_ms: every index hit the query scanned, by readEntry, concurrently (what a filter that reads envelopes must read); read_range_ms: readEntries of 100 consecutive entries; all in the same rounds. Scanned counts hits returned by scanIndex (a combined issuer+primitive selection also reads entries inside the store).",
};
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/entries_page.json", import.meta.url),
  JSON.stringify(out, null, 2) + "\n",
);
console.log("wrote benchmarks/results/entries_page.json");
