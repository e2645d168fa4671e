/**
 * The look-up plan every store's `readHashes` shares: which record stored a
 * hash (checked against the stored-hash numbering written by appends), the
 * grouping by record, the cache, and the errors for a record not in the log
 * or lacking a level.
 */
import assert from "node:assert/strict";
import { LedgerCorruptionError } from "../../ledger/errors.ts";
import { storedHashCount, storedHashIndex } from "../../ledger/merkle/mod.ts";
import { recordStoringHash, StoredHashCache } from "../../ledger/stored_hash_cache.ts";

const hash = (b: number) => new Uint8Array(32).fill(b);

Deno.test("recordStoringHash names the append that wrote each stored hash index", () => {
  // Record r's append writes 1 + (trailing one bits of r) hashes from storedHashIndex(0, r).
  let next = 0;
  for (let r = 0; r < 300; r++) {
    const count = storedHashCount(r + 1) - storedHashCount(r);
    assert.equal(storedHashIndex(0, r), next);
    for (let level = 0; level < count; level++) {
      assert.deepEqual(recordStoringHash(next + level), { record: r, level });
    }
    next += count;
  }
  assert.throws(() => recordStoringHash(-1), RangeError);
});

Deno.test("a plan reads each record once and fills every slot that record holds", () => {
  const cache = new StoredHashCache();
  // Indexes 2 (level 1 of record 1) and 1 (level 0 of record 1), 0 (record 0), 2 again.
  const plan = cache.plan([2, 1, 0, 2]);
  assert.deepEqual(plan.records, [1, 0]);
  plan.fill(1, [hash(1), hash(12)]);
  plan.fill(0, [hash(0)]);
  assert.deepEqual(plan.out, [hash(12), hash(1), hash(0), hash(12)]);
  // Filled hashes are cached: nothing left to read.
  const again = cache.plan([0, 1, 2]);
  assert.deepEqual(again.records, []);
  assert.deepEqual(again.out, [hash(0), hash(1), hash(12)]);
});

Deno.test("a hash viewing a larger row is copied before it is cached; an own buffer is kept", () => {
  const cache = new StoredHashCache();
  const row = new Uint8Array(1000).fill(7);
  const own = hash(9);
  const plan = cache.plan([0, 1]);
  plan.fill(0, [row.subarray(100, 132)]);
  plan.fill(1, [own]);
  assert.equal(plan.out[0].buffer.byteLength, 32);
  assert.deepEqual(plan.out[0], hash(7));
  assert.equal(plan.out[1], own);
});

Deno.test("remembered records are served from the cache at their stored indexes", () => {
  const cache = new StoredHashCache();
  cache.rememberRecord(3, [hash(3), hash(23), hash(33)]);
  const plan = cache.plan([storedHashIndex(0, 3), storedHashIndex(1, 1), storedHashIndex(2, 0)]);
  assert.deepEqual(plan.records, []);
  assert.deepEqual(plan.out, [hash(3), hash(23), hash(33)]);
});

Deno.test("a record not in the log, or lacking a level, fails with the rule it broke", () => {
  const cache = new StoredHashCache();
  const missing = cache.plan([0]);
  assert.throws(() => missing.fill(0, null), RangeError);
  const short = cache.plan([storedHashIndex(1, 0)]);
  assert.throws(() => short.fill(1, [hash(1)]), LedgerCorruptionError);
});
