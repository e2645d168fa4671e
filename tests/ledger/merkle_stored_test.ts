/**
 * ledger/merkle/ stored hashes: the dense Crosby–Wallach numbering, the
 * hashes an append writes, the HashReader contract (one sorted call, checked
 * answers), argument guards and the in-memory store.
 */
import assert from "node:assert/strict";
import { sha256, toHex } from "../../core/bytes.ts";
import {
  type HashReader,
  leafHash,
  MemoryHashStore,
  nodeHash,
  ProofError,
  proveRecord,
  proveTree,
  splitStoredHashIndex,
  storedHashCount,
  storedHashes,
  storedHashesForBatch,
  storedHashIndex,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from "../../ledger/merkle/mod.ts";
import { checkRecord, checkTree } from "./tlog_check.ts";
import { hexes, leavesOf } from "./_merkle.ts";

// ---------------------------------------------------------------------------
// Dense numbering and storage.

Deno.test("storedHashIndex and splitStoredHashIndex are inverse over the first 5000 indexes", () => {
  for (let i = 0; i < 5000; i++) {
    const [level, n] = splitStoredHashIndex(i);
    assert.equal(storedHashIndex(level, n), i, `index ${i}`);
  }
  // Known layout (Crosby–Wallach / tlog): leaf 0, leaf 1, node(1,0), leaf 2, ...
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7].map((n) => storedHashIndex(0, n)),
    [0, 1, 3, 4, 7, 8, 10, 11],
  );
  assert.equal(storedHashIndex(1, 0), 2);
  assert.equal(storedHashIndex(1, 1), 5);
  assert.equal(storedHashIndex(1, 2), 9);
  assert.equal(storedHashIndex(2, 0), 6);
  assert.equal(storedHashIndex(3, 0), 14);
  // Large indexes stay exact.
  const big = 2 ** 51 + 12345;
  const [l, n] = splitStoredHashIndex(storedHashIndex(0, big));
  assert.deepEqual([l, n], [0, big]);
});

Deno.test("storedHashes returns the leaf hash then completed subtrees, and batches agree", async () => {
  const d = leavesOf(130, 2);
  const seq = new MemoryHashStore();
  for (let n = 0; n < d.length; n++) {
    const add = await storedHashes(n, d[n], seq);
    assert.equal(storedHashIndex(0, n), seq.hashes.length);
    assert.equal(toHex(add[0]), toHex(leafHash(d[n])));
    seq.hashes.push(...add);
    assert.equal(seq.hashes.length, storedHashCount(n + 1));
  }
  // Batches of assorted sizes, from any starting size, produce the same hashes.
  for (const cut of [0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 100]) {
    const st = new MemoryHashStore();
    for (let i = 0; i < cut; i++) await st.append(d[i]);
    const batch = await storedHashesForBatch(cut, d.slice(cut).map(leafHash), st);
    assert.deepEqual(hexes([...st.hashes, ...batch]), hexes(seq.hashes), `batch from ${cut}`);
  }
});

function countingReader(inner: HashReader): HashReader & { calls: number[][] } {
  const calls: number[][] = [];
  return {
    calls,
    readHashes(indexes: number[]) {
      calls.push(indexes);
      return inner.readHashes(indexes);
    },
  };
}

Deno.test("each operation makes at most one readHashes call, with sorted indexes", async () => {
  const s = new MemoryHashStore();
  await s.appendLeafHashes(leavesOf(1000, 3).map(leafHash));
  const ops: [string, (r: HashReader) => Promise<unknown>][] = [
    ["treeHash", (r) => treeHash(777, r)],
    ["proveRecord", (r) => proveRecord(1000, 333, r)],
    ["proveTree", (r) => proveTree(1000, 333, r)],
    ["storedHashes", (r) => storedHashes(1000 - 1 + 0, new Uint8Array([1]), r)],
    ["batch", (r) => storedHashesForBatch(1000, leavesOf(50).map(leafHash), r)],
  ];
  for (const [name, op] of ops) {
    const r = countingReader(s);
    await op(r);
    assert.ok(r.calls.length <= 1, `${name}: ${r.calls.length} calls`);
    for (const c of r.calls) {
      assert.deepEqual(c, [...c].sort((a, b) => a - b), `${name}: sorted`);
      assert.ok(c.length <= 2 * 10 + 2, `${name}: ${c.length} hashes`);
    }
  }
});

Deno.test("a reader returning the wrong number or size of hashes is an error", async () => {
  const short: HashReader = {
    readHashes: (ix) => Promise.resolve(ix.slice(1).map(() => sha256())),
  };
  const wrongSize: HashReader = {
    readHashes: (ix) => Promise.resolve(ix.map(() => new Uint8Array(31))),
  };
  await assert.rejects(treeHash(5, short), RangeError);
  await assert.rejects(proveRecord(5, 1, wrongSize), RangeError);
  await assert.rejects(proveTree(5, 2, short), RangeError);
  await assert.rejects(storedHashes(3, new Uint8Array(), short), RangeError);
});

Deno.test("argument guards name the argument", async () => {
  const s = new MemoryHashStore();
  await s.append(new Uint8Array([1]));
  await assert.rejects(proveRecord(1, 1, s), /n must be < t/);
  await assert.rejects(proveRecord(0, 0, s), /t must be an integer/);
  await assert.rejects(proveTree(1, 2, s), /n must be <= t/);
  await assert.rejects(proveTree(1, 0, s), /n must be an integer/);
  await assert.rejects(treeHash(-1, s), RangeError);
  await assert.rejects(treeHash(1.5, s), RangeError);
  await assert.rejects(treeHash(2 ** 53, s), RangeError);
  assert.throws(() => storedHashIndex(-1, 0), RangeError);
  const h = sha256();
  for (
    const f of [
      () => checkRecord([], 0, h, 0, h),
      () => checkRecord([], 1, h, 1, h),
      () => checkRecord([], 1, h, -1, h),
      () => checkRecord([], 1, new Uint8Array(31), 0, h),
      () => checkRecord([new Uint8Array(5)], 2, h, 0, h),
      () => verifyInclusion(h, 0, Number.NaN, [], h),
      () => verifyInclusion(h, 3, 3, [], h),
      () => verifyConsistency(-1, 3, [], h, h),
      () => checkTree([], 2, h, 0, h),
    ]
  ) {
    assert.throws(f, (e: unknown) => e instanceof ProofError && e.rule !== undefined);
  }
  let e: unknown;
  try {
    checkRecord([], 1, h, 0, nodeHash(h, h));
  } catch (err) {
    e = err;
  }
  assert.ok(e instanceof ProofError);
  assert.equal(e.check, "inclusion");
  assert.equal(e.rule, "root-mismatch");
});

Deno.test("MemoryHashStore appends a batch of 150,000 leaves in one call", async () => {
  // Regression: spreading ~300,000 hashes into push() overflowed the stack.
  const s = new MemoryHashStore();
  const n = 150_000;
  const hs = Array.from(
    { length: n },
    (_, i) => leafHash(new Uint8Array([i & 255, i >> 8 & 255, i >> 16])),
  );
  await s.appendLeafHashes(hs);
  assert.equal(s.size, n);
  assert.equal(s.hashes.length, storedHashCount(n));
  const root = await treeHash(n, s);
  const i = 123_457;
  verifyInclusion(hs[i], i, n, await proveRecord(n, i, s), root);
});
