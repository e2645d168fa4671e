/**
 * Bundles: the log's entries (or the envelopes they name) 256 at a time.
 *
 * - Entry bundles (`tile/entries/<N>[.p/<W>]`, C2SP `tlog-tiles`): each
 *   entry's exact leaf bytes, prefixed by its length as a big-endian uint16.
 *   A leaf is therefore at most 65,535 bytes (regledger leaves are small:
 *   they name the envelope by hash).
 * - Envelope bundles (`tile/envelopes/<N>[.p/<W>]`, regledger's own): each
 *   envelope's stored bytes, prefixed by its length as a big-endian
 *   **uint32**, because an envelope may be up to the ledger's
 *   `MAX_ENVELOPE_BYTES` (512 KiB), far beyond uint16. Item i of envelope
 *   bundle N is the envelope of entry N·256 + i; nothing else is in the
 *   bundle (no header, no padding, no trailing bytes).
 *
 * Decoding is strict: a bundle must hold exactly the expected number of
 * items (1-256), no item may run past the end, no byte may follow the last
 * item, and an envelope longer than the limit is rejected before it is
 * copied. See docs/tiles.md.
 *
 * @module
 */
import { RegledgerError } from "../../core/errors.ts";
import { TILE_WIDTH } from "./path.ts";

/** Largest leaf an entry bundle can frame (uint16 length prefix). */
export const MAX_BUNDLE_ENTRY_BYTES = 0xffff;

/**
 * Largest envelope an envelope bundle accepts by default: the ledger's
 * `MAX_ENVELOPE_BYTES` (512 KiB; tests/tiles/bundle_test.ts checks they agree).
 */
export const DEFAULT_MAX_ENVELOPE_BYTES = 512 * 1024;

/**
 * A bundle was malformed. `rule` names what failed: `count` (no items, more
 * than 256, or not the expected width), `truncated` (a length prefix or an
 * item runs past the end), `trailing` (bytes after the last item),
 * `too-large` (an item over the framing's or the caller's limit).
 */
export class BundleError extends RegledgerError {
  /** The rule that failed. */
  readonly rule: string;
  /** Index of the offending item within the bundle, when there is one. */
  readonly item?: number;
  /** Build the error. */
  constructor(rule: string, message: string, item?: number, options?: ErrorOptions) {
    super(`bundle: ${message}`, options);
    this.rule = rule;
    this.item = item;
  }
}

function encode(items: readonly Uint8Array[], prefixBytes: 2 | 4, max: number): Uint8Array {
  if (!Array.isArray(items) || items.length < 1 || items.length > TILE_WIDTH) {
    throw new BundleError(
      "count",
      `a bundle holds 1-${TILE_WIDTH} items, got ${Array.isArray(items) ? items.length : "none"}`,
    );
  }
  let total = 0;
  items.forEach((it, i) => {
    if (!(it instanceof Uint8Array)) throw new BundleError("count", `item ${i} is not bytes`, i);
    if (it.length > max) {
      throw new BundleError("too-large", `item ${i} is ${it.length} bytes, over ${max}`, i);
    }
    total += prefixBytes + it.length;
  });
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const it of items) {
    if (prefixBytes === 2) view.setUint16(o, it.length);
    else view.setUint32(o, it.length);
    o += prefixBytes;
    out.set(it, o);
    o += it.length;
  }
  return out;
}

function decode(
  bytes: Uint8Array,
  width: number | undefined,
  prefixBytes: 2 | 4,
  max: number,
): Uint8Array[] {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("bundle must be a Uint8Array");
  if (width !== undefined && (!Number.isSafeInteger(width) || width < 1 || width > TILE_WIDTH)) {
    throw new RangeError(`width must be 1-${TILE_WIDTH}, got ${String(width)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items: Uint8Array[] = [];
  const want = width ?? TILE_WIDTH;
  let o = 0;
  while (o < bytes.length && items.length < want) {
    const i = items.length;
    if (o + prefixBytes > bytes.length) {
      throw new BundleError("truncated", `item ${i}'s length prefix is cut off`, i);
    }
    const len = prefixBytes === 2 ? view.getUint16(o) : view.getUint32(o);
    o += prefixBytes;
    if (len > max) throw new BundleError("too-large", `item ${i} is ${len} bytes, over ${max}`, i);
    if (o + len > bytes.length) {
      throw new BundleError(
        "truncated",
        `item ${i} needs ${len} bytes, ${bytes.length - o} left`,
        i,
      );
    }
    items.push(bytes.slice(o, o + len));
    o += len;
  }
  if (o < bytes.length) {
    throw width === undefined
      ? new BundleError("count", `more than ${TILE_WIDTH} items`, TILE_WIDTH)
      : new BundleError("trailing", `${bytes.length - o} bytes after item ${width - 1}`);
  }
  if (items.length === 0) throw new BundleError("count", "empty bundle");
  if (width !== undefined && items.length !== width) {
    throw new BundleError("count", `expected ${width} items, found ${items.length}`);
  }
  return items;
}

/**
 * Encode an entry bundle: each leaf as a big-endian uint16 length and its
 * bytes (C2SP `tlog-tiles`).
 *
 * @example
 * ```ts
 * import { decodeEntryBundle, encodeEntryBundle } from "./bundle.ts";
 * import assert from "node:assert/strict";
 * const b = encodeEntryBundle([new Uint8Array([7]), new Uint8Array([])]);
 * assert.deepEqual([...b], [0, 1, 7, 0, 0]);
 * assert.deepEqual(decodeEntryBundle(b, 2), [new Uint8Array([7]), new Uint8Array([])]);
 * ```
 *
 * @throws {BundleError} for 0 or more than 256 leaves, or a leaf over 65,535 bytes.
 */
export function encodeEntryBundle(leaves: readonly Uint8Array[]): Uint8Array {
  return encode(leaves, 2, MAX_BUNDLE_ENTRY_BYTES);
}

/**
 * Decode an entry bundle into its leaves. With `width` (from the bundle's
 * path: 256, or W of `.p/W`) the bundle must hold exactly that many.
 *
 * @throws {BundleError} when the bundle is empty, truncated, has trailing
 *   bytes, more than 256 entries, or not `width` entries.
 */
export function decodeEntryBundle(bytes: Uint8Array, width?: number): Uint8Array[] {
  return decode(bytes, width, 2, MAX_BUNDLE_ENTRY_BYTES);
}

/** Options for envelope bundles. */
export interface EnvelopeBundleOptions {
  /**
   * Largest envelope accepted, in bytes (at most 2^32 - 1).
   * @default {DEFAULT_MAX_ENVELOPE_BYTES}
   */
  maxEnvelopeBytes?: number;
}

function envelopeLimit(options: EnvelopeBundleOptions): number {
  const max = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  if (!Number.isSafeInteger(max) || max < 0 || max > 0xffffffff) {
    throw new RangeError(`maxEnvelopeBytes must be an integer in [0, 2^32), got ${String(max)}`);
  }
  return max;
}

/**
 * Encode an envelope bundle: each envelope as a big-endian uint32 length
 * and its bytes.
 *
 * @throws {BundleError} for 0 or more than 256 envelopes, or one over the limit.
 */
export function encodeEnvelopeBundle(
  envelopes: readonly Uint8Array[],
  options: EnvelopeBundleOptions = {},
): Uint8Array {
  return encode(envelopes, 4, envelopeLimit(options));
}

/**
 * Decode an envelope bundle into its envelopes' bytes. With `width` the
 * bundle must hold exactly that many.
 *
 * @throws {BundleError} as {@link decodeEntryBundle}, and `too-large` for an
 *   envelope over the limit.
 */
export function decodeEnvelopeBundle(
  bytes: Uint8Array,
  width?: number,
  options: EnvelopeBundleOptions = {},
): Uint8Array[] {
  return decode(bytes, width, 4, envelopeLimit(options));
}

/**
 * The first `width` items of a bundle, as bytes: bundle N with `.p/W` is
 * the prefix of any later, wider version of bundle N, so a store can keep
 * one version per bundle and answer every partial path from it. The
 * result is a view into `bytes`.
 *
 * @example
 * ```ts
 * import { bundlePrefix, encodeEntryBundle } from "./bundle.ts";
 * import assert from "node:assert/strict";
 * const three = encodeEntryBundle([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]);
 * assert.deepEqual(bundlePrefix(three, 2, "entries"), encodeEntryBundle([new Uint8Array([1]), new Uint8Array([2])]));
 * ```
 *
 * @throws {BundleError} `count` when the bundle has fewer than `width`
 *   items, `truncated` when an item before that runs past the end.
 */
export function bundlePrefix(
  bytes: Uint8Array,
  width: number,
  kind: "entries" | "envelopes",
): Uint8Array {
  if (!Number.isSafeInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new RangeError(`width must be 1-${TILE_WIDTH}, got ${String(width)}`);
  }
  const prefixBytes = kind === "entries" ? 2 : 4;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  for (let i = 0; i < width; i++) {
    if (o === bytes.length) throw new BundleError("count", `bundle has only ${i} items`, i);
    if (o + prefixBytes > bytes.length) {
      throw new BundleError("truncated", `item ${i}'s length prefix is cut off`, i);
    }
    const len = prefixBytes === 2 ? view.getUint16(o) : view.getUint32(o);
    o += prefixBytes + len;
    if (o > bytes.length) throw new BundleError("truncated", `item ${i} runs past the end`, i);
  }
  return bytes.subarray(0, o);
}
