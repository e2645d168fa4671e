/**
 * ledger/merkle/compact.ts: the compact range a log checker recomputes a
 * tree with. It must write exactly the stored hashes and give exactly the
 * tree hashes that the stored-hash code gives, at every size.
 */
import assert from "node:assert/strict";
import { sha256 } from "../../core/bytes.ts";
import {
  CompactRange,
  EMPTY_TREE_HASH,
  leafHash,
  MemoryHashStore,
  storedHashCount,
  storedHashIndex,
  treeHash,
} from "../../ledger/merkle/mod.ts";
import { hexes, leavesOf } from "./_merkle.ts";

Deno.test("CompactRange.append writes the stored hashes and root() is the tree hash, sizes 0..300", async () => {
  const leaves = leavesOf(300, 5).map(leafHash);
  const store = new MemoryHashStore();
  const range = new CompactRange();
  assert.deepEqual(range.root(), EMPTY_TREE_HASH);
  for (let n = 0; n < leaves.length; n++) {
    const added = range.append(leaves[n]);
    const before = store.hashes.length;
    await store.appendLeafHash(leaves[n]);
    assert.equal(before, storedHashIndex(0, n));
    assert.deepEqual(hexes(added), hexes(store.hashes.slice(before)), `hashes of record ${n}`);
    assert.equal(store.hashes.length, storedHashCount(n + 1));
    assert.equal(range.size, n + 1);
    assert.deepEqual(range.root(), await treeHash(n + 1, store), `root of size ${n + 1}`);
  }
});

Deno.test("CompactRange.load reads the right edge of a stored tree and appends continue from it", async () => {
  const leaves = leavesOf(140, 6).map(leafHash);
  const store = new MemoryHashStore();
  await store.appendLeafHashes(leaves);
  const incremental = new CompactRange();
  for (let n = 0; n <= 130; n++) {
    const loaded = await CompactRange.load(n, store);
    assert.equal(loaded.size, n);
    assert.deepEqual(hexes(loaded.hashes), hexes(incremental.hashes), `range of size ${n}`);
    assert.deepEqual(loaded.root(), await treeHash(n, store));
    // Appending the remaining leaves reaches the full tree.
    for (let i = n; i < leaves.length; i++) loaded.append(leaves[i]);
    assert.deepEqual(loaded.root(), await treeHash(leaves.length, store), `resumed at ${n}`);
    incremental.append(leaves[n]);
  }
  // One number of hashes per 1 bit of the size.
  assert.equal((await CompactRange.load(0b1011, store)).hashes.length, 3);
});

Deno.test("CompactRange rejects impossible input, naming it", () => {
  const h = sha256();
  assert.throws(() => new CompactRange(3, [h]), /size 3 has 2 hashes, got 1/);
  assert.throws(() => new CompactRange(1, [new Uint8Array(31)]), /hashes\[0\] must be a 32-byte/);
  assert.throws(() => new CompactRange(-1), /size must be an integer/);
  assert.throws(() => new CompactRange().append(new Uint8Array(5)), /leaf hash must be a 32-byte/);
  // The hashes getter is a copy: changing it does not change the range.
  const r = new CompactRange(1, [h]);
  r.hashes.pop();
  assert.equal(r.hashes.length, 1);
  assert.deepEqual(r.root(), h);
});
