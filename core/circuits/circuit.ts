/**
 * The shape every audit circuit has, and how to run one.
 *
 * A circuit is split along the trust boundary of an encrypted audit:
 *
 * - `prepare` (data owner, plaintext): packs the input into slot vectors
 *   (ranks, replication, bit planes, normalisation) and returns a public
 *   `layout` (sizes, public masks' sources, scales) that the evaluator needs.
 * - `evaluate` (evaluator, no secret): runs on a {@linkcode SlotBackend}
 *   from the encrypted vectors and the layout only.
 * - `finish` (data owner, after decryption): divisions, rounding of counts,
 *   thresholds and orderings that need no encryption.
 *
 * `depth` is the declared multiplicative depth: evaluation on a backend
 * created with that budget never throws {@linkcode DepthBudgetExceededError}.
 * `rotationSteps(layout)` lists every rotation step `evaluate` may use, so
 * the CKKS backend can generate exactly those Galois keys.
 *
 * @module
 */
import type { PrimitiveName } from "../envelope_types.ts";
import { PlaintextBackend } from "./plaintext.ts";
import type { EvaluationStats, SlotBackend, SlotVector } from "./slots.ts";

/** The layout every circuit records: the slot count it was packed for. */
export interface BaseLayout {
  /** Slots per vector the input was packed for (a power of two). */
  slots: number;
}

/** The owner-side packing of one input. */
export interface PreparedInput<L extends BaseLayout> {
  /** Named vectors to encrypt, each at most `layout.slots` long. */
  vectors: Record<string, Float64Array>;
  /** Public layout information the evaluator needs (JSON-serialisable). */
  layout: L;
}

/** One primitive's circuit, written once for every {@linkcode SlotBackend}. */
export interface Circuit<I, O, L extends BaseLayout = BaseLayout> {
  /** The primitive this circuit computes. */
  readonly primitive: PrimitiveName;
  /** Declared multiplicative depth (levels). */
  readonly depth: number;
  /** The circuit's deviation from the exact statistic, in words (docs and envelopes). */
  readonly errorBound: string;
  /** Fewest slots (a power of two) that can hold `input`'s layout. */
  minSlots(input: I): number;
  /**
   * Owner side: pack `input` for vectors of `slots` slots.
   * @throws {RangeError} when the input does not fit in `slots`.
   */
  prepare(input: I, slots: number): PreparedInput<L>;
  /**
   * Names of the vectors `prepare` produces and `evaluate` reads, for this
   * layout (so an evaluator can check what it was sent).
   */
  inputNames(layout: L): string[];
  /** Every rotation step `evaluate` uses for this layout. */
  rotationSteps(layout: L): number[];
  /** Evaluator side: compute the encrypted outputs. Uses no secret and no plaintext data. */
  evaluate<V extends SlotVector>(
    backend: SlotBackend<V>,
    encrypted: Record<string, V>,
    layout: L,
  ): Record<string, V>;
  /** Owner side, after decryption: the audit result. */
  finish(decrypted: Record<string, Float64Array>, layout: L, input: I): O;
}

/** A circuit of any primitive (for registries). */
// deno-lint-ignore no-explicit-any
export type AnyCircuit = Circuit<any, any, any>;

/** What {@linkcode runCircuit} returns. */
export interface CircuitRun<O> {
  /** The audit result computed through the circuit. */
  result: O;
  /** Depth and operation counts of the evaluation. */
  stats: EvaluationStats;
}

/**
 * Run `circuit` end to end on `backend` (owner and evaluator in one
 * process): prepare, encrypt, evaluate, decrypt, finish.
 *
 * @example
 * ```ts
 * import { runCircuit } from "./circuit.ts";
 * import { PlaintextBackend } from "./plaintext.ts";
 * import { driftCircuit } from "./drift.ts";
 * const input = { p: [1, 2, 3], q: [3, 2, 1], drift_threshold: 0.005 };
 * const backend = new PlaintextBackend({ slots: driftCircuit.minSlots(input), depthBudget: 1 });
 * const { result, stats } = runCircuit(driftCircuit, input, backend);
 * result.drift_bit; // true
 * stats.depthConsumed; // 1
 * ```
 * @throws {RangeError} when the backend's budget is below the circuit's declared depth.
 * @throws {DepthBudgetExceededError} when evaluation exceeds the budget.
 */
export function runCircuit<I, O, L extends BaseLayout, V extends SlotVector>(
  circuit: Circuit<I, O, L>,
  input: I,
  backend: SlotBackend<V>,
): CircuitRun<O> {
  if (backend.depthBudget < circuit.depth) {
    throw new RangeError(
      `${circuit.primitive} circuit declares depth ${circuit.depth}, backend budget is ${backend.depthBudget}`,
    );
  }
  const { vectors, layout } = circuit.prepare(input, backend.slots);
  const encrypted: Record<string, V> = {};
  for (const [name, v] of Object.entries(vectors)) encrypted[name] = backend.encrypt(v);
  const outputs = circuit.evaluate(backend, encrypted, layout);
  const decrypted: Record<string, Float64Array> = {};
  for (const [name, v] of Object.entries(outputs)) decrypted[name] = backend.decrypt(v);
  return { result: circuit.finish(decrypted, layout, input), stats: backend.stats() };
}

/**
 * Run `circuit` on a fresh {@linkcode PlaintextBackend} with the circuit's
 * declared depth as budget and `slots` (default: the fewest that fit).
 *
 * @example
 * ```ts
 * import { runCircuitPlaintext } from "./circuit.ts";
 * import { concordanceCircuit } from "./concordance.ts";
 * const run = runCircuitPlaintext(concordanceCircuit, {
 *   risk: [0.9, 0.5, 0.1], time: [1, 2, 3], event: [1, 1, 0],
 * });
 * run.result.c_index; // 1 (exact, no sign approximation)
 * run.stats.depthConsumed <= concordanceCircuit.depth; // true
 * ```
 */
export function runCircuitPlaintext<I, O, L extends BaseLayout>(
  circuit: Circuit<I, O, L>,
  input: I,
  options: { slots?: number; noise?: number; random?: () => number } = {},
): CircuitRun<O> {
  const backend = new PlaintextBackend({
    slots: options.slots ?? circuit.minSlots(input),
    depthBudget: circuit.depth,
    noise: options.noise,
    random: options.random,
  });
  return runCircuit(circuit, input, backend);
}

/** Smallest power of two >= `n` (and >= 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Throw a RangeError when a layout needs more slots than available. */
export function requireSlots(primitive: PrimitiveName, needed: number, slots: number): void {
  if (needed > slots) {
    throw new RangeError(`${primitive} input needs ${needed} slots, the backend has ${slots}`);
  }
}
