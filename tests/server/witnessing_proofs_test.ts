/**
 * Batched inclusion proofs of witnessed receipts (server/witnessing_proofs.ts):
 * the same proofs as one at a time, from one hash read.
 */
import assert from "node:assert/strict";
import { MemoryHashStore, proveRecord } from "../../ledger/merkle/mod.ts";
import { toBase64 } from "../../core/bytes.ts";
import { proveInclusions } from "../../server/witnessing_proofs.ts";

Deno.test("proveInclusions: every index of trees of sizes 1 to 70 gets proveRecord's proof, from one readHashes call", async () => {
  const tree = new MemoryHashStore();
  for (let size = 1; size <= 70; size++) {
    await tree.append(new Uint8Array([size, size >> 8]));
    let reads = 0;
    const reader = {
      readHashes: (ix: number[]) => {
        reads++;
        return tree.readHashes(ix);
      },
    };
    const indices = Array.from({ length: size }, (_, i) => size - 1 - i); // any order
    const got = await proveInclusions(size, indices, reader);
    assert.equal(reads, size === 1 ? 0 : 1);
    for (let k = 0; k < indices.length; k++) {
      const want = (await proveRecord(size, indices[k], tree)).map(toBase64);
      assert.deepEqual(got[k], want, `size ${size} index ${indices[k]}`);
    }
  }
});

Deno.test("proveInclusions: a failing read or an index beyond the tree rejects (nothing left unhandled)", async () => {
  const tree = new MemoryHashStore();
  for (let i = 0; i < 20; i++) await tree.append(new Uint8Array([i]));
  const broken = { readHashes: () => Promise.reject(new Error("disk on fire")) };
  await assert.rejects(proveInclusions(20, [3, 4, 19], broken), /disk on fire/);
  await assert.rejects(proveInclusions(20, [3, 20], tree), RangeError);
  // Hashes the reader does not have (a size the log has not reached).
  await assert.rejects(proveInclusions(40, [3, 30], tree), RangeError);
});
