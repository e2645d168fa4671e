/**
 * How a store answers `readHashes`: the record whose append stored each
 * requested hash, and a cache of committed stored hashes. Every store keeps
 * a record's stored hashes with the record (`storedHashesForBatch` writes
 * them in that order), so each store reads records, not hashes; the
 * look-up plan and the cache are the same for every engine and live here.
 *
 * Committed stored hashes never change, so they may be cached for good.
 *
 * @module
 */
import { LedgerCorruptionError } from "./errors.ts";
import { splitStoredHashIndex, storedHashIndex } from "./merkle/mod.ts";

/** Most hashes a cache keeps before it starts again. */
const CACHE_LIMIT = 200_000;

/**
 * The record whose append stored the hash at stored hash index `index`, and
 * that hash's position (its level) among the record's stored hashes: the
 * node (level, n) is stored by the append of the last record it covers.
 *
 * @throws {RangeError} when `index` is not a non-negative safe integer.
 */
export function recordStoringHash(index: number): { record: number; level: number } {
  const [level, n] = splitStoredHashIndex(index);
  return { record: (n + 1) * 2 ** level - 1, level };
}

/** One `readHashes` call being answered: see {@link StoredHashCache.plan}. */
export interface StoredHashPlan {
  /** One slot per requested index; the cached ones are already filled. */
  readonly out: Uint8Array[];
  /** The records still to read, each once, in the order first requested. */
  readonly records: number[];
  /**
   * Fill the slots that record `record` holds from its stored hashes, and
   * cache them. A hash that views a larger buffer (part of a row as read) is
   * copied so the cache does not keep the row alive.
   *
   * @throws {RangeError} when `hashes` is null (the record is not in the log).
   * @throws {LedgerCorruptionError} when the record lacks a requested level.
   */
  fill(record: number, hashes: readonly Uint8Array[] | null): void;
}

/** Committed stored hashes by stored hash index, with the plan that reads the rest. */
export class StoredHashCache {
  #hashes = new Map<number, Uint8Array>();

  /**
   * Start answering `readHashes(indexes)`: the cached hashes go straight to
   * their slots, the others are grouped by the record that stored them.
   */
  plan(indexes: readonly number[]): StoredHashPlan {
    const out = new Array<Uint8Array>(indexes.length);
    const want = new Map<number, { slot: number; level: number }[]>();
    indexes.forEach((idx, slot) => {
      const c = this.#hashes.get(idx);
      if (c) {
        out[slot] = c;
        return;
      }
      const { record, level } = recordStoringHash(idx);
      const list = want.get(record) ?? [];
      list.push({ slot, level });
      want.set(record, list);
    });
    return {
      out,
      records: [...want.keys()],
      fill: (record, hashes) => {
        if (hashes === null) {
          throw new RangeError(`no stored hashes for record ${record} (not in the log)`);
        }
        for (const { slot, level } of want.get(record)!) {
          const h = hashes[level];
          if (!h) {
            throw new LedgerCorruptionError(`entry ${record}: missing level ${level}`, record);
          }
          out[slot] = h.byteLength === h.buffer.byteLength ? h : h.slice();
          this.#remember(indexes[slot], out[slot]);
        }
      },
    };
  }

  /** Cache the hashes record `record` stored, known to be committed. */
  rememberRecord(record: number, hashes: readonly Uint8Array[]): void {
    this.rememberHashes(storedHashIndex(0, record), hashes);
  }

  /** Cache hashes known to be committed at stored indexes `base, base+1, …`. */
  rememberHashes(base: number, hashes: readonly Uint8Array[]): void {
    hashes.forEach((h, i) => this.#remember(base + i, h));
  }

  #remember(idx: number, h: Uint8Array): void {
    if (this.#hashes.size >= CACHE_LIMIT) this.#hashes.clear();
    this.#hashes.set(idx, h);
  }
}
