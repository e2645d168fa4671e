/**
 * Batched inclusion proofs (ledger/merkle/batch_prove.ts) and the group
 * commit's receipts built from them: every proof equals the one-at-a-time
 * proof, comes from one hash read, and every receipt verifies.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { openLedger } from "../../ledger/index.ts";
import { proveRecords } from "../../ledger/merkle/batch_prove.ts";
import { MemoryHashStore, proveRecord } from "../../ledger/merkle/mod.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { makeEnvelope, tempDir } from "./_helpers.ts";

Deno.test("proveRecords: random trees and index lists get proveRecord's proofs, from at most one readHashes call", async () => {
  const tree = new MemoryHashStore();
  for (let i = 0; i < 300; i++) await tree.append(new Uint8Array([i, i >> 8]));
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 300 }).chain((t) =>
        fc.tuple(fc.constant(t), fc.array(fc.nat({ max: t - 1 }), { maxLength: 80 }))
      ),
      async ([t, indices]) => {
        let reads = 0;
        const reader = {
          readHashes: (ix: number[]) => {
            reads++;
            return tree.readHashes(ix);
          },
        };
        const got = await proveRecords(t, indices, reader);
        assert.equal(got.length, indices.length);
        assert.ok(reads <= 1);
        for (let k = 0; k < indices.length; k++) {
          assert.deepEqual(
            got[k],
            await proveRecord(t, indices[k], tree),
            `t ${t} n ${indices[k]}`,
          );
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("proveRecords: an index beyond the tree, a bad size or a failing read rejects", async () => {
  const tree = new MemoryHashStore();
  for (let i = 0; i < 20; i++) await tree.append(new Uint8Array([i]));
  await assert.rejects(proveRecords(20, [3, 20], tree), RangeError);
  await assert.rejects(proveRecords(20, [-1], tree), RangeError);
  await assert.rejects(proveRecords(0, [], tree), RangeError);
  await assert.rejects(proveRecords(40, [3, 30], tree), RangeError); // hashes the reader lacks
  const broken = { readHashes: () => Promise.reject(new Error("disk on fire")) };
  await assert.rejects(proveRecords(20, [3, 4], broken), /disk on fire/);
  assert.deepEqual(await proveRecords(1, [0, 0], broken), [[], []]); // nothing to read
});

Deno.test("group commit: random batches' receipts equal proveInclusion's proofs and each tlog-proof verifies", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir });
  try {
    let next = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40 }), async (k) => {
        const envs = await Promise.all(Array.from({ length: k }, () => makeEnvelope(next++)));
        // Appended together, they share group commits (one or a few).
        const rs = await Promise.all(envs.map((e) => ledger.append(e)));
        for (const r of rs) {
          assert.equal(r.existing, false);
          const single = await ledger.proveInclusion(r.index, r.tree_size);
          assert.deepEqual(r.inclusion_proof, single.proof, `entry ${r.index} of ${r.tree_size}`);
          assert.equal(r.leaf_hash, single.leaf_hash);
          const v = await verifyTlogProof(r.tlog_proof, ledger.verifierKey, {
            envelopeSha256: r.envelope_sha256,
          });
          assert.equal(v.index, r.index);
        }
      }),
      { numRuns: 25 },
    );
    assert.equal(await ledger.size(), next);
  } finally {
    await ledger.close();
  }
});
