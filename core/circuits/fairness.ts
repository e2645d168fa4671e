/**
 * Fairness circuit: the eight group counts in one vector, depth 2.
 *
 * Layout: eight blocks of `P = nextPow2(n)` slots,
 * `[n_a, n_b, pos_a, pos_b, pred_a, pred_b, tp_a, tp_b]`. Three vectors,
 * each holding one party's data (so labels, predictions and group
 * membership may come from different holders, all encrypted):
 *
 * - `groups`      = `[g_a, g_b, g_a, g_b, g_a, g_b, g_a, g_b]`
 * - `labels`      = `[1, 1, y, y, 1, 1, y, y]`
 * - `predictions` = `[1, 1, 1, 1, ŷ, ŷ, ŷ, ŷ]`
 *
 * The evaluator multiplies the three (2 ciphertext multiplications, depth
 * 2) and sums each block with one rotate-and-add (`log2 P` rotations).
 * The owner rounds each decrypted count to the nearest integer and forms
 * the ratios (no encrypted division).
 *
 * Error bound: exact (the counts are integers) whenever every decrypted
 * count is within 0.5 of its true value; on the plaintext backend always.
 *
 * @module
 */
import type { FairnessInput, FairnessResult } from "../primitives/fairness.ts";
import {
  FAIRNESS_DEFAULT_THRESHOLD,
  type FairnessCounts,
  fairnessFromCounts,
} from "../primitives/fairness.ts";
import {
  type BaseLayout,
  type Circuit,
  nextPowerOfTwo,
  type PreparedInput,
  requireSlots,
} from "./circuit.ts";
import { type SlotBackend, type SlotVector, sumSlotsSteps } from "./slots.ts";

/** Public layout of the fairness circuit. */
export interface FairnessLayout extends BaseLayout {
  /** Rows. */
  n: number;
  /** Block width: next power of two >= n. */
  block: number;
}

const COUNT_ORDER: (keyof FairnessCounts)[] = [
  "n_a",
  "n_b",
  "pos_a",
  "pos_b",
  "pred_a",
  "pred_b",
  "tp_a",
  "tp_b",
];

/** The fairness circuit (declared depth 2). */
export const fairnessCircuit: Circuit<FairnessInput, FairnessResult, FairnessLayout> = {
  primitive: "fairness",
  depth: 2,
  errorBound:
    "exact: counts are rounded to integers; holds while each decrypted count errs by < 0.5",
  minSlots(input) {
    return 8 * nextPowerOfTwo(input.y_true.length);
  },
  prepare(input, slots): PreparedInput<FairnessLayout> {
    const n = input.y_true.length;
    const block = nextPowerOfTwo(n);
    requireSlots("fairness", 8 * block, slots);
    const groups = new Float64Array(8 * block);
    const labels = new Float64Array(8 * block);
    const predictions = new Float64Array(8 * block);
    for (let b = 0; b < 8; b++) {
      const base = b * block;
      const g = b % 2 === 0 ? input.group_a : input.group_b;
      for (let i = 0; i < n; i++) {
        groups[base + i] = g[i];
        labels[base + i] = b === 2 || b === 3 || b >= 6 ? input.y_true[i] : 1;
        predictions[base + i] = b >= 4 ? input.y_pred[i] : 1;
      }
    }
    return { vectors: { groups, labels, predictions }, layout: { slots, n, block } };
  },
  inputNames() {
    return ["groups", "labels", "predictions"];
  },
  rotationSteps(layout) {
    return sumSlotsSteps(layout.block);
  },
  evaluate<V extends SlotVector>(
    be: SlotBackend<V>,
    enc: Record<string, V>,
    layout: FairnessLayout,
  ) {
    const product = be.mul(be.mul(enc.groups, enc.labels), enc.predictions);
    return { counts: be.sumSlots(product, layout.block) };
  },
  finish(dec, layout, input) {
    const c = {} as FairnessCounts;
    COUNT_ORDER.forEach((name, b) => {
      c[name] = Math.round(dec.counts[b * layout.block]);
    });
    return fairnessFromCounts(c, input.threshold ?? FAIRNESS_DEFAULT_THRESHOLD);
  },
};
