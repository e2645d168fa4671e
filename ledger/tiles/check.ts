/**
 * An entry-bundle checker written from the text of C2SP `tlog-tiles` alone,
 * independently of `./bundle.ts` and `../merkle.ts`, so that the two can
 * check each other:
 *
 * > "Entry bundles are sequences of big-endian uint16 length-prefixed log
 * > entries. Each entry in a bundle hashes to the corresponding entry in the
 * > corresponding “level 0” Merkle Tree tile. Hashing of entries is
 * > performed according to RFC 6962, Section 2.1."
 *
 * > "Full tiles MUST be exactly 256 hashes wide, or 8,192 bytes. At “level
 * > 0” tiles contain leaf hashes." "A partial tile contains between 1 and
 * > 255 hashes."
 *
 * RFC 6962 §2.1: the hash of a leaf is SHA-256(0x00 || leaf).
 *
 * @module
 */
import { bytesEqual, sha256 } from "../../core/bytes.ts";
import { RegledgerError } from "../../core/errors.ts";

/**
 * An entry bundle does not match its level-0 tile. `rule`: `tile-length`,
 * `bundle-framing` (the bundle is not a sequence of uint16-prefixed
 * entries), `count` (not as many entries as the tile has hashes),
 * `leaf-hash` (entry `entry` does not hash to the tile's hash there).
 */
export class EntryBundleMismatchError extends RegledgerError {
  /** The rule that failed. */
  readonly rule: string;
  /** Log index of the offending entry, when there is one. */
  readonly entry?: number;
  /** Build the error. */
  constructor(rule: string, message: string, entry?: number) {
    super(message);
    this.rule = rule;
    this.entry = entry;
  }
}

/**
 * Check that entry bundle `n` (its bytes `bundle`) matches level-0 hash
 * tile `n` (its bytes `tile`, full or partial): the bundle holds exactly one
 * entry per tile hash and entry i's RFC 6962 leaf hash is tile hash i.
 * Returns the number of entries checked.
 *
 * The tile must itself be authenticated (e.g. read through
 * `TileHashReader.readTile`) for the check to prove anything.
 *
 * @example
 * ```ts
 * import { checkEntryBundle } from "./check.ts";
 * import { sha256 } from "../../core/bytes.ts";
 * import assert from "node:assert/strict";
 * const leaf = new Uint8Array([1, 2, 3]);
 * const tile = sha256(new Uint8Array([0]), leaf);
 * assert.equal(checkEntryBundle(new Uint8Array([0, 3, 1, 2, 3]), tile, 0), 1);
 * ```
 *
 * @throws {EntryBundleMismatchError} naming the rule and the entry that failed.
 */
export function checkEntryBundle(bundle: Uint8Array, tile: Uint8Array, n = 0): number {
  const HASH = 32;
  if (tile.length === 0 || tile.length % HASH !== 0 || tile.length > 256 * HASH) {
    throw new EntryBundleMismatchError(
      "tile-length",
      `a level-0 tile is 1 to 256 hashes of 32 bytes; got ${tile.length} bytes`,
    );
  }
  const hashes = tile.length / HASH;
  const first = n * 256;
  let pos = 0;
  let i = 0;
  while (pos < bundle.length) {
    if (i === hashes) {
      throw new EntryBundleMismatchError(
        "count",
        `bundle has more entries than the tile's ${hashes} hashes`,
        first + i,
      );
    }
    if (pos + 2 > bundle.length) {
      throw new EntryBundleMismatchError("bundle-framing", "length prefix cut off", first + i);
    }
    const len = bundle[pos] * 256 + bundle[pos + 1]; // big-endian uint16
    pos += 2;
    if (pos + len > bundle.length) {
      throw new EntryBundleMismatchError("bundle-framing", "entry runs past the end", first + i);
    }
    const leaf = bundle.subarray(pos, pos + len);
    pos += len;
    const want = tile.subarray(i * HASH, (i + 1) * HASH);
    if (!bytesEqual(sha256(new Uint8Array([0x00]), leaf), want)) {
      throw new EntryBundleMismatchError(
        "leaf-hash",
        `entry ${first + i} does not hash to level-0 tile ${n}'s hash ${i}`,
        first + i,
      );
    }
    i++;
  }
  if (i !== hashes) {
    throw new EntryBundleMismatchError(
      "count",
      `bundle has ${i} entries, the tile has ${hashes} hashes`,
      first + i,
    );
  }
  return i;
}
