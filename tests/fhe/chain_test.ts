/**
 * The pure pieces split out of core/fhe/backend.ts: plaintext value checks
 * (chain.ts) and the pool of one evaluation's ciphertexts (vector.ts),
 * tested with stand-in ciphertexts so no SEAL runtime is needed.
 */
import assert from "node:assert/strict";
import type { Ciphertext } from "node-seal";
import { InputValidationError } from "../../core/errors.ts";
import { slotValues } from "../../core/fhe/chain.ts";
import { SealError } from "../../core/fhe/seal.ts";
import { CiphertextPool, SealVector } from "../../core/fhe/vector.ts";

const isRule = (pointer: string, rule: string) => (e: unknown) =>
  e instanceof InputValidationError && e.pointer === pointer && e.rule === rule;

Deno.test("slotValues: a scalar fills every slot, a vector is zero-padded", () => {
  assert.deepEqual([...slotValues(2.5, 4, "/p")], [2.5, 2.5, 2.5, 2.5]);
  assert.deepEqual([...slotValues([1, -2], 4, "/p")], [1, -2, 0, 0]);
  assert.deepEqual([...slotValues([], 2, "/p")], [0, 0]);
});

Deno.test("slotValues: non-finite values and too many values are refused at their pointer", () => {
  assert.throws(() => slotValues(Number.NaN, 4, "/plaintext"), isRule("/plaintext", "finite"));
  assert.throws(() => slotValues([1, Infinity], 4, "/values"), isRule("/values/1", "finite"));
  assert.throws(() => slotValues([1, 2, 3], 2, "/values"), isRule("/values", "max-length"));
});

/** A stand-in for a SEAL ciphertext: only what the pool touches. */
function fakeCiphertext(): Ciphertext & { deletes: number } {
  let deleted = false;
  const ct = {
    deletes: 0,
    isDeleted: () => deleted,
    delete() {
      deleted = true;
      ct.deletes++;
    },
  };
  return ct as unknown as Ciphertext & { deletes: number };
}

Deno.test("CiphertextPool: owns what it tracked, frees on release and dispose, once", () => {
  const pool = new CiphertextPool();
  const a = fakeCiphertext();
  const b = fakeCiphertext();
  const va = pool.track(a, 1);
  const vb = pool.track(b, 3);
  assert.equal(pool.deepest, 3);
  assert.equal(pool.own(va), a);
  assert.ok(pool.has(vb));
  // A vector of another evaluation (or a forged one) is refused.
  const stranger = new SealVector(0, fakeCiphertext());
  assert.throws(() => pool.own(stranger), isRule("/vector", "same-backend"));
  pool.release([va, va]);
  assert.equal(a.deletes, 1);
  assert.ok(!pool.has(va));
  assert.throws(() => pool.own(va), isRule("/vector", "same-backend"));
  assert.equal(pool.dispose(), true);
  assert.equal(b.deletes, 1);
  assert.equal(a.deletes, 1, "a released ciphertext is not deleted twice");
  assert.equal(pool.dispose(), false);
  assert.throws(() => pool.alive(), SealError);
  assert.throws(() => pool.own(vb), SealError);
});
