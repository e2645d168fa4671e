/**
 * Inclusion proofs for a batch of `wait=witnessed` receipts
 * (`server/witnessing.ts`): every entry a newly cosigned checkpoint covers
 * gets its proof to that checkpoint, and the proofs share most of their
 * hashes (the entries are recent neighbours), so all of them are computed
 * from one `readHashes` call of the union instead of one store round trip
 * per receipt (`ledger/merkle/batch_prove.ts`, which the group commit's
 * receipts use too).
 *
 * @module
 */
import { toBase64 } from "../core/bytes.ts";
import type { HashReader } from "../ledger/merkle/mod.ts";
import { proveRecords } from "../ledger/merkle/batch_prove.ts";

/**
 * The RFC 6962 inclusion proofs (base64, leaf to root) of entries
 * `indices` in the tree of size `treeSize`, in the order of `indices`,
 * read with one `reader.readHashes` call. `treeSize` must be a size the log
 * has reached.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryHashStore, proveRecord } from "../ledger/merkle/mod.ts";
 * import { proveInclusions } from "./witnessing_proofs.ts";
 * const tree = new MemoryHashStore();
 * for (let i = 0; i < 9; i++) await tree.append(new Uint8Array([i]));
 * let reads = 0;
 * const reader = { readHashes: (ix: number[]) => (reads++, tree.readHashes(ix)) };
 * const proofs = await proveInclusions(9, [3, 7, 8], reader);
 * assert.equal(reads, 1);
 * assert.equal(proofs[1].length, (await proveRecord(9, 7, tree)).length);
 * ```
 *
 * @throws {RangeError} for an index not below `treeSize`, or hashes the reader lacks.
 */
export async function proveInclusions(
  treeSize: number,
  indices: readonly number[],
  reader: HashReader,
): Promise<string[][]> {
  return (await proveRecords(treeSize, indices, reader)).map((p) => p.map(toBase64));
}
