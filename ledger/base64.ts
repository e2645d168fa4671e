/**
 * Standard base64 (RFC 4648 §4, with padding) on the ledger's hot paths:
 * the runtime's `Uint8Array.prototype.toBase64` when it has one (the same
 * alphabet and padding as `core/bytes.ts` `toBase64`, several times faster),
 * else that portable encoder.
 *
 * @module
 */
import { toBase64 } from "../core/bytes.ts";

type NativeBase64 = Uint8Array & { toBase64?: () => string };

/** Standard base64 of `bytes`. */
export function b64(bytes: Uint8Array): string {
  const native = (bytes as NativeBase64).toBase64;
  return native ? native.call(bytes) : toBase64(bytes);
}

/**
 * Canonical standard base64 of exactly 32 bytes: 42 free characters, a 43rd
 * whose two low bits are zero, and one `=`. Matches exactly the strings
 * `fromBase64` accepts and decodes to 32 bytes.
 */
export const BASE64_HASH = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
