/**
 * The largest `regledger.ckks-request.v1` (core/fhe/split.ts) a client can
 * validly send for a ring dimension: what an evaluator's body limit is
 * derived from.
 *
 * A request carries the public key, the relinearization key, one Galois key
 * per rotation step and the input ciphertexts, each SEAL-serialized (zstd)
 * and base64-encoded. With `P` coefficient primes (the circuit's depth + 2:
 * 60 + 40·depth + 60 bits) and ring dimension `N`, uncompressed:
 *
 * - a public key is 2 polynomials of `N·P` 64-bit words;
 * - a key-switching key (relinearization or Galois) is `P − 1` public keys;
 * - a fresh ciphertext is 2 polynomials of `N·(P − 1)` words.
 *
 * zstd never makes random words longer than a few bytes per frame, so the
 * uncompressed size plus 1% and base64's 4/3 is an upper bound; 64 KiB more
 * covers the JSON around it (parameter set, layout, names). The rotation
 * steps and ciphertext counts are each circuit's own (core/circuits/) at
 * `N/2` slots, `L = log2(N/2)`: sums over a block of slots rotate by
 * 1, 2, 4 … (L steps; drift both ways), concordance compares bit planes of
 * its ranks (2·(L+1) ciphertexts).
 *
 * @module
 */
import { CIRCUITS } from "../circuits/index.ts";
import type { PrimitiveName } from "../envelope_types.ts";
import { PRIMITIVES } from "../envelope_types.ts";
import { MAX_COEFF_MODULUS_BITS, type PolyModulusDegree } from "./ring_degrees.ts";

/** Per primitive, at `L = log2(slots)`: [Galois keys, ciphertexts] at most. */
const SHAPE: { readonly [P in PrimitiveName]: (L: number) => [number, number] } = {
  fairness: (L) => [L, 3],
  provenance: () => [0, 1],
  concordance: (L) => [L, 2 * (L + 1)],
  calibration: () => [0, 1],
  drift: (L) => [2 * L, 2],
  disagreement: (L) => [L, 1],
};

/**
 * Upper bound on the bytes of a valid request for `primitive` at ring
 * dimension `n`, or 0 when no 128-bit parameter set of that dimension
 * holds the primitive's circuit.
 */
export function maxRequestBytesFor(primitive: PrimitiveName, n: PolyModulusDegree): number {
  const depth = CIRCUITS[primitive].depth;
  if (60 + 40 * depth + 60 > MAX_COEFF_MODULUS_BITS[n]) return 0;
  const primes = depth + 2;
  const L = Math.log2(n / 2);
  const [galois, ciphertexts] = SHAPE[primitive](L);
  const publicKey = 2 * n * primes * 8;
  const keySwitching = (primes - 1) * publicKey;
  const ciphertext = 2 * n * (primes - 1) * 8;
  const raw = publicKey + (1 + galois) * keySwitching + ciphertexts * ciphertext;
  return Math.ceil((raw * 1.01 * 4) / 3) + 64 * 1024;
}

/**
 * Upper bound on the bytes of any valid request whose ring dimension is at
 * most `maxDegree`: the body limit an evaluator that accepts up to
 * `maxDegree` needs, and no more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxEvaluateRequestBytes } from "./request_bound.ts";
 * const small = maxEvaluateRequestBytes(8192);
 * const large = maxEvaluateRequestBytes(16384);
 * assert.ok(small > 1_000_000 && small < large);
 * ```
 */
export function maxEvaluateRequestBytes(maxDegree: PolyModulusDegree): number {
  let max = 0;
  for (const n of [8192, 16384, 32768] as const) {
    if (n > maxDegree) break;
    for (const p of PRIMITIVES) max = Math.max(max, maxRequestBytesFor(p, n));
  }
  return max;
}
