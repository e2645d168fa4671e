/**
 * Which tiles a tree has (C2SP tlog-tiles' own examples), and what a tile
 * holds: checked against RFC 6962's MTH formula as the spec states it,
 * "MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l])".
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { toHex } from "../../core/bytes.ts";
import { splitStoredHashIndex, storedHashCount } from "../../ledger/merkle/mod.ts";
import {
  bundlesForSize,
  fullTileHash,
  hashFromTileData,
  hashTilesForSize,
  newBundles,
  newHashTiles,
  readTileData,
  type Tile,
  tileExists,
  tileSpanOf,
  treeTileAt,
} from "../../ledger/tiles/mod.ts";
import { buildLog, mth } from "./_log.ts";

function summary(tiles: Tile[]): string[] {
  // Group runs of full tiles: "L:full×count", partials "L:N.p/W".
  const out: string[] = [];
  for (const t of tiles) {
    const last = out[out.length - 1];
    if (t.width === 256) {
      const m = last?.match(/^(\S+):full×(\d+)$/);
      if (m && m[1] === String(t.level)) out[out.length - 1] = `${t.level}:full×${+m[2] + 1}`;
      else out.push(`${t.level}:full×1`);
    } else out.push(`${t.level}:${t.n}.p/${t.width}`);
  }
  return out;
}

Deno.test("hash tiles for a size: the spec's examples", () => {
  // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one
  // partial level 0 tile of width 112, one full level 1 tile, one partial
  // level 1 tile of width 17, and one partial level 2 tile of width 1."
  assert.deepEqual(summary(hashTilesForSize(70000)), [
    "0:full×273",
    "0:273.p/112",
    "1:full×1",
    "1:1.p/17",
    "2:0.p/1",
  ]);
  // "a tree of size 256 will be represented by a full level 0 tile and a
  // partial level 1 tile of width 1."
  assert.deepEqual(hashTilesForSize(256), [
    { level: 0, n: 0, width: 256 },
    { level: 1, n: 0, width: 1 },
  ]);
  // "Empty tiles MUST NOT be served."
  assert.deepEqual(hashTilesForSize(0), []);
  assert.deepEqual(hashTilesForSize(1), [{ level: 0, n: 0, width: 1 }]);
  assert.deepEqual(summary(hashTilesForSize(65536)), ["0:full×256", "1:full×1", "2:0.p/1"]);
  // The largest tree: one partial tile per level, up to level 6 (52 bits).
  assert.deepEqual(summary(newHashTiles(2 ** 52 - 2, 2 ** 52 - 1)), [
    `0:${2 ** 44 - 1}.p/255`,
    `1:${2 ** 36 - 1}.p/255`,
    `2:${2 ** 28 - 1}.p/255`,
    `3:${2 ** 20 - 1}.p/255`,
    "4:4095.p/255",
    "5:15.p/255",
    "6:0.p/15",
  ]);
  assert.throws(() => hashTilesForSize(-1), RangeError);
  assert.throws(() => hashTilesForSize(2 ** 52), RangeError);
});

Deno.test("entry bundles for a size", () => {
  assert.deepEqual(summary(bundlesForSize(70000)), ["entries:full×273", "entries:273.p/112"]);
  assert.deepEqual(bundlesForSize(256, "envelopes"), [{ level: "envelopes", n: 0, width: 256 }]);
  assert.deepEqual(bundlesForSize(0), []);
  assert.deepEqual(newBundles(255, 513), [
    { level: "entries", n: 0, width: 256 },
    { level: "entries", n: 1, width: 256 },
    { level: "entries", n: 2, width: 1 },
  ]);
  assert.deepEqual(newBundles(256, 256), []);
  assert.throws(() => newBundles(3, 2), RangeError);
});

Deno.test("new tiles on growth = the new size's tiles not already full at the old size", () => {
  const key = (t: Tile) => `${t.level}/${t.n}/${t.width}`;
  fc.assert(fc.property(
    fc.nat({ max: 300_000 }),
    fc.nat({ max: 300_000 }),
    (a, b) => {
      const [old, neu] = a <= b ? [a, b] : [b, a];
      const before = new Set(hashTilesForSize(old).filter((t) => t.width === 256).map(key));
      const want = hashTilesForSize(neu).filter((t) => !before.has(key(t))).map(key);
      assert.deepEqual(newHashTiles(old, neu).map(key), want);
      const beforeB = new Set(bundlesForSize(old).filter((t) => t.width === 256).map(key));
      const wantB = bundlesForSize(neu).filter((t) => !beforeB.has(key(t))).map(key);
      assert.deepEqual(newBundles(old, neu).map(key), wantB);
    },
  ));
  assert.throws(() => newHashTiles(5, 4), RangeError);
});

Deno.test("tile contents equal the spec's MTH formula (size 65,536 + 3)", async () => {
  const size = 65536 + 3;
  const log = await buildLog(size);
  const tiles = hashTilesForSize(size);
  assert.deepEqual(summary(tiles), ["0:full×256", "0:256.p/3", "1:full×1", "2:0.p/1"]);
  // The machine's SHA-256 is slow: check every partial tile, a spread of
  // full level-0 tiles and of level-1 positions, and compute the one
  // 65,536-leaf MTH once.
  const mthCache = new Map<string, Uint8Array>();
  const cachedMth = (lo: number, hi: number) => {
    const k = `${lo}-${hi}`;
    if (!mthCache.has(k)) mthCache.set(k, mth(log.leaves, lo, hi));
    return mthCache.get(k)!;
  };
  let checked = 0;
  for (const t of tiles) {
    const l = t.level as number;
    if (l === 0 && t.width === 256 && t.n % 37 !== 0) continue;
    const data = await readTileData(t, log.store);
    assert.equal(data.length, t.width * 32);
    for (let i = 0; i < t.width; i++) {
      if (l === 1 && i % 17 !== 5) continue;
      const lo = (t.n * 256 + i) * 256 ** l;
      const want = cachedMth(lo, lo + 256 ** l);
      assert.equal(toHex(data.subarray(i * 32, (i + 1) * 32)), toHex(want), `${l}/${t.n}[${i}]`);
      checked++;
    }
    if (t.width === 256) {
      // A full tile hashes to its subtree's MTH, which its parent lists.
      const lo = t.n * 256 ** (l + 1);
      assert.equal(toHex(fullTileHash(data)), toHex(cachedMth(lo, lo + 256 ** (l + 1))));
    }
  }
  assert.equal(checked, 7 * 256 + 3 + 15 + 1);
});

Deno.test("every stored hash is recomputed from its tile span (property)", async () => {
  const log = await buildLog(3000);
  const tileCache = new Map<string, Uint8Array>();
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 1, max: 3000 }),
    fc.nat(),
    async (size, pick) => {
      const x = pick % storedHashCount(size);
      const [level, n] = splitStoredHashIndex(x);
      const s = tileSpanOf(level, n);
      const tile = treeTileAt(size, s.tileLevel, s.tileN);
      assert.ok(tile !== undefined && tile.width >= s.end, `tile for ${x} in ${size}`);
      const k = `${tile.level}/${tile.n}/${tile.width}`;
      let data = tileCache.get(k);
      if (!data) tileCache.set(k, data = await readTileData(tile, log.store));
      const [want] = await log.store.readHashes([x]);
      assert.equal(toHex(hashFromTileData(data, s.start, s.end)), toHex(want));
    },
  ));
  assert.equal(treeTileAt(256, 0, 1), undefined);
  assert.deepEqual(treeTileAt(300, 0, 1), { level: 0, n: 1, width: 44 });
  assert.throws(() => hashFromTileData(new Uint8Array(64), 1, 3), RangeError);
  assert.throws(() => hashFromTileData(new Uint8Array(96), 0, 3), /power-of-two/);
  assert.throws(() => fullTileHash(new Uint8Array(64)), RangeError);
});

Deno.test("tileExists: exactly the tiles and bundles of this size or a smaller one", () => {
  fc.assert(
    fc.property(fc.nat({ max: 200_000 }), fc.nat({ max: 200_000 }), (a, b) => {
      const [small, size] = a <= b ? [a, b] : [b, a];
      for (const t of [...hashTilesForSize(small), ...bundlesForSize(small, "envelopes")]) {
        assert.ok(tileExists(t, size), `${JSON.stringify(t)} in ${size}`);
      }
    }),
    { numRuns: 50 },
  );
  assert.equal(tileExists({ level: 0, n: 0, width: 256 }, 255), false);
  assert.equal(tileExists({ level: 0, n: 0, width: 255 }, 255), true);
  assert.equal(tileExists({ level: 1, n: 0, width: 1 }, 255), false);
  assert.equal(tileExists({ level: 1, n: 0, width: 1 }, 256), true);
  assert.equal(tileExists({ level: 1, n: 0, width: 2 }, 511), false);
  assert.equal(tileExists({ level: "entries", n: 1, width: 3 }, 259), true);
  assert.equal(tileExists({ level: "entries", n: 1, width: 4 }, 259), false);
  assert.equal(tileExists({ level: 2, n: 0, width: 1 }, 65535), false);
});
