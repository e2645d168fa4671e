/**
 * Ciphertext-backed slot vectors and the pool that owns them: which
 * ciphertexts belong to one evaluation, the deepest level reached, and
 * freeing them (WebAssembly memory is invisible to the garbage collector, so
 * they are freed explicitly, with a FinalizationRegistry as a backstop).
 *
 * @module
 */
import type { Ciphertext } from "node-seal";
import type { SlotVector } from "../circuits/slots.ts";
import { InputValidationError } from "../errors.ts";
import { SealError } from "./seal.ts";

/** A ciphertext-backed slot vector. Its ciphertext belongs to the backend that made it. */
export class SealVector implements SlotVector {
  /** Levels consumed (primes dropped from the first data level). */
  readonly level: number;
  /**
   * The ciphertext; deleted by the backend's `dispose()`.
   * @internal (SEAL handle)
   */
  readonly ciphertext: Ciphertext;
  /**
   * Build a handle (backend-internal).
   * @internal (SEAL handle)
   */
  constructor(level: number, ciphertext: Ciphertext) {
    this.level = level;
    this.ciphertext = ciphertext;
  }
}

/** The live ciphertexts of one evaluation (internal to `SealBackend`). */
export class CiphertextPool {
  readonly #live = new Set<Ciphertext>();
  readonly #registry = new FinalizationRegistry((ct: Ciphertext) => {
    if (this.#live.delete(ct) && !ct.isDeleted()) ct.delete();
  });
  #deepest = 0;
  #disposed = false;

  /** The deepest level of any vector tracked so far. */
  get deepest(): number {
    return this.#deepest;
  }

  /** @throws {SealError} once the pool was disposed. */
  alive(): void {
    if (this.#disposed) throw new SealError("SealBackend", "the evaluation was disposed");
  }

  /** Take ownership of `ct` at `level` and hand out its vector. */
  track(ct: Ciphertext, level: number): SealVector {
    const v = new SealVector(level, ct);
    this.#live.add(ct);
    this.#registry.register(v, ct, ct);
    if (level > this.#deepest) this.#deepest = level;
    return v;
  }

  /** Whether `v`'s ciphertext is live in this pool. */
  has(v: SealVector): boolean {
    return this.#live.has(v.ciphertext);
  }

  /**
   * The ciphertext of a vector of this evaluation.
   * @throws {InputValidationError} for a vector of another evaluation or a released one.
   */
  own(v: SealVector): Ciphertext {
    this.alive();
    if (!(v instanceof SealVector) || !this.#live.has(v.ciphertext)) {
      throw new InputValidationError(
        "/vector",
        "same-backend",
        "vector does not belong to this evaluation",
      );
    }
    return v.ciphertext;
  }

  /** Delete these vectors' ciphertexts now. */
  release(vectors: readonly SealVector[]): void {
    for (const v of vectors) {
      const ct = v.ciphertext;
      if (this.#live.delete(ct)) {
        this.#registry.unregister(ct);
        if (!ct.isDeleted()) ct.delete();
      }
    }
  }

  /** Delete every live ciphertext. Returns false when already disposed. */
  dispose(): boolean {
    if (this.#disposed) return false;
    this.#disposed = true;
    for (const ct of this.#live) {
      this.#registry.unregister(ct);
      if (!ct.isDeleted()) ct.delete();
    }
    this.#live.clear();
    return true;
  }
}
