/**
 * Disagreement circuit: all M surrogates in one vector, depth 3.
 *
 * Layout: `Mp = nextPow2(M)` blocks of `P = nextPow2(n)` slots; block `i`
 * holds the encrypted test inputs for model `i`. Coefficients are public
 * (as in regaudit-fhe) and enter as per-block plaintexts, masked to the
 * first `n` slots of each block so padding evaluates to 0:
 *
 * - `P = c1·x + (c2·x)·x + (c3·x)·x² + c0` (depth 2; the plaintext
 *   products are fused into the first level).
 * - `Σ_{i<j} (P_i − P_j)² = M Σ_i P_i² − (Σ_i P_i)²` per input: the
 *   circuit returns `A = Σ_{i,t} P_i(t)²` and `B = Σ_t (Σ_i P_i(t))²`
 *   (squares: depth 3; block sums by rotations of P·2^k) and the per-model
 *   sums; the owner forms `(M·A − B) / (n · M(M−1)/2)` and the means.
 *
 * Error bound: relative error ≲ M·A·ε/(n·pairs·variance) with ε the slot
 * error (plaintext: ~1e-15 relative to A); per-model means within ε.
 *
 * @module
 */
import {
  DISAGREEMENT_DEFAULT_THRESHOLD,
  type DisagreementInput,
  type DisagreementResult,
} from "../primitives/disagreement.ts";
import {
  type BaseLayout,
  type Circuit,
  nextPowerOfTwo,
  type PreparedInput,
  requireSlots,
} from "./circuit.ts";
import { type SlotBackend, type SlotVector, sumSlotsSteps } from "./slots.ts";

/** Public layout of the disagreement circuit. */
export interface DisagreementLayout extends BaseLayout {
  /** Test inputs. */
  n: number;
  /** Block width: next power of two >= n. */
  block: number;
  /** Models (M >= 3). */
  models: number;
  /** Blocks: next power of two >= M. */
  modelBlocks: number;
  /** Public coefficients `[c0, c1, c2, c3]` per model. */
  coefficients: number[][];
}

function coefficientPlain(layout: DisagreementLayout, power: number): Float64Array {
  const out = new Float64Array(layout.modelBlocks * layout.block);
  for (let i = 0; i < layout.models; i++) {
    out.fill(layout.coefficients[i][power], i * layout.block, i * layout.block + layout.n);
  }
  return out;
}

/** The disagreement circuit (declared depth 3). */
export const disagreementCircuit: Circuit<
  DisagreementInput,
  DisagreementResult,
  DisagreementLayout
> = {
  primitive: "disagreement",
  depth: 3,
  errorBound: "pairwise variance within ~M·A·slot error/(n·pairs) where A = Σ P_i²; " +
    "means within slot error (plaintext: float rounding)",
  minSlots(input) {
    return nextPowerOfTwo(input.model_polynomials.length) *
      nextPowerOfTwo(input.test_input.length);
  },
  prepare(input, slots): PreparedInput<DisagreementLayout> {
    const n = input.test_input.length;
    const models = input.model_polynomials.length;
    const block = nextPowerOfTwo(n);
    const modelBlocks = nextPowerOfTwo(models);
    requireSlots("disagreement", modelBlocks * block, slots);
    const x = new Float64Array(modelBlocks * block);
    for (let i = 0; i < models; i++) x.set(input.test_input, i * block);
    return {
      vectors: { x },
      layout: {
        slots,
        n,
        block,
        models,
        modelBlocks,
        coefficients: input.model_polynomials.map((c) => [...c]),
      },
    };
  },
  inputNames() {
    return ["x"];
  },
  rotationSteps(layout) {
    return sumSlotsSteps(layout.modelBlocks * layout.block);
  },
  evaluate<V extends SlotVector>(
    be: SlotBackend<V>,
    enc: Record<string, V>,
    layout: DisagreementLayout,
  ) {
    const x = enc.x;
    const x2 = be.square(x);
    const linear = be.mulPlain(x, coefficientPlain(layout, 1));
    const quadratic = be.mul(be.mulPlain(x, coefficientPlain(layout, 2)), x);
    const cubic = be.mul(be.mulPlain(x, coefficientPlain(layout, 3)), x2);
    const poly = be.addPlain(be.add(be.add(linear, quadratic), cubic), coefficientPlain(layout, 0));
    // Σ_i P_i(t) into block 0 by rotations of block, 2·block, ...
    let cross = poly;
    for (let s = layout.block; s < layout.modelBlocks * layout.block; s *= 2) {
      cross = be.add(cross, be.rotate(cross, s));
    }
    return {
      model_sums: be.sumSlots(poly, layout.block),
      sum_of_squares: be.sumSlots(be.square(poly), layout.modelBlocks * layout.block),
      square_of_sums: be.sumSlots(be.square(cross), layout.block),
    };
  },
  finish(dec, layout, input) {
    const m = layout.models;
    const pairs = m * (m - 1) / 2;
    const a = dec.sum_of_squares[0];
    const b = dec.square_of_sums[0];
    const pairwise_variance = Math.max(0, m * a - b) / (layout.n * pairs);
    return {
      pairwise_variance,
      breach: pairwise_variance > (input.threshold ?? DISAGREEMENT_DEFAULT_THRESHOLD),
      per_model_outputs: Array.from(
        { length: m },
        (_, i) => dec.model_sums[i * layout.block] / layout.n,
      ),
    };
  },
};
