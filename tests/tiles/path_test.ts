/**
 * Tile paths (C2SP tlog-tiles): the spec's own examples, round trips, and
 * strict rejection of every non-canonical spelling with a named rule.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatTileIndex,
  formatTilePath,
  parseTilePath,
  type Tile,
  TilePathError,
} from "../../ledger/tiles/path.ts";

Deno.test("tile index encoding: the spec's and tlog's examples", () => {
  // tlog-tiles: "index 1234067 will be encoded as x001/x234/067".
  assert.equal(formatTileIndex(1234067), "x001/x234/067");
  // tlog tile.go: "123456789 encodes as x123/x456/789".
  assert.equal(formatTileIndex(123456789), "x123/x456/789");
  const table: [number, string][] = [
    [0, "000"],
    [7, "007"],
    [999, "999"],
    [1000, "x001/000"],
    [1001, "x001/001"],
    [999999, "x999/999"],
    [1000000, "x001/x000/000"],
    [Number.MAX_SAFE_INTEGER, "x009/x007/x199/x254/x740/991"],
  ];
  for (const [n, s] of table) assert.equal(formatTileIndex(n), s, `index ${n}`);
  assert.throws(() => formatTileIndex(-1), RangeError);
  assert.throws(() => formatTileIndex(1.5), RangeError);
});

Deno.test("tile paths: format and parse the spec's forms", () => {
  const table: [Tile, string][] = [
    [{ level: 0, n: 0, width: 256 }, "tile/0/000"],
    [{ level: 0, n: 0, width: 1 }, "tile/0/000.p/1"],
    [{ level: 0, n: 0, width: 255 }, "tile/0/000.p/255"],
    [{ level: 4, n: 1234067, width: 1 }, "tile/4/x001/x234/067.p/1"],
    [{ level: 4, n: 1234067, width: 256 }, "tile/4/x001/x234/067"],
    [{ level: 63, n: 5, width: 256 }, "tile/63/005"],
    [{ level: "entries", n: 1000, width: 256 }, "tile/entries/x001/000"],
    [{ level: "entries", n: 3, width: 112 }, "tile/entries/003.p/112"],
    [{ level: "envelopes", n: 0, width: 9 }, "tile/envelopes/000.p/9"],
  ];
  for (const [tile, path] of table) {
    assert.equal(formatTilePath(tile), path);
    assert.deepEqual(parseTilePath(path), tile, path);
  }
});

Deno.test("tile paths: non-canonical or malformed paths are rejected with the rule", () => {
  const bad: [string, string][] = [
    ["", "prefix"],
    ["/tile/0/000", "prefix"],
    ["tiles/0/000", "prefix"],
    ["tile/0", "prefix"],
    ["tile/00/000", "level"], // leading zero in L
    ["tile/01/000", "level"],
    ["tile/64/000", "level"], // spec: 0 to 63
    ["tile/-1/000", "level"],
    ["tile/+1/000", "level"],
    ["tile/data/000", "level"], // Go's spelling, not C2SP's
    ["tile/8/0/000", "index"], // Go's height element
    ["tile/0/0", "index"], // not zero-padded
    ["tile/0/0000", "index"],
    ["tile/0/x000", "index"], // last element starts with x
    ["tile/0/001/002", "index"], // non-last element without x
    ["tile/0/x001/x002", "index"],
    ["tile/0/x1/002", "index"],
    ["tile/0/X001/002", "index"],
    ["tile/0/00a", "index"],
    ["tile/0/000/", "index"],
    ["tile/0/000.p", "index"],
    ["tile/0/000.p/0", "width"], // W = 0
    ["tile/0/000.p/256", "width"], // a full tile has no .p
    ["tile/0/000.p/300", "width"],
    ["tile/0/000.p/07", "width"], // leading zero in W
    ["tile/0/000.p/+7", "width"],
    ["tile/0/000.p/", "width"],
    ["tile/0/x000/001", "non-canonical"], // needless leading group
    ["tile/entries/x000/x000/001.p/3", "non-canonical"],
    ["tile/0/x009/x007/x199/x254/x740/992", "index"], // 2^53
  ];
  for (const [path, rule] of bad) {
    assert.throws(() => parseTilePath(path), (e: unknown) => {
      assert.ok(e instanceof TilePathError, `${path}: ${e}`);
      assert.equal(e.rule, rule, `${path}: ${e.message}`);
      assert.equal(e.path, path);
      return true;
    });
  }
});

Deno.test("tile paths: formatting rejects impossible tiles", () => {
  const bad: [Tile, string][] = [
    [{ level: 64, n: 0, width: 256 }, "level"],
    [{ level: -1, n: 0, width: 256 }, "level"],
    [{ level: 0.5, n: 0, width: 256 }, "level"],
    [{ level: "data" as "entries", n: 0, width: 256 }, "level"],
    [{ level: 0, n: -1, width: 256 }, "index"],
    [{ level: 0, n: 2 ** 53, width: 256 }, "index"],
    [{ level: 0, n: 0, width: 0 }, "width"],
    [{ level: 0, n: 0, width: 257 }, "width"],
  ];
  for (const [tile, rule] of bad) {
    assert.throws(() => formatTilePath(tile), (e: unknown) => {
      assert.ok(e instanceof TilePathError);
      assert.equal(e.rule, rule, e.message);
      return true;
    });
  }
});

Deno.test("tile paths: every tile round-trips, and each tile has one path (property)", () => {
  const tileArb = fc.record({
    level: fc.oneof(
      fc.integer({ min: 0, max: 63 }),
      fc.constantFrom("entries" as const, "envelopes" as const),
    ),
    n: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.maxSafeNat()),
    width: fc.integer({ min: 1, max: 256 }),
  });
  fc.assert(fc.property(tileArb, (tile) => {
    const path = formatTilePath(tile);
    assert.deepEqual(parseTilePath(path), { ...tile });
    // Prepending an x000 group gives the same number: it must be refused.
    const slash = path.indexOf("/", 5);
    const padded = `${path.slice(0, slash)}/x000${path.slice(slash)}`;
    assert.throws(() => parseTilePath(padded), TilePathError);
  }));
});
