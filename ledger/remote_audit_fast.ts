/**
 * The remote audit's fast path for one bundle: says whether every entry of
 * an entry bundle, with its envelope bundle and authenticated level-0 tile,
 * certainly passes the one entry checker (`ledger/entry_check.ts`) and
 * hashes to its tile hash — without building a string or an object per
 * entry.
 *
 * It only ever *vouches*: `true` means the reference path
 * (`decodeEntryBundle`, `decodeEnvelopeBundle`, `checkEntry` on each entry,
 * the leaf hash against the tile) would find nothing wrong in this bundle;
 * `false` means "not sure", and the caller runs the reference path on the
 * bundle, which then names the first bad entry and its rule exactly as
 * before. So the verdicts and messages of an audit are those of the
 * reference path for every input; this only makes the common case cheap.
 *
 * What it vouches for, entry by entry (a subset of what `checkEntry`
 * accepts):
 * - the framing is exact (as the strict decoders require: `width` items,
 *   nothing after the last, no envelope over `maxEnvelopeBytes`);
 * - the leaf is byte for byte the canonical leaf
 *   `{"envelope_sha256":"…","index":I,"issued_at":"…","issuer":"…","key_id":"…","prev":"…","primitive":"…","v":"regledger.leaf.v1"}`
 *   whose strings are printable ASCII without `"` or `\` (their JSON and
 *   JCS forms are then the raw characters), with I the entry's index;
 * - `envelope_sha256` is the base64 of the envelope's SHA-256 and `prev` the
 *   base64 of the previous leaf hash (`prev` for the first entry, then the
 *   tile's hash of the entry before, which this same check has matched);
 * - SHA-256(0x00 ‖ leaf) equals the entry's hash in the tile.
 *
 * Anything else (an escape or a non-ASCII character in a string, another
 * spelling of a number, a break of any rule) returns `false`.
 *
 * @module
 */
import { LEAF_VERSION } from "./leaf.ts";
import { sha256Into } from "./tiles/fast_hash.ts";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const OPEN = ascii(`{"envelope_sha256":"`);
const AFTER_SHA = ascii(`","index":`);
const AFTER_INDEX = ascii(`,"issued_at":"`);
const AFTER_ISSUED = ascii(`","issuer":"`);
const AFTER_ISSUER = ascii(`","key_id":"`);
const AFTER_KEY = ascii(`","prev":"`);
const AFTER_PREV = ascii(`","primitive":"`);
const CLOSE = ascii(`","v":${JSON.stringify(LEAF_VERSION)}}`);
const B64 = ascii("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const QUOTE = 0x22;

/** Whether `b[at…]` starts with `lit`. */
function lit(b: Uint8Array, at: number, end: number, lit: Uint8Array): boolean {
  if (at + lit.length > end) return false;
  for (let j = 0; j < lit.length; j++) if (b[at + j] !== lit[j]) return false;
  return true;
}

/** Whether `b[at…at+44]` is the standard padded base64 of the 32 bytes `h[ho…]`. */
function b64At(b: Uint8Array, at: number, end: number, h: Uint8Array, ho: number): boolean {
  if (at + 44 > end) return false;
  let o = at;
  for (let j = ho; j < ho + 30; j += 3) {
    const x = (h[j] << 16) | (h[j + 1] << 8) | h[j + 2];
    if (
      b[o] !== B64[x >>> 18] || b[o + 1] !== B64[(x >>> 12) & 63] ||
      b[o + 2] !== B64[(x >>> 6) & 63] || b[o + 3] !== B64[x & 63]
    ) return false;
    o += 4;
  }
  const x = (h[ho + 30] << 16) | (h[ho + 31] << 8);
  return b[o] === B64[x >>> 18] && b[o + 1] === B64[(x >>> 12) & 63] &&
    b[o + 2] === B64[(x >>> 6) & 63] && b[o + 3] === 0x3d;
}

/**
 * End of a plain string value starting at `at` (the index of its closing
 * quote), or -1: every byte before it printable ASCII other than `"` and `\`.
 */
function plainString(b: Uint8Array, at: number, end: number): number {
  for (let o = at; o < end; o++) {
    const c = b[o];
    if (c === QUOTE) return o;
    if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
  }
  return -1;
}

/** Whether `b[at…]` is the decimal text of `n` (a safe non-negative integer) followed by a non-digit. */
function decimal(b: Uint8Array, at: number, end: number, n: number): number {
  const s = String(n);
  if (at + s.length > end) return -1;
  for (let j = 0; j < s.length; j++) if (b[at + j] !== s.charCodeAt(j)) return -1;
  return at + s.length;
}

/** Inputs of {@link bundleCertainlyPasses}. */
export interface FastBundle {
  /** Index of the bundle's first entry (N·256). */
  first: number;
  /** Entries in the bundle (256, or W of `.p/W`). */
  width: number;
  /** The entry bundle as served. */
  entries: Uint8Array;
  /** The envelope bundle as served. */
  envelopes: Uint8Array;
  /** The authenticated level-0 tile: `width` leaf hashes. */
  tile: Uint8Array;
  /** Leaf hash of entry `first - 1` (32 zero bytes for entry 0). */
  prev: Uint8Array;
  /** Largest envelope the envelope bundle may hold. */
  maxEnvelopeBytes: number;
}

/**
 * Whether the reference check of this bundle certainly passes; see the
 * module documentation. Never throws for any bytes.
 */
export function bundleCertainlyPasses(x: FastBundle): boolean {
  const { entries: eb, envelopes: vb, tile, width } = x;
  if (tile.length !== width * 32 || x.prev.length !== 32) return false;
  const ev = new DataView(eb.buffer, eb.byteOffset, eb.byteLength);
  const vv = new DataView(vb.buffer, vb.byteOffset, vb.byteLength);
  // 0x00 ‖ leaf, hashed in one call.
  let scratch = new Uint8Array(1024);
  const envelopeSha = new Uint8Array(32);
  const h = new Uint8Array(32);
  let eo = 0;
  let vo = 0;
  for (let i = 0; i < width; i++) {
    if (eo + 2 > eb.length || vo + 4 > vb.length) return false;
    const leafLen = ev.getUint16(eo);
    const envLen = vv.getUint32(vo);
    const ls = eo + 2;
    const le = ls + leafLen;
    const vs = vo + 4;
    const ve = vs + envLen;
    if (le > eb.length || envLen > x.maxEnvelopeBytes || ve > vb.length) return false;
    eo = le;
    vo = ve;
    // The leaf's text, field by field.
    let o = ls;
    if (!lit(eb, o, le, OPEN)) return false;
    o += OPEN.length;
    sha256Into(vb.subarray(vs, ve), envelopeSha);
    if (!b64At(eb, o, le, envelopeSha, 0)) return false;
    o += 44;
    if (!lit(eb, o, le, AFTER_SHA)) return false;
    o = decimal(eb, o + AFTER_SHA.length, le, x.first + i);
    if (o < 0 || !lit(eb, o, le, AFTER_INDEX)) return false;
    o = plainString(eb, o + AFTER_INDEX.length, le);
    if (o < 0 || !lit(eb, o, le, AFTER_ISSUED)) return false;
    o = plainString(eb, o + AFTER_ISSUED.length, le);
    if (o < 0 || !lit(eb, o, le, AFTER_ISSUER)) return false;
    o = plainString(eb, o + AFTER_ISSUER.length, le);
    if (o < 0 || !lit(eb, o, le, AFTER_KEY)) return false;
    o += AFTER_KEY.length;
    if (!(i === 0 ? b64At(eb, o, le, x.prev, 0) : b64At(eb, o, le, tile, (i - 1) * 32))) {
      return false;
    }
    o += 44;
    if (!lit(eb, o, le, AFTER_PREV)) return false;
    o = plainString(eb, o + AFTER_PREV.length, le);
    if (o < 0 || !lit(eb, o, le, CLOSE) || o + CLOSE.length !== le) return false;
    // The leaf hash against the authenticated tile.
    if (scratch.length < leafLen + 1) scratch = new Uint8Array(leafLen + 1);
    scratch[0] = 0;
    scratch.set(eb.subarray(ls, le), 1);
    sha256Into(scratch.subarray(0, leafLen + 1), h);
    const t = i * 32;
    for (let j = 0; j < 32; j++) if (h[j] !== tile[t + j]) return false;
  }
  return eo === eb.length && vo === vb.length;
}
