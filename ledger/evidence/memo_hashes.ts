/**
 * The hash reader an export proves its entries with: proofs of the entries
 * of one pack share most of their hashes, which a tile reader would
 * otherwise re-read and recompute (from tile data) for every proof.
 *
 * @module
 */
import { type HashReader, nodeHash, splitStoredHashIndex, storedHashIndex } from "../merkle/mod.ts";
import { TILE_WIDTH } from "../tiles/path.ts";

/** Hashes remembered before the memo starts over. */
const MAX_MEMO = 1_000_000;

/**
 * Remembers the stored hashes it has returned, and answers from them:
 *
 * - a level-0 hash that is missing is read together with the other
 *   level-0 hashes of its tile row (up to 256, one tile read), since the
 *   next proofs need its neighbours ({@link prefetchRow} starts that read
 *   ahead of time);
 * - a hash above level 0 whose two children are remembered (or can be
 *   derived so) is their node hash, which is what the tree stores there,
 *   instead of a read that recomputes it from tile data.
 *
 * Every hash comes from the inner reader or is the node hash of two that
 * did, so it is as authentic as the inner reader's (a `TileHashReader`
 * checks tiles against the checkpoint's root).
 */
export class MemoHashReader implements HashReader {
  readonly #inner: HashReader;
  readonly #size: number;
  readonly #memo = new Map<number, Uint8Array>();
  /** Tile rows of level-0 hashes being read or read, by row number. */
  readonly #rows = new Map<number, Promise<void>>();

  /** A memo over `inner`, which reads the tree of `size` records. */
  constructor(inner: HashReader, size: number) {
    this.#inner = inner;
    this.#size = size;
  }

  /**
   * Start reading the level-0 hashes of tile row `row` (records
   * row·256 … row·256+255), so that proofs of those records do not wait
   * for the read; a failed read is reported by the proof that needs it.
   */
  prefetchRow(row: number): void {
    if (row * TILE_WIDTH < this.#size) this.#row(row).catch(() => {});
  }

  #row(row: number): Promise<void> {
    let p = this.#rows.get(row);
    if (p === undefined) {
      const start = row * TILE_WIDTH;
      const want: number[] = [];
      for (let r = start; r < Math.min(this.#size, start + TILE_WIDTH); r++) {
        want.push(storedHashIndex(0, r));
      }
      p = this.#inner.readHashes(want).then((hashes) => {
        want.forEach((i, k) => this.#memo.set(i, hashes[k]));
      });
      this.#rows.set(row, p);
      // A failed read may be retried; a memo that starts over reads rows again.
      p.catch(() => this.#rows.delete(row));
    }
    return p;
  }

  /** The stored hashes at `indexes`, in order. */
  async readHashes(indexes: number[]): Promise<Uint8Array[]> {
    if (this.#memo.size > MAX_MEMO) {
      this.#memo.clear();
      this.#rows.clear();
    }
    const missing = new Set<number>();
    const rows = new Set<number>();
    for (const i of indexes) {
      if (this.#memo.has(i)) continue;
      const [level, n] = splitStoredHashIndex(i);
      if (level === 0) rows.add(Math.floor(n / TILE_WIDTH));
      else if (this.#derive(level, n) === undefined) missing.add(i);
    }
    const got = new Map<number, Uint8Array>();
    const want = [...missing];
    const [hashes] = await Promise.all([
      want.length > 0 ? this.#inner.readHashes(want) : [],
      ...[...rows].map((r) => this.#row(r)),
    ]);
    want.forEach((i, k) => {
      got.set(i, hashes[k]);
      this.#memo.set(i, hashes[k]);
    });
    return indexes.map((i) => {
      const h = got.get(i) ?? this.#memo.get(i);
      if (h !== undefined) return h;
      const [level, n] = splitStoredHashIndex(i);
      const d = this.#derive(level, n);
      if (d === undefined) throw new Error(`merkle: stored hash ${i} was not read`);
      return d;
    });
  }

  /** The stored hash at (level, n) from remembered hashes below it, if they are all there. */
  #derive(level: number, n: number): Uint8Array | undefined {
    const i = storedHashIndex(level, n);
    const known = this.#memo.get(i);
    if (known !== undefined || level === 0) return known;
    const left = this.#derive(level - 1, 2 * n);
    if (left === undefined) return undefined;
    const right = this.#derive(level - 1, 2 * n + 1);
    if (right === undefined) return undefined;
    const h = nodeHash(left, right);
    this.#memo.set(i, h);
    return h;
  }
}
