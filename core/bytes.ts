/**
 * Byte helpers shared by every module: SHA-256, hex and standard base64.
 *
 * SHA-256 of short inputs (≤ {@link SHORT_SHA256} bytes: Merkle leaf and node
 * hashes, ledger leaves) is computed here, in JavaScript, from FIPS 180-4:
 * for these a native call costs more than the hash (creating the hasher,
 * the digest `Buffer`), ~2.3 µs for a 65-byte node against ~0.9 µs here.
 * Longer inputs go through `node:crypto` (the fastest synchronous hash in
 * Deno for them); `@noble/hashes` is their portable fallback for runtimes
 * without `node:crypto` (browsers). Both agree with this one on every input
 * (`tests/core/bytes_test.ts`).
 *
 * @module
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

type NodeHash = { update(data: Uint8Array): NodeHash; digest(): Uint8Array };
type CreateHash = (alg: string) => NodeHash;

/**
 * `node:crypto`'s `createHash` where the runtime has Node's built-ins (Deno,
 * Node), reached through `process.getBuiltinModule` rather than an import,
 * so that a browser bundle of this module names no `node:` module at all.
 */
const createHash: CreateHash | undefined = (() => {
  const proc = (globalThis as {
    process?: { getBuiltinModule?: (id: string) => { createHash?: unknown } | undefined };
  }).process;
  try {
    const mod = proc?.getBuiltinModule?.("crypto");
    return typeof mod?.createHash === "function" ? mod.createHash as CreateHash : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * Inputs up to this many bytes are hashed in JavaScript: below it that is
 * faster than `node:crypto` here (measured crossover ~600 bytes).
 */
const SHORT_SHA256 = 512;

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  if (total <= SHORT_SHA256) return shortSha256(parts);
  if (createHash) {
    const h = createHash("sha256");
    for (const p of parts) h.update(p);
    const d = h.digest();
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  if (parts.length === 1) return nobleSha256(parts[0]);
  return nobleSha256(concatBytes(...parts));
}

// SHA-256 (FIPS 180-4 §6.2) for short messages: the state, the message
// schedule and one block buffer are module-level (the function is synchronous,
// so calls never interleave); only the digest is allocated.
const K256 = new Int32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);
const H256 = new Int32Array(8);
const W256 = new Int32Array(64);
const BLOCK = new Uint8Array(64);

/** Process the 64-byte block of `b` at `off` into {@link H256}. */
function compress(b: Uint8Array, off: number): void {
  const w = W256;
  for (let i = 0; i < 16; i++, off += 4) {
    w[i] = (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  const h = H256;
  let a = h[0], b1 = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + K256[i] + w[i]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b1) ^ (a & c) ^ (b1 & c))) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b1;
    b1 = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + b1) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
  h[5] = (h[5] + f) | 0;
  h[6] = (h[6] + g) | 0;
  h[7] = (h[7] + hh) | 0;
}

/** SHA-256 of the concatenation of `parts` (total length under 2^29 bytes). */
function shortSha256(parts: readonly Uint8Array[]): Uint8Array {
  const h = H256;
  h[0] = 0x6a09e667;
  h[1] = 0xbb67ae85;
  h[2] = 0x3c6ef372;
  h[3] = 0xa54ff53a;
  h[4] = 0x510e527f;
  h[5] = 0x9b05688c;
  h[6] = 0x1f83d9ab;
  h[7] = 0x5be0cd19;
  const blk = BLOCK;
  let fill = 0; // bytes waiting in blk
  let total = 0;
  for (const p of parts) {
    const n = p.length;
    total += n;
    let i = 0;
    if (fill > 0) {
      // Top up the waiting block first.
      while (fill < 64 && i < n) blk[fill++] = p[i++];
      if (fill < 64) continue;
      compress(blk, 0);
      fill = 0;
    }
    // Whole blocks straight from the part (at any offset); the rest waits.
    for (; i + 64 <= n; i += 64) compress(p, i);
    while (i < n) blk[fill++] = p[i++];
  }
  // Padding: 0x80, zeros, the length in bits as a 64-bit big-endian number.
  blk[fill++] = 0x80;
  if (fill > 56) {
    blk.fill(0, fill);
    compress(blk, 0);
    fill = 0;
  }
  blk.fill(0, fill, 60);
  const bits = total * 8;
  blk[60] = bits >>> 24;
  blk[61] = bits >>> 16;
  blk[62] = bits >>> 8;
  blk[63] = bits;
  compress(blk, 0);
  const out = new Uint8Array(32);
  for (let i = 0, o = 0; i < 8; i++, o += 4) {
    const v = h[i];
    out[o] = v >>> 24;
    out[o + 1] = v >>> 16;
    out[o + 2] = v >>> 8;
    out[o + 3] = v;
  }
  return out;
}

/** SHA-256 of `data` (UTF-8 for strings) as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return toHex(sha256(typeof data === "string" ? utf8(data) : data));
}

const encoder = new TextEncoder();
/** UTF-8 encoding of `s`. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * Length in bytes of `s` encoded as UTF-8 (as `TextEncoder` encodes it: a
 * lone surrogate counts as U+FFFD, 3 bytes), without encoding it.
 */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    // Counted so far: 1 per UTF-16 unit. U+0080–U+07FF: 2 bytes; the rest of
    // the BMP and a lone surrogate (U+FFFD): 3; a surrogate pair: 4 for 2 units.
    n += c < 0x800 ? 1 : 2;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/** Concatenate byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

/**
 * Decode lowercase or uppercase hex.
 * @throws {TypeError} when `hex` has odd length or a non-hex character.
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(`invalid hex string (length ${hex.length})`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Standard base64 (RFC 4648 §4, with padding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toBase64 } from "./bytes.ts";
 *
 * assert.equal(toBase64(new Uint8Array([0xfb, 0xff])), "+/8=");
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  // The runtime's encoder when it has one (same alphabet and padding, several times faster).
  const native = (bytes as Uint8Array & { toBase64?: () => string }).toBase64;
  if (native) return native.call(bytes);
  let s = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(s);
}

/**
 * Decode standard base64 (RFC 4648 §4). Rejects URL-safe alphabet, missing
 * padding and whitespace, so that one byte string has one text form.
 * @throws {TypeError} when `b64` is not canonical standard base64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromBase64 } from "./bytes.ts";
 *
 * assert.deepEqual(fromBase64("+/8="), new Uint8Array([0xfb, 0xff]));
 * assert.throws(() => fromBase64("-_8="), TypeError); // URL-safe alphabet
 * assert.throws(() => fromBase64("+/8"), TypeError); // missing padding
 * ```
 */
export function fromBase64(b64: string): Uint8Array {
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
    throw new TypeError("invalid base64 (standard alphabet with padding expected)");
  }
  // The runtime's decoder when it has one: with the alphabet, padding and no
  // whitespace checked above, "strict" (zero padding bits) means canonical.
  // Anything it refuses goes the slow way, which names the error.
  if (nativeFromBase64 !== undefined) {
    try {
      return nativeFromBase64(b64, { lastChunkHandling: "strict" });
    } catch {
      // fall through
    }
  }
  let bin: string;
  try {
    bin = atob(b64);
  } catch {
    throw new TypeError("invalid base64");
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (toBase64(out) !== b64) throw new TypeError("non-canonical base64");
  return out;
}

const nativeFromBase64 = (Uint8Array as unknown as {
  fromBase64?: (s: string, o: { lastChunkHandling: "strict" }) => Uint8Array;
}).fromBase64;

/** Constant-time equality of two byte arrays (length leaks, contents do not). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
