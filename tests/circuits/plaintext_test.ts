/** The plaintext slot backend: rotation direction, depth accounting, counts, budget errors. */
import assert from "node:assert/strict";
import { DepthBudgetExceededError } from "../../core/errors.ts";
import { PlaintextBackend } from "../../core/circuits/plaintext.ts";

Deno.test("plaintext backend: rotate is a cyclic left rotation (SEAL rotateVector)", () => {
  const be = new PlaintextBackend({ slots: 8, depthBudget: 0 });
  const v = be.encrypt([0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(Array.from(be.decrypt(be.rotate(v, 1))), [1, 2, 3, 4, 5, 6, 7, 0]);
  assert.deepEqual(Array.from(be.decrypt(be.rotate(v, -2))), [6, 7, 0, 1, 2, 3, 4, 5]);
  assert.deepEqual(
    Array.from(be.decrypt(be.rotate(v, 9))),
    Array.from(be.decrypt(be.rotate(v, 1))),
  );
  assert.deepEqual(be.stats().rotationSteps, [-2, 1, 9]);
});

Deno.test("plaintext backend: encrypt zero-pads, plaintext operands zero-pad or broadcast", () => {
  const be = new PlaintextBackend({ slots: 4, depthBudget: 2 });
  const v = be.encrypt([1, 2]);
  assert.deepEqual(Array.from(be.decrypt(v)), [1, 2, 0, 0]);
  assert.deepEqual(Array.from(be.decrypt(be.addPlain(v, [1]))), [2, 2, 0, 0]);
  assert.deepEqual(Array.from(be.decrypt(be.addPlain(v, 1))), [2, 3, 1, 1]);
  assert.deepEqual(Array.from(be.decrypt(be.mulPlain(v, 3))), [3, 6, 0, 0]);
  assert.throws(() => be.encrypt([1, 2, 3, 4, 5]), RangeError);
});

Deno.test("plaintext backend: sumSlots sums windows with log2(width) rotations", () => {
  const be = new PlaintextBackend({ slots: 8, depthBudget: 0 });
  const v = be.encrypt([1, 2, 3, 4, 5, 6, 7, 8]);
  const s = be.decrypt(be.sumSlots(v, 4));
  assert.equal(s[0], 10);
  assert.equal(s[4], 26);
  assert.equal(be.decrypt(be.sumSlots(v, 8))[3], 36);
  assert.equal(be.stats().ops.rotate, 2 + 3);
  assert.throws(() => be.sumSlots(v, 3), RangeError);
  assert.throws(() => be.sumSlots(v, 16), RangeError);
});

Deno.test("plaintext backend: levels, counts, and the depth budget", () => {
  const be = new PlaintextBackend({ slots: 4, depthBudget: 2 });
  const x = be.encrypt([1, 2, 3, 4]);
  const y = be.mulPlain(x, 2); // level 1
  const z = be.mul(y, x); // level 2 (mixed levels allowed)
  assert.equal(y.level, 1);
  assert.equal(z.level, 2);
  assert.equal(be.add(z, x).level, 2);
  assert.equal(be.rotate(z, 1).level, 2);
  assert.deepEqual(Array.from(be.decrypt(z)), [2, 8, 18, 32]);
  assert.throws(
    () => be.square(z),
    (e: unknown) => e instanceof DepthBudgetExceededError && e.declared === 2 && e.attempted === 3,
  );
  assert.throws(() => be.mulPlain(z, 1), DepthBudgetExceededError);
  const st = be.stats();
  assert.equal(st.depthDeclared, 2);
  assert.equal(st.depthConsumed, 2);
  assert.deepEqual(st.ops, { add: 1, mulPlain: 1, mul: 1, rotate: 1, rescale: 2 });
});

Deno.test("plaintext backend: each instance has its own stats (no module state)", () => {
  const a = new PlaintextBackend({ slots: 2, depthBudget: 1 });
  const b = new PlaintextBackend({ slots: 2, depthBudget: 1 });
  a.square(a.encrypt([1, 2]));
  assert.equal(a.stats().ops.mul, 1);
  assert.equal(b.stats().ops.mul, 0);
  assert.equal(b.stats().depthConsumed, 0);
});

Deno.test("plaintext backend: rejects bad options", () => {
  assert.throws(() => new PlaintextBackend({ slots: 6, depthBudget: 1 }), RangeError);
  assert.throws(() => new PlaintextBackend({ slots: 8, depthBudget: -1 }), RangeError);
});
