/**
 * RFC 6962 Merkle tree math for the ledger, storage-agnostic and pure.
 *
 * Follows Go's `golang.org/x/mod/sumdb/tlog`: every node of the tree gets one
 * dense "stored hash index" (Crosby–Wallach §3.3), storage sits behind the
 * one-method {@link HashReader}, and every proof is a pure function over a
 * reader. Proofs are exactly RFC 6962 §2.1.1 audit paths and §2.1.2
 * consistency proofs, so Go's `tlog.CheckRecord` / `tlog.CheckTree` accept
 * them and vice versa.
 *
 * Sizes and indexes are JavaScript numbers; they must be non-negative safe
 * integers below {@link MAX_TREE_SIZE} (2^52) so that every stored hash index
 * (< 2n + 53) stays exact. No bitwise operators are used on them for that
 * reason (JS bitwise operators truncate to 32 bits).
 *
 * @module
 */
import { bytesEqual, sha256 } from "../core/bytes.ts";
import { RegledgerError } from "../core/errors.ts";

/** Size of every hash in the tree, in bytes (SHA-256). */
export const HASH_SIZE = 32;

/** Largest tree size (exclusive) these functions accept: 2^52. */
export const MAX_TREE_SIZE = 2 ** 52;

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

/** Which check a {@link ProofError} reports. */
export type ProofCheck = "inclusion" | "consistency";

/**
 * A Merkle proof failed to verify, or its inputs were impossible
 * (index outside the tree, wrong hash length, wrong proof length).
 * `check` names the proof kind and `rule` the exact rule that failed.
 */
export class ProofError extends RegledgerError {
  /** The kind of proof that failed. */
  readonly check: ProofCheck;
  /**
   * The rule that failed: `invalid-input`, `hash-length`, `proof-length`,
   * `root-mismatch` or `old-root-mismatch`.
   */
  readonly rule: string;
  /** Build a proof error. */
  constructor(check: ProofCheck, rule: string, message: string, options?: ErrorOptions) {
    super(`${check} proof: ${message}`, options);
    this.check = check;
    this.rule = rule;
  }
}

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/**
 * RFC 6962 §2.1 leaf hash: `SHA-256(0x00 || leaf)`.
 *
 * @example
 * ```ts
 * import { leafHash } from "./merkle.ts";
 * import { toHex } from "../core/bytes.ts";
 * import assert from "node:assert/strict";
 * // RFC 6962 reference vector: the hash of the empty leaf.
 * assert.equal(
 *   toHex(leafHash(new Uint8Array())),
 *   "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
 * );
 * ```
 */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, leaf);
}

/** RFC 6962 §2.1 interior node hash: `SHA-256(0x01 || left || right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/**
 * RFC 6962 §2.1 root of the empty tree: `SHA-256()` (the hash of no bytes).
 * Note: Go's `tlog.TreeHash(0)` returns 32 zero bytes instead; neither is
 * used in a proof, since no proof involves an empty tree.
 */
export const EMPTY_TREE_HASH: Uint8Array = sha256();

// ---------------------------------------------------------------------------
// Argument guards

function checkCount(name: string, v: number, min = 0): void {
  if (!Number.isSafeInteger(v) || v < min || v >= MAX_TREE_SIZE) {
    throw new RangeError(
      `${name} must be an integer in [${min}, 2^52), got ${String(v)}`,
    );
  }
}

function checkHash(name: string, h: Uint8Array): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    throw new RangeError(`${name} must be a ${HASH_SIZE}-byte hash`);
  }
}

// ---------------------------------------------------------------------------
// Integer helpers that stay exact up to 2^53 (no 32-bit bitwise operators).

/** Largest power of two strictly less than n (n >= 2), and its log2. */
function maxpow2(n: number): [number, number] {
  let k = 1;
  let l = 0;
  while (k * 2 < n) {
    k *= 2;
    l++;
  }
  return [k, l];
}

function trailingZeros(n: number): number {
  let z = 0;
  while (n > 0 && n % 2 === 0) {
    n /= 2;
    z++;
  }
  return z;
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

// ---------------------------------------------------------------------------
// Dense numbering of stored hashes (Crosby–Wallach §3.3, as tlog).

/**
 * Maps tree coordinates (level, n) — the n-th hash at height `level`, where
 * level 0 holds the leaf hashes — to a dense linear storage index.
 * Level L's n-th hash is stored right after level L+1's (2n+1)-th hash.
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
 * stored hash index.
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
 * Number of stored hashes in a tree of `n` records (the next free stored
 * hash index is this value).
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
 * starting at stored hash index `storedHashIndex(0, n)`: the leaf hash, then
 * one node hash per subtree that record completes (tlog.StoredHashes).
 * Makes one `readHashes` call for up to log2(n) earlier hashes.
 */
export function storedHashes(
  n: number,
  leaf: Uint8Array,
  reader: HashReader,
): Promise<Uint8Array[]> {
  return storedHashesForLeafHash(n, leafHash(leaf), reader);
}

/**
 * Like {@link storedHashes} but takes the leaf hash `SHA-256(0x00 || leaf)`
 * instead of the leaf bytes (tlog.StoredHashesForRecordHash).
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
  const old = await readChecked(reader, indexes);
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
 * the given leaf hashes, in stored-hash-index order starting at
 * `storedHashIndex(0, n0)`. Equivalent to calling
 * {@link storedHashesForLeafHash} for each record in turn, but makes a single
 * `readHashes` call (for the ≤ log2(n0) hashes on the tree's right edge), so
 * a store can group many appends into one commit.
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
  const got = await readChecked(reader, indexes);
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

async function readChecked(reader: HashReader, indexes: number[]): Promise<Uint8Array[]> {
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

// ---------------------------------------------------------------------------
// Tree hash (RFC 6962 §2.1 MTH) from stored hashes.

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
 * stored while writing them. One `readHashes` call for ≤ 1 + log2(n) hashes.
 * The empty tree's hash is {@link EMPTY_TREE_HASH}.
 */
export async function treeHash(n: number, reader: HashReader): Promise<Uint8Array> {
  checkCount("n", n);
  if (n === 0) return EMPTY_TREE_HASH;
  const indexes = subTreeIndex(0, n, []);
  const hashes = await readChecked(reader, indexes);
  const pos = { i: 0 };
  const h = subTreeHash(0, n, hashes, pos);
  if (pos.i !== hashes.length) throw new Error("merkle: bad index math in treeHash");
  return h;
}

// ---------------------------------------------------------------------------
// Inclusion proofs (RFC 6962 §2.1.1, "Merkle audit paths").

function leafProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
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

function leafProof(
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
 * @throws {RangeError} unless 0 <= n < t.
 */
export async function proveRecord(t: number, n: number, reader: HashReader): Promise<Uint8Array[]> {
  checkCount("t", t, 1);
  checkCount("n", n);
  if (n >= t) throw new RangeError(`n must be < t, got n=${n}, t=${t}`);
  const indexes = leafProofIndex(0, t, n, []);
  if (indexes.length === 0) return [];
  const hashes = await readChecked(reader, indexes);
  const pos = { i: 0 };
  const p = leafProof(0, t, n, hashes, pos);
  if (pos.i !== hashes.length) throw new Error("merkle: bad index math in proveRecord");
  return p;
}

function runRecordProof(
  p: readonly Uint8Array[],
  end: number,
  lo: number,
  hi: number,
  n: number,
  h: Uint8Array,
): Uint8Array {
  if (lo + 1 === hi) {
    if (end !== 0) throw new ProofError("inclusion", "proof-length", "proof has too many hashes");
    return h;
  }
  if (end === 0) throw new ProofError("inclusion", "proof-length", "proof has too few hashes");
  const [k] = maxpow2(hi - lo);
  const last = p[end - 1];
  if (n < lo + k) return nodeHash(runRecordProof(p, end - 1, lo, lo + k, n, h), last);
  return nodeHash(last, runRecordProof(p, end - 1, lo + k, hi, n, h));
}

function checkProofHashes(check: ProofCheck, p: readonly Uint8Array[]): void {
  if (!Array.isArray(p)) throw new ProofError(check, "invalid-input", "proof must be an array");
  if (p.length > 2 * 64) {
    throw new ProofError(check, "proof-length", `proof has ${p.length} hashes, more than any tree`);
  }
  p.forEach((h, i) => {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
      throw new ProofError(check, "hash-length", `proof[${i}] is not a ${HASH_SIZE}-byte hash`);
    }
  });
}

function guardCheck(check: ProofCheck, name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min || v >= MAX_TREE_SIZE) {
    throw new ProofError(
      check,
      "invalid-input",
      `${name} must be an integer in [${min}, 2^52), got ${String(v)}`,
    );
  }
}

function guardHash(check: ProofCheck, name: string, h: Uint8Array): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    throw new ProofError(check, "hash-length", `${name} must be a ${HASH_SIZE}-byte hash`);
  }
}

/**
 * Verify that `proof` shows the tree of size `t` with root `th` has record
 * `n` with leaf hash `h` (tlog.CheckRecord; RFC 6962 §2.1.1).
 *
 * @throws {ProofError} naming the rule that failed.
 */
export function checkRecord(
  proof: readonly Uint8Array[],
  t: number,
  th: Uint8Array,
  n: number,
  h: Uint8Array,
): void {
  guardCheck("inclusion", "tree size", t, 1);
  guardCheck("inclusion", "index", n, 0);
  if (n >= t) {
    throw new ProofError("inclusion", "invalid-input", `index ${n} is not below tree size ${t}`);
  }
  guardHash("inclusion", "root", th);
  guardHash("inclusion", "leaf hash", h);
  checkProofHashes("inclusion", proof);
  const got = runRecordProof(proof, proof.length, 0, t, n, h);
  if (!bytesEqual(got, th)) {
    throw new ProofError(
      "inclusion",
      "root-mismatch",
      "computed root does not match the tree root",
    );
  }
}

// ---------------------------------------------------------------------------
// Consistency proofs (RFC 6962 §2.1.2).

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
 * @throws {RangeError} unless 1 <= n <= t.
 */
export async function proveTree(t: number, n: number, reader: HashReader): Promise<Uint8Array[]> {
  checkCount("t", t, 1);
  checkCount("n", n, 1);
  if (n > t) throw new RangeError(`n must be <= t, got n=${n}, t=${t}`);
  const indexes = treeProofIndex(0, t, n, []);
  if (indexes.length === 0) return [];
  const hashes = await readChecked(reader, indexes);
  const pos = { i: 0 };
  const p = treeProof(0, t, n, hashes, pos);
  if (pos.i !== hashes.length) throw new Error("merkle: bad index math in proveTree");
  return p;
}

function runTreeProof(
  p: readonly Uint8Array[],
  end: number,
  lo: number,
  hi: number,
  n: number,
  old: Uint8Array,
): [Uint8Array, Uint8Array] {
  if (n === hi) {
    if (lo === 0) {
      if (end !== 0) {
        throw new ProofError("consistency", "proof-length", "proof has too many hashes");
      }
      return [old, old];
    }
    if (end !== 1) {
      throw new ProofError("consistency", "proof-length", "proof has the wrong number of hashes");
    }
    return [p[0], p[0]];
  }
  if (end === 0) throw new ProofError("consistency", "proof-length", "proof has too few hashes");
  const [k] = maxpow2(hi - lo);
  const last = p[end - 1];
  if (n <= lo + k) {
    const [oh, th] = runTreeProof(p, end - 1, lo, lo + k, n, old);
    return [oh, nodeHash(th, last)];
  }
  const [oh, th] = runTreeProof(p, end - 1, lo + k, hi, n, old);
  return [nodeHash(last, oh), nodeHash(last, th)];
}

/**
 * Verify that `proof` shows the tree of size `t` with root `th` contains as
 * a prefix the tree of size `n` with root `h` (tlog.CheckTree; RFC 6962
 * §2.1.2). When n == t the proof must be empty and the roots equal.
 *
 * @throws {ProofError} naming the rule that failed.
 */
export function checkTree(
  proof: readonly Uint8Array[],
  t: number,
  th: Uint8Array,
  n: number,
  h: Uint8Array,
): void {
  guardCheck("consistency", "new tree size", t, 1);
  guardCheck("consistency", "old tree size", n, 1);
  if (n > t) {
    throw new ProofError("consistency", "invalid-input", `old size ${n} exceeds new size ${t}`);
  }
  guardHash("consistency", "new root", th);
  guardHash("consistency", "old root", h);
  checkProofHashes("consistency", proof);
  const [oh, nh] = runTreeProof(proof, proof.length, 0, t, n, h);
  if (!bytesEqual(oh, h)) {
    throw new ProofError("consistency", "old-root-mismatch", "proof does not lead to the old root");
  }
  if (!bytesEqual(nh, th)) {
    throw new ProofError("consistency", "root-mismatch", "proof does not lead to the new root");
  }
}

// ---------------------------------------------------------------------------
// RFC 9162 standalone verifiers (no dense numbering, no reader).

/**
 * Verify an inclusion proof by the algorithm of RFC 9162 §2.1.3.2: leaf
 * hash `leafHashValue` is at `index` in the tree of size `treeSize` with
 * root `root`. Accepts exactly the proofs {@link checkRecord} accepts.
 *
 * @throws {ProofError} naming the rule that failed.
 */
export function verifyInclusion(
  leafHashValue: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  guardCheck("inclusion", "tree size", treeSize, 1);
  guardCheck("inclusion", "index", index, 0);
  if (index >= treeSize) {
    throw new ProofError(
      "inclusion",
      "invalid-input",
      `index ${index} is not below tree size ${treeSize}`,
    );
  }
  guardHash("inclusion", "leaf hash", leafHashValue);
  guardHash("inclusion", "root", root);
  checkProofHashes("inclusion", proof);
  // Step 2-4 of §2.1.3.2.
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHashValue;
  for (const p of proof) {
    if (sn === 0) throw new ProofError("inclusion", "proof-length", "proof has too many hashes");
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      // (the spec's "if LSB(fn) is not set" guard is the loop condition itself)
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  if (sn !== 0) throw new ProofError("inclusion", "proof-length", "proof has too few hashes");
  if (!bytesEqual(r, root)) {
    throw new ProofError(
      "inclusion",
      "root-mismatch",
      "computed root does not match the tree root",
    );
  }
}

/**
 * Verify a consistency proof by the algorithm of RFC 9162 §2.1.4.2: the
 * tree of size `size1` with root `root1` is a prefix of the tree of size
 * `size2` with root `root2`. As in transparency-dev/merkle, `size1 == size2`
 * needs an empty proof and equal roots, and `size1 == 0` needs an empty proof
 * (every tree extends the empty tree). Accepts exactly the proofs
 * {@link checkTree} accepts for sizes >= 1.
 *
 * @throws {ProofError} naming the rule that failed.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  guardCheck("consistency", "first size", size1, 0);
  guardCheck("consistency", "second size", size2, 0);
  if (size1 > size2) {
    throw new ProofError("consistency", "invalid-input", `first size ${size1} exceeds ${size2}`);
  }
  guardHash("consistency", "first root", root1);
  guardHash("consistency", "second root", root2);
  checkProofHashes("consistency", proof);
  if (size1 === size2) {
    if (proof.length !== 0) {
      throw new ProofError("consistency", "proof-length", "equal sizes need an empty proof");
    }
    if (!bytesEqual(root1, root2)) {
      throw new ProofError("consistency", "root-mismatch", "equal sizes with different roots");
    }
    return;
  }
  if (size1 === 0) {
    if (proof.length !== 0) {
      throw new ProofError(
        "consistency",
        "proof-length",
        "an empty first tree needs an empty proof",
      );
    }
    return;
  }
  // Step 1.
  if (proof.length === 0) throw new ProofError("consistency", "proof-length", "proof is empty");
  // Step 2: if size1 is an exact power of 2, prepend root1.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  // Steps 3-4.
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr = path[0];
  let sr = path[0];
  // Step 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0) throw new ProofError("consistency", "proof-length", "proof has too many hashes");
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      // (the spec's "if LSB(fn) is not set" guard is the loop condition itself)
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  if (sn !== 0) throw new ProofError("consistency", "proof-length", "proof has too few hashes");
  if (!bytesEqual(fr, root1)) {
    throw new ProofError(
      "consistency",
      "old-root-mismatch",
      "proof does not lead to the first root",
    );
  }
  if (!bytesEqual(sr, root2)) {
    throw new ProofError("consistency", "root-mismatch", "proof does not lead to the second root");
  }
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

// ---------------------------------------------------------------------------
// In-memory store (tests, browsers, small tools).

/**
 * An in-memory append-only tree: a {@link HashReader} over a dense array of
 * stored hashes, plus `append`. Useful for tests, browsers and for
 * recomputing a log's tree while auditing it.
 *
 * @example
 * ```ts
 * import { MemoryHashStore, proveRecord, treeHash, checkRecord, leafHash } from "./merkle.ts";
 * const store = new MemoryHashStore();
 * for (const s of ["a", "b", "c"]) await store.append(new TextEncoder().encode(s));
 * const root = await treeHash(store.size, store);
 * const proof = await proveRecord(3, 1, store);
 * checkRecord(proof, 3, root, 1, leafHash(new TextEncoder().encode("b")));
 * ```
 */
export class MemoryHashStore implements HashReader {
  /** All stored hashes, indexed by stored hash index. */
  readonly hashes: Uint8Array[] = [];
  #size = 0;

  /** Number of records appended. */
  get size(): number {
    return this.#size;
  }

  /**
   * Read stored hashes by index.
   * @throws {RangeError} for an index not yet stored.
   */
  readHashes(indexes: number[]): Promise<Uint8Array[]> {
    try {
      return Promise.resolve(indexes.map((i) => {
        const h = this.hashes[i];
        if (h === undefined) throw new RangeError(`no stored hash at index ${i}`);
        return h;
      }));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Append a record by its leaf bytes; returns its index. */
  append(leaf: Uint8Array): Promise<number> {
    return this.appendLeafHash(leafHash(leaf));
  }

  /** Append a record by its leaf hash; returns its index. */
  async appendLeafHash(hash: Uint8Array): Promise<number> {
    const n = this.#size;
    const add = await storedHashesForLeafHash(n, hash, this);
    for (const h of add) this.hashes.push(h);
    this.#size = n + 1;
    return n;
  }

  /** Append many records by leaf hash with one batched computation. */
  async appendLeafHashes(hashes: readonly Uint8Array[]): Promise<void> {
    const add = await storedHashesForBatch(this.#size, hashes, this);
    for (const h of add) this.hashes.push(h);
    this.#size += hashes.length;
  }
}
