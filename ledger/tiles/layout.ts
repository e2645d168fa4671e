/**
 * Which tiles a tree has, and how tiles relate to the dense stored-hash
 * numbering of `../merkle.ts` (C2SP `tlog-tiles`, tlog's `Tile` model with
 * height 8).
 *
 * A hash tile at level L, index N, width W lists the stored hashes
 * `(8·L, N·256 + i)` for i in [0, W): the roots of the subtrees of 256^L
 * entries starting at entry (N·256 + i)·256^L. The tree levels 8·L+1 …
 * 8·L+7 are not stored in tiles: they are rebuilt by hashing tile hashes
 * together, so a stored hash at level 8·L + k is the Merkle tree hash of
 * 2^k consecutive hashes of a level-L tile.
 *
 * @module
 */
import { HASH_SIZE, type HashReader, storedHashIndex } from "../merkle/mod.ts";
import { merkleRootOfRun } from "./fast_hash.ts";
import { type BundleKind, checkTile, type Tile, TILE_HEIGHT, TILE_WIDTH } from "./path.ts";

/** Bytes in a full hash tile: 256 hashes of 32 bytes. */
export const FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE;

function checkSize(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v >= 2 ** 52) {
    throw new RangeError(`${name} must be an integer in [0, 2^52), got ${String(v)}`);
  }
}

/** Number of level-L hashes in a tree of `size` entries: floor(size / 256^L). */
function hashesAtLevel(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/**
 * The hash tiles of a tree of `size` entries, level by level from 0: at each
 * level the full tiles, then the partial tile (width `floor(size / 256^L)
 * mod 256`) when that width is not 0. Empty tiles are never listed, so a
 * tree of 256 entries has one full level-0 tile and a level-1 tile of
 * width 1 (the C2SP example).
 *
 * @throws {RangeError} when `size` is not an integer in [0, 2^52).
 */
export function hashTilesForSize(size: number): Tile[] {
  return newHashTiles(0, size);
}

/**
 * The hash tiles to publish when a tree grows from `oldSize` to `newSize`:
 * every full tile completed after `oldSize`, and the partial tiles of
 * `newSize` (a log must serve the partial tiles of every size it signed a
 * checkpoint for, so partial tiles of sizes in between are not listed).
 *
 * @throws {RangeError} unless 0 <= oldSize <= newSize < 2^52.
 */
export function newHashTiles(oldSize: number, newSize: number): Tile[] {
  checkSize("oldSize", oldSize);
  checkSize("newSize", newSize);
  if (oldSize > newSize) throw new RangeError(`oldSize ${oldSize} exceeds newSize ${newSize}`);
  const out: Tile[] = [];
  for (let level = 0; hashesAtLevel(newSize, level) > 0; level++) {
    const oldFull = Math.floor(hashesAtLevel(oldSize, level) / TILE_WIDTH);
    const count = hashesAtLevel(newSize, level);
    const full = Math.floor(count / TILE_WIDTH);
    for (let n = oldFull; n < full; n++) out.push({ level, n, width: TILE_WIDTH });
    const w = count % TILE_WIDTH;
    if (w > 0) out.push({ level, n: full, width: w });
  }
  return out;
}

/**
 * The bundles (`entries` or `envelopes`) of a log of `size` entries: the
 * full bundles, then the partial one of width `size mod 256` if not 0.
 */
export function bundlesForSize(size: number, kind: BundleKind = "entries"): Tile[] {
  return newBundles(0, size, kind);
}

/** The bundles completed or changed when a log grows from `oldSize` to `newSize`. */
export function newBundles(oldSize: number, newSize: number, kind: BundleKind = "entries"): Tile[] {
  checkSize("oldSize", oldSize);
  checkSize("newSize", newSize);
  if (oldSize > newSize) throw new RangeError(`oldSize ${oldSize} exceeds newSize ${newSize}`);
  const out: Tile[] = [];
  const full = Math.floor(newSize / TILE_WIDTH);
  for (let n = Math.floor(oldSize / TILE_WIDTH); n < full; n++) {
    out.push({ level: kind, n, width: TILE_WIDTH });
  }
  if (newSize % TILE_WIDTH > 0) out.push({ level: kind, n: full, width: newSize % TILE_WIDTH });
  return out;
}

/**
 * Tile `n` of hash-tile level `level` as a tree of `size` entries has it:
 * full when the tree holds all 256 of its hashes, otherwise the tree's
 * partial tile at that level; `undefined` when the tree has none of it.
 */
export function treeTileAt(size: number, level: number, n: number): Tile | undefined {
  const count = hashesAtLevel(size, level);
  if (n * TILE_WIDTH >= count) return undefined;
  return { level, n, width: Math.min(TILE_WIDTH, count - n * TILE_WIDTH) };
}

/**
 * Whether a log of `size` entries can serve `tile` (a hash tile or a
 * bundle): all of its `width` hashes or entries exist. A partial tile of a
 * smaller size stays servable (a client holding an older checkpoint may ask
 * for it); a server may still prefer the full tile once it exists.
 *
 * @throws {TilePathError} for a malformed tile.
 * @throws {RangeError} for a size outside [0, 2^52).
 */
export function tileExists(tile: Tile, size: number): boolean {
  checkSize("size", size);
  checkTile(tile);
  const level = typeof tile.level === "number" ? tile.level : 0;
  return tile.n * TILE_WIDTH + tile.width <= hashesAtLevel(size, level);
}

/**
 * Where stored hash (`level`, `n`) lives in the tiles: tile level L =
 * floor(level / 8), tile index, and the range [start, end) of tile hashes
 * whose Merkle tree hash it is (one hash when `level` is a multiple of 8).
 * A tile of width ≥ `end` can produce it.
 */
export function tileSpanOf(level: number, n: number): {
  tileLevel: number;
  tileN: number;
  start: number;
  end: number;
} {
  const tileLevel = Math.floor(level / TILE_HEIGHT);
  const k = level - tileLevel * TILE_HEIGHT; // levels above the tile's hashes
  const span = 2 ** k; // tile hashes under this node
  const first = n * span; // index of its first level-8L hash
  const tileN = Math.floor(first / TILE_WIDTH);
  const start = first - tileN * TILE_WIDTH;
  return { tileLevel, tileN, start, end: start + span };
}

/**
 * The Merkle tree hash of the 2^k hashes `data[start..end)` of a tile
 * (`end - start` must be a power of two), i.e. the stored hash above them.
 */
export function hashFromTileData(data: Uint8Array, start: number, end: number): Uint8Array {
  if (
    !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start ||
    end * HASH_SIZE > data.length
  ) {
    throw new RangeError(`tile data of ${data.length} bytes has no hashes [${start}, ${end})`);
  }
  let span = end - start;
  while (span % 2 === 0) span /= 2;
  if (span !== 1) throw new RangeError(`[${start}, ${end}) is not a power-of-two run of hashes`);
  if (end - start === 1) return data.slice(start * HASH_SIZE, end * HASH_SIZE);
  return subtreeHash(data, start, end);
}

/**
 * MTH of a power-of-two run of tile hashes: `merkleRootOfRun` (fast_hash.ts),
 * the same node hashes without an allocation per node (every level-0 tile an
 * audit reads is authenticated through this, 255 node hashes each).
 */
function subtreeHash(data: Uint8Array, start: number, end: number): Uint8Array {
  if (end - start === 1) return data.subarray(start * HASH_SIZE, end * HASH_SIZE);
  return merkleRootOfRun(data, start, end);
}

/**
 * The hash of a full tile: the Merkle tree hash of its 256 hashes, which is
 * the hash its parent tile lists for it.
 */
export function fullTileHash(data: Uint8Array): Uint8Array {
  if (data.length !== FULL_TILE_BYTES) {
    throw new RangeError(`a full tile is ${FULL_TILE_BYTES} bytes, got ${data.length}`);
  }
  return hashFromTileData(data, 0, TILE_WIDTH);
}

/**
 * The stored hash indexes a hash tile lists, in order (tlog's
 * `ReadTileData` plan).
 */
export function tileHashIndexes(tile: Tile): number[] {
  if (typeof tile.level !== "number") throw new RangeError("not a hash tile");
  const out = new Array<number>(tile.width);
  for (let i = 0; i < tile.width; i++) {
    out[i] = storedHashIndex(TILE_HEIGHT * tile.level, tile.n * TILE_WIDTH + i);
  }
  return out;
}

/**
 * The bytes of a hash tile (its `width` hashes concatenated), read from a
 * {@link HashReader} in one `readHashes` call.
 *
 * @example
 * ```ts
 * import { MemoryHashStore } from "../merkle/mod.ts";
 * import { readTileData } from "./layout.ts";
 * import assert from "node:assert/strict";
 * const store = new MemoryHashStore();
 * for (let i = 0; i < 3; i++) await store.append(new Uint8Array([i]));
 * const tile = await readTileData({ level: 0, n: 0, width: 3 }, store);
 * assert.equal(tile.length, 3 * 32);
 * ```
 *
 * @throws {RangeError} when the reader returns the wrong number or size of hashes.
 */
export async function readTileData(tile: Tile, reader: HashReader): Promise<Uint8Array> {
  const indexes = tileHashIndexes(tile);
  const hashes = await reader.readHashes(indexes);
  if (!Array.isArray(hashes) || hashes.length !== indexes.length) {
    throw new RangeError(`HashReader returned the wrong number of hashes for a tile`);
  }
  const out = new Uint8Array(indexes.length * HASH_SIZE);
  hashes.forEach((h, i) => {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
      throw new RangeError(`HashReader returned a malformed hash at index ${indexes[i]}`);
    }
    out.set(h, i * HASH_SIZE);
  });
  return out;
}
