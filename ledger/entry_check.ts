/**
 * The one entry checker: what every audit (local over a store, remote over
 * the HTTP API, and anything later) checks for one log entry, so that the
 * rules are written once.
 *
 * Entry `i` is good when its leaf bytes are a canonical leaf
 * (docs/formats.md, "Leaf"), the leaf names index `i`, its `prev` is the
 * previous entry's leaf hash (32 zero bytes, `ZERO_PREV` in leaf.ts, for entry 0:
 * the hash chain), and its `envelope_sha256` is the SHA-256 of the
 * envelope's canonical bytes.
 *
 * @module
 */
import { sha256, toBase64 } from "../core/bytes.ts";
import { RegledgerError } from "../core/errors.ts";
import { decodeLeaf, LEAF_VERSION, type LeafFields } from "./leaf.ts";
import { leafHash } from "./merkle/mod.ts";

/** The rule an entry broke: see {@link EntryCheckError}. */
export type EntryRule = "leaf" | "index" | "prev" | "envelope_sha256";

/**
 * An entry breaks a rule. `index` is the entry at fault; `rule` is `leaf`
 * (not a canonical leaf), `index` (the leaf names another index), `prev`
 * (the hash chain is broken) or `envelope_sha256` (the envelope does not
 * hash to the leaf's `envelope_sha256`).
 */
export class EntryCheckError extends RegledgerError {
  /** The entry at fault. */
  readonly index: number;
  /** The rule it broke. */
  readonly rule: EntryRule;
  /** Build the error. */
  constructor(index: number, rule: EntryRule, message: string, options?: ErrorOptions) {
    super(`entry ${index}: ${message}`, options);
    this.index = index;
    this.rule = rule;
  }
}

/** What {@link checkEntry} computed for a good entry. */
export interface CheckedEntry {
  /** The leaf's fields. */
  fields: LeafFields;
  /** RFC 6962 leaf hash of the leaf bytes: the next entry's `prev`. */
  leafHash: Uint8Array;
  /** SHA-256 of the envelope's canonical bytes. */
  envelopeSha256: Uint8Array;
}

/**
 * Check entry `index` given its exact leaf bytes, its envelope's canonical
 * bytes and the previous entry's leaf hash (`ZERO_PREV` in leaf.ts for entry 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkEntry, EntryCheckError } from "./entry_check.ts";
 * import { encodeLeaf, LEAF_VERSION, ZERO_PREV } from "./leaf.ts";
 * import { sha256, toBase64 } from "../core/bytes.ts";
 * const envelope = new TextEncoder().encode('{"n":1}');
 * const leaf = encodeLeaf({
 *   envelope_sha256: toBase64(sha256(envelope)), index: 0,
 *   issued_at: "2026-01-01T00:00:00Z", issuer: "acme", key_id: "k1",
 *   prev: toBase64(ZERO_PREV), primitive: "drift", v: LEAF_VERSION,
 * });
 * assert.equal(checkEntry(0, leaf, envelope, ZERO_PREV).fields.issuer, "acme");
 * assert.throws(() => checkEntry(1, leaf, envelope, ZERO_PREV), EntryCheckError);
 * ```
 *
 * @throws {EntryCheckError} naming the index and the first rule broken.
 */
export function checkEntry(
  index: number,
  leaf: Uint8Array,
  envelope: Uint8Array,
  prevLeafHash: Uint8Array,
): CheckedEntry {
  const fields = readLeaf(leaf, index);
  if (fields.index !== index) {
    throw new EntryCheckError(index, "index", `leaf names index ${fields.index}`);
  }
  // Compared as canonical base64 text: any other spelling of the hash is a break too.
  if (fields.prev !== toBase64(prevLeafHash)) {
    throw new EntryCheckError(index, "prev", "chain broken (prev is not the previous leaf hash)");
  }
  const envelopeSha256 = sha256(envelope);
  if (fields.envelope_sha256 !== toBase64(envelopeSha256)) {
    throw new EntryCheckError(
      index,
      "envelope_sha256",
      "envelope bytes do not hash to the leaf's envelope_sha256",
    );
  }
  return { fields, leafHash: leafHash(leaf), envelopeSha256 };
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parse and check a leaf. Fast path: JSON.parse, then compare the text with
 * the JCS form rebuilt from the parsed fields (RFC 8785 serializes strings
 * exactly as JSON.stringify and the field order is fixed); anything else
 * goes through the strict `decodeLeaf` for the precise error.
 */
function readLeaf(bytes: Uint8Array, n: number): LeafFields {
  try {
    const text = utf8Decoder.decode(bytes);
    const o = JSON.parse(text);
    if (
      o !== null && typeof o === "object" && typeof o.envelope_sha256 === "string" &&
      Number.isSafeInteger(o.index) && o.index >= 0 && typeof o.issued_at === "string" &&
      typeof o.issuer === "string" && typeof o.key_id === "string" &&
      typeof o.prev === "string" && typeof o.primitive === "string" && o.v === LEAF_VERSION
    ) {
      const canonical =
        `{"envelope_sha256":${JSON.stringify(o.envelope_sha256)},"index":${o.index},` +
        `"issued_at":${JSON.stringify(o.issued_at)},"issuer":${JSON.stringify(o.issuer)},` +
        `"key_id":${JSON.stringify(o.key_id)},"prev":${JSON.stringify(o.prev)},` +
        `"primitive":${JSON.stringify(o.primitive)},"v":${JSON.stringify(o.v)}}`;
      if (canonical === text) return o as LeafFields;
    }
  } catch {
    // fall through to the strict decoder for the error
  }
  try {
    return decodeLeaf(bytes);
  } catch (e) {
    throw new EntryCheckError(n, "leaf", `leaf: ${(e as Error).message}`, { cause: e });
  }
}
