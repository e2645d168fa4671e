/**
 * Randomness for differential privacy: the CSPRNG for releases and a
 * seeded generator for tests only.
 *
 * @module
 */

/** A source of random 32-bit words and uniform doubles. */
export interface UniformSource {
  /** The next uniform double in [0, 1) (53 random bits). */
  next(): number;
  /** The next uniform 32-bit unsigned integer. */
  nextUint32(): number;
}

function fromWords(u32: () => number): UniformSource {
  return {
    nextUint32: u32,
    next: () => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992,
  };
}

/**
 * Randomness from the platform CSPRNG (`crypto.getRandomValues`), drawn in
 * batches. The only source releases should use.
 */
export function cryptoUniform(): UniformSource {
  const buf = new Uint32Array(512);
  let i = buf.length;
  return fromWords(() => {
    if (i === buf.length) {
      crypto.getRandomValues(buf);
      i = 0;
    }
    return buf[i++];
  });
}

/**
 * A deterministic generator (xoshiro128**) for reproducible TESTS ONLY:
 * its output is predictable from the seed, so noise drawn from it gives no
 * privacy. Never pass it to a real release.
 */
export function seededUniformForTestsOnly(seed: number): UniformSource {
  // splitmix32 expands the seed into the 128-bit state
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  return fromWords(() => {
    const r = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  });
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A uniform BigInt in [0, m) by rejection from random bits (m >= 1). */
export function uniformBigInt(m: bigint, random: UniformSource): bigint {
  if (m <= 0n) throw new RangeError(`uniformBigInt needs m >= 1, got ${m}`);
  if (m === 1n) return 0n;
  const bits = (m - 1n).toString(2).length;
  const words = Math.ceil(bits / 32);
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    let x = 0n;
    for (let w = 0; w < words; w++) x = (x << 32n) | BigInt(random.nextUint32());
    x &= mask;
    if (x < m) return x;
  }
}
