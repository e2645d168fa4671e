/**
 * The Deno KV key layout of a ledger: every key the KV store reads or
 * writes is built here, and nowhere else.
 *
 * One KV database per ledger:
 *
 * | key | value |
 * | --- | --- |
 * | `["meta"]` | UTF-8 JSON `{origin, verifier_key}`, written by the first commit |
 * | `["head"]` | 72 bytes: u64 size, root, last leaf hash |
 * | `["e", n]` | entry n: format, flags (ends its commit), leaf, the stored hashes its append wrote, envelope (first part) |
 * | `["c", n, j]` | chunk j ≥ 1 of entry n's envelope when it exceeds one 64 KiB value |
 * | `["s", sha256]` | u64 index of the entry holding the envelope with this SHA-256 (whole canonical envelope) |
 * | `["b", sha256]` | u64 index of the entry holding the signed body with this SHA-256: the dedup key (`docs/formats.md` §2.6) |
 * | `["bm"]` | empty: present once every entry's signed body is indexed (written by the first commit; by the one-time rebuild of a log written before the signed-body index) |
 * | `["i", issuer, t, n]`, `["p", primitive, t, n]` | empty: secondary indexes; `t` is `issued_at` as a UTC key (`ledger/time_key.ts`) so text order is time order (queries by time alone merge the six primitive indexes) |
 * | `["ip", issuer, primitive, t, n]` | empty: the issuer+primitive index (one issuer's statistic over time in one range read) |
 * | `["ipm"]` | empty: present once every entry has its `"ip"` row (written by the first commit; by the one-time build of a log written before that index); until then queries by issuer and primitive filter the issuer index |
 * | `["cp", size]` | UTF-8 signed checkpoint for tree size `size` |
 * | `["t", level, n]` | the latest version of hash tile (level, n): 1-256 hashes of 32 bytes (≤ 8 KiB, one value) |
 * | `["tm"]` | empty: present once every hash tile of the tree is stored (written by the first commit that stores tiles on a fresh store; by the one-time build of a log written before tiles were stored) |
 *
 * Node hashes use tlog's dense numbering; the hashes written by entry n's
 * append are packed into `["e", n]`, so an append costs a constant number of
 * mutations and a proof reads at most log2(size) entries.
 *
 * @module
 */
import { encodeEntry, encodeIndexValue } from "./kv_codec.ts";
import type { NewEntry } from "./store.ts";
import { indexTime } from "./time_key.ts";

const EMPTY = new Uint8Array(0);

/** First part of each kind of key. */
export const KIND = {
  meta: "meta",
  head: "head",
  entry: "e",
  chunk: "c",
  envelope: "s",
  body: "b",
  bodyMark: "bm",
  issuer: "i",
  primitive: "p",
  issuerPrimitive: "ip",
  issuerPrimitiveMark: "ipm",
  checkpoint: "cp",
  tile: "t",
  tileMark: "tm",
} as const;

/** `["meta"]`: the ledger identity. */
export const META_KEY: Deno.KvKey = [KIND.meta];
/** `["head"]`: the log head. */
export const HEAD_KEY: Deno.KvKey = [KIND.head];

/** `true` sorts after every string and number in Deno KV key order. */
export const MAX_KEY_PART = true;

/** `["e", n]`: entry n. */
export function entryKey(n: number): Deno.KvKey {
  return [KIND.entry, n];
}

/** `["c", n, j]`: chunk j (from 1) of entry n's envelope. */
export function chunkKey(n: number, j: number): Deno.KvKey {
  return [KIND.chunk, n, j];
}

/** `["s", sha256]`: the entry index of the envelope with this SHA-256. */
export function envelopeKey(sha256: Uint8Array): Deno.KvKey {
  return [KIND.envelope, sha256];
}

/** `["b", sha256]`: the entry index of the signed body with this SHA-256. */
export function bodyKey(sha256: Uint8Array): Deno.KvKey {
  return [KIND.body, sha256];
}

/** `["bm"]`: the signed-body index is complete (see the table above). */
export const BODY_MARK_KEY: Deno.KvKey = [KIND.bodyMark];

/** `["cp", size]`: the checkpoint for tree size `size`. */
export function checkpointKey(size: number): Deno.KvKey {
  return [KIND.checkpoint, size];
}

/** `["t", level, n]`: the latest version of hash tile (level, n). */
export function tileKey(level: number, n: number): Deno.KvKey {
  return [KIND.tile, level, n];
}

/** `["tm"]`: every hash tile of the tree is stored (see the table above). */
export const TILE_MARK_KEY: Deno.KvKey = [KIND.tileMark];

/** `["i", issuer]`: prefix of one issuer's index keys. */
export function issuerPrefix(issuer: string): Deno.KvKey {
  return [KIND.issuer, issuer];
}

/** `["p", primitive]`: prefix of one primitive's index keys. */
export function primitivePrefix(primitive: string): Deno.KvKey {
  return [KIND.primitive, primitive];
}

/** `["ip", issuer, primitive]`: prefix of one issuer's index keys for one primitive. */
export function issuerPrimitivePrefix(issuer: string, primitive: string): Deno.KvKey {
  return [KIND.issuerPrimitive, issuer, primitive];
}

/** `["ipm"]`: the issuer+primitive index is complete (see the table above). */
export const IP_MARK_KEY: Deno.KvKey = [KIND.issuerPrimitiveMark];

/**
 * The secondary index keys of one entry: `["i", issuer, t, n]`,
 * `["p", primitive, t, n]` and `["ip", issuer, primitive, t, n]`.
 */
export function indexKeys(
  e: { index: number; issuer: string; primitive: string; issuedAt: string },
): Deno.KvKey[] {
  const t = indexTime(e.issuedAt);
  return [
    [KIND.issuer, e.issuer, t, e.index],
    [KIND.primitive, e.primitive, t, e.index],
    [KIND.issuerPrimitive, e.issuer, e.primitive, t, e.index],
  ];
}

/**
 * The records entry `e` occupies, as [key, value]: `["e", n]`, its envelope
 * chunks `["c", n, j]`, the whole-envelope index `["s", sha256]` and the
 * secondary index rows. Every writer of entries (a commit, a mirror's
 * staging) writes exactly these; not the signed-body row `["b", sha256]`,
 * which each writer decides on (a commit checks it is new, staging keeps an
 * earlier entry's).
 */
export function entryRecords(e: NewEntry): [Deno.KvKey, Uint8Array][] {
  const { value, chunks } = encodeEntry(e);
  return [
    [entryKey(e.index), value],
    [envelopeKey(e.envelopeSha256), encodeIndexValue(e.index)],
    ...chunks.map((c, j): [Deno.KvKey, Uint8Array] => [chunkKey(e.index, j + 1), c]),
    ...indexKeys(e).map((k): [Deno.KvKey, Uint8Array] => [k, EMPTY]),
  ];
}
