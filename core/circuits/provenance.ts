/**
 * Provenance circuit: all bucket aggregates in one vector, depth 1.
 *
 * Layout: `n_buckets` blocks of `P = nextPow2(n)` slots, each holding a
 * copy of the encrypted attributions. Bucket ids are a public hash of the
 * row ids (as in regaudit-fhe), so the evaluator builds one public 0/1
 * mask (block `b` selects the rows of bucket `b`), multiplies once (depth
 * 1) and sums every block with one rotate-and-add (`log2 P` rotations).
 * The owner reads the `n_buckets` aggregates and orders them (top-K, ties
 * by lower index) after decryption.
 *
 * Error bound: each aggregate errs by at most the backend's slot error
 * times n (exact on the plaintext backend up to float summation order,
 * < 1e-12 relative); top-K is exact unless two aggregates are closer
 * than that error.
 *
 * @module
 */
import {
  bucketOf,
  type ProvenanceInput,
  type ProvenanceResult,
  topK,
} from "../primitives/provenance.ts";
import {
  type BaseLayout,
  type Circuit,
  nextPowerOfTwo,
  type PreparedInput,
  requireSlots,
} from "./circuit.ts";
import { type SlotBackend, type SlotVector, sumSlotsSteps } from "./slots.ts";

/** Public layout of the provenance circuit. */
export interface ProvenanceLayout extends BaseLayout {
  /** Rows. */
  n: number;
  /** Block width: next power of two >= n. */
  block: number;
  /** Number of buckets (blocks). */
  n_buckets: number;
  /** Public bucket id of each row (the hash of its row id). */
  buckets: number[];
}

/** The provenance circuit (declared depth 1). */
export const provenanceCircuit: Circuit<ProvenanceInput, ProvenanceResult, ProvenanceLayout> = {
  primitive: "provenance",
  depth: 1,
  errorBound: "aggregates: n x slot error (plaintext: float rounding only); top-K exact " +
    "unless two aggregates are closer than that",
  minSlots(input) {
    return nextPowerOfTwo(input.n_buckets * nextPowerOfTwo(input.attributions.length));
  },
  prepare(input, slots): PreparedInput<ProvenanceLayout> {
    const n = input.attributions.length;
    const block = nextPowerOfTwo(n);
    requireSlots("provenance", input.n_buckets * block, slots);
    const attributions = new Float64Array(input.n_buckets * block);
    for (let b = 0; b < input.n_buckets; b++) attributions.set(input.attributions, b * block);
    const buckets = input.row_ids.map((r) => bucketOf(r, input.n_buckets));
    return {
      vectors: { attributions },
      layout: { slots, n, block, n_buckets: input.n_buckets, buckets },
    };
  },
  inputNames() {
    return ["attributions"];
  },
  rotationSteps(layout) {
    return sumSlotsSteps(layout.block);
  },
  evaluate<V extends SlotVector>(
    be: SlotBackend<V>,
    enc: Record<string, V>,
    layout: ProvenanceLayout,
  ) {
    const mask = new Float64Array(layout.n_buckets * layout.block);
    layout.buckets.forEach((b, i) => {
      mask[b * layout.block + i] = 1;
    });
    return { aggregates: be.sumSlots(be.mulPlain(enc.attributions, mask), layout.block) };
  },
  finish(dec, layout, input) {
    const agg = Array.from(
      { length: layout.n_buckets },
      (_, b) => dec.aggregates[b * layout.block],
    );
    const { indices, indicator } = topK(agg, input.k);
    return { bucket_aggregates: agg, topk_indices: indices, topk_indicator: indicator };
  },
};
