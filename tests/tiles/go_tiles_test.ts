/**
 * Independent check with Go's own golang.org/x/mod/sumdb/tlog
 * (tests/go/tiles): we write a log's tiles and entry bundles to a
 * directory at their C2SP paths; Go reads them through a `tlog.TileReader`
 * over files, authenticates them with `tlog.TileHashReader` against the
 * tree size and root, proves inclusion and consistency (we compare its
 * proofs and old roots to ours byte for byte), and checks every entry of
 * every bundle against the level-0 hashes; it does the same once more
 * fetching the tiles over loopback HTTP (GET <prefix>/tile/…, the way it
 * will read a server's tiled API). A tampered tile or bundle must
 * make Go fail. Go also lists each size's tiles with `tlog.NewTiles` and
 * `Tile.Path()`, and parses paths with `tlog.ParseTilePath`: our paths and
 * verdicts must be Go's, with the one documented difference that tlog
 * writes the tile height (`tile/8/…`, `tile/8/data/…`) which C2SP drops.
 *
 * Needs `go` and Debian's golang-golang-x-mod-dev; without them this test
 * FAILS (it is never skipped).
 */
import assert from "node:assert/strict";
import { toBase64 } from "../../core/bytes.ts";
import { proveRecord, proveTree } from "../../ledger/merkle/mod.ts";
import {
  bundlesForSize,
  formatTilePath,
  hashTilesForSize,
  newHashTiles,
  parseTilePath,
  type Tile,
} from "../../ledger/tiles/mod.ts";
import { buildGo, type GoResponse, runGo } from "./_go.ts";
import { buildLog, publish, rootOf } from "./_log.ts";

async function writeTiles(dir: string, tiles: Map<string, Uint8Array>): Promise<void> {
  for (const [path, data] of tiles) {
    const file = `${dir}/${path}`;
    await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(file, data);
  }
}

/** tlog's path of a tile (height element, `data` for entries) → the C2SP path. */
function fromGoPath(p: string): string {
  return p.replace(/^tile\/8\/data\//, "tile/entries/").replace(/^tile\/8\//, "tile/");
}

const SIZES = [1, 255, 256, 257, 65536 + 3];

Deno.test("Go's tlog proves inclusion and consistency from our tiles and checks our bundles", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "regledger-go-tiles-" });
  try {
    const bin = await buildGo(tmp);
    const big = SIZES[SIZES.length - 1];
    const log = await buildLog(big);
    const served = new Map<string, Uint8Array>();
    for (const s of SIZES) await publish(log, s, served); // a log that signed each size
    await writeTiles(`${tmp}/log`, served);
    // Two damaged copies: one hash bit in a full level-0 tile, one leaf bit in a bundle.
    const badTile = new Map(served);
    const t = served.get("tile/0/100")!.slice();
    t[5 * 32 + 9] ^= 4;
    badTile.set("tile/0/100", t);
    await writeTiles(`${tmp}/bad-tile`, badTile);
    const badBundle = new Map(served);
    const b = served.get("tile/entries/200")!.slice();
    b[b.length - 1] ^= 1; // last byte of entry 200·256 + 255
    badBundle.set("tile/entries/200", b);
    await writeTiles(`${tmp}/bad-bundle`, badBundle);

    // The same tiles over HTTP: a static file server of the C2SP paths.
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const data = served.get(new URL(req.url).pathname.slice(1));
      return data
        ? new Response(data as Uint8Array<ArrayBuffer>)
        : new Response("not found", { status: 404 });
    });
    const prefix = `http://127.0.0.1:${server.addr.port}/`;

    const trees = [];
    const expect: { size: number; inclusion: number[]; consistency: number[] }[] = [];
    for (const size of SIZES) {
      const spots = [0, 1, 254, 255, 256, 257, 511, 4097, 65535, 65536, 65537, size - 2, size - 1];
      const inclusion = [...new Set(spots.filter((i) => i >= 0 && i < size))];
      const consistency = [...new Set([1, 2, 255, 256, 300, 65535, size].filter((o) => o <= size))];
      expect.push({ size, inclusion, consistency });
      const root = toBase64(await rootOf(log, size));
      trees.push({ dir: `${tmp}/log`, size, root, inclusion, consistency, audit: true });
    }
    trees.push({ ...trees[trees.length - 1], dir: prefix }); // the big tree again, over HTTP
    expect.push(expect[expect.length - 1]);
    const bigRoot = toBase64(await rootOf(log, big));
    trees.push({
      dir: `${tmp}/bad-tile`,
      size: big,
      root: bigRoot,
      inclusion: [],
      consistency: [],
      audit: true,
    });
    trees.push({
      dir: `${tmp}/bad-bundle`,
      size: big,
      root: bigRoot,
      inclusion: [],
      consistency: [],
      audit: true,
    });
    trees.push({
      dir: `${tmp}/log`,
      size: 257,
      root: bigRoot,
      inclusion: [3],
      consistency: [],
      audit: false,
    });
    let res: GoResponse;
    try {
      res = await runGo(bin, { trees, path_sizes: [], growth: [], parse: [] });
    } finally {
      await server.shutdown();
    }
    for (const [i, e] of expect.entries()) {
      const got = res.trees[i];
      assert.equal(trees[i].size, e.size);
      assert.equal(got.err, "", `size ${e.size}: ${got.err}`);
      assert.equal(got.audited, e.size, "Go checked every entry against its level-0 hash");
      for (const [j, n] of e.inclusion.entries()) {
        const r = got.inclusion[j];
        assert.equal(r.err, "", `inclusion ${n} in ${e.size}: ${r.err}`);
        const ours = (await proveRecord(e.size, n, log.store)).map(toBase64);
        assert.deepEqual(r.proof ?? [], ours, `inclusion ${n} in ${e.size}`);
      }
      for (const [j, old] of e.consistency.entries()) {
        const r = got.consistency[j];
        assert.equal(r.err, "", `consistency ${old}→${e.size}: ${r.err}`);
        assert.equal(r.root, toBase64(await rootOf(log, old)));
        const ours = (await proveTree(e.size, old, log.store)).map(toBase64);
        assert.deepEqual(r.proof ?? [], ours, `consistency ${old}→${e.size}`);
      }
    }
    const [tamperedTile, tamperedBundle, wrongRoot] = res.trees.slice(expect.length);
    assert.match(tamperedTile.err, /inconsistent tile/);
    assert.match(tamperedBundle.err, new RegExp(`entry ${200 * 256 + 255} does not match`));
    assert.equal(tamperedBundle.audited, 200 * 256 + 255);
    assert.match(wrongRoot.err, /inconsistent tile|differs from the root/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("our tile paths, tile sets and path verdicts are tlog's", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "regledger-go-paths-" });
  try {
    const bin = await buildGo(tmp);
    const pathSizes = [1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65539, 70000, 1_000_007];
    const growth: [number, number][] = [
      [0, 0],
      [5, 5],
      [255, 257],
      [300, 70000],
      [65535, 65537],
      [2 ** 40, 2 ** 40 + 300],
      [2 ** 52 - 300, 2 ** 52 - 1],
    ];
    const corpus = [
      "tile/0/000",
      "tile/0/000.p/1",
      "tile/0/000.p/255",
      "tile/3/x001/x234/067.p/9",
      "tile/63/x999/999",
      "tile/entries/x001/000",
      "tile/entries/003.p/112",
      "tile/0/x009/x007/x199/x254/x740/991",
      "tile/00/000",
      "tile/01/000",
      "tile/-1/000",
      "tile/+1/000",
      "tile/0/0",
      "tile/0/0000",
      "tile/0/x000",
      "tile/0/001/002",
      "tile/0/x1/002",
      "tile/0/X001/002",
      "tile/0/00a",
      "tile/0/-01",
      "tile/0/x-01/001",
      "tile/0/000.p/0",
      "tile/0/000.p/256",
      "tile/0/000.p/07",
      "tile/0/000.p/+7",
      "tile/0/000.p/",
      "tile/0/000.p",
      "tile/0/x000/001",
      "tile/entries/x000/001.p/3",
      "tile/0/000/",
      "tile/0/ 000",
      "tile/0/000.p/1/2",
      "tile/0/x001/000.p/5",
    ];
    const res = await runGo(bin, { trees: [], path_sizes: pathSizes, growth, parse: corpus });
    const paths = (ts: Tile[]) => ts.map(formatTilePath);
    for (const size of pathSizes) {
      assert.deepEqual(
        paths(hashTilesForSize(size)),
        res.paths[size].map(fromGoPath),
        `size ${size}`,
      );
      assert.deepEqual(paths(bundlesForSize(size)), res.entry_paths[size].map(fromGoPath));
      // Byte for byte, tlog's path is ours with its height element added.
      for (const p of res.paths[size]) assert.equal(`tile/8/${fromGoPath(p).slice(5)}`, p);
    }
    growth.forEach(([a, b], i) => {
      assert.deepEqual(paths(newHashTiles(a, b)), res.growth_paths[i].map(fromGoPath), `${a}→${b}`);
    });
    assert.ok(res.growth_paths[5].includes("tile/8/0/x004/x294/x967/296"));
    corpus.forEach((p, i) => {
      const go = res.parse[i];
      let ours: Tile | undefined;
      try {
        ours = parseTilePath(p);
      } catch {
        ours = undefined;
      }
      assert.equal(
        ours !== undefined,
        go.ok,
        `${p}: ours ${ours ? "accepts" : "rejects"}, Go ${go.err}`,
      );
      if (ours) {
        assert.deepEqual(
          [ours.level === "entries" ? -1 : ours.level, ours.n, ours.width],
          [go.level, go.n, go.w],
          p,
        );
      }
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
