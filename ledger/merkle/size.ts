/**
 * Tree sizes and indexes as JavaScript numbers, and the integer helpers the
 * Merkle algorithms share (internal; not exported from `mod.ts` except
 * {@link MAX_TREE_SIZE}).
 *
 * Sizes and indexes must be non-negative safe integers below
 * {@link MAX_TREE_SIZE} (2^52) so that every stored hash index (< 2n + 53)
 * stays exact. No bitwise operators are used on them for that reason (JS
 * bitwise operators truncate to 32 bits).
 *
 * @module
 */
import { HASH_SIZE } from "./hash.ts";

/** Largest tree size (exclusive) the Merkle functions accept: 2^52. */
export const MAX_TREE_SIZE = 2 ** 52;

/** Throws a RangeError naming `name` unless `v` is an integer in [min, 2^52). */
export function checkCount(name: string, v: number, min = 0): void {
  if (!Number.isSafeInteger(v) || v < min || v >= MAX_TREE_SIZE) {
    throw new RangeError(
      `${name} must be an integer in [${min}, 2^52), got ${String(v)}`,
    );
  }
}

/** Throws a RangeError naming `name` unless `h` is a 32-byte hash. */
export function checkHash(name: string, h: Uint8Array): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    throw new RangeError(`${name} must be a ${HASH_SIZE}-byte hash`);
  }
}

/** Largest power of two strictly less than n (n >= 2), and its log2. */
export function maxpow2(n: number): [number, number] {
  let k = 1;
  let l = 0;
  while (k * 2 < n) {
    k *= 2;
    l++;
  }
  return [k, l];
}

/** Number of trailing zero bits of n (0 for n = 0). */
export function trailingZeros(n: number): number {
  let z = 0;
  while (n > 0 && n % 2 === 0) {
    n /= 2;
    z++;
  }
  return z;
}

/** Whether n is odd. */
export function isOdd(n: number): boolean {
  return n % 2 === 1;
}

/** floor(n / 2), exact beyond 2^32. */
export function half(n: number): number {
  return Math.floor(n / 2);
}

/** Whether n is an exact power of two (n >= 1). */
export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}
