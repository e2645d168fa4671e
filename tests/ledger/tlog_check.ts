/**
 * Go tlog's recursive proof checkers (`tlog.CheckRecord`, `tlog.CheckTree`),
 * ported as an independent oracle: the tests require the library's RFC 9162
 * iterative verifiers (`verifyInclusion`, `verifyConsistency`) to accept
 * exactly the proofs these accept. Not part of the library: nothing outside
 * the tests needs a second verifier per proof kind.
 */
import { bytesEqual } from "../../core/bytes.ts";
import { nodeHash, ProofError } from "../../ledger/merkle/mod.ts";
import { maxpow2 } from "../../ledger/merkle/size.ts";
import { guardHash, guardProofHashes, guardSize } from "../../ledger/merkle/verify.ts";

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
  guardSize("inclusion", "tree size", t, 1);
  guardSize("inclusion", "index", n, 0);
  if (n >= t) {
    throw new ProofError("inclusion", "invalid-input", `index ${n} is not below tree size ${t}`);
  }
  guardHash("inclusion", "root", th);
  guardHash("inclusion", "leaf hash", h);
  guardProofHashes("inclusion", proof);
  const got = runRecordProof(proof, proof.length, 0, t, n, h);
  if (!bytesEqual(got, th)) {
    throw new ProofError(
      "inclusion",
      "root-mismatch",
      "computed root does not match the tree root",
    );
  }
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
  guardSize("consistency", "new tree size", t, 1);
  guardSize("consistency", "old tree size", n, 1);
  if (n > t) {
    throw new ProofError("consistency", "invalid-input", `old size ${n} exceeds new size ${t}`);
  }
  guardHash("consistency", "new root", th);
  guardHash("consistency", "old root", h);
  guardProofHashes("consistency", proof);
  const [oh, nh] = runTreeProof(proof, proof.length, 0, t, n, h);
  if (!bytesEqual(oh, h)) {
    throw new ProofError("consistency", "old-root-mismatch", "proof does not lead to the old root");
  }
  if (!bytesEqual(nh, th)) {
    throw new ProofError("consistency", "root-mismatch", "proof does not lead to the new root");
  }
}
