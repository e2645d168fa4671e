/**
 * Drift circuit: encrypted CDFs by rotate-and-add prefix sums, depth 1.
 *
 * The owner normalises each histogram (its own division) and encrypts `p`
 * and `q` (they may come from two holders). The evaluator subtracts them,
 * forms the CDF difference with a Hillis–Steele prefix sum of right
 * rotations (`log2 P` rotations, no level: the zero padding of at least
 * `P` slots absorbs the spill, so no mask is needed), squares it (depth 1)
 * and sums the first `P` slots (`log2 P` rotations). Outputs: the encrypted
 * L2 distance and the CDF-difference vector, from which the owner computes
 * W1 = Σ|ΔF| (an absolute value needs no polynomial after decryption).
 *
 * Error bound: distance and W1 err by at most ~2n x slot error (plaintext:
 * float rounding, < 1e-12); the drift bit is exact unless the distance is
 * within that error of the threshold.
 *
 * @module
 */
import {
  DRIFT_DEFAULT_THRESHOLD,
  type DriftInput,
  type DriftResult,
  normalise,
} from "../primitives/drift.ts";
import { type BaseLayout, type Circuit, nextPowerOfTwo, requireSlots } from "./circuit.ts";
import { type SlotBackend, type SlotVector, sumSlotsSteps } from "./slots.ts";

/** Public layout of the drift circuit. */
export interface DriftLayout extends BaseLayout {
  /** Bins. */
  n: number;
  /** Scan width: next power of two >= n (slots >= 2 x block). */
  block: number;
}

/** The drift circuit (declared depth 1). */
export const driftCircuit: Circuit<DriftInput, DriftResult, DriftLayout> = {
  primitive: "drift",
  depth: 1,
  errorBound: "distance and W1 within ~2n x slot error (plaintext: float rounding); " +
    "drift bit exact unless the distance is that close to the threshold",
  minSlots(input) {
    return 2 * nextPowerOfTwo(input.p.length);
  },
  prepare(input, slots) {
    const n = input.p.length;
    const block = nextPowerOfTwo(n);
    requireSlots("drift", 2 * block, slots);
    return {
      vectors: {
        p: Float64Array.from(normalise(input.p)),
        q: Float64Array.from(normalise(input.q)),
      },
      layout: { slots, n, block },
    };
  },
  inputNames() {
    return ["p", "q"];
  },
  rotationSteps(layout) {
    const up = sumSlotsSteps(layout.block);
    return [...up.map((s) => -s), ...up];
  },
  evaluate<V extends SlotVector>(be: SlotBackend<V>, enc: Record<string, V>, layout: DriftLayout) {
    let cdf = be.sub(enc.p, enc.q);
    for (let s = 1; s < layout.block; s *= 2) cdf = be.add(cdf, be.rotate(cdf, -s));
    return { cdf_diff: cdf, l2: be.sumSlots(be.square(cdf), layout.block) };
  },
  finish(dec, layout, input) {
    let w1 = 0;
    for (let k = 0; k < layout.n; k++) w1 += Math.abs(dec.cdf_diff[k]);
    const distance = dec.l2[0];
    return {
      distance,
      w1_distance: w1,
      drift_bit: distance > (input.drift_threshold ?? DRIFT_DEFAULT_THRESHOLD),
    };
  },
};
