/**
 * RFC 6962 §2.1 hashing: the leaf and interior node hashes every other part
 * of the Merkle code builds on (transparency-dev/merkle's `rfc6962` hasher).
 *
 * @module
 */
import { sha256 } from "../../core/bytes.ts";

/** Size of every hash in the tree, in bytes (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/**
 * RFC 6962 §2.1 leaf hash: `SHA-256(0x00 || leaf)`.
 *
 * @example
 * ```ts
 * import { leafHash } from "./mod.ts";
 * import { toHex } from "../../core/bytes.ts";
 * import assert from "node:assert/strict";
 * // RFC 6962 reference vector: the hash of the empty leaf.
 * assert.equal(
 *   toHex(leafHash(new Uint8Array())),
 *   "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
 * );
 * ```
 */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, leaf);
}

/**
 * RFC 6962 §2.1 interior node hash: `SHA-256(0x01 || left || right)`.
 *
 * @example
 * ```ts
 * import { leafHash, nodeHash } from "./mod.ts";
 * import { toHex } from "../../core/bytes.ts";
 * import assert from "node:assert/strict";
 * // RFC 6962 reference vector: the root of the two leaves "" and 0x00.
 * const root = nodeHash(leafHash(new Uint8Array()), leafHash(new Uint8Array([0])));
 * assert.equal(
 *   toHex(root),
 *   "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
 * );
 * ```
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/**
 * RFC 6962 §2.1 root of the empty tree: `SHA-256()` (the hash of no bytes).
 * Note: Go's `tlog.TreeHash(0)` returns 32 zero bytes instead; neither is
 * used in a proof, since no proof involves an empty tree.
 */
export const EMPTY_TREE_HASH: Uint8Array = sha256();
