/**
 * The compact range of a tree's first `size` leaves (transparency-dev/merkle
 * `compact.Range` starting at 0): the roots of its perfect subtrees, left to
 * right, one per 1 bit of `size`. It is all an append or a root computation
 * needs, so a log checker can recompute a tree in O(log n) memory.
 *
 * @module
 */
import { EMPTY_TREE_HASH, nodeHash } from "./hash.ts";
import { checkCount, checkHash, half, isOdd, trailingZeros } from "./size.ts";
import { type HashReader, readHashesChecked, storedHashIndex } from "./stored.ts";

/**
 * The perfect-subtree roots of the first {@link CompactRange.size} leaves of
 * an RFC 6962 §2.1 tree, with append and root.
 *
 * @example
 * ```ts
 * import { CompactRange, MemoryHashStore, leafHash, treeHash } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const range = new CompactRange();
 * const store = new MemoryHashStore();
 * for (const b of [1, 2, 3]) {
 *   range.append(leafHash(new Uint8Array([b])));
 *   await store.append(new Uint8Array([b]));
 * }
 * assert.equal(range.size, 3);
 * assert.deepEqual(range.root(), await treeHash(3, store));
 * ```
 */
export class CompactRange {
  /** Roots of the perfect subtrees, largest (leftmost) first. */
  #hashes: Uint8Array[];
  #size: number;

  /**
   * A range over `size` leaves given the roots of its perfect subtrees,
   * left to right (one per 1 bit of `size`); the empty range by default.
   *
   * @throws {RangeError} when `hashes` does not fit `size`.
   */
  constructor(size = 0, hashes: readonly Uint8Array[] = []) {
    checkCount("size", size);
    const want = subtreeCount(size);
    if (hashes.length !== want) {
      throw new RangeError(
        `a compact range of size ${size} has ${want} hashes, got ${hashes.length}`,
      );
    }
    hashes.forEach((h, i) => checkHash(`hashes[${i}]`, h));
    this.#hashes = [...hashes];
    this.#size = size;
  }

  /**
   * The compact range of a stored tree's first `size` leaves, read from a
   * {@link HashReader} with one `readHashes` call.
   *
   * @example
   * ```ts
   * import { CompactRange, MemoryHashStore, treeHash } from "./mod.ts";
   * import assert from "node:assert/strict";
   * const store = new MemoryHashStore();
   * for (const b of [1, 2, 3, 4, 5]) await store.append(new Uint8Array([b]));
   * const range = await CompactRange.load(5, store);
   * assert.deepEqual(range.root(), await treeHash(5, store));
   * ```
   *
   * @throws {RangeError} when `size` is out of range or the reader misbehaves.
   */
  static async load(size: number, reader: HashReader): Promise<CompactRange> {
    checkCount("size", size);
    const indexes: number[] = [];
    let lo = 0;
    for (let level = 52; level >= 0; level--) {
      const k = 2 ** level;
      if (size - lo >= k) {
        indexes.push(storedHashIndex(level, lo / k));
        lo += k;
      }
    }
    return new CompactRange(size, await readHashesChecked(reader, indexes));
  }

  /** Number of leaves the range covers. */
  get size(): number {
    return this.#size;
  }

  /** Roots of the perfect subtrees, left to right (a copy). */
  get hashes(): Uint8Array[] {
    return [...this.#hashes];
  }

  /**
   * Append one leaf by its RFC 6962 §2.1 leaf hash. Returns the hashes a
   * store writes for it, in stored-hash-index order: the leaf hash, then one
   * node hash per subtree it completes (what `storedHashesForLeafHash` gives).
   *
   * @example
   * ```ts
   * import { CompactRange, leafHash, nodeHash } from "./mod.ts";
   * import assert from "node:assert/strict";
   * const range = new CompactRange();
   * const a = leafHash(new Uint8Array([1]));
   * const b = leafHash(new Uint8Array([2]));
   * assert.deepEqual(range.append(a), [a]);
   * assert.deepEqual(range.append(b), [b, nodeHash(a, b)]);
   * ```
   *
   * @throws {RangeError} when `leafHash` is not 32 bytes or the range is full.
   */
  append(leafHash: Uint8Array): Uint8Array[] {
    checkHash("leaf hash", leafHash);
    checkCount("size + 1", this.#size + 1);
    const out = [leafHash];
    let h = leafHash;
    for (let m = trailingZeros(this.#size + 1); m > 0; m--) {
      h = nodeHash(this.#hashes.pop()!, h);
      out.push(h);
    }
    this.#hashes.push(h);
    this.#size++;
    return out;
  }

  /**
   * The RFC 6962 §2.1 Merkle Tree Hash of the covered leaves
   * ({@link EMPTY_TREE_HASH} for none).
   *
   * @example
   * ```ts
   * import { CompactRange, EMPTY_TREE_HASH } from "./mod.ts";
   * import assert from "node:assert/strict";
   * assert.deepEqual(new CompactRange().root(), EMPTY_TREE_HASH);
   * ```
   */
  root(): Uint8Array {
    const hs = this.#hashes;
    if (hs.length === 0) return EMPTY_TREE_HASH;
    let h = hs[hs.length - 1];
    for (let i = hs.length - 2; i >= 0; i--) h = nodeHash(hs[i], h);
    return h;
  }
}

/** Number of 1 bits of n: the perfect subtrees of a tree of n leaves. */
function subtreeCount(n: number): number {
  let c = 0;
  for (; n > 0; n = half(n)) if (isOdd(n)) c++;
  return c;
}
