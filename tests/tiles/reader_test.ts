/**
 * The tile-backed HashReader: proofs made from tiles equal proofs made from
 * the stored hashes, for random sizes and indexes; every tampered tile is
 * caught (and, read without authentication, gives proofs that fail to
 * verify); the fetch count shows one request per 256 hashes.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { toHex } from "../../core/bytes.ts";
import { checkRecord, checkTree } from "../ledger/tlog_check.ts";
import {
  type HashReader,
  leafHash,
  ProofError,
  proveRecord,
  proveTree,
  splitStoredHashIndex,
  storedHashCount,
  storedHashIndex,
  treeHash,
} from "../../ledger/merkle/mod.ts";
import {
  formatTilePath,
  hashFromTileData,
  parseTilePath,
  TileAuthError,
  TileHashReader,
  tileSpanOf,
  treeTileAt,
} from "../../ledger/tiles/mod.ts";
import { buildLog, mapFetcher, publish, rootOf, type TestLog } from "./_log.ts";

const hex = (hs: Uint8Array[]) => hs.map(toHex);
const MAX = 2100;
const log: TestLog = await buildLog(MAX);
const served = new Map<string, Uint8Array>();
const published = new Set<number>();
async function serve(size: number): Promise<void> {
  if (!published.has(size)) await publish(log, size, served);
  published.add(size);
}

function isAuthError(rule: string) {
  return (e: unknown) => {
    assert.ok(e instanceof TileAuthError, String(e));
    assert.equal(e.rule, rule, e.message);
    return true;
  };
}

Deno.test("proofs from tiles equal proofs from stored hashes (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: MAX }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      async (size, a, b, c) => {
        await serve(size);
        const root = await rootOf(log, size);
        const tiles = new TileHashReader(size, root, mapFetcher(served), { cacheTiles: c % 4 });
        assert.equal(toHex(await treeHash(size, tiles)), toHex(root));
        // A proof in the trusted tree and one in a smaller tree it contains.
        const t = 1 + (b % size);
        const n = a % t;
        const viaTiles = await proveRecord(t, n, tiles);
        assert.deepEqual(hex(viaTiles), hex(await proveRecord(t, n, log.store)));
        checkRecord(viaTiles, t, await rootOf(log, t), n, leafHash(log.leaves[n]));
        const old = 1 + (a % size);
        const cons = await proveTree(size, old, tiles);
        assert.deepEqual(hex(cons), hex(await proveTree(size, old, log.store)));
        checkTree(cons, size, root, old, await rootOf(log, old));
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("every stored hash of the tree reads back through tiles; nothing outside it", async () => {
  for (const size of [1, 2, 255, 256, 257, 511, 512, 2048, MAX]) {
    await serve(size);
    const root = await rootOf(log, size);
    const fetched: string[] = [];
    const tiles = new TileHashReader(size, root, mapFetcher(served, fetched));
    const all = Array.from({ length: storedHashCount(size) }, (_, i) => i);
    assert.deepEqual(hex(await tiles.readHashes(all)), hex(await log.store.readHashes(all)));
    // One fetch per tile of the tree, none twice.
    assert.equal(new Set(fetched).size, fetched.length);
    assert.equal(tiles.fetches, fetched.length);
    await assert.rejects(tiles.readHashes([all.length]), isAuthError("not-in-tree"));
    await assert.rejects(tiles.readHashes([-1]), isAuthError("not-in-tree"));
  }
  const empty = new TileHashReader(0, new Uint8Array(32), mapFetcher(served));
  await assert.rejects(empty.readHashes([0]), isAuthError("not-in-tree"));
});

Deno.test("leaf hashes of a whole log: one fetch per 256 entries, cached tiles reused", async () => {
  const size = MAX;
  await serve(size);
  const root = await rootOf(log, size);
  const tiles = new TileHashReader(size, root, mapFetcher(served));
  const leaves = Array.from({ length: size }, (_, i) => storedHashIndex(0, i));
  const got = await tiles.readHashes(leaves);
  assert.deepEqual(hex(got), log.leaves.map((l) => toHex(leafHash(l))));
  // 8 full level-0 tiles + the partial level-0 and level-1 tiles.
  assert.equal(tiles.fetches, 10);
  await proveRecord(size, 1000, tiles);
  await proveTree(size, 1000, tiles);
  assert.equal(tiles.fetches, 10, "proofs reuse the cached, authenticated tiles");
  // readTile returns the authenticated bytes of a tree tile.
  assert.deepEqual(await tiles.readTile(0, 8), served.get("tile/0/008.p/52"));
  await assert.rejects(tiles.readTile(0, 9), RangeError);
  await assert.rejects(tiles.readTile(2, 0), RangeError);
});

Deno.test("a deleted partial tile is read from the full tile that replaced it", async () => {
  await serve(300);
  await serve(600);
  const root = await rootOf(log, 300);
  const m = new Map(served);
  m.delete("tile/0/001.p/44"); // the log grew past 512 and pruned it
  assert.ok(m.has("tile/0/001"));
  const tiles = new TileHashReader(300, root, mapFetcher(m));
  const p = await proveRecord(300, 299, tiles);
  assert.deepEqual(hex(p), hex(await proveRecord(300, 299, log.store)));
  // Without the full tile either, the fetcher's own error surfaces.
  m.delete("tile/0/001");
  const gone = new TileHashReader(300, root, mapFetcher(m));
  await assert.rejects(proveRecord(300, 299, gone), /404 tile\/0\/001\.p\/44/);
});

Deno.test("wrong root, wrong tile length and tampered tiles are TileAuthErrors", async () => {
  await serve(700);
  const root = await rootOf(log, 700);
  const wrongRoot = root.slice();
  wrongRoot[0] ^= 1;
  const bad = new TileHashReader(700, wrongRoot, mapFetcher(served));
  await assert.rejects(proveRecord(700, 3, bad), isAuthError("root-mismatch"));
  // The failure is not cached: a later call fails the same way.
  await assert.rejects(proveRecord(700, 3, bad), isAuthError("root-mismatch"));

  const short = new Map(served);
  short.set("tile/0/000", served.get("tile/0/000")!.subarray(0, 8160));
  const shortReader = new TileHashReader(700, root, mapFetcher(short));
  await assert.rejects(proveRecord(700, 3, shortReader), isAuthError("tile-length"));

  const tampered = new Map(served);
  const t = served.get("tile/0/001")!.slice();
  t[100] ^= 0x80;
  tampered.set("tile/0/001", t);
  const r = new TileHashReader(700, root, mapFetcher(tampered));
  await assert.rejects(proveRecord(700, 300, r), (e: unknown) => {
    assert.ok(isAuthError("parent-mismatch")(e));
    assert.equal((e as TileAuthError).path, "tile/0/001");
    return true;
  });
  // Proofs that need no hash from the tampered tile still work.
  await proveRecord(700, 600, r);
});

/** A reader that trusts tile bytes as they are (what authentication prevents). */
function naiveReader(size: number, m: Map<string, Uint8Array>): HashReader {
  return {
    readHashes: (indexes) =>
      Promise.resolve(indexes.map((x) => {
        const [level, n] = splitStoredHashIndex(x);
        const s = tileSpanOf(level, n);
        const tile = treeTileAt(size, s.tileLevel, s.tileN)!;
        return hashFromTileData(m.get(formatTilePath(tile))!, s.start, s.end);
      })),
  };
}

Deno.test("tamper a byte of a tile a proof reads: the reader refuses, the proof would not verify (property)", async () => {
  let changedProofs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: MAX }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      async (size, a, pickTile, pickByte, flip) => {
        await serve(size);
        const root = await rootOf(log, size);
        const n = a % size;
        // Which tiles does this proof read?
        const fetched: string[] = [];
        await proveRecord(size, n, new TileHashReader(size, root, mapFetcher(served, fetched)));
        const path = fetched[pickTile % fetched.length];
        const bytes = served.get(path)!.slice();
        bytes[pickByte % bytes.length] ^= flip;
        const tampered = new Map(served).set(path, bytes);
        const expected = parseTilePath(path).width === 256 ? "parent-mismatch" : "root-mismatch";
        await assert.rejects(
          proveRecord(size, n, new TileHashReader(size, root, mapFetcher(tampered))),
          isAuthError(expected),
        );
        // Read naively, the tampered tile yields a proof the verifier rejects,
        // unless the flipped byte is not part of this proof at all.
        const naive = await proveRecord(size, n, naiveReader(size, tampered));
        const honest = await proveRecord(size, n, log.store);
        if (hex(naive).join() !== hex(honest).join()) {
          changedProofs++;
          assert.throws(
            () => checkRecord(naive, size, root, n, leafHash(log.leaves[n])),
            ProofError,
          );
        }
      },
    ),
    { numRuns: 80 },
  );
  assert.ok(changedProofs > 10, `only ${changedProofs} runs tampered a hash the proof uses`);
});

Deno.test("a huge tree costs one fetch per partial tile to authenticate, not a listing", async () => {
  const size = 2 ** 40 + 5;
  const fetched: string[] = [];
  const zeros = (path: string) => {
    fetched.push(path);
    return Promise.resolve(new Uint8Array(parseTilePath(path).width * 32));
  };
  const r = new TileHashReader(size, new Uint8Array(32), zeros);
  await assert.rejects(r.readHashes([storedHashIndex(0, 2 ** 39)]), isAuthError("root-mismatch"));
  assert.deepEqual(fetched, ["tile/0/x004/x294/x967/296.p/5", "tile/5/000.p/1"]);
});

Deno.test("constructor checks its arguments", () => {
  const f = mapFetcher(served);
  assert.throws(() => new TileHashReader(-1, new Uint8Array(32), f), RangeError);
  assert.throws(() => new TileHashReader(2 ** 52, new Uint8Array(32), f), RangeError);
  assert.throws(() => new TileHashReader(1, new Uint8Array(31), f), RangeError);
  assert.throws(() => new TileHashReader(1, new Uint8Array(32), f, { cacheTiles: -1 }), RangeError);
  assert.throws(() => new TileHashReader(1, new Uint8Array(32), f, { concurrency: 0 }), RangeError);
});

Deno.test("concurrent reads share fetches and respect the concurrency limit", async () => {
  const size = MAX;
  await serve(size);
  const root = await rootOf(log, size);
  let inFlight = 0;
  let peak = 0;
  const fetched: string[] = [];
  const slow = async (path: string) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    fetched.push(path);
    await new Promise((r) => setTimeout(r, 2));
    inFlight--;
    return served.get(path)!.slice();
  };
  const tiles = new TileHashReader(size, root, slow, { concurrency: 3, cacheTiles: 0 });
  const leaves = Array.from({ length: size }, (_, i) => storedHashIndex(0, i));
  const halves = await Promise.all([
    tiles.readHashes(leaves),
    tiles.readHashes(leaves.slice().reverse()),
    proveRecord(size, 5, tiles),
  ]);
  assert.deepEqual(hex(halves[0]), log.leaves.map((l) => toHex(leafHash(l))));
  assert.deepEqual(hex(halves[1]).reverse(), hex(halves[0]));
  assert.ok(peak <= 3, `peak of ${peak} fetches in flight`);
  assert.equal(new Set(fetched).size, fetched.length, "no tile fetched twice while in flight");
});

Deno.test("a tree past 65,536 entries: level-1 full tiles authenticated by level 2", async () => {
  const size = 65536 + 300;
  const bigLog = await buildLog(size);
  const m = await publish(bigLog, size);
  const root = await rootOf(bigLog, size);
  const tiles = new TileHashReader(size, root, mapFetcher(m));
  for (
    const [t, n] of [[size, 0], [size, 65535], [size, 65536], [size, size - 1], [65800, 40000]]
  ) {
    const p = await proveRecord(t, n, tiles);
    assert.deepEqual(hex(p), hex(await proveRecord(t, n, bigLog.store)), `${n} in ${t}`);
  }
  for (const old of [1, 256, 65536, 65537, size]) {
    assert.deepEqual(
      hex(await proveTree(size, old, tiles)),
      hex(await proveTree(size, old, bigLog.store)),
    );
  }
  // A hash at level 8 (the root of 256 entries) comes from the level-1 full tile.
  const x = storedHashIndex(8, 200);
  assert.deepEqual(hex(await tiles.readHashes([x])), hex(await bigLog.store.readHashes([x])));
  const bad = new Map(m);
  const t1 = m.get("tile/1/000")!.slice();
  t1[200 * 32] ^= 1;
  bad.set("tile/1/000", t1);
  const r = new TileHashReader(size, root, mapFetcher(bad));
  await assert.rejects(r.readHashes([x]), (e: unknown) => {
    assert.ok(isAuthError("parent-mismatch")(e));
    assert.equal((e as TileAuthError).path, "tile/1/000");
    return true;
  });
  // Every level-0 tile below the bad level-1 tile is now unreadable too.
  await assert.rejects(r.readHashes([storedHashIndex(0, 7)]), isAuthError("parent-mismatch"));
  // The tree's top: the level-2 partial tile is checked against the root.
  const badTop = new Map(m).set("tile/2/000.p/1", new Uint8Array(32));
  await assert.rejects(
    new TileHashReader(size, root, mapFetcher(badTop)).readHashes([0]),
    isAuthError("root-mismatch"),
  );
});
