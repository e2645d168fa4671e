/**
 * PEM (RFC 7468) text of DER structures: the one reader and writer that
 * every key type (Ed25519, ML-DSA-65) uses.
 *
 * @module
 */
import { fromBase64, toBase64 } from "./bytes.ts";

/**
 * The DER bytes of one PEM block with `label` (whitespace in the body ignored).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pemDecode, pemEncode } from "./pem.ts";
 * const text = pemEncode("PUBLIC KEY", new Uint8Array([1, 2, 3]));
 * assert.deepEqual(pemDecode(text, "PUBLIC KEY"), new Uint8Array([1, 2, 3]));
 * assert.throws(() => pemDecode(text, "PRIVATE KEY"), TypeError);
 * ```
 *
 * @throws {TypeError} when `text` is not one `label` block of valid base64.
 */
export function pemDecode(text: string, label: string): Uint8Array {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const t = text.trim();
  if (!t.startsWith(begin) || !t.endsWith(end)) {
    throw new TypeError(`not a PEM ${label} (expected ${begin} … ${end})`);
  }
  const b64 = t.slice(begin.length, t.length - end.length).replace(/[\r\n\t ]/g, "");
  try {
    return fromBase64(b64);
  } catch (e) {
    throw new TypeError(`PEM ${label} body is not valid base64`, { cause: e });
  }
}

/** One PEM block of `der` with `label`, base64 in 64-character lines, ending in a newline. */
export function pemEncode(label: string, der: Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
