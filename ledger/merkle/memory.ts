/**
 * An in-memory stored-hash tree (tests, browsers, small tools).
 *
 * @module
 */
import { leafHash } from "./hash.ts";
import { type HashReader, storedHashesForBatch, storedHashesForLeafHash } from "./stored.ts";

/**
 * An in-memory append-only RFC 6962 tree: a {@link HashReader} over a dense
 * array of stored hashes (Crosby–Wallach numbering), plus `append`. Useful
 * for tests, browsers and for recomputing a log's tree while auditing it.
 *
 * @example
 * ```ts
 * import { leafHash, MemoryHashStore, proveRecord, treeHash, verifyInclusion } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const store = new MemoryHashStore();
 * for (const s of ["a", "b", "c"]) await store.append(new TextEncoder().encode(s));
 * assert.equal(store.size, 3);
 * const root = await treeHash(store.size, store);
 * const proof = await proveRecord(3, 1, store);
 * verifyInclusion(leafHash(new TextEncoder().encode("b")), 1, 3, proof, root);
 * ```
 */
export class MemoryHashStore implements HashReader {
  /** All stored hashes, indexed by stored hash index. */
  readonly hashes: Uint8Array[] = [];
  #size = 0;

  /** Number of records appended. */
  get size(): number {
    return this.#size;
  }

  /**
   * Read stored hashes by index.
   * @throws {RangeError} for an index not yet stored.
   */
  readHashes(indexes: number[]): Promise<Uint8Array[]> {
    try {
      return Promise.resolve(indexes.map((i) => {
        const h = this.hashes[i];
        if (h === undefined) throw new RangeError(`no stored hash at index ${i}`);
        return h;
      }));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Append a record by its leaf bytes; returns its index. */
  append(leaf: Uint8Array): Promise<number> {
    return this.appendLeafHash(leafHash(leaf));
  }

  /** Append a record by its RFC 6962 §2.1 leaf hash; returns its index. */
  async appendLeafHash(hash: Uint8Array): Promise<number> {
    const n = this.#size;
    const add = await storedHashesForLeafHash(n, hash, this);
    for (const h of add) this.hashes.push(h);
    this.#size = n + 1;
    return n;
  }

  /** Append many records by leaf hash with one batched computation. */
  async appendLeafHashes(hashes: readonly Uint8Array[]): Promise<void> {
    const add = await storedHashesForBatch(this.#size, hashes, this);
    for (const h of add) this.hashes.push(h);
    this.#size += hashes.length;
  }
}
