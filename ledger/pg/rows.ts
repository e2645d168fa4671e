/**
 * Rows of the PostgreSQL schema (`ledger/pg/schema.ts`) to and from the
 * store's types: strict decoding that names the entry and the rule broken
 * (like `ledger/kv_codec.ts` does for Deno KV values).
 *
 * @module
 */
import { concatBytes } from "../../core/bytes.ts";
import { LedgerCorruptionError } from "../errors.ts";
import { HASH_SIZE } from "../merkle/mod.ts";
import type { LogHead, StoredEntry } from "../store.ts";

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const enc = new TextEncoder();

/** A fresh `Uint8Array` copy of a driver value (postgres.js returns Node `Buffer`s). */
export function bytes(v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError("not bytes");
  return new Uint8Array(v);
}

/**
 * A PostgreSQL array literal (`{a,b,c}`) of hex strings or decimal integers,
 * sent as one text parameter and cast by the query (`::text[]`,
 * `::bigint[]`). Not `sql.array()`: postgres.js types an array parameter
 * from the array types a connection fetches when it first connects, so on a
 * freshly opened (or replaced) pool an array sent before that is sent as
 * text and refused ("malformed array literal", 22P02).
 * @throws {TypeError} for an item that is not hex digits.
 */
export function arrayLiteral(items: readonly string[]): string {
  for (const x of items) {
    if (!/^[0-9a-f]+$/.test(x)) throw new TypeError(`not hex or decimal digits: ${x}`);
  }
  return `{${items.join(",")}}`;
}

/** UTF-8 bytes of a string (index keys). */
export function utf8Bytes(s: string): Uint8Array {
  return enc.encode(s);
}

/** The string of index-key bytes. */
export function utf8Text(v: unknown, what: string): string {
  try {
    return utf8Fatal.decode(bytes(v));
  } catch (e) {
    throw new LedgerCorruptionError(`${what}: not UTF-8 bytes`, undefined, { cause: e });
  }
}

/** A bigint column (postgres.js returns int8 as a string) as a safe integer. */
export function int(v: unknown, what: string): number {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new LedgerCorruptionError(`${what}: ${String(v)} is not an index`);
  }
  return n;
}

/** The stored hashes of one entry, concatenated (the `hashes` column). */
export function packHashes(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length < 1 || hashes.length > 64) {
    throw new RangeError(`entry has ${hashes.length} stored hashes (1-64)`);
  }
  for (const h of hashes) {
    if (h.length !== HASH_SIZE) throw new RangeError("stored hash must be 32 bytes");
  }
  return concatBytes(...hashes);
}

/**
 * Split a `hashes` column value.
 * @throws {LedgerCorruptionError} unless it is 1-64 hashes of 32 bytes.
 */
export function unpackHashes(v: unknown, index: number): Uint8Array[] {
  if (!(v instanceof Uint8Array) || v.length % HASH_SIZE !== 0) {
    throw new LedgerCorruptionError(`entry ${index}: stored hashes are not 32-byte hashes`, index);
  }
  const n = v.length / HASH_SIZE;
  if (n < 1 || n > 64) {
    throw new LedgerCorruptionError(`entry ${index}: bad stored hash count ${n}`, index);
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    out.push(new Uint8Array(v.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)));
  }
  return out;
}

/** One `entries` row as read. */
export interface EntryRow {
  idx: unknown;
  ends_commit: unknown;
  leaf: unknown;
  hashes: unknown;
  envelope: unknown;
}

/**
 * Decode an `entries` row expected to be entry `index`.
 * @throws {LedgerCorruptionError} naming the index.
 */
export function decodeEntryRow(r: EntryRow, index: number): StoredEntry {
  if (
    typeof r.ends_commit !== "boolean" || !(r.leaf instanceof Uint8Array) ||
    !(r.envelope instanceof Uint8Array)
  ) {
    throw new LedgerCorruptionError(`entry ${index}: row is malformed`, index);
  }
  return {
    index,
    leaf: bytes(r.leaf),
    hashes: unpackHashes(r.hashes, index),
    endsCommit: r.ends_commit,
    envelope: bytes(r.envelope),
  };
}

/** The `head` row as read. */
export interface HeadRow {
  version: unknown;
  size: unknown;
  root: unknown;
  last_leaf_hash: unknown;
}

/**
 * Decode the `head` row.
 * @throws {LedgerCorruptionError} unless the size is safe and both hashes are 32 bytes.
 */
export function decodeHeadRow(r: HeadRow): { head: LogHead; version: number } {
  const version = int(r.version, "head version");
  const size = int(r.size, "head size");
  if (
    !(r.root instanceof Uint8Array) || r.root.length !== HASH_SIZE ||
    !(r.last_leaf_hash instanceof Uint8Array) || r.last_leaf_hash.length !== HASH_SIZE
  ) {
    throw new LedgerCorruptionError("head: root or last leaf hash is not 32 bytes");
  }
  return { head: { size, root: bytes(r.root), lastLeafHash: bytes(r.last_leaf_hash) }, version };
}
