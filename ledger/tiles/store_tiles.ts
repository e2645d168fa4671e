/**
 * Tiles and bundles on a {@link LedgerStore}: what a commit writes and how
 * a server reads any tile path.
 *
 * - Hash tiles are stored: each commit writes the tiles it completes or
 *   grows (`newHashTiles`), replacing the stored version, so any tile path
 *   is one read of the latest version and a cut to the path's width (a
 *   partial tile is a prefix of every later version). A log written before
 *   tiles were stored (or a tile a commit did not write) is derived on read
 *   from the stored hashes (`readTileData`): the same bytes, more reads.
 * - Bundles are not stored twice: bundle N is entries N·256 … N·256+W-1,
 *   which every store keeps contiguously, so it is one range read
 *   (`readEntries`) encoded at serve time. Storing envelope bundles would
 *   not fit a KV commit (256 envelopes up to 512 KiB each) and would double
 *   the log's size; entry bundles are cheap to assemble from the same read.
 *
 * @module
 */
import type { HashReader } from "../merkle/mod.ts";
import type { LedgerStore, StoredTile } from "../store.ts";
import { encodeEntryBundle, encodeEnvelopeBundle } from "./bundle.ts";
import { newHashTiles, readTileData, tileExists } from "./layout.ts";
import { type Tile, TILE_WIDTH } from "./path.ts";

/**
 * The hash tiles a commit growing the tree from `oldSize` to `newSize`
 * writes, read through `reader` (which must already see the new hashes).
 */
export async function tilesForCommit(
  oldSize: number,
  newSize: number,
  reader: HashReader,
): Promise<StoredTile[]> {
  const tiles = newHashTiles(oldSize, newSize);
  return await Promise.all(tiles.map(async (t) => ({
    level: t.level as number,
    n: t.n,
    data: await readTileData(t, reader),
  })));
}

/** A tile or bundle the log of the given size does not (yet) have. */
export class TileNotFoundError extends Error {
  /** The tile asked for. */
  readonly tile: Tile;
  constructor(tile: Tile, size: number) {
    super(`tile is beyond the tree of size ${size}`);
    this.name = "TileNotFoundError";
    this.tile = tile;
  }
}

/**
 * The bytes of hash tile `tile` of a log of `size` entries: the stored
 * version cut to `tile.width` hashes, or derived from the stored hashes
 * when no wide enough version is stored.
 *
 * @throws {TileNotFoundError} when the log of `size` entries has not all of its hashes.
 */
export async function readHashTile(
  store: LedgerStore,
  tile: Tile,
  size: number,
): Promise<Uint8Array> {
  if (typeof tile.level !== "number" || !tileExists(tile, size)) {
    throw new TileNotFoundError(tile, size);
  }
  const bytes = tile.width * 32;
  const stored = await store.readTile(tile.level, tile.n);
  if (stored !== null && stored.length >= bytes) return stored.subarray(0, bytes);
  return await readTileData(tile, store);
}

/**
 * The bytes of entry or envelope bundle `tile` of a log of `size` entries,
 * from one range read of its entries.
 *
 * @throws {TileNotFoundError} when the log of `size` entries has not all of its entries.
 */
export async function readBundle(
  store: LedgerStore,
  tile: Tile,
  size: number,
  maxEnvelopeBytes: number,
): Promise<Uint8Array> {
  if (typeof tile.level === "number" || !tileExists(tile, size)) {
    throw new TileNotFoundError(tile, size);
  }
  const start = tile.n * TILE_WIDTH;
  const entries = await store.readEntries(start, start + tile.width);
  if (entries.length !== tile.width) throw new TileNotFoundError(tile, size);
  return tile.level === "entries"
    ? encodeEntryBundle(entries.map((e) => e.leaf))
    : encodeEnvelopeBundle(entries.map((e) => e.envelope), { maxEnvelopeBytes });
}
