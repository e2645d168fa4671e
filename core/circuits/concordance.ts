/**
 * Concordance circuit: Harrell's C-index, exactly, at depth 6.
 *
 * The C-index depends only on orders, so the owner replaces values by small
 * integers before encryption (order-preserving: the evaluator learns
 * nothing more):
 *
 * - risk → dense rank `r_i` (ties share a rank);
 * - time → `ρ_j = #{distinct event times < t_j}` for the later member of a
 *   pair, and `ρ'_i = ρ_i` for the earlier member when subject i had the
 *   event, `D = #distinct event times` when it was censored. Then
 *   `[ρ_j > ρ'_i] = event_i · [t_j > t_i]` (comparable pair, strict time
 *   order as regaudit-fhe's oracle), with the event folded in for free.
 *
 * Pairs are laid out `i·n + j` (replicated layout, packed by the owner),
 * risk pairs in the first half of `2W` slots (`W = nextPow2(n²)`), time
 * pairs in the second; each value is sent as `b <= 8` bit planes
 * (`a` = the value compared as greater, `b` the other). One exact Boolean
 * comparator runs on both halves at once, with no approximation:
 *
 * - `d_k = a_k − b_k ∈ {−1, 0, 1}`, `eq_k = 1 − d_k²`, `2·gt_k = d_k + d_k²` (level 1);
 * - `E_k = Π_{j>k} eq_j` by a doubling suffix-product scan (level ≤ 4);
 * - `2·[a > b] = Σ_k 2·gt_k · E_k` (level 5), `[a = b] = Π_k eq_k` (level 4);
 * - the time half is rotated onto the risk half (1 rotation) and
 *   `4·concordant = Σ 2·comparable · (2·[r_i > r_j] + [r_i = r_j])` (level 6);
 * - two rotate-and-add sums (`2·log2 W` rotations).
 *
 * The owner rounds the two sums to the integers they are and divides.
 *
 * Error bound: exact. The counts are recovered exactly whenever the total
 * slot error of each sum is below 1 (per pair below 1/(4n²)); the plaintext
 * backend is exact, and CKKS at a 40-bit scale errs by ~1e-6 per pair,
 * far below 1/(4·64²) ≈ 6e-5 for n ≤ 64. Slots: n = 64 fits 2^13 slots
 * (N = 2^14), n = 90 fits 2^14 slots (N = 2^15).
 *
 * @module
 */
import {
  cIndexFromCounts,
  type ConcordanceInput,
  type ConcordanceResult,
  denseRanks,
} from "../primitives/concordance.ts";
import {
  type BaseLayout,
  type Circuit,
  nextPowerOfTwo,
  type PreparedInput,
  requireSlots,
} from "./circuit.ts";
import { type SlotBackend, type SlotVector, sumSlotsSteps } from "./slots.ts";

/** Public layout of the concordance circuit. */
export interface ConcordanceLayout extends BaseLayout {
  /** Subjects. */
  n: number;
  /** Half width W = nextPow2(n²): risk pairs in [0, W), time pairs in [W, 2W). */
  half: number;
  /** Bit planes per value (1..8). */
  bits: number;
}

/** Most bit planes the declared depth 6 allows. */
export const CONCORDANCE_MAX_BITS = 8;

/** Owner-side integer encoding of the time order with the event folded in. */
export function timeCodes(time: readonly number[], event: readonly number[]): {
  later: Int32Array;
  earlier: Int32Array;
  max: number;
} {
  const eventTimes = [...new Set(time.filter((_, i) => event[i] === 1))].sort((a, b) => a - b);
  const countBelow = (t: number) => { // # distinct event times < t (binary search)
    let lo = 0, hi = eventTimes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (eventTimes[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const d = eventTimes.length;
  const later = Int32Array.from(time, countBelow);
  const earlier = Int32Array.from(time, (t, i) => (event[i] === 1 ? countBelow(t) : d));
  return { later, earlier, max: d };
}

function bitsFor(max: number): number {
  let b = 1;
  while (2 ** b <= max) b++;
  return b;
}

/** The concordance circuit (declared depth 6, exact). */
export const concordanceCircuit: Circuit<ConcordanceInput, ConcordanceResult, ConcordanceLayout> = {
  primitive: "concordance",
  depth: 6,
  errorBound: "exact: counts are recovered exactly while each slot sum errs by < 1 " +
    "(per pair < 1/(4n^2)); no sign approximation",
  minSlots(input) {
    const n = input.risk.length;
    return 2 * nextPowerOfTwo(n * n);
  },
  prepare(input, slots): PreparedInput<ConcordanceLayout> {
    const n = input.risk.length;
    const half = nextPowerOfTwo(n * n);
    requireSlots("concordance", 2 * half, slots);
    const risk = denseRanks(input.risk);
    const time = timeCodes(input.time, input.event);
    const bits = bitsFor(Math.max(risk.distinct - 1, time.max));
    if (bits > CONCORDANCE_MAX_BITS) {
      throw new RangeError(
        `concordance circuit supports at most 255 distinct values, got ${n} rows`,
      );
    }
    const vectors: Record<string, Float64Array> = {};
    for (let k = 0; k < bits; k++) {
      const a = new Float64Array(2 * half);
      const b = new Float64Array(2 * half);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const p = i * n + j;
          a[p] = (risk.ranks[i] >> k) & 1; // risk: is r_i > r_j ?
          b[p] = (risk.ranks[j] >> k) & 1;
          a[half + p] = (time.later[j] >> k) & 1; // time: is ρ_j > ρ'_i ?
          b[half + p] = (time.earlier[i] >> k) & 1;
        }
      }
      vectors[`a${k}`] = a;
      vectors[`b${k}`] = b;
    }
    return { vectors, layout: { slots, n, half, bits } };
  },
  inputNames(layout) {
    return Array.from({ length: layout.bits }, (_, k) => [`a${k}`, `b${k}`]).flat();
  },
  rotationSteps(layout) {
    return [...sumSlotsSteps(layout.half), layout.half];
  },
  evaluate<V extends SlotVector>(
    be: SlotBackend<V>,
    enc: Record<string, V>,
    layout: ConcordanceLayout,
  ) {
    const b = layout.bits;
    const eq: V[] = [];
    const gt2: V[] = [];
    for (let k = 0; k < b; k++) {
      const d = be.sub(enc[`a${k}`], enc[`b${k}`]);
      const d2 = be.square(d);
      eq.push(be.addPlain(be.negate(d2), 1));
      gt2.push(be.add(d, d2));
    }
    // suffix[k] = Π_{j >= k} eq_j, by doubling: depth 1 + ceil(log2(b - k)).
    const suffix = [...eq];
    for (let span = 1; span < b; span *= 2) {
      for (let k = 0; k + span < b; k++) suffix[k] = be.mul(suffix[k], suffix[k + span]);
    }
    let greater2 = gt2[b - 1];
    for (let k = 0; k < b - 1; k++) greater2 = be.add(greater2, be.mul(gt2[k], suffix[k + 1]));
    const equal = suffix[0];
    const comparable2 = be.rotate(greater2, layout.half); // time half onto the risk half
    const concordant4 = be.mul(comparable2, be.add(greater2, equal));
    return {
      concordant: be.sumSlots(concordant4, layout.half),
      comparable: be.sumSlots(greater2, layout.half),
    };
  },
  finish(dec, layout) {
    const concordant = Math.round(dec.concordant[0] / 2) / 2;
    const comparable = Math.round(dec.comparable[layout.half] / 2);
    return cIndexFromCounts(concordant, comparable);
  },
};
