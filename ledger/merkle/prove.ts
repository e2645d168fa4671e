/**
 * Tree hashes and proofs from stored hashes: RFC 6962 §2.1 Merkle Tree Hash,
 * §2.1.1 audit paths and §2.1.2 consistency proofs, each a pure function
 * over a {@link HashReader} that makes one `readHashes` call (as
 * tlog.TreeHash, tlog.ProveRecord and tlog.ProveTree).
 *
 * @module
 */
import { EMPTY_TREE_HASH, nodeHash } from "./hash.ts";
import { checkCount, maxpow2 } from "./size.ts";
import { type HashReader, readHashesChecked, storedHashIndex } from "./stored.ts";

/** Stored indexes of the complete subtrees covering records [lo, hi). */
function subTreeIndex(lo: number, hi: number, need: number[]): number[] {
  while (lo < hi) {
    const [k, level] = maxpow2(hi - lo + 1);
    need.push(storedHashIndex(level, lo / k));
    lo += k;
  }
  return need;
}

/** Hash of records [lo, hi) from the hashes of subTreeIndex(lo, hi), consumed from `pos`. */
function subTreeHash(lo: number, hi: number, hashes: Uint8Array[], pos: { i: number }): Uint8Array {
  let numTree = 0;
  while (lo < hi) {
    const [k] = maxpow2(hi - lo + 1);
    numTree++;
    lo += k;
  }
  const parts = hashes.slice(pos.i, pos.i + numTree);
  if (parts.length !== numTree) throw new Error("merkle: bad index math in subTreeHash");
  pos.i += numTree;
  let h = parts[numTree - 1];
  for (let i = numTree - 2; i >= 0; i--) h = nodeHash(parts[i], h);
  return h;
}

/**
 * RFC 6962 §2.1 Merkle Tree Hash of the first `n` records, from the hashes
 * stored while writing them (tlog.TreeHash). One `readHashes` call for
 * ≤ 1 + log2(n) hashes. The empty tree's hash is {@link EMPTY_TREE_HASH}.
 *
 * @example
 * ```ts
 * import { leafHash, MemoryHashStore, nodeHash, treeHash } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const store = new MemoryHashStore();
 * for (const b of [1, 2, 3]) await store.append(new Uint8Array([b]));
 * const [a, b, c] = [1, 2, 3].map((x) => leafHash(new Uint8Array([x])));
 * assert.deepEqual(await treeHash(3, store), nodeHash(nodeHash(a, b), c));
 * assert.deepEqual(await treeHash(1, store), a);
 * ```
 *
 * @throws {RangeError} when `n` is out of range or the reader misbehaves.
 */
export async function treeHash(n: number, reader: HashReader): Promise<Uint8Array> {
  checkCount("n", n);
  if (n === 0) return EMPTY_TREE_HASH;
  const indexes = subTreeIndex(0, n, []);
  const hashes = await readHashesChecked(reader, indexes);
  const pos = { i: 0 };
  const h = subTreeHash(0, n, hashes, pos);
  if (pos.i !== hashes.length) throw new Error("merkle: bad index math in treeHash");
  return h;
}

/**
 * Stored indexes of the hashes {@link leafProof} consumes for record `n` of
 * records [lo, hi), appended to `need` (internal: `batch_prove.ts`).
 */
export function leafProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
  if (lo + 1 === hi) return need;
  const [k] = maxpow2(hi - lo);
  if (n < lo + k) {
    leafProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    leafProofIndex(lo + k, hi, n, need);
  }
  return need;
}

/**
 * The audit path of record `n` in records [lo, hi), from the hashes of
 * {@link leafProofIndex}, consumed from `pos` (internal: `batch_prove.ts`).
 */
export function leafProof(
  lo: number,
  hi: number,
  n: number,
  hashes: Uint8Array[],
  pos: { i: number },
): Uint8Array[] {
  if (lo + 1 === hi) return [];
  const [k] = maxpow2(hi - lo);
  let p: Uint8Array[];
  let th: Uint8Array;
  if (n < lo + k) {
    p = leafProof(lo, lo + k, n, hashes, pos);
    th = subTreeHash(lo + k, hi, hashes, pos);
  } else {
    th = subTreeHash(lo, lo + k, hashes, pos);
    p = leafProof(lo + k, hi, n, hashes, pos);
  }
  p.push(th);
  return p;
}

/**
 * The RFC 6962 §2.1.1 audit path proving that the tree of size `t`
 * contains record `n` (tlog.ProveRecord). Hashes are ordered leaf to root.
 * One `readHashes` call.
 *
 * @example
 * ```ts
 * import { leafHash, MemoryHashStore, proveRecord, treeHash, verifyInclusion } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const store = new MemoryHashStore();
 * for (const b of [1, 2, 3]) await store.append(new Uint8Array([b]));
 * const proof = await proveRecord(3, 1, store);
 * assert.equal(proof.length, 2);
 * const lh = leafHash(new Uint8Array([2]));
 * verifyInclusion(lh, 1, 3, proof, await treeHash(3, store)); // throws if wrong
 * ```
 *
 * @throws {RangeError} unless 0 <= n < t, or when the reader misbehaves.
 */
export async function proveRecord(t: number, n: number, reader: HashReader): Promise<Uint8Array[]> {
  checkCount("t", t, 1);
  checkCount("n", n);
  if (n >= t) throw new RangeError(`n must be < t, got n=${n}, t=${t}`);
  const indexes = leafProofIndex(0, t, n, []);
  if (indexes.length === 0) return [];
  const hashes = await readHashesChecked(reader, indexes);
  const pos = { i: 0 };
  const p = leafProof(0, t, n, hashes, pos);
  if (pos.i !== hashes.length) throw new Error("merkle: bad index math in proveRecord");
  return p;
}

function treeProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
  if (n === hi) {
    if (lo === 0) return need;
    return subTreeIndex(lo, hi, need);
  }
  const [k] = maxpow2(hi - lo);
  if (n <= lo + k) {
    treeProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    treeProofIndex(lo + k, hi, n, need);
  }
  return need;
}

function treeProof(
  lo: number,
  hi: number,
  n: number,
  hashes: Uint8Array[],
  pos: { i: number },
): Uint8Array[] {
  if (n === hi) {
    // The verifier knows the old tree's hash; other common subtrees are sent.
    if (lo === 0) return [];
    return [subTreeHash(lo, hi, hashes, pos)];
  }
  const [k] = maxpow2(hi - lo);
  let p: Uint8Array[];
  let th: Uint8Array;
  if (n <= lo + k) {
    p = treeProof(lo, lo + k, n, hashes, pos);
    th = subTreeHash(lo + k, hi, hashes, pos);
  } else {
    th = subTreeHash(lo, lo + k, hashes, pos);
    p = treeProof(lo + k, hi, n, hashes, pos);
  }
  p.push(th);
  return p;
}

/**
 * The RFC 6962 §2.1.2 consistency proof that the tree of size `t` contains
 * the tree of size `n` as a prefix (tlog.ProveTree). Empty when n == t.
 * One `readHashes` call.
 *
 * @example
 * ```ts
 * import { MemoryHashStore, proveTree, treeHash, verifyConsistency } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const store = new MemoryHashStore();
 * for (const b of [1, 2, 3, 4, 5]) await store.append(new Uint8Array([b]));
 * const proof = await proveTree(5, 3, store);
 * assert.ok(proof.length > 0);
 * verifyConsistency(3, 5, proof, await treeHash(3, store), await treeHash(5, store));
 * ```
 *
 * @throws {RangeError} unless 1 <= n <= t, or when the reader misbehaves.
 */
export async function proveTree(t: number, n: number, reader: HashReader): Promise<Uint8Array[]> {
  checkCount("t", t, 1);
  checkCount("n", n, 1);
  if (n > t) throw new RangeError(`n must be <= t, got n=${n}, t=${t}`);
  const indexes = treeProofIndex(0, t, n, []);
  if (indexes.length === 0) return [];
  const hashes = await readHashesChecked(reader, indexes);
  const pos = { i: 0 };
  const p = treeProof(0, t, n, hashes, pos);
  if (pos.i !== hashes.length) throw new Error("merkle: bad index math in proveTree");
  return p;
}
