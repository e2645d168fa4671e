/**
 * A {@link HashReader} over C2SP tiles fetched from anywhere (HTTP, a
 * directory, a store), authenticated against a trusted tree head, so the
 * proof code of `../merkle.ts` (`proveRecord`, `proveTree`, `treeHash`)
 * works from tiles alone. This is what a remote audit and a mirror use.
 *
 * Authentication, as in the tlog design: the partial tiles of the tree
 * (at most one per level) are fetched first and must reproduce the tree's
 * root; every full tile must hash to the hash its parent tile lists for it,
 * and the parent is authenticated the same way, up to a partial tile. So
 * every hash this reader returns is proven to be in the trusted tree, and a
 * tampered tile is a {@link TileAuthError}, never a wrong hash.
 *
 * @module
 */
import { bytesEqual } from "../../core/bytes.ts";
import { RegledgerError } from "../../core/errors.ts";
import {
  HASH_SIZE,
  type HashReader,
  splitStoredHashIndex,
  storedHashCount,
  treeHash,
} from "../merkle/mod.ts";
import { formatTilePath, type Tile, TILE_WIDTH } from "./path.ts";
import {
  FULL_TILE_BYTES,
  fullTileHash,
  hashFromTileData,
  newHashTiles,
  tileSpanOf,
  treeTileAt,
} from "./layout.ts";

/** Fetches the bytes at a tile path such as `tile/0/x001/234.p/5`; rejects if it cannot. */
export type TileFetcher = (path: string) => Promise<Uint8Array>;

/**
 * A fetched tile did not match the trusted tree. `rule`: `tile-length`
 * (wrong number of bytes), `root-mismatch` (the partial tiles do not give
 * the tree's root), `parent-mismatch` (a full tile does not hash to its
 * parent's entry), `not-in-tree` (a hash index the tree does not have).
 */
export class TileAuthError extends RegledgerError {
  /** The rule that failed. */
  readonly rule: string;
  /** Path of the offending tile, when there is one. */
  readonly path?: string;
  /** Build the error. */
  constructor(rule: string, message: string, path?: string, options?: ErrorOptions) {
    super(path === undefined ? message : `${path}: ${message}`, options);
    this.rule = rule;
    this.path = path;
  }
}

/** Options of {@link TileHashReader}. */
export interface TileHashReaderOptions {
  /**
   * How many authenticated full tiles to keep (least recently used go first).
   * @default {64}
   */
  cacheTiles?: number;
  /**
   * How many tile fetches may run at once.
   * @default {16}
   */
  concurrency?: number;
}

const key = (level: number, n: number) => `${level}/${n}`;

/**
 * Reads stored hashes of the tree of `treeSize` entries with root
 * `rootHash` from its tiles.
 *
 * @example
 * ```ts
 * import {
 *   leafHash,
 *   MemoryHashStore,
 *   proveRecord,
 *   treeHash,
 *   verifyInclusion,
 * } from "../merkle/mod.ts";
 * import { formatTilePath } from "./path.ts";
 * import { hashTilesForSize, readTileData } from "./layout.ts";
 * import { TileHashReader } from "./reader.ts";
 * const store = new MemoryHashStore();
 * for (let i = 0; i < 300; i++) await store.append(new Uint8Array([i % 256, 1]));
 * const served = new Map<string, Uint8Array>();
 * for (const t of hashTilesForSize(300)) served.set(formatTilePath(t), await readTileData(t, store));
 * const root = await treeHash(300, store);
 * const tiles = new TileHashReader(300, root, (p) => Promise.resolve(served.get(p)!));
 * const proof = await proveRecord(300, 7, tiles);
 * verifyInclusion(leafHash(new Uint8Array([7, 1])), 7, 300, proof, root);
 * ```
 */
export class TileHashReader implements HashReader {
  /** Size of the trusted tree. */
  readonly treeSize: number;
  readonly #root: Uint8Array;
  readonly #fetch: TileFetcher;
  readonly #cacheTiles: number;
  readonly #concurrency: number;
  /** Authenticated partial tiles of the tree, by `level/n` (kept for the reader's life). */
  #partials?: Promise<Map<string, Uint8Array>>;
  /** Authenticated full tiles, least recently used first. */
  readonly #cache = new Map<string, Uint8Array>();
  /** Full tiles being fetched and checked, by `level/n`. */
  readonly #inflight = new Map<string, Promise<Uint8Array>>();
  #fetches = 0;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  /**
   * A reader for the tree of `treeSize` entries with root `rootHash`; no
   * tile is fetched until the first read.
   *
   * @param treeSize size of a tree the caller trusts (from a verified checkpoint)
   * @param rootHash that tree's root
   * @param fetch reads a tile path
   * @throws {RangeError} on a malformed size, root or option.
   */
  constructor(
    treeSize: number,
    rootHash: Uint8Array,
    fetch: TileFetcher,
    options: TileHashReaderOptions = {},
  ) {
    if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize >= 2 ** 52) {
      throw new RangeError(`treeSize must be an integer in [0, 2^52), got ${String(treeSize)}`);
    }
    if (!(rootHash instanceof Uint8Array) || rootHash.length !== HASH_SIZE) {
      throw new RangeError(`rootHash must be a ${HASH_SIZE}-byte hash`);
    }
    if (typeof fetch !== "function") throw new TypeError("fetch must be a function");
    const { cacheTiles = 64, concurrency = 16 } = options;
    if (!Number.isSafeInteger(cacheTiles) || cacheTiles < 0) {
      throw new RangeError(`cacheTiles must be a non-negative integer, got ${String(cacheTiles)}`);
    }
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${String(concurrency)}`);
    }
    this.treeSize = treeSize;
    this.#root = rootHash.slice();
    this.#fetch = fetch;
    this.#cacheTiles = cacheTiles;
    this.#concurrency = concurrency;
  }

  /** Number of tile fetches made so far (for tests and benchmarks). */
  get fetches(): number {
    return this.#fetches;
  }

  async #fetchTile(tile: Tile): Promise<Uint8Array> {
    const path = formatTilePath(tile);
    this.#fetches++;
    let data: Uint8Array;
    try {
      data = await this.#fetch(path);
    } catch (e) {
      // A log may delete a partial tile once the full one exists (C2SP);
      // the full tile's prefix is then the same hashes.
      if (tile.width === TILE_WIDTH) throw e;
      const full = { ...tile, width: TILE_WIDTH };
      this.#fetches++;
      const wide = await this.#fetch(formatTilePath(full)).catch(() => {
        throw e;
      });
      if (!(wide instanceof Uint8Array) || wide.length !== FULL_TILE_BYTES) throw e;
      data = wide.subarray(0, tile.width * HASH_SIZE);
    }
    if (!(data instanceof Uint8Array) || data.length !== tile.width * HASH_SIZE) {
      throw new TileAuthError(
        "tile-length",
        `expected ${tile.width * HASH_SIZE} bytes, got ${
          data instanceof Uint8Array ? data.length : typeof data
        }`,
        path,
      );
    }
    // Our own copy: the fetcher may reuse its buffer, and cached tiles are trusted.
    return data.slice();
  }

  /** {@link #fetchTile} with at most `concurrency` fetches in flight across all calls. */
  async #fetchLimited(tile: Tile): Promise<Uint8Array> {
    if (this.#active < this.#concurrency) this.#active++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await this.#fetchTile(tile);
    } finally {
      // Hand the slot to the next waiter, or free it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }

  /** Fetch the tree's partial tiles and check they give its root. */
  #loadPartials(): Promise<Map<string, Uint8Array>> {
    this.#partials ??= (async () => {
      // The partial tiles alone (listing every tile of a big tree would be millions).
      const tiles = newHashTiles(this.treeSize, this.treeSize);
      const data = await Promise.all(tiles.map((t) => this.#fetchLimited(t)));
      const map = new Map<string, Uint8Array>();
      tiles.forEach((t, i) => map.set(key(t.level as number, t.n), data[i]));
      // Every hash of the root's decomposition into complete subtrees lies in
      // a partial tile (a full tile is always inside a bigger complete subtree).
      const fromPartials: HashReader = {
        readHashes: (indexes) =>
          Promise.resolve(indexes.map((x) => {
            const [level, n] = splitStoredHashIndex(x);
            const s = tileSpanOf(level, n);
            const d = map.get(key(s.tileLevel, s.tileN));
            if (d === undefined) {
              throw new Error("tiles: bad math, root hash outside partial tiles");
            }
            return hashFromTileData(d, s.start, s.end);
          })),
      };
      const got = this.treeSize === 0 ? this.#root : await treeHash(this.treeSize, fromPartials);
      if (!bytesEqual(got, this.#root)) {
        throw new TileAuthError(
          "root-mismatch",
          `the partial tiles of tree size ${this.treeSize} do not hash to the trusted root`,
        );
      }
      return map;
    })();
    // A failed load (network, tampering) may be retried by a later call.
    this.#partials.catch(() => this.#partials = undefined);
    return this.#partials;
  }

  #cached(k: string): Uint8Array | undefined {
    const d = this.#cache.get(k);
    if (d !== undefined) {
      this.#cache.delete(k);
      this.#cache.set(k, d);
    }
    return d;
  }

  #remember(k: string, d: Uint8Array): void {
    if (this.#cacheTiles === 0) return;
    this.#cache.delete(k);
    this.#cache.set(k, d);
    while (this.#cache.size > this.#cacheTiles) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
  }

  /**
   * Authenticated data of the tree's hash tile `(level, n)`: a partial tile
   * of the tree, a cached full tile, or a full tile fetched together with
   * its parent and checked against it. Concurrent calls share one fetch.
   */
  #tile(level: number, n: number, partials: Map<string, Uint8Array>): Promise<Uint8Array> {
    const k = key(level, n);
    const known = partials.get(k) ?? this.#cached(k);
    if (known !== undefined) return Promise.resolve(known);
    let pending = this.#inflight.get(k);
    if (pending !== undefined) return pending;
    const tile = treeTileAt(this.treeSize, level, n);
    if (tile === undefined || tile.width !== TILE_WIDTH) {
      return Promise.reject(
        new Error(`tiles: bad math, tile ${k} is neither full nor a partial of the tree`),
      );
    }
    pending = (async () => {
      const [data, parent] = await Promise.all([
        this.#fetchLimited(tile),
        this.#tile(level + 1, Math.floor(n / TILE_WIDTH), partials),
      ]);
      const pos = n % TILE_WIDTH;
      if (!bytesEqual(fullTileHash(data), hashFromTileData(parent, pos, pos + 1))) {
        throw new TileAuthError(
          "parent-mismatch",
          "tile does not hash to the entry its parent tile lists",
          formatTilePath(tile),
        );
      }
      this.#remember(k, data);
      return data;
    })();
    this.#inflight.set(k, pending);
    pending.then(() => this.#inflight.delete(k), () => this.#inflight.delete(k));
    return pending;
  }

  /** Authenticated data of the tiles `(level, n)`, by `level/n`. */
  async #tiles(wanted: Iterable<[number, number]>): Promise<Map<string, Uint8Array>> {
    const partials = await this.#loadPartials();
    const pending = new Map<string, Promise<Uint8Array>>();
    for (const [level, n] of wanted) {
      const k = key(level, n);
      if (!pending.has(k)) pending.set(k, this.#tile(level, n, partials));
    }
    const keys = [...pending.keys()];
    const data = await Promise.all(pending.values());
    return new Map(keys.map((k, i) => [k, data[i]]));
  }

  /**
   * The stored hashes at `indexes` (dense tlog numbering), each proven to
   * be in the trusted tree.
   *
   * @throws {TileAuthError} when an index is outside the tree or a tile
   *   fails authentication; the fetcher's error when a tile cannot be read.
   */
  async readHashes(indexes: number[]): Promise<Uint8Array[]> {
    const limit = storedHashCount(this.treeSize);
    const spans = indexes.map((x) => {
      if (!Number.isSafeInteger(x) || x < 0 || x >= limit) {
        throw new TileAuthError(
          "not-in-tree",
          `stored hash ${String(x)} is not in the tree of size ${this.treeSize}`,
        );
      }
      const [level, n] = splitStoredHashIndex(x);
      return tileSpanOf(level, n);
    });
    const have = await this.#tiles(spans.map((s) => [s.tileLevel, s.tileN]));
    return spans.map((s) => hashFromTileData(have.get(key(s.tileLevel, s.tileN))!, s.start, s.end));
  }

  /**
   * The authenticated bytes of the tree's hash tile `n` at `level` (full, or
   * the tree's partial tile at that level), e.g. a level-0 tile to check an
   * entry bundle against.
   *
   * @throws {RangeError} when the tree has no such tile.
   * @throws {TileAuthError} when the tile fails authentication.
   */
  async readTile(level: number, n: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(level) || level < 0 || !Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`no tile (${String(level)}, ${String(n)})`);
    }
    if (treeTileAt(this.treeSize, level, n) === undefined) {
      throw new RangeError(`the tree of size ${this.treeSize} has no tile ${level}/${n}`);
    }
    return (await this.#tiles([[level, n]])).get(key(level, n))!.slice();
  }
}
