/**
 * Many inclusion proofs in one tree from ONE `readHashes` call: a group
 * commit's receipts (`ledger/group_commit.ts`) and a batch of witnessed
 * receipts (`server/witnessing_proofs.ts`) prove entries that are close
 * neighbours, so their audit paths share most hashes; reading the union once
 * replaces one store round trip per proof.
 *
 * @module
 */
import { checkCount } from "./size.ts";
import { type HashReader, readHashesChecked } from "./stored.ts";
import { leafProof, leafProofIndex } from "./prove.ts";

/**
 * The RFC 6962 §2.1.1 audit paths (leaf to root) of records `indices` in
 * the tree of size `t`, in the order of `indices`: each equal to
 * `proveRecord(t, n, reader)`, from one `reader.readHashes` call of the
 * union of their hashes (none when every proof is empty, t = 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryHashStore, proveRecord } from "./mod.ts";
 * import { proveRecords } from "./batch_prove.ts";
 * const tree = new MemoryHashStore();
 * for (let i = 0; i < 9; i++) await tree.append(new Uint8Array([i]));
 * let reads = 0;
 * const reader = { readHashes: (ix: number[]) => (reads++, tree.readHashes(ix)) };
 * const proofs = await proveRecords(9, [3, 7, 8], reader);
 * assert.equal(reads, 1);
 * assert.deepEqual(proofs[1], await proveRecord(9, 7, tree));
 * ```
 *
 * @throws {RangeError} unless 0 <= n < t for every index, or when the reader misbehaves.
 */
export async function proveRecords(
  t: number,
  indices: readonly number[],
  reader: HashReader,
): Promise<Uint8Array[][]> {
  checkCount("t", t, 1);
  const needs = indices.map((n) => {
    checkCount("n", n);
    if (n >= t) throw new RangeError(`n must be < t, got n=${n}, t=${t}`);
    return leafProofIndex(0, t, n, []);
  });
  const union = [...new Set(needs.flat())].sort((a, b) => a - b);
  const hashes = await readHashesChecked(reader, union);
  const byIndex = new Map<number, Uint8Array>();
  union.forEach((idx, k) => byIndex.set(idx, hashes[k]));
  return indices.map((n, k) => {
    const mine = needs[k].map((idx) => byIndex.get(idx)!);
    const pos = { i: 0 };
    const p = leafProof(0, t, n, mine, pos);
    if (pos.i !== mine.length) throw new Error("merkle: bad index math in proveRecords");
    return p;
  });
}
