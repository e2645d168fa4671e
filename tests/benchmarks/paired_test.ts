import assert from "node:assert/strict";
import { bootstrapMedianInterval, median, verdict } from "../../benchmarks/_paired.ts";

Deno.test("median of odd and even counts", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), RangeError);
});

Deno.test("the bootstrap interval holds the median, is reproducible, and narrows with agreement", () => {
  const xs = [1.01, 0.99, 1.03, 0.97, 1.0, 1.02, 0.98, 1.04, 0.96, 1.0, 1.01, 0.99];
  const [lo, hi] = bootstrapMedianInterval(xs);
  assert.ok(lo <= median(xs) && median(xs) <= hi);
  assert.ok(lo >= 0.96 && hi <= 1.04);
  assert.deepEqual(bootstrapMedianInterval(xs), [lo, hi]);
  const same = bootstrapMedianInterval(xs.map(() => 1.02));
  assert.deepEqual(same, [1.02, 1.02]);
});

Deno.test("the verdict is three-way against the goal", () => {
  assert.equal(verdict([-0.01, 0.05], 0.05), "met");
  assert.equal(verdict([0.051, 0.2], 0.05), "missed");
  assert.equal(verdict([0.01, 0.06], 0.05), "not resolved");
  assert.equal(verdict([0.05, 0.06], 0.05), "not resolved");
});
