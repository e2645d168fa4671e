/**
 * Tile micro benchmark: read the leaf hashes of every entry of a log
 * through C2SP tiles (`TileHashReader`: one fetch per 256 hashes, each tile
 * authenticated against the root) beside per-index reads (one request per
 * hash, as a remote audit without tiles does), in the same run:
 *
 * 1. over loopback HTTP (Deno.serve): tiles vs one GET per hash, both with
 *    16 requests in flight;
 * 2. in process: `TileHashReader` over an in-memory tile map vs the
 *    `MemoryHashStore` it was built from (the cost of authentication).
 *
 * Rates are medians over interleaved rounds. Per-index HTTP reads a sample
 * of at most 5,000 hashes per round (its rate does not depend on N).
 *
 * Run: deno run -A benchmarks/tiles.ts [--entries N] [--quick]
 * Writes benchmarks/results/tiles.json.
 *
 * @module
 */
import { leafHash, MemoryHashStore, storedHashIndex, treeHash } from "../ledger/merkle/mod.ts";
import {
  formatTilePath,
  hashTilesForSize,
  readTileData,
  TileHashReader,
} from "../ledger/tiles/mod.ts";
import { median } from "./_paired.ts";

function argValue(name: string, def: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : def;
}
const quick = Deno.args.includes("--quick");
const N = argValue("--entries", quick ? 10_000 : 100_000);
const ROUNDS = quick ? 2 : 5;
const SAMPLE = Math.min(N, quick ? 1000 : 5000);
const CONCURRENCY = 16;
const CHUNK = 4096;

// The log: leaf hashes of N small leaves, and the tiles a log would serve.
const t0 = performance.now();
const store = new MemoryHashStore();
for (let i = 0; i < N; i += CHUNK) {
  const hashes = [];
  for (let j = i; j < Math.min(N, i + CHUNK); j++) {
    hashes.push(leafHash(new TextEncoder().encode(`entry ${j}`)));
  }
  await store.appendLeafHashes(hashes);
}
const root = await treeHash(N, store);
const tiles = new Map<string, Uint8Array>();
for (const t of hashTilesForSize(N)) tiles.set(formatTilePath(t), await readTileData(t, store));
console.log(
  `built a ${N}-entry log and ${tiles.size} tiles in ${(performance.now() - t0).toFixed(0)} ms`,
);

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  const path = new URL(req.url).pathname.slice(1);
  if (path.startsWith("hash/")) {
    const [h] = await store.readHashes([Number(path.slice(5))]);
    return new Response(h as Uint8Array<ArrayBuffer>);
  }
  const t = tiles.get(path);
  return t
    ? new Response(t as Uint8Array<ArrayBuffer>)
    : new Response("not found", { status: 404 });
});
const base = `http://127.0.0.1:${server.addr.port}/`;

async function get(path: string): Promise<Uint8Array> {
  const res = await fetch(base + path);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`${res.status} ${path}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

const leafIndexes = Array.from({ length: N }, (_, i) => storedHashIndex(0, i));

async function readAll(reader: { readHashes(x: number[]): Promise<Uint8Array[]> }) {
  let n = 0;
  for (let i = 0; i < N; i += CHUNK) {
    n += (await reader.readHashes(leafIndexes.slice(i, i + CHUNK))).length;
  }
  if (n !== N) throw new Error("short read");
}

/** Entries per second of `fn` reading `count` hashes. */
async function rate(count: number, fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return count / ((performance.now() - t) / 1000);
}

const r = {
  httpTiles: [] as number[],
  httpPerIndex: [] as number[],
  memTiles: [] as number[],
  memDirect: [] as number[],
};
let fetches = 0;
for (let round = 0; round < ROUNDS; round++) {
  r.httpTiles.push(
    await rate(N, async () => {
      const reader = new TileHashReader(N, root, get, { concurrency: CONCURRENCY });
      await readAll(reader);
      fetches = reader.fetches;
    }),
  );
  r.httpPerIndex.push(
    await rate(SAMPLE, async () => {
      let next = 0;
      const worker = async () => {
        while (next < SAMPLE) {
          const i = next++;
          const h = await get(`hash/${leafIndexes[i]}`);
          if (h.length !== 32) throw new Error("bad hash");
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    }),
  );
  r.memTiles.push(
    await rate(
      N,
      () => readAll(new TileHashReader(N, root, (p) => Promise.resolve(tiles.get(p)!))),
    ),
  );
  r.memDirect.push(await rate(N, () => readAll(store)));
}
await server.shutdown();

const m = {
  httpTiles: Math.round(median(r.httpTiles)),
  httpPerIndex: Math.round(median(r.httpPerIndex)),
  memTiles: Math.round(median(r.memTiles)),
  memDirect: Math.round(median(r.memDirect)),
};
const rows = [
  ["loopback HTTP, tiles (TileHashReader)", m.httpTiles, `${fetches} requests for ${N} hashes`],
  ["loopback HTTP, one GET per hash", m.httpPerIndex, `${SAMPLE} requests sampled`],
  ["in process, tiles (authenticated)", m.memTiles, "tile map, no I/O"],
  ["in process, MemoryHashStore direct", m.memDirect, "no authentication"],
];
console.log(`\nleaf hashes read per second, ${N}-entry log, median of ${ROUNDS} rounds`);
console.log("| reader | hashes/s | note |\n| --- | ---: | --- |");
for (const [name, v, note] of rows) {
  console.log(`| ${name} | ${v.toLocaleString("en")} | ${note} |`);
}
console.log(`tiles / per-index over HTTP: ${(m.httpTiles / m.httpPerIndex).toFixed(1)}×`);
console.log(
  `authenticated tiles / direct store in process: ${(m.memTiles / m.memDirect).toPrecision(2)}`,
);

const out = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  machine: "2 cores (shared)",
  // The machine is shared: absolute rates move with the load, the ratios less.
  load_average_1m: Number(Deno.loadavg()[0].toFixed(2)),
  quick,
  entries: N,
  rounds: ROUNDS,
  concurrency: CONCURRENCY,
  http_tiles_hashes_per_s: m.httpTiles,
  http_tiles_requests: fetches,
  http_per_index_hashes_per_s: m.httpPerIndex,
  http_per_index_sample: SAMPLE,
  ratio_http_tiles_to_per_index: Number((m.httpTiles / m.httpPerIndex).toFixed(2)),
  memory_tiles_hashes_per_s: m.memTiles,
  memory_direct_hashes_per_s: m.memDirect,
  ratio_memory_tiles_to_direct: Number((m.memTiles / m.memDirect).toPrecision(2)),
  rounds_raw: r,
};
await Deno.writeTextFile(
  new URL("./results/tiles.json", import.meta.url),
  JSON.stringify(out, null, 2) + "\n",
);
