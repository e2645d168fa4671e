/**
 * The CKKS modulus chain of one parameter set with its exact scales, and the
 * checks on values before they are encoded into slots.
 *
 * Scales are exact, not approximate. Every ciphertext at level ℓ carries the
 * same scale S_ℓ, with S_0 = 2^scale_bits and S_{ℓ+1} = S_ℓ² / q_ℓ (q_ℓ the
 * prime dropped by the rescale at level ℓ), which is what a ciphertext
 * product gives after rescaling. A plaintext multiplier at level ℓ is encoded
 * at scale S_ℓ, so its product rescales to S_{ℓ+1} too. Operands at different
 * levels are aligned by mod-switching the shallower one to one level above
 * the target and multiplying by 1 encoded at {@linkcode ModulusChain.alignFactor}
 * so the rescale lands exactly on the target scale. Nothing is ever "set to
 * 2^40 and hoped close", which at N = 2^15 would cost up to 2e-5 relative
 * error per multiplication.
 *
 * @module
 */
import type { Ciphertext, ParmsIdType, SEALContext } from "node-seal";
import { InputValidationError } from "../errors.ts";
import type { CkksParameterSet } from "./params.ts";

/**
 * Per level ℓ of the chain (ℓ = primes dropped from the first data level):
 * SEAL's parms_id, the prime q_ℓ the next rescale drops and the exact scale
 * S_ℓ. Walked once per evaluation; {@linkcode ModulusChain.delete} frees the
 * parms_id handles.
 */
export class ModulusChain {
  /** parms_id of each level. */
  readonly parmsIds: ParmsIdType[] = [];
  /** q_ℓ: the last prime of each level's modulus (dropped by its rescale). */
  readonly primes: number[] = [];
  /** S_ℓ: the exact scale of every ciphertext at level ℓ. */
  readonly scales: number[] = [];
  /** Number of data primes at level 0 (the special prime excluded). */
  readonly firstSize: number;

  /** Walk `context`'s chain for `params`. */
  constructor(context: SEALContext, params: CkksParameterSet) {
    let data = context.firstContextData();
    this.firstSize = params.coeff_mod_bit_sizes.length - 1;
    for (;;) {
      this.parmsIds.push(data.parmsId());
      const parms = data.parms();
      const moduli = parms.coeffModulus();
      const last = moduli.get(moduli.size() - 1)!;
      this.primes.push(Number(last.value()));
      last.delete();
      moduli.delete();
      parms.delete();
      const index = data.chainIndex();
      if (index === 0) {
        data.delete();
        break;
      }
      const next = data.nextContextData();
      data.delete();
      data = next;
    }
    this.scales.push(2 ** params.scaling_factor_bits);
    for (let l = 0; l < this.parmsIds.length - 1; l++) {
      const s = this.scales[l];
      this.scales.push((s * s) / this.primes[l]);
    }
  }

  /** The level of a ciphertext: how many primes it has lost. */
  levelOf(ct: Ciphertext): number {
    return this.firstSize - ct.coeffModulusSize();
  }

  /**
   * The plaintext value X that takes a ciphertext at level `from`,
   * mod-switched to level `target - 1`, exactly to S_target after one
   * multiplication and rescale: (S_from · X) / q_{target-1} = S_target.
   */
  alignFactor(from: number, target: number): number {
    return (this.scales[target] * this.primes[target - 1]) / this.scales[from];
  }

  /** Free the parms_id handles. */
  delete(): void {
    for (const p of this.parmsIds) p.delete();
  }
}

/**
 * The `slots` values to encode for a plaintext operand: a finite scalar in
 * every slot, or at most `slots` finite values zero-padded.
 *
 * @throws {InputValidationError} at `pointer` for a non-finite value or too many values.
 */
export function slotValues(
  p: ArrayLike<number> | number,
  slots: number,
  pointer: string,
): Float64Array {
  const values = new Float64Array(slots);
  if (typeof p === "number") {
    if (!Number.isFinite(p)) {
      throw new InputValidationError(pointer, "finite", `scalar must be finite, got ${p}`);
    }
    values.fill(p);
    return values;
  }
  if (p.length > slots) {
    throw new InputValidationError(
      pointer,
      "max-length",
      `${p.length} values exceed ${slots} slots`,
    );
  }
  for (let i = 0; i < p.length; i++) {
    const x = p[i];
    if (!Number.isFinite(x)) {
      throw new InputValidationError(`${pointer}/${i}`, "finite", `value must be finite`);
    }
    values[i] = x;
  }
  return values;
}
