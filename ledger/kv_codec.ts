/**
 * Byte encodings of the values the Deno KV store writes (entries, head,
 * envelope index, identity) and Deno KV's per-commit limits. Keys are built
 * in `ledger/kv_layout.ts`.
 *
 * @module
 */
import { bytesEqual, utf8 } from "../core/bytes.ts";
import { LedgerCorruptionError } from "./errors.ts";
import { HASH_SIZE } from "./merkle/mod.ts";
import type { LedgerMeta, LogHead, StoredEntry } from "./store.ts";

/** Largest Deno KV value, in bytes. */
export const KV_MAX_VALUE = 65536;
/** Largest total size of one Deno KV atomic commit, in bytes. */
export const KV_MAX_COMMIT_BYTES = 819200;
/** Most mutations in one Deno KV atomic commit. */
export const KV_MAX_MUTATIONS = 1000;
/** Most checks in one Deno KV atomic commit. */
export const KV_MAX_CHECKS = 100;
/**
 * Largest envelope (canonical bytes) the ledger stores. Larger envelopes are
 * refused: an entry must fit in one atomic commit (800 KiB) with room to spare.
 */
export const MAX_ENVELOPE_BYTES = 512 * 1024;

const ENTRY_FORMAT = 1;
const FLAG_ENDS_COMMIT = 1;

/** Header length of an entry value (format, flags, u16 leaf length, hash count, u32 envelope length, u16 chunk count). */
function entryHeaderLength(leafLen: number, hashCount: number): number {
  return 4 + leafLen + 1 + hashCount * HASH_SIZE + 4 + 2;
}

/** Encode an entry: its `["e", n]` value and its extra chunks (canonical: one byte string per entry). */
export function encodeEntry(e: StoredEntry): { value: Uint8Array; chunks: Uint8Array[] } {
  if (e.leaf.length > 0xffff) throw new RangeError(`leaf is ${e.leaf.length} bytes (max 65535)`);
  if (e.hashes.length > 64) throw new RangeError(`entry has ${e.hashes.length} hashes (max 64)`);
  if (e.envelope.length > MAX_ENVELOPE_BYTES) {
    throw new RangeError(`envelope is ${e.envelope.length} bytes (max ${MAX_ENVELOPE_BYTES})`);
  }
  const head = entryHeaderLength(e.leaf.length, e.hashes.length);
  const firstCap = KV_MAX_VALUE - head;
  const first = e.envelope.subarray(0, Math.min(firstCap, e.envelope.length));
  const chunks: Uint8Array[] = [];
  for (let o = first.length; o < e.envelope.length; o += KV_MAX_VALUE) {
    chunks.push(e.envelope.subarray(o, Math.min(o + KV_MAX_VALUE, e.envelope.length)));
  }
  const v = new Uint8Array(head + first.length);
  const dv = new DataView(v.buffer);
  v[0] = ENTRY_FORMAT;
  v[1] = e.endsCommit ? FLAG_ENDS_COMMIT : 0;
  dv.setUint16(2, e.leaf.length);
  v.set(e.leaf, 4);
  let o = 4 + e.leaf.length;
  v[o++] = e.hashes.length;
  for (const h of e.hashes) {
    if (h.length !== HASH_SIZE) throw new RangeError("stored hash must be 32 bytes");
    v.set(h, o);
    o += HASH_SIZE;
  }
  dv.setUint32(o, e.envelope.length);
  dv.setUint16(o + 4, chunks.length);
  v.set(first, o + 6);
  return { value: v, chunks };
}

/** An `["e", n]` value, decoded. */
export interface DecodedEntryValue {
  /** The entry ended its commit. */
  endsCommit: boolean;
  /** Leaf bytes. */
  leaf: Uint8Array;
  /** Stored hashes written by the entry's append. */
  hashes: Uint8Array[];
  /** Total envelope length. */
  envelopeLength: number;
  /** Number of `["c", n, j]` chunks. */
  chunkCount: number;
  /** The envelope bytes held in the entry value itself. */
  first: Uint8Array;
}

/**
 * Decode an `["e", n]` value strictly (every byte accounted for).
 * @throws {LedgerCorruptionError} naming the index and the rule broken.
 */
export function decodeEntryValue(v: Uint8Array, index: number): DecodedEntryValue {
  const bad = (why: string) => new LedgerCorruptionError(`entry ${index}: ${why}`, index);
  if (!(v instanceof Uint8Array)) throw bad("value is not bytes");
  if (v.length < 4) throw bad("value too short");
  if (v[0] !== ENTRY_FORMAT) throw bad(`unknown entry format ${v[0]}`);
  if ((v[1] & ~FLAG_ENDS_COMMIT) !== 0) throw bad(`unknown entry flags ${v[1]}`);
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const leafLen = dv.getUint16(2);
  let o = 4 + leafLen;
  if (o + 1 > v.length) throw bad("truncated leaf");
  const leaf = v.subarray(4, o);
  const hc = v[o++];
  if (hc < 1 || hc > 64) throw bad(`bad stored hash count ${hc}`);
  if (o + hc * HASH_SIZE + 6 > v.length) throw bad("truncated stored hashes");
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < hc; i++, o += HASH_SIZE) hashes.push(v.subarray(o, o + HASH_SIZE));
  const envelopeLength = dv.getUint32(o);
  const chunkCount = dv.getUint16(o + 4);
  const first = v.subarray(o + 6);
  if (envelopeLength > MAX_ENVELOPE_BYTES) throw bad("envelope length over the limit");
  const firstCap = KV_MAX_VALUE - (o + 6);
  const expectFirst = Math.min(firstCap, envelopeLength);
  const expectChunks = Math.ceil((envelopeLength - expectFirst) / KV_MAX_VALUE);
  if (first.length !== expectFirst || chunkCount !== expectChunks) {
    throw bad("envelope length does not match the stored bytes");
  }
  return { endsCommit: v[1] === FLAG_ENDS_COMMIT, leaf, hashes, envelopeLength, chunkCount, first };
}

/** Encode the `["head"]` value: u64 size, root, last leaf hash (72 bytes). */
export function encodeHead(h: LogHead): Uint8Array {
  const v = new Uint8Array(8 + 2 * HASH_SIZE);
  new DataView(v.buffer).setBigUint64(0, BigInt(h.size));
  v.set(h.root, 8);
  v.set(h.lastLeafHash, 8 + HASH_SIZE);
  return v;
}

/**
 * Decode the `["head"]` value.
 * @throws {LedgerCorruptionError} unless it is 72 bytes with a safe size.
 */
export function decodeHead(v: unknown): LogHead {
  if (!(v instanceof Uint8Array) || v.length !== 8 + 2 * HASH_SIZE) {
    throw new LedgerCorruptionError("head: value is not 72 bytes");
  }
  const size = new DataView(v.buffer, v.byteOffset).getBigUint64(0);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LedgerCorruptionError("head: size too large");
  }
  return {
    size: Number(size),
    root: v.slice(8, 8 + HASH_SIZE),
    lastLeafHash: v.slice(8 + HASH_SIZE),
  };
}

/** Encode an entry index as the 8-byte big-endian value of an `["s", sha]` key. */
export function encodeIndexValue(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad entry index ${n}`);
  const v = new Uint8Array(8);
  const dv = new DataView(v.buffer);
  dv.setUint32(0, Math.floor(n / 0x1_0000_0000));
  dv.setUint32(4, n >>> 0);
  return v;
}

/**
 * Decode the entry index held by an `["s", sha]` value (`what` names it in errors).
 * @throws {LedgerCorruptionError} unless it is 8 bytes holding a safe integer.
 */
export function decodeIndexValue(v: unknown, what: string): number {
  if (!(v instanceof Uint8Array) || v.length !== 8) {
    throw new LedgerCorruptionError(`${what}: index value is not 8 bytes`);
  }
  const n = new DataView(v.buffer, v.byteOffset).getBigUint64(0);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new LedgerCorruptionError(`${what}: bad index`);
  return Number(n);
}

/** Encode the `["meta"]` value. */
export function encodeMeta(m: LedgerMeta): Uint8Array {
  return utf8(JSON.stringify({ origin: m.origin, verifier_key: m.verifierKey }));
}

/**
 * Decode the `["meta"]` value, which must be exactly what {@link encodeMeta} writes.
 * @throws {LedgerCorruptionError} otherwise.
 */
export function decodeMeta(v: unknown): LedgerMeta {
  try {
    if (!(v instanceof Uint8Array)) throw new Error("not bytes");
    const o = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(v));
    if (typeof o?.origin !== "string" || typeof o?.verifier_key !== "string") {
      throw new Error("shape");
    }
    const m = { origin: o.origin, verifierKey: o.verifier_key };
    if (!bytesEqual(encodeMeta(m), v)) throw new Error("not canonical");
    return m;
  } catch (e) {
    throw new LedgerCorruptionError("meta: value is not the ledger identity record", undefined, {
      cause: e,
    });
  }
}
