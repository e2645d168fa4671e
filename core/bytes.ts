/**
 * Byte helpers shared by every module: SHA-256, hex and standard base64.
 *
 * SHA-256 goes through `node:crypto` (the fastest synchronous hash in Deno,
 * ~220k small messages/s here); `@noble/hashes` is the portable fallback for
 * runtimes without `node:crypto` (browsers).
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

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (createHash) {
    const h = createHash("sha256");
    for (const p of parts) h.update(p);
    const d = h.digest();
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  if (parts.length === 1) return nobleSha256(parts[0]);
  return nobleSha256(concatBytes(...parts));
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
