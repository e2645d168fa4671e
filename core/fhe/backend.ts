/**
 * The CKKS slot backend: {@linkcode SlotBackend} on Microsoft SEAL.
 *
 * Depth is read from the modulus chain: a vector's `level` is how many
 * primes its ciphertext has lost (`first level size - coeffModulusSize()`).
 *
 * Scales are exact at every level (see `chain.ts`): a vector at level ℓ
 * always carries the scale S_ℓ, and operands at different levels are
 * aligned so that the rescale lands exactly on the deeper one's scale.
 *
 * @module
 */
import type {
  Ciphertext,
  CKKSEncoder,
  Decryptor,
  Encryptor,
  Evaluator,
  Plaintext,
} from "node-seal";
import type { EvaluationStats, OperationCounts, SlotBackend } from "../circuits/slots.ts";
import { DepthBudgetExceededError, InputValidationError, RegledgerError } from "../errors.ts";
import type { EvaluatorKeys, OwnerKeys } from "./keys.ts";
import { canonicalRotationStep } from "./keys.ts";
import { toBase64 } from "../bytes.ts";
import type { CkksParameterSet } from "./params.ts";
import type { SealModule } from "./seal.ts";
import { sealCall, SealError } from "./seal.ts";
import { ModulusChain, slotValues } from "./chain.ts";
import { CiphertextPool, type SealVector } from "./vector.ts";

/** An operation needs a key this backend does not hold (secret key, Galois key). */
export class MissingKeyError extends RegledgerError {}

/** Options of {@linkcode SealBackend}. */
export interface SealBackendOptions {
  /** Evaluation keys (public, relinearization, Galois). Required. */
  evaluator: EvaluatorKeys;
  /** The owner's keys: present only on the data owner's side (encrypt/decrypt). */
  owner?: OwnerKeys;
  /** Declared depth budget. @default the parameters' multiplicative_depth */
  depthBudget?: number;
}

/** CKKS-specific counters beside the interface's {@linkcode EvaluationStats}. */
export interface SealEvaluationStats extends EvaluationStats {
  /** Level alignments (mod-switch plus an exact-scale rescale), not circuit operations. */
  alignments: number;
  /** Encryptions of zero made for exactly cancelling results (SEAL refuses transparent ciphertexts). */
  zeroEncryptions: number;
}

/**
 * {@linkcode SlotBackend} over SEAL CKKS. One instance per evaluation; call
 * {@linkcode SealBackend.dispose} to free its ciphertexts (they are also
 * freed when their handles are garbage collected).
 *
 * An evaluator-only instance (no `owner`) refuses `encrypt` and `decrypt`
 * with {@linkcode MissingKeyError}; it takes ciphertexts in with
 * {@linkcode SealBackend.adopt}.
 */
export class SealBackend implements SlotBackend<SealVector> {
  /** Always `seal-ckks`. */
  readonly name = "seal-ckks" as const;
  /** N/2 slots. */
  readonly slots: number;
  /** The declared depth budget. */
  readonly depthBudget: number;
  /** The live parameters. */
  readonly params: CkksParameterSet;

  readonly #seal: SealModule;
  readonly #keys: EvaluatorKeys;
  readonly #encoder: CKKSEncoder;
  readonly #evaluator: Evaluator;
  readonly #encryptor: Encryptor;
  readonly #decryptor: Decryptor | null;
  readonly #chain: ModulusChain;
  readonly #pool = new CiphertextPool();
  readonly #lowered = new WeakMap<SealVector, Map<number, SealVector>>();
  readonly #ops: OperationCounts = { add: 0, mulPlain: 0, mul: 0, rotate: 0, rescale: 0 };
  readonly #steps = new Set<number>();
  #alignments = 0;
  #zeros = 0;

  /** Build a backend over existing keys. */
  constructor(options: SealBackendOptions) {
    const keys = options.evaluator;
    this.#seal = keys.seal;
    this.#keys = keys;
    this.params = keys.params;
    this.slots = keys.params.slots;
    const maxDepth = keys.params.multiplicative_depth;
    const budget = options.depthBudget ?? maxDepth;
    if (!Number.isInteger(budget) || budget < 0 || budget > maxDepth) {
      throw new InputValidationError(
        "/depth_budget",
        "range",
        `depth budget must be an integer in [0, ${maxDepth}] for these parameters, got ${budget}`,
      );
    }
    if (
      options.owner &&
      (options.owner.params.poly_modulus_degree !== keys.params.poly_modulus_degree ||
        options.owner.params.coeff_mod_bit_sizes.join() !== keys.params.coeff_mod_bit_sizes.join())
    ) {
      throw new InputValidationError(
        "/owner",
        "same-parameters",
        "owner and evaluator keys use different parameters",
      );
    }
    this.depthBudget = budget;
    const seal = this.#seal;
    const context = keys.context;
    this.#encoder = new seal.CKKSEncoder(context);
    this.#evaluator = new seal.Evaluator(context);
    if (options.owner) {
      const { encryptor, decryptor } = options.owner.createCryptors();
      this.#encryptor = encryptor;
      this.#decryptor = decryptor;
    } else {
      this.#encryptor = new seal.Encryptor(context, keys.publicKey);
      this.#decryptor = null;
    }
    this.#chain = new ModulusChain(context, keys.params);
  }

  // ---- owner side ----------------------------------------------------------

  /** Encrypt `values` (zero-padded to `slots`) at level 0. Owner only. */
  encrypt(values: ArrayLike<number>): SealVector {
    this.#pool.alive();
    if (this.#decryptor === null) {
      throw new MissingKeyError(
        "encrypt is the data owner's step: this backend holds only evaluation keys",
      );
    }
    const pt = this.#encode(values, this.#chain.scales[0], 0, "/values");
    try {
      const ct = new this.#seal.Ciphertext();
      // The owner holds the secret key: symmetric encryption (same security, faster).
      sealCall("encrypt", () => this.#encryptor.encryptSymmetric(pt, ct));
      return this.#pool.track(ct, 0);
    } finally {
      pt.delete();
    }
  }

  /**
   * Encrypt for transport: a seeded symmetric ciphertext (half the bytes of
   * a full one), zstd, standard base64. Owner only. The receiver loads it as
   * an ordinary ciphertext at level 0.
   */
  encryptForTransport(values: ArrayLike<number>): string {
    this.#pool.alive();
    if (this.#decryptor === null) {
      throw new MissingKeyError(
        "encrypt is the data owner's step: this backend holds only evaluation keys",
      );
    }
    const pt = this.#encode(values, this.#chain.scales[0], 0, "/values");
    try {
      const ser = sealCall("encrypt", () => this.#encryptor.encryptSymmetricSerializable(pt));
      try {
        return toBase64(ser.saveToArray(this.#seal.ComprModeType.zstd) as Uint8Array);
      } finally {
        ser.delete();
      }
    } finally {
      pt.delete();
    }
  }

  /** Decrypt and decode all `slots` values. Owner only. */
  decrypt(v: SealVector): Float64Array {
    this.#pool.alive();
    if (this.#decryptor === null) {
      throw new MissingKeyError(
        "decrypt needs the owner's secret key: this backend holds only evaluation keys",
      );
    }
    const decryptor = this.#decryptor;
    const src = this.#pool.own(v);
    const pt = new this.#seal.Plaintext();
    try {
      sealCall("decrypt", () => decryptor.decrypt(src, pt));
      return Float64Array.from(
        sealCall("decode", () => this.#encoder.decodeFloat64(pt)) as ArrayLike<number>,
      );
    } finally {
      pt.delete();
    }
  }

  // ---- evaluator side ------------------------------------------------------

  /**
   * Take a ciphertext made elsewhere (a client's) into this evaluation. The
   * backend owns it from now on. It must be at a level within the budget
   * and carry that level's exact scale.
   *
   * @throws {InputValidationError} if its level or scale is not one this backend produces.
   * @internal (SEAL handle)
   */
  adopt(ct: Ciphertext, pointer = "/ciphertext"): SealVector {
    this.#pool.alive();
    const level = this.#chain.levelOf(ct);
    if (level < 0 || level > this.depthBudget) {
      throw new InputValidationError(
        pointer,
        "level",
        `ciphertext level ${level} is outside [0, ${this.depthBudget}]`,
      );
    }
    if (ct.scale() !== this.#chain.scales[level] || ct.size() !== 2) {
      throw new InputValidationError(
        pointer,
        "scale",
        `ciphertext scale or size does not match level ${level}`,
      );
    }
    return this.#pool.track(ct, level);
  }

  /** Add two vectors slot-wise. */
  add(a: SealVector, b: SealVector): SealVector {
    return this.#binary("add", a, b);
  }

  /** Subtract `b` from `a` slot-wise. */
  sub(a: SealVector, b: SealVector): SealVector {
    return this.#binary("sub", a, b);
  }

  /** Negate every slot. */
  negate(a: SealVector): SealVector {
    const src = this.#pool.own(a);
    const ct = new this.#seal.Ciphertext();
    sealCall("negate", () => this.#evaluator.negate(src, ct));
    return this.#pool.track(ct, a.level);
  }

  /** Add a plaintext vector or a scalar (to every slot). No level. */
  addPlain(a: SealVector, p: ArrayLike<number> | number): SealVector {
    const src = this.#pool.own(a);
    const pt = this.#encode(p, this.#chain.scales[a.level], a.level, "/plaintext");
    try {
      const ct = new this.#seal.Ciphertext();
      this.#ops.add++;
      sealCall("addPlain", () => this.#evaluator.addPlain(src, pt, ct));
      return this.#pool.track(ct, a.level);
    } finally {
      pt.delete();
    }
  }

  /** Multiply by a plaintext vector or a scalar. One level (exact scale). */
  mulPlain(a: SealVector, p: ArrayLike<number> | number): SealVector {
    const src = this.#pool.own(a);
    const level = this.#next(a.level);
    const pt = this.#encode(p, this.#chain.scales[a.level], a.level, "/plaintext");
    try {
      this.#ops.mulPlain++;
      this.#ops.rescale++;
      if (pt.isZero()) return this.#zero(level);
      const ct = new this.#seal.Ciphertext();
      sealCall("multiplyPlain", () => this.#evaluator.multiplyPlain(src, pt, ct));
      return this.#rescaled(ct, level);
    } finally {
      pt.delete();
    }
  }

  /** Multiply two vectors slot-wise: multiply, relinearize, rescale. One level. */
  mul(a: SealVector, b: SealVector): SealVector {
    const level = this.#next(Math.max(a.level, b.level));
    const [x, y] = this.#align(a, b);
    const ct = new this.#seal.Ciphertext();
    this.#ops.mul++;
    this.#ops.rescale++;
    sealCall("multiply", () => {
      if (x === y) this.#evaluator.square(x.ciphertext, ct);
      else this.#evaluator.multiply(x.ciphertext, y.ciphertext, ct);
      this.#evaluator.relinearizeInplace(ct, this.#keys.relinKeys);
    });
    return this.#rescaled(ct, level);
  }

  /** Square slot-wise. One level. */
  square(a: SealVector): SealVector {
    return this.mul(a, a);
  }

  /** Cyclic left rotation with SEAL's Galois automorphism. No level. */
  rotate(a: SealVector, steps: number): SealVector {
    const src = this.#pool.own(a);
    const c = canonicalRotationStep(steps, this.slots);
    if (c === 0) return a;
    const galois = this.#keys.galoisKeys;
    if (galois === null || !this.#keys.canRotate(c)) {
      throw new MissingKeyError(
        `no Galois key for rotation step ${steps} (canonical ${c}); keys cover [${
          this.#keys.rotationSteps.join(", ")
        }]`,
      );
    }
    const ct = new this.#seal.Ciphertext();
    this.#ops.rotate++;
    this.#steps.add(c);
    sealCall("rotateVector", () => this.#evaluator.rotateVector(src, c, galois, ct));
    return this.#pool.track(ct, a.level);
  }

  /** Rotate-and-add: slot i gets the sum of slots [i, i + width). */
  sumSlots(a: SealVector, width: number): SealVector {
    if (
      !Number.isInteger(width) || width < 1 || width > this.slots || (width & (width - 1)) !== 0
    ) {
      throw new InputValidationError(
        "/width",
        "power-of-two",
        `width must be a power of two in [1, ${this.slots}], got ${width}`,
      );
    }
    let acc = a;
    for (let s = 1; s < width; s *= 2) acc = this.add(acc, this.rotate(acc, s));
    return acc;
  }

  /** What this evaluation used so far. */
  stats(): SealEvaluationStats {
    return {
      depthDeclared: this.depthBudget,
      depthConsumed: this.#pool.deepest,
      ops: { ...this.#ops },
      rotationSteps: [...this.#steps].sort((x, y) => x - y),
      alignments: this.#alignments,
      zeroEncryptions: this.#zeros,
    };
  }

  /**
   * Free vectors the caller will not use again (their ciphertexts are
   * deleted now rather than at `dispose()` or garbage collection, which
   * does not see WebAssembly memory). Not part of {@linkcode SlotBackend}:
   * long evaluations use it to bound memory.
   */
  release(...vectors: SealVector[]): void {
    this.#pool.release(vectors);
  }

  /** Serialized size in bytes (zstd) of a vector's ciphertext. */
  ciphertextBytes(v: SealVector): number {
    return (this.#pool.own(v).saveToArray(this.#seal.ComprModeType.zstd) as Uint8Array).length;
  }

  /** Free every ciphertext and SEAL helper of this evaluation. Idempotent; keys are not touched. */
  dispose(): void {
    if (!this.#pool.dispose()) return;
    this.#chain.delete();
    this.#encoder.delete();
    this.#evaluator.delete();
    this.#encryptor.delete();
    this.#decryptor?.delete();
  }

  // ---- internals -----------------------------------------------------------

  /** The level after one multiplication from `level`, or the typed budget error. */
  #next(level: number): number {
    const attempted = level + 1;
    if (attempted > this.depthBudget) {
      throw new DepthBudgetExceededError(this.depthBudget, attempted);
    }
    return attempted;
  }

  #rescaled(ct: Ciphertext, level: number): SealVector {
    try {
      sealCall("rescaleToNext", () => this.#evaluator.rescaleToNextInplace(ct));
    } catch (e) {
      ct.delete();
      throw e;
    }
    // Same double arithmetic as SEAL (S*S then / q); snapping removes any last-ulp drift.
    ct.setScale(this.#chain.scales[level]);
    return this.#pool.track(ct, level);
  }

  #binary(op: "add" | "sub", a: SealVector, b: SealVector): SealVector {
    const [x, y] = this.#align(a, b);
    const ct = new this.#seal.Ciphertext();
    this.#ops.add++;
    try {
      sealCall(op, () => this.#evaluator[op](x.ciphertext, y.ciphertext, ct));
    } catch (e) {
      ct.delete();
      if (e instanceof SealError && e.message.includes("transparent")) return this.#zero(x.level);
      throw e;
    }
    return this.#pool.track(ct, x.level);
  }

  /** An encryption of zero at `level` with that level's scale (for exact cancellations). */
  #zero(level: number): SealVector {
    const ct = new this.#seal.Ciphertext();
    sealCall("encryptZero", () => {
      this.#encryptor.encryptZero(ct);
      if (level > 0) this.#evaluator.cipherModSwitchToInplace(ct, this.#chain.parmsIds[level]);
    });
    ct.setScale(this.#chain.scales[level]);
    this.#zeros++;
    return this.#pool.track(ct, level);
  }

  /** Bring two operands to the deeper one's level (see the module doc). */
  #align(a: SealVector, b: SealVector): [SealVector, SealVector] {
    this.#pool.own(a);
    this.#pool.own(b);
    if (a.level === b.level) return [a, b];
    return a.level < b.level ? [this.#lower(a, b.level), b] : [a, this.#lower(b, a.level)];
  }

  #lower(v: SealVector, target: number): SealVector {
    let cache = this.#lowered.get(v);
    const hit = cache?.get(target);
    if (hit && this.#pool.has(hit)) return hit;
    const ct = v.ciphertext.copy();
    const pt = new this.#seal.Plaintext();
    try {
      sealCall("align", () => {
        if (target - 1 > v.level) {
          this.#evaluator.cipherModSwitchToInplace(ct, this.#chain.parmsIds[target - 1]);
        }
        const x = this.#chain.alignFactor(v.level, target);
        const ones = new Float64Array(this.slots).fill(1);
        this.#encoder.encode(ones, x, pt);
        this.#evaluator.plainModSwitchToInplace(pt, this.#chain.parmsIds[target - 1]);
        this.#evaluator.multiplyPlainInplace(ct, pt);
        this.#evaluator.rescaleToNextInplace(ct);
      });
    } catch (e) {
      ct.delete();
      throw e;
    } finally {
      pt.delete();
    }
    ct.setScale(this.#chain.scales[target]);
    this.#alignments++;
    const out = this.#pool.track(ct, target);
    if (!cache) this.#lowered.set(v, cache = new Map());
    cache.set(target, out);
    return out;
  }

  #encode(p: ArrayLike<number> | number, scale: number, level: number, pointer: string): Plaintext {
    this.#pool.alive();
    const values = slotValues(p, this.slots, pointer);
    const pt = new this.#seal.Plaintext();
    try {
      sealCall("encode", () => {
        this.#encoder.encode(values, scale, pt);
        if (level > 0) this.#evaluator.plainModSwitchToInplace(pt, this.#chain.parmsIds[level]);
      });
    } catch (e) {
      pt.delete();
      throw e;
    }
    return pt;
  }
}
