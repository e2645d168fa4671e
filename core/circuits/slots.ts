/**
 * The slot-vector interface every audit circuit is written against.
 *
 * A circuit is written once and runs on two backends: the plaintext backend
 * (`Float64Array` slots, exact up to floating point, used to test circuits
 * and to count operations) and the CKKS backend (`core/fhe/`, Microsoft SEAL
 * through node-seal). The cost model is CKKS's:
 *
 * - `add`, `sub`, `addPlain`, `subPlain`, `negate`: free (no level).
 * - `mulPlain`: one level (the plaintext is encoded at the scale and the
 *   product is rescaled).
 * - `mul`, `square`: one level (multiply, relinearize, rescale).
 * - `rotate`: free in depth (a Galois key switch), but counted: each distinct
 *   step needs a Galois key.
 * - `sumSlots(v, width)`: rotate-and-add, `log2(width)` rotations.
 *
 * Rotation is cyclic over all `slots` of the backend: `rotate(v, k)` moves
 * slot `i + k` to slot `i` (a left rotation for positive `k`, as SEAL's
 * `rotateVector`).
 *
 * Depth is tracked per vector (`level` = levels consumed so far). Operating
 * on vectors of different levels is allowed: the backend mod-switches the
 * shallower one down. An operation whose result would exceed the evaluation's
 * declared depth budget throws {@linkcode DepthBudgetExceededError}.
 *
 * Depth used and operation counts belong to one evaluation (one backend
 * instance per circuit run), never to module state.
 *
 * @module
 */

/** An opaque handle to a vector of slots: plaintext or a ciphertext. */
export interface SlotVector {
  /** Levels consumed so far (0 = fresh encryption). */
  readonly level: number;
}

/** Operation counts of one evaluation. */
export interface OperationCounts {
  /** Ciphertext additions and subtractions (including with plaintexts). */
  add: number;
  /** Plaintext-ciphertext multiplications. */
  mulPlain: number;
  /** Ciphertext-ciphertext multiplications (each followed by relinearization). */
  mul: number;
  /** Rotations (Galois key switches). */
  rotate: number;
  /** Rescales (one per level consumed by a multiplication). */
  rescale: number;
}

/**
 * What one evaluation used: returned with each circuit run.
 *
 * @example The stats of an audit's plaintext circuit run
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit } from "../audit/run.ts";
 * import type { EvaluationStats } from "./slots.ts";
 * const stats: EvaluationStats | null = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] }).stats;
 * assert.ok(stats !== null);
 * assert.ok(stats.depthConsumed <= stats.depthDeclared);
 * assert.ok(stats.ops.add > 0);
 * // Every rotation step used needs a Galois key on CKKS; none is zero.
 * assert.ok(stats.rotationSteps.every((step) => step !== 0));
 * ```
 */
export interface EvaluationStats {
  /** The depth budget the evaluation was declared with. */
  depthDeclared: number;
  /** The maximum level reached by any vector of the evaluation. */
  depthConsumed: number;
  /** Operation counts. */
  ops: OperationCounts;
  /** Distinct rotation steps used (each needs a Galois key on CKKS). */
  rotationSteps: number[];
}

/** The operations a circuit may use. Implemented by plaintext and CKKS backends. */
export interface SlotBackend<V extends SlotVector = SlotVector> {
  /** Backend identifier as recorded in envelopes. */
  readonly name: "plaintext" | "seal-ckks";
  /** Number of slots in every vector. */
  readonly slots: number;
  /** The declared depth budget of this evaluation. */
  readonly depthBudget: number;

  /**
   * Bring owner-side values into the backend (encryption on CKKS). Shorter
   * arrays are zero-padded to `slots`.
   */
  encrypt(values: ArrayLike<number>): V;
  /** Owner-side: read the slots back (decryption on CKKS). */
  decrypt(v: V): Float64Array;

  /** Slot-wise sum. */
  add(a: V, b: V): V;
  /** Slot-wise difference. */
  sub(a: V, b: V): V;
  /** Slot-wise negation. */
  negate(a: V): V;
  /** Add a plaintext vector (or a scalar to every slot). */
  addPlain(a: V, p: ArrayLike<number> | number): V;
  /** Multiply by a plaintext vector (or a scalar). One level. */
  mulPlain(a: V, p: ArrayLike<number> | number): V;
  /** Multiply two vectors slot-wise. One level. */
  mul(a: V, b: V): V;
  /** Square a vector slot-wise. One level. */
  square(a: V): V;
  /** Cyclic left rotation by `steps` (may be negative). No level. */
  rotate(a: V, steps: number): V;
  /**
   * Sum of slots `[i, i + width)` into slot `i` for every `i` by
   * rotate-and-add (`width` a power of two; `log2(width)` rotations by
   * 1, 2, 4, ...). With `width = slots` every slot holds the total.
   */
  sumSlots(a: V, width: number): V;

  /** What this evaluation used so far. */
  stats(): EvaluationStats;
}

/** Rotation steps `sumSlots(_, width)` uses: 1, 2, 4, ..., width/2. */
export function sumSlotsSteps(width: number): number[] {
  const steps: number[] = [];
  for (let s = 1; s < width; s *= 2) steps.push(s);
  return steps;
}
