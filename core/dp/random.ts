/**
 * Randomness for differential privacy: the CSPRNG for releases and a
 * seeded generator for tests only.
 *
 * @module
 */

/** A source of uniform doubles in [0, 1) with 53 random bits. */
export interface UniformSource {
  /** The next uniform double in [0, 1). */
  next(): number;
}

/**
 * Uniform doubles from the platform CSPRNG (`crypto.getRandomValues`),
 * 53 bits each, drawn in batches. The only source releases should use.
 */
export function cryptoUniform(): UniformSource {
  const buf = new Uint32Array(512);
  let i = buf.length;
  return {
    next(): number {
      if (i + 2 > buf.length) {
        crypto.getRandomValues(buf);
        i = 0;
      }
      const hi = buf[i++] >>> 5; // 27 bits
      const lo = buf[i++] >>> 6; // 26 bits
      return (hi * 67108864 + lo) / 9007199254740992;
    },
  };
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
  const u32 = () => {
    const r = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  };
  return { next: () => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992 };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
