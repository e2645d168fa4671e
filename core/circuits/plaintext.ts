/**
 * The plaintext slot backend: `Float64Array` slots with CKKS's depth
 * accounting, used to test circuits, to count their operations and to
 * compute the plaintext audit path. One instance per evaluation; nothing is
 * kept in module state.
 *
 * Optional noise injection (`noise`) adds Gaussian noise of a given standard
 * deviation after encryption and after every multiplication, a crude model of
 * CKKS's approximation error for robustness tests.
 *
 * @module
 */
import { DepthBudgetExceededError } from "../errors.ts";
import type { EvaluationStats, OperationCounts, SlotBackend, SlotVector } from "./slots.ts";

/** A plaintext slot vector. */
export interface PlainVector extends SlotVector {
  /** Levels consumed so far. */
  readonly level: number;
  /** The slot values (length = backend slots). Treat as read-only. */
  readonly data: Float64Array;
}

/** Options of {@linkcode PlaintextBackend}. */
export interface PlaintextBackendOptions {
  /** Number of slots per vector; a power of two. */
  slots: number;
  /** Declared depth budget of this evaluation. */
  depthBudget: number;
  /**
   * Standard deviation of Gaussian noise added after encryption and every
   * multiplication (a CKKS error model for tests). @default {0}
   */
  noise?: number;
  /** Uniform [0, 1) source for `noise`. @default {Math.random} */
  random?: () => number;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/**
 * Slot backend over `Float64Array`, tracking levels and counting operations.
 *
 * @example
 * ```ts
 * import { PlaintextBackend } from "./plaintext.ts";
 * const be = new PlaintextBackend({ slots: 4, depthBudget: 1 });
 * const v = be.square(be.encrypt([1, 2, 3, 4]));
 * be.decrypt(be.sumSlots(v, 4))[0]; // 30
 * be.stats().depthConsumed; // 1
 * ```
 */
export class PlaintextBackend implements SlotBackend<PlainVector> {
  /** Always `plaintext`. */
  readonly name = "plaintext" as const;
  /** Number of slots in every vector. */
  readonly slots: number;
  /** Declared depth budget of this evaluation. */
  readonly depthBudget: number;
  readonly #noise: number;
  readonly #random: () => number;
  readonly #ops: OperationCounts = { add: 0, mulPlain: 0, mul: 0, rotate: 0, rescale: 0 };
  readonly #steps = new Set<number>();
  #maxLevel = 0;

  /**
   * Create a backend for one evaluation.
   * @throws {RangeError} when `slots` is not a power of two or the budget is negative.
   */
  constructor(options: PlaintextBackendOptions) {
    if (!isPowerOfTwo(options.slots)) {
      throw new RangeError(`slots must be a power of two, got ${options.slots}`);
    }
    if (!Number.isSafeInteger(options.depthBudget) || options.depthBudget < 0) {
      throw new RangeError(
        `depthBudget must be a non-negative integer, got ${options.depthBudget}`,
      );
    }
    this.slots = options.slots;
    this.depthBudget = options.depthBudget;
    this.#noise = options.noise ?? 0;
    this.#random = options.random ?? Math.random;
  }

  #check(level: number): void {
    if (level > this.depthBudget) throw new DepthBudgetExceededError(this.depthBudget, level);
  }

  #vector(data: Float64Array, level: number): PlainVector {
    this.#check(level);
    if (level > this.#maxLevel) this.#maxLevel = level;
    return { level, data };
  }

  #perturb(data: Float64Array): Float64Array {
    if (this.#noise === 0) return data;
    for (let i = 0; i < data.length; i++) {
      // Box–Muller
      const u = 1 - this.#random();
      const v = this.#random();
      data[i] += this.#noise * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
    return data;
  }

  #plain(p: ArrayLike<number> | number): Float64Array {
    const out = new Float64Array(this.slots);
    if (typeof p === "number") return out.fill(p);
    if (p.length > this.slots) {
      throw new RangeError(
        `plaintext has ${p.length} values but the backend has ${this.slots} slots`,
      );
    }
    for (let i = 0; i < p.length; i++) out[i] = p[i];
    return out;
  }

  /** Encode `values` (zero-padded to `slots`) as a fresh level-0 vector. */
  encrypt(values: ArrayLike<number>): PlainVector {
    return this.#vector(this.#perturb(this.#plain(values)), 0);
  }

  /** A copy of the slots. */
  decrypt(v: PlainVector): Float64Array {
    return v.data.slice();
  }

  #zip(a: PlainVector, b: Float64Array, level: number, f: (x: number, y: number) => number) {
    const out = new Float64Array(this.slots);
    for (let i = 0; i < out.length; i++) out[i] = f(a.data[i], b[i]);
    return this.#vector(out, level);
  }

  /** Slot-wise sum; level = max of the operands'. */
  add(a: PlainVector, b: PlainVector): PlainVector {
    this.#ops.add++;
    return this.#zip(a, b.data, Math.max(a.level, b.level), (x, y) => x + y);
  }

  /** Slot-wise difference; level = max of the operands'. */
  sub(a: PlainVector, b: PlainVector): PlainVector {
    this.#ops.add++;
    return this.#zip(a, b.data, Math.max(a.level, b.level), (x, y) => x - y);
  }

  /** Slot-wise negation (free, not counted). */
  negate(a: PlainVector): PlainVector {
    return this.#vector(a.data.map((x) => -x), a.level);
  }

  /** Add a plaintext vector (zero-padded) or scalar. No level. */
  addPlain(a: PlainVector, p: ArrayLike<number> | number): PlainVector {
    this.#ops.add++;
    return this.#zip(a, this.#plain(p), a.level, (x, y) => x + y);
  }

  /** Multiply by a plaintext vector (zero-padded) or scalar. One level. */
  mulPlain(a: PlainVector, p: ArrayLike<number> | number): PlainVector {
    this.#check(a.level + 1);
    this.#ops.mulPlain++;
    this.#ops.rescale++;
    return this.#zip(a, this.#plain(p), a.level + 1, (x, y) => x * y);
  }

  /** Slot-wise product. One level above the deeper operand. */
  mul(a: PlainVector, b: PlainVector): PlainVector {
    this.#check(Math.max(a.level, b.level) + 1);
    this.#ops.mul++;
    this.#ops.rescale++;
    const v = this.#zip(a, b.data, Math.max(a.level, b.level) + 1, (x, y) => x * y);
    this.#perturb(v.data);
    return v;
  }

  /** Slot-wise square. One level. */
  square(a: PlainVector): PlainVector {
    return this.mul(a, a);
  }

  /** Cyclic left rotation: slot `i` receives slot `i + steps`. No level. */
  rotate(a: PlainVector, steps: number): PlainVector {
    if (!Number.isSafeInteger(steps)) {
      throw new RangeError(`rotation step must be an integer, got ${steps}`);
    }
    this.#ops.rotate++;
    this.#steps.add(steps);
    const n = this.slots;
    const k = ((steps % n) + n) % n;
    const out = new Float64Array(n);
    out.set(a.data.subarray(k), 0);
    out.set(a.data.subarray(0, k), n - k);
    return this.#vector(out, a.level);
  }

  /** Rotate-and-add over windows of `width` slots (`log2(width)` rotations). */
  sumSlots(a: PlainVector, width: number): PlainVector {
    if (!isPowerOfTwo(width) || width > this.slots) {
      throw new RangeError(`sumSlots width must be a power of two <= ${this.slots}, got ${width}`);
    }
    let acc = a;
    for (let s = 1; s < width; s *= 2) acc = this.add(acc, this.rotate(acc, s));
    return acc;
  }

  /** Depth and operation counts of this evaluation so far. */
  stats(): EvaluationStats {
    return {
      depthDeclared: this.depthBudget,
      depthConsumed: this.#maxLevel,
      ops: { ...this.#ops },
      rotationSteps: [...this.#steps].sort((x, y) => x - y),
    };
  }
}
