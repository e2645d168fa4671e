/**
 * How an ML-DSA engine wraps a FIPS 204 implementation, the same for every
 * parameter set (ML-DSA-65 for hybrid envelopes, ML-DSA-44 for checkpoint
 * signatures): ML-DSA.Sign / ML-DSA.Verify, the "pure" external interface
 * with an empty context string; signing hedged (fresh 32 random bytes, FIPS
 * 204 §3.4's recommendation) unless `deterministic` is asked for; verifying
 * never throws (malformed input is `false`). Stated here once for
 * @noble/post-quantum and for liboqs so the engines of both parameter sets
 * keep one contract.
 *
 * This file loads no WebAssembly: the liboqs instance is passed in.
 *
 * @module
 */
import type { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";

const EMPTY_CONTEXT = new Uint8Array(0);

/** Sign and verify, as every ML-DSA engine offers them. */
export interface MlDsaOperations {
  /** Engine name, for metrics and benchmarks. */
  readonly name: string;
  /** Sign with the FIPS 204 secret key, hedged unless `deterministic`. */
  sign(message: Uint8Array, secretKey: Uint8Array, deterministic: boolean): Uint8Array;
  /** Verify; never throws for bad input. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/** A @noble/post-quantum ML-DSA parameter set (`ml_dsa44`, `ml_dsa65`, …). */
export type NobleMlDsa = typeof ml_dsa65;

/** An instance of liboqs's ML-DSA (`createMLDSA44()`, `createMLDSA65()` of `@oqs/liboqs-js`). */
export interface LiboqsMlDsa {
  /** Hedged signature (liboqs has no deterministic mode). */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** Note the order: message first. May throw on malformed input. */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
  /** Free the WebAssembly instance. */
  destroy(): void;
}

/** The engine operations over a @noble/post-quantum parameter set. */
export function nobleMlDsaOperations(impl: NobleMlDsa): MlDsaOperations {
  return {
    name: "noble",
    sign(message, secretKey, deterministic) {
      return impl.sign(message, secretKey, {
        context: EMPTY_CONTEXT,
        extraEntropy: deterministic ? false : crypto.getRandomValues(new Uint8Array(32)),
      });
    },
    verify(signature, message, publicKey) {
      try {
        return impl.verify(signature, message, publicKey, { context: EMPTY_CONTEXT });
      } catch {
        return false;
      }
    },
  };
}

/**
 * The engine operations over a liboqs instance of parameter set `alg`
 * (`"ML-DSA-44"`, named in the error a deterministic signature request
 * gets), and `destroy` to free it.
 */
export function liboqsMlDsaOperations(
  oqs: LiboqsMlDsa,
  alg: string,
): MlDsaOperations & { destroy(): void } {
  return {
    name: "liboqs",
    sign(message, secretKey, deterministic) {
      if (deterministic) throw new RangeError(`liboqs cannot sign ${alg} deterministically`);
      return oqs.sign(message, secretKey);
    },
    verify(signature, message, publicKey) {
      try {
        return oqs.verify(message, signature, publicKey);
      } catch {
        return false;
      }
    },
    destroy() {
      oqs.destroy();
    },
  };
}
