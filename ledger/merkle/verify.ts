/**
 * The Merkle proof verifiers, one per proof kind: RFC 9162 §2.1.3.2
 * inclusion and §2.1.4.2 consistency verification, standalone (no stored
 * hashes, no reader), with a {@link ProofError} naming the rule that failed.
 *
 * They accept exactly the RFC 6962 §2.1.1 / §2.1.2 proofs that Go's
 * `tlog.CheckRecord` / `tlog.CheckTree` accept (the tests check both ways).
 *
 * @module
 */
import { bytesEqual } from "../../core/bytes.ts";
import { RegledgerError } from "../../core/errors.ts";
import { HASH_SIZE, nodeHash } from "./hash.ts";
import { half, isOdd, isPowerOfTwo, MAX_TREE_SIZE } from "./size.ts";

/** Which check a {@link ProofError} reports. */
export type ProofCheck = "inclusion" | "consistency";

/**
 * A Merkle proof failed to verify, or its inputs were impossible
 * (index outside the tree, wrong hash length, wrong proof length).
 * `check` names the proof kind and `rule` the exact rule that failed.
 *
 * @example
 * ```ts
 * import { ProofError, verifyInclusion } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const h = new Uint8Array(32);
 * try {
 *   verifyInclusion(h, 0, 2, [], h); // a 2-leaf tree needs one proof hash
 *   assert.fail("accepted");
 * } catch (e) {
 *   assert.ok(e instanceof ProofError);
 *   assert.equal(e.check, "inclusion");
 *   assert.equal(e.rule, "proof-length");
 * }
 * ```
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

/** Throws `invalid-input` unless `v` is an integer in [min, 2^52). */
export function guardSize(check: ProofCheck, name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min || v >= MAX_TREE_SIZE) {
    throw new ProofError(
      check,
      "invalid-input",
      `${name} must be an integer in [${min}, 2^52), got ${String(v)}`,
    );
  }
}

/** Throws `hash-length` unless `h` is a 32-byte hash. */
export function guardHash(check: ProofCheck, name: string, h: Uint8Array): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    throw new ProofError(check, "hash-length", `${name} must be a ${HASH_SIZE}-byte hash`);
  }
}

/** Throws unless `p` is an array of at most 128 hashes of 32 bytes. */
export function guardProofHashes(check: ProofCheck, p: readonly Uint8Array[]): void {
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

/**
 * Verify an inclusion proof by the algorithm of RFC 9162 §2.1.3.2: leaf
 * hash `leafHashValue` is at `index` in the tree of size `treeSize` with
 * root `root`. The proof is an RFC 6962 §2.1.1 audit path, leaf to root.
 *
 * @example
 * ```ts
 * import { leafHash, nodeHash, ProofError, verifyInclusion } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const a = leafHash(new Uint8Array([1]));
 * const b = leafHash(new Uint8Array([2]));
 * const root = nodeHash(a, b);
 * verifyInclusion(b, 1, 2, [a], root); // returns: the proof holds
 * assert.throws(() => verifyInclusion(a, 1, 2, [a], root), ProofError);
 * ```
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
  guardSize("inclusion", "tree size", treeSize, 1);
  guardSize("inclusion", "index", index, 0);
  if (index >= treeSize) {
    throw new ProofError(
      "inclusion",
      "invalid-input",
      `index ${index} is not below tree size ${treeSize}`,
    );
  }
  guardHash("inclusion", "leaf hash", leafHashValue);
  guardHash("inclusion", "root", root);
  guardProofHashes("inclusion", proof);
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
 * (every tree extends the empty tree).
 *
 * @example
 * ```ts
 * import { leafHash, nodeHash, ProofError, verifyConsistency } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const [a, b, c] = [1, 2, 3].map((x) => leafHash(new Uint8Array([x])));
 * const root2 = nodeHash(a, b);
 * const root3 = nodeHash(root2, c);
 * // Size 2 is a power of two: its root is implied, the proof is [c].
 * verifyConsistency(2, 3, [c], root2, root3);
 * assert.throws(() => verifyConsistency(2, 3, [c], root2, root2), ProofError);
 * ```
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
  guardSize("consistency", "first size", size1, 0);
  guardSize("consistency", "second size", size2, 0);
  if (size1 > size2) {
    throw new ProofError("consistency", "invalid-input", `first size ${size1} exceeds ${size2}`);
  }
  guardHash("consistency", "first root", root1);
  guardHash("consistency", "second root", root2);
  guardProofHashes("consistency", proof);
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
