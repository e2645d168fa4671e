/**
 * Stored hashes: one dense numbering of every tree node (Crosby–Wallach
 * §3.3, as Go's `golang.org/x/mod/sumdb/tlog`), the {@link HashReader} that
 * storage implements, and the hashes an append writes.
 *
 * @module
 */
import { leafHash, nodeHash } from "./hash.ts";
import { checkCount, checkHash, half, isOdd, trailingZeros } from "./size.ts";

/**
 * Reads node hashes by their stored hash index ({@link storedHashIndex}).
 *
 * Implementations must return exactly one 32-byte hash per requested index,
 * in the same order, or reject. Indexes are passed in increasing order when
 * the algorithm allows it (as in tlog), so sequential stores can batch.
 */
export interface HashReader {
  /** Hashes at the given stored hash indexes, in the same order. */
  readHashes(indexes: number[]): Promise<Uint8Array[]>;
}

/**
 * Maps tree coordinates (level, n) — the n-th hash at height `level`, where
 * level 0 holds the leaf hashes — to a dense linear storage index
 * (Crosby–Wallach §3.3, tlog.StoredHashIndex). Level L's n-th hash is stored
 * right after level L+1's (2n+1)-th hash.
 *
 * @example
 * ```ts
 * import { storedHashIndex } from "./mod.ts";
 * import assert from "node:assert/strict";
 * // Leaf 0, leaf 1, then their parent; then leaf 2.
 * assert.deepEqual(
 *   [storedHashIndex(0, 0), storedHashIndex(0, 1), storedHashIndex(1, 0), storedHashIndex(0, 2)],
 *   [0, 1, 2, 3],
 * );
 * ```
 *
 * @throws {RangeError} when `level` or `n` are out of range.
 */
export function storedHashIndex(level: number, n: number): number {
  if (!Number.isSafeInteger(level) || level < 0 || level > 52) {
    throw new RangeError(`level must be an integer in [0, 52], got ${String(level)}`);
  }
  checkCount("n", n);
  for (let l = level; l > 0; l--) n = 2 * n + 1;
  let i = 0;
  for (; n > 0; n = half(n)) i += n;
  if (!Number.isSafeInteger(i + level)) {
    throw new RangeError(`stored hash index for (${level}, ${n}) exceeds 2^53`);
  }
  return i + level;
}

/**
 * Inverse of {@link storedHashIndex}: the `[level, n]` coordinates of a
 * stored hash index in the Crosby–Wallach §3.3 numbering
 * (tlog.SplitStoredHashIndex).
 *
 * @example
 * ```ts
 * import { splitStoredHashIndex, storedHashIndex } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(splitStoredHashIndex(2), [1, 0]);
 * assert.deepEqual(splitStoredHashIndex(storedHashIndex(3, 5)), [3, 5]);
 * ```
 *
 * @throws {RangeError} when `index` is not a non-negative safe integer.
 */
export function splitStoredHashIndex(index: number): [level: number, n: number] {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`index must be a non-negative safe integer, got ${String(index)}`);
  }
  // storedHashIndex(0, n) < 2n, so the record that wrote `index` is in
  // [index/2, index/2 + log2(index)].
  let n = half(index);
  let indexN = storedHashIndex(0, n);
  for (;;) {
    // Record n+1 adds 1 + trailingZeros(n+1) hashes after record n's.
    const x = indexN + 1 + trailingZeros(n + 1);
    if (x > index) break;
    n++;
    indexN = x;
  }
  const level = index - indexN;
  return [level, Math.floor(n / 2 ** level)];
}

/**
 * Number of stored hashes in a tree of `n` records, which is also the next
 * free stored hash index in the Crosby–Wallach §3.3 numbering
 * (tlog.StoredHashCount).
 *
 * @example
 * ```ts
 * import { storedHashCount } from "./mod.ts";
 * import assert from "node:assert/strict";
 * // 4 leaves store 4 leaf hashes, 2 level-1 nodes and the level-2 root.
 * assert.equal(storedHashCount(4), 7);
 * assert.equal(storedHashCount(0), 0);
 * ```
 *
 * @throws {RangeError} when `n` is out of range.
 */
export function storedHashCount(n: number): number {
  checkCount("n", n);
  if (n === 0) return 0;
  let count = storedHashIndex(0, n - 1) + 1;
  for (let i = n - 1; isOdd(i); i = half(i)) count++;
  return count;
}

/**
 * The hashes to store when appending record `n` with leaf bytes `leaf`,
 * starting at stored hash index `storedHashIndex(0, n)`: the RFC 6962 §2.1
 * leaf hash, then one node hash per subtree that record completes
 * (tlog.StoredHashes). Makes one `readHashes` call for up to log2(n) earlier
 * hashes.
 *
 * @example
 * ```ts
 * import { leafHash, MemoryHashStore, nodeHash, storedHashes } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const store = new MemoryHashStore();
 * await store.append(new Uint8Array([1]));
 * // Record 1 completes the subtree of records 0 and 1.
 * const add = await storedHashes(1, new Uint8Array([2]), store);
 * const l0 = leafHash(new Uint8Array([1]));
 * const l1 = leafHash(new Uint8Array([2]));
 * assert.deepEqual(add, [l1, nodeHash(l0, l1)]);
 * ```
 *
 * @throws {RangeError} when `n` is malformed, or the reader returns the
 *   wrong number or size of hashes.
 */
export function storedHashes(
  n: number,
  leaf: Uint8Array,
  reader: HashReader,
): Promise<Uint8Array[]> {
  return storedHashesForLeafHash(n, leafHash(leaf), reader);
}

/**
 * Like {@link storedHashes} but takes the RFC 6962 §2.1 leaf hash
 * `SHA-256(0x00 || leaf)` instead of the leaf bytes
 * (tlog.StoredHashesForRecordHash).
 *
 * @example
 * ```ts
 * import { leafHash, MemoryHashStore, storedHashesForLeafHash } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const lh = leafHash(new Uint8Array([7]));
 * // The first record completes no subtree: only its leaf hash is stored.
 * assert.deepEqual(await storedHashesForLeafHash(0, lh, new MemoryHashStore()), [lh]);
 * ```
 *
 * @throws {RangeError} when `n` or `hash` are malformed, or the reader
 *   returns the wrong number or size of hashes.
 */
export async function storedHashesForLeafHash(
  n: number,
  hash: Uint8Array,
  reader: HashReader,
): Promise<Uint8Array[]> {
  checkCount("n", n);
  checkHash("leaf hash", hash);
  // Each trailing 1 bit of n completes a subtree and consumes a hash from
  // the adjacent subtree on its left.
  const m = trailingZeros(n + 1);
  const indexes = new Array<number>(m);
  for (let i = 0; i < m; i++) {
    indexes[m - 1 - i] = storedHashIndex(i, Math.floor(n / 2 ** i) - 1);
  }
  const old = await readHashesChecked(reader, indexes);
  const out = [hash];
  let h = hash;
  for (let i = 0; i < m; i++) {
    h = nodeHash(old[m - 1 - i], h);
    out.push(h);
  }
  return out;
}

/**
 * The hashes to store when appending a batch of records `n0, n0+1, …` with
 * the given RFC 6962 §2.1 leaf hashes, in stored-hash-index order starting at
 * `storedHashIndex(0, n0)`. Equivalent to calling
 * {@link storedHashesForLeafHash} for each record in turn, but makes a single
 * `readHashes` call (for the ≤ log2(n0) hashes on the tree's right edge), so
 * a store can group many appends into one commit.
 *
 * @example
 * ```ts
 * import { leafHash, MemoryHashStore, storedHashCount, storedHashesForBatch } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const hashes = [1, 2, 3].map((b) => leafHash(new Uint8Array([b])));
 * const add = await storedHashesForBatch(0, hashes, new MemoryHashStore());
 * assert.equal(add.length, storedHashCount(3));
 * assert.deepEqual(add[0], hashes[0]);
 * ```
 *
 * @throws {RangeError} when an argument is malformed, or the reader returns
 *   the wrong number or size of hashes.
 */
export async function storedHashesForBatch(
  n0: number,
  leafHashes: readonly Uint8Array[],
  reader: HashReader,
): Promise<Uint8Array[]> {
  checkCount("n0", n0);
  checkCount("n0 + leafHashes.length", n0 + leafHashes.length);
  leafHashes.forEach((h, i) => checkHash(`leafHashes[${i}]`, h));
  const base = storedHashIndex(0, n0);
  // First pass: which earlier stored hashes does the batch need?
  const need = new Set<number>();
  for (let j = 0; j < leafHashes.length; j++) {
    const n = n0 + j;
    const m = trailingZeros(n + 1);
    for (let i = 0; i < m; i++) {
      const idx = storedHashIndex(i, Math.floor(n / 2 ** i) - 1);
      if (idx < base) need.add(idx);
    }
  }
  const indexes = [...need].sort((a, b) => a - b);
  const got = await readHashesChecked(reader, indexes);
  const known = new Map<number, Uint8Array>();
  indexes.forEach((idx, i) => known.set(idx, got[i]));
  const out: Uint8Array[] = [];
  for (let j = 0; j < leafHashes.length; j++) {
    const n = n0 + j;
    let h = leafHashes[j];
    out.push(h);
    const m = trailingZeros(n + 1);
    for (let i = 0; i < m; i++) {
      const idx = storedHashIndex(i, Math.floor(n / 2 ** i) - 1);
      const left = idx < base ? known.get(idx)! : out[idx - base];
      h = nodeHash(left, h);
      out.push(h);
    }
  }
  return out;
}

/**
 * One `readHashes` call, checked: exactly one 32-byte hash per index
 * (internal; the provers share it).
 */
export async function readHashesChecked(
  reader: HashReader,
  indexes: number[],
): Promise<Uint8Array[]> {
  if (indexes.length === 0) return [];
  const hashes = await reader.readHashes(indexes);
  if (!Array.isArray(hashes) || hashes.length !== indexes.length) {
    throw new RangeError(
      `HashReader returned ${
        Array.isArray(hashes) ? hashes.length : "a non-array"
      } hashes for ${indexes.length} indexes`,
    );
  }
  hashes.forEach((h, i) => checkHash(`hash at stored index ${indexes[i]}`, h));
  return hashes;
}
