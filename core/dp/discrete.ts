/**
 * Exact samplers for the discrete Laplace and discrete Gaussian
 * distributions (Canonne, Kamath, Steinke, "The Discrete Gaussian for
 * Differential Privacy", NeurIPS 2020, Algorithms 1–3), in BigInt rational
 * arithmetic driven by random bits only: no floating-point logarithm,
 * exponential or rounding touches the noise, so the released values carry
 * none of the low-order-bit leaks Mironov (CCS 2012) found in textbook
 * floating-point samplers.
 *
 * @module
 */
import { uniformBigInt, type UniformSource } from "./random.ts";

/** A non-negative rational `num/den` (`den > 0`). */
export interface Rational {
  /** Numerator, >= 0. */
  num: bigint;
  /** Denominator, > 0. */
  den: bigint;
}

/** Bernoulli(num/den) for 0 <= num/den <= 1. */
export function bernoulliRational(p: Rational, random: UniformSource): boolean {
  return uniformBigInt(p.den, random) < p.num;
}

/** Bernoulli(exp(−γ)) for a rational γ >= 0 (CKS Algorithm 1). */
export function bernoulliExp(gamma: Rational, random: UniformSource): boolean {
  const { num, den } = gamma;
  if (num <= den) {
    let k = 1n;
    while (bernoulliRational({ num, den: den * k }, random)) k++;
    return k % 2n === 1n;
  }
  for (let i = 0n; i < num / den; i++) {
    if (!bernoulliExp({ num: 1n, den: 1n }, random)) return false;
  }
  return bernoulliExp({ num: num % den, den }, random);
}

/**
 * One draw from the discrete Laplace distribution on ℤ with scale
 * `scale = t/s`: P[Z = z] ∝ exp(−|z|/scale) (CKS Algorithm 2).
 */
export function sampleDiscreteLaplace(scale: Rational, random: UniformSource): bigint {
  const t = scale.num, s = scale.den;
  if (t <= 0n || s <= 0n) throw new RangeError("discrete Laplace scale must be > 0");
  for (;;) {
    const u = uniformBigInt(t, random);
    if (!bernoulliExp({ num: u, den: t }, random)) continue;
    let v = 0n;
    while (bernoulliExp({ num: 1n, den: 1n }, random)) v++;
    const y = (u + t * v) / s;
    const negative = (random.nextUint32() & 1) === 1;
    if (negative && y === 0n) continue;
    return negative ? -y : y;
  }
}

/**
 * One draw from the discrete Gaussian on ℤ with variance parameter σ²
 * (`sigma2` rational): P[Z = z] ∝ exp(−z²/(2σ²)) (CKS Algorithm 3).
 */
export function sampleDiscreteGaussian(sigma2: Rational, random: UniformSource): bigint {
  if (sigma2.num <= 0n) throw new RangeError("discrete Gaussian variance must be > 0");
  // t = floor(σ) + 1, with floor(σ) = the integer square root of floor(σ²)
  const t = isqrt(sigma2.num / sigma2.den) + 1n;
  for (;;) {
    const y = sampleDiscreteLaplace({ num: t, den: 1n }, random);
    const ay = y < 0n ? -y : y;
    // γ = (|y| − σ²/t)² / (2σ²) = (|y|·t·den − num)² / (2·t²·den·num)
    const diff = ay * t * sigma2.den - sigma2.num;
    const gamma = { num: diff * diff, den: 2n * t * t * sigma2.den * sigma2.num };
    if (bernoulliExp(gamma, random)) return y;
  }
}

/** floor(sqrt(n)) for n >= 0. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}
