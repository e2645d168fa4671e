/**
 * The ledger's leaf format and its hash-chain rule.
 *
 * Leaf bytes are the UTF-8 RFC 8785 (JCS) bytes of a flat object
 * (docs/formats.md §3.1, "Leaf bytes"):
 *
 * ```json
 * {"envelope_sha256":"<b64>","index":N,"issued_at":"…","issuer":"…",
 *  "key_id":"…","prev":"<b64>","primitive":"…","v":"regledger.leaf.v1"}
 * ```
 *
 * Chain rule (docs/formats.md §3.2): entry N's `prev` is the RFC 6962 leaf hash
 * `SHA-256(0x00 || leaf(N-1))` of the previous entry's exact leaf bytes, and
 * 32 zero bytes for entry 0. So the log is a SHA-256 hash chain as well as a
 * Merkle tree over the same bytes, and rewriting any entry breaks every later
 * link. `ledger/entry_check.ts` checks the rule.
 *
 * @module
 */
import { bytesEqual, fromBase64, toBase64 } from "../core/bytes.ts";
import { canonicalBytes } from "../core/jcs.ts";
import { RegledgerError } from "../core/errors.ts";
import { leafHash } from "./merkle/mod.ts";

/**
 * Canonical standard base64 of exactly 32 bytes: 42 free characters, a 43rd
 * whose two low bits are zero, and one `=`. Matches exactly the strings
 * `fromBase64` accepts and decodes to 32 bytes.
 */
export const BASE64_HASH = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * The `v` of every leaf this version writes.
 *
 * @example Leaves of another version are refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeLeaf, encodeLeaf, LEAF_VERSION, LeafError, ZERO_PREV } from "./leaf.ts";
 * import { toBase64 } from "../core/bytes.ts";
 * const leaf = encodeLeaf({
 *   envelope_sha256: toBase64(new Uint8Array(32).fill(7)), index: 0,
 *   issued_at: "2026-01-01T00:00:00Z", issuer: "acme", key_id: "k1",
 *   prev: toBase64(ZERO_PREV), primitive: "drift", v: LEAF_VERSION,
 * });
 * assert.equal(decodeLeaf(leaf).v, "regledger.leaf.v1");
 * const future = new TextEncoder().encode(
 *   new TextDecoder().decode(leaf).replace(LEAF_VERSION, "regledger.leaf.v2"),
 * );
 * assert.throws(() => decodeLeaf(future), (e) => e instanceof LeafError && e.rule === "version");
 * ```
 */
export const LEAF_VERSION = "regledger.leaf.v1";

/** `prev` of entry 0: 32 zero bytes. */
export const ZERO_PREV: Uint8Array = new Uint8Array(32);

/** Largest accepted leaf, in bytes (a leaf holds only short fields). */
export const MAX_LEAF_BYTES = 8192;

/**
 * The fields of one leaf. Hashes are standard base64 of 32 bytes.
 *
 * @example Leaves chain: each names the previous leaf's hash
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeLeaf, encodeLeaf, LEAF_VERSION, type LeafFields, prevFor } from "./leaf.ts";
 * import { toBase64 } from "../core/bytes.ts";
 * const first: LeafFields = {
 *   envelope_sha256: toBase64(new Uint8Array(32).fill(7)), index: 0,
 *   issued_at: "2026-01-01T00:00:00Z", issuer: "acme", key_id: "k1",
 *   prev: prevFor(null), primitive: "drift", v: LEAF_VERSION,
 * };
 * const firstBytes = encodeLeaf(first);
 * assert.deepEqual(decodeLeaf(firstBytes), first);
 * const second: LeafFields = { ...first, index: 1, prev: prevFor(firstBytes) };
 * assert.notEqual(second.prev, first.prev);
 * assert.equal(decodeLeaf(encodeLeaf(second)).prev, prevFor(firstBytes));
 * ```
 */
export interface LeafFields {
  /** base64 of the envelope's SHA-256 (its identity in the ledger). */
  envelope_sha256: string;
  /** Zero-based index of the entry. */
  index: number;
  /** The envelope's `issued_at`. */
  issued_at: string;
  /** The envelope's `issuer`. */
  issuer: string;
  /** The envelope's `receipt.key_id`. */
  key_id: string;
  /** base64 of the previous entry's leaf hash ({@link ZERO_PREV} for entry 0). */
  prev: string;
  /** The envelope's `primitive`. */
  primitive: string;
  /** Always {@link LEAF_VERSION}. */
  v: typeof LEAF_VERSION;
}

const FIELDS = [
  "envelope_sha256",
  "index",
  "issued_at",
  "issuer",
  "key_id",
  "prev",
  "primitive",
  "v",
] as const;

/**
 * A leaf is malformed. `field` names the offending field ("" for the leaf
 * itself) and `rule` the rule it broke (`utf8`, `json`, `canonical`,
 * `size`, `fields`, `type`, `hash`, `version`).
 */
export class LeafError extends RegledgerError {
  /** The field at fault, or "" for the whole leaf. */
  readonly field: string;
  /** The rule that failed. */
  readonly rule: string;
  /** Build a leaf error. */
  constructor(field: string, rule: string, message: string, options?: ErrorOptions) {
    super(`leaf${field ? "." + field : ""}: ${message}`, options);
    this.field = field;
    this.rule = rule;
  }
}

function checkHashField(field: string, v: unknown): void {
  if (typeof v !== "string") throw new LeafError(field, "type", "must be a base64 string");
  // Fast path: exactly the strings fromBase64 decodes to 32 bytes.
  if (BASE64_HASH.test(v)) return;
  let b: Uint8Array;
  try {
    b = fromBase64(v);
  } catch (e) {
    throw new LeafError(field, "hash", "must be standard base64", { cause: e });
  }
  if (b.length !== 32) throw new LeafError(field, "hash", "must encode 32 bytes");
}

function validate(obj: unknown): LeafFields {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new LeafError("", "type", "must be a JSON object");
  }
  const rec = obj as Record<string, unknown>;
  const keys = Object.keys(rec).sort();
  if (keys.length !== FIELDS.length || keys.some((k, i) => k !== FIELDS[i])) {
    throw new LeafError("", "fields", `must have exactly the fields ${FIELDS.join(", ")}`);
  }
  checkHashField("envelope_sha256", rec.envelope_sha256);
  checkHashField("prev", rec.prev);
  if (typeof rec.index !== "number" || !Number.isSafeInteger(rec.index) || rec.index < 0) {
    throw new LeafError("index", "type", "must be a non-negative safe integer");
  }
  for (const f of ["issued_at", "issuer", "key_id", "primitive"] as const) {
    if (typeof rec[f] !== "string") throw new LeafError(f, "type", "must be a string");
  }
  if (rec.v !== LEAF_VERSION) throw new LeafError("v", "version", `must be "${LEAF_VERSION}"`);
  return {
    envelope_sha256: rec.envelope_sha256 as string,
    index: rec.index,
    issued_at: rec.issued_at as string,
    issuer: rec.issuer as string,
    key_id: rec.key_id as string,
    prev: rec.prev as string,
    primitive: rec.primitive as string,
    v: LEAF_VERSION,
  };
}

/**
 * The leaf bytes: UTF-8 JCS of exactly the leaf fields.
 *
 * @example
 * ```ts
 * import { encodeLeaf, LEAF_VERSION, ZERO_PREV } from "./leaf.ts";
 * import { toBase64 } from "../core/bytes.ts";
 * const bytes = encodeLeaf({
 *   envelope_sha256: toBase64(new Uint8Array(32).fill(7)), index: 0,
 *   issued_at: "2026-01-01T00:00:00Z", issuer: "acme", key_id: "k1",
 *   prev: toBase64(ZERO_PREV), primitive: "fairness", v: LEAF_VERSION,
 * });
 * ```
 *
 * @throws {LeafError} naming the field and rule when `fields` is not a valid leaf.
 */
export function encodeLeaf(fields: LeafFields): Uint8Array {
  const leaf = validate(fields);
  const bytes = leafJcs(leaf) ?? canonicalBytes(leaf);
  if (bytes.length > MAX_LEAF_BYTES) {
    throw new LeafError("", "size", `leaf is ${bytes.length} bytes, more than ${MAX_LEAF_BYTES}`);
  }
  return bytes;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * JCS of validated leaf fields, written directly: the member order is fixed
 * (sorted), the index is a safe integer, and for well-formed strings RFC 8785
 * escapes are exactly `JSON.stringify`'s. Null when a string is not
 * well-formed (the generic canonicalizer then reports it).
 */
function leafJcs(l: LeafFields): Uint8Array | null {
  const ss = [l.envelope_sha256, l.issued_at, l.issuer, l.key_id, l.prev, l.primitive];
  for (const x of ss) if (!x.isWellFormed()) return null;
  return encoder.encode(
    `{"envelope_sha256":${JSON.stringify(l.envelope_sha256)},"index":${l.index},` +
      `"issued_at":${JSON.stringify(l.issued_at)},"issuer":${JSON.stringify(l.issuer)},` +
      `"key_id":${JSON.stringify(l.key_id)},"prev":${JSON.stringify(l.prev)},` +
      `"primitive":${JSON.stringify(l.primitive)},"v":${JSON.stringify(l.v)}}`,
  );
}

/**
 * Parse leaf bytes strictly: valid UTF-8 JSON with exactly the leaf fields,
 * the right types, 32-byte base64 hashes, and in canonical (JCS) form, so
 * that one leaf has one byte string.
 *
 * @throws {LeafError} naming the field and rule that failed.
 */
export function decodeLeaf(bytes: Uint8Array): LeafFields {
  if (!(bytes instanceof Uint8Array)) throw new LeafError("", "type", "leaf must be bytes");
  if (bytes.length > MAX_LEAF_BYTES) {
    throw new LeafError("", "size", `leaf is ${bytes.length} bytes, more than ${MAX_LEAF_BYTES}`);
  }
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (e) {
    throw new LeafError("", "utf8", "leaf is not valid UTF-8", { cause: e });
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new LeafError("", "json", "leaf is not JSON", { cause: e });
  }
  const leaf = validate(obj);
  if (!bytesEqual(leafJcs(leaf) ?? canonicalBytes(leaf), bytes)) {
    throw new LeafError("", "canonical", "leaf bytes are not in canonical (JCS) form");
  }
  return leaf;
}

/** `prev` for the entry after the one with leaf bytes `prevLeafBytes` (null: entry 0), as base64. */
export function prevFor(prevLeafBytes: Uint8Array | null): string {
  return toBase64(prevLeafBytes === null ? ZERO_PREV : leafHash(prevLeafBytes));
}
