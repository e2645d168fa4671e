/**
 * The CKKS ring dimensions regledger accepts and their largest coefficient
 * modulus at 128-bit security: constants only, so that code sizing requests
 * (the server's configuration) does not load SEAL.
 *
 * @module
 */

/** The ring dimensions this backend accepts. */
export type PolyModulusDegree = 8192 | 16384 | 32768;

/** Supported ring dimensions, smallest first. */
export const POLY_MODULUS_DEGREES: readonly PolyModulusDegree[] = [8192, 16384, 32768];

/**
 * Largest total coefficient modulus (bits) at 128-bit classical security,
 * per SEAL's `CoeffModulus::MaxBitCount(N, sec_level_type::tc128)`.
 */
export const MAX_COEFF_MODULUS_BITS: Readonly<Record<PolyModulusDegree, number>> = {
  8192: 218,
  16384: 438,
  32768: 881,
};
