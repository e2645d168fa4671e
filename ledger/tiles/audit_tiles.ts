/**
 * The stored-tile half of a full audit (`verifyLog`): every hash tile a
 * store keeps must equal the hashes it is derived from, which the audit
 * recomputes from the entries anyway. The audit feeds each recomputed hash
 * of a tile level (tree levels 0, 8, 16, …) in order; each tile is read
 * once (one `readTile`) when the audit has all of its hashes, and compared.
 *
 * A store that keeps no tiles at all (a log written before tiles were
 * stored, opened read-only) passes: its tiles are derived on read. A store
 * that keeps any must keep every tile of the tree, each at least as wide
 * as the tree's (a later commit may have widened it meanwhile).
 *
 * @module
 */
import { bytesEqual } from "../../core/bytes.ts";
import type { LedgerStore } from "../store.ts";
import { TILE_HEIGHT, TILE_WIDTH } from "./path.ts";

const HASH = 32;

/** A stored tile that does not match the tree. */
export interface TileFault {
  /** The first entry whose hashes the fault concerns. */
  index: number;
  /** What is wrong, naming the tile. */
  reason: string;
}

/** Checks a store's hash tiles against the hashes an audit recomputes. */
export class StoredTileAudit {
  #store: LedgerStore;
  #buffers: Uint8Array[][] = [];
  #counts: number[] = [];
  #reads: Promise<void>[] = [];
  #stored = false;
  #missing: TileFault | undefined;
  #wrong: TileFault | undefined;
  #failed: unknown;

  /** Audit the tiles of `store`. */
  constructor(store: LedgerStore) {
    this.#store = store;
  }

  /**
   * The next hash (in order) of tree level `treeLevel`; only levels that
   * are multiples of 8 (tile levels) are kept.
   */
  add(treeLevel: number, hash: Uint8Array): void {
    if (treeLevel % TILE_HEIGHT !== 0) return;
    const level = treeLevel / TILE_HEIGHT;
    const buf = (this.#buffers[level] ??= []);
    buf.push(hash);
    this.#counts[level] = (this.#counts[level] ?? 0) + 1;
    if (buf.length === TILE_WIDTH) {
      this.#check(level, this.#counts[level] / TILE_WIDTH - 1, buf);
      this.#buffers[level] = [];
    }
  }

  /**
   * Check the partial tiles of the tree fed so far and wait for every
   * check; the first fault (lowest entry index), or undefined.
   * @throws what a tile read threw (an I/O error).
   */
  async finish(): Promise<TileFault | undefined> {
    this.#buffers.forEach((buf, level) => {
      if (buf.length > 0) this.#check(level, Math.floor(this.#counts[level] / TILE_WIDTH), buf);
    });
    this.#buffers = [];
    await Promise.all(this.#reads);
    if (this.#failed !== undefined) throw this.#failed;
    if (!this.#stored) return undefined;
    const faults = [this.#missing, this.#wrong].filter((f) => f !== undefined);
    return faults.sort((a, b) => a.index - b.index)[0];
  }

  #check(level: number, n: number, hashes: Uint8Array[]): void {
    const span = TILE_WIDTH ** level; // entries under one hash of this level
    const name = `hash tile ${level}/${n}${
      hashes.length < TILE_WIDTH ? `.p/${hashes.length}` : ""
    }`;
    const note = (slot: "missing" | "wrong", f: TileFault) => {
      const old = slot === "missing" ? this.#missing : this.#wrong;
      if (old === undefined || f.index < old.index) {
        if (slot === "missing") this.#missing = f;
        else this.#wrong = f;
      }
    };
    this.#reads.push(
      this.#store.readTile(level, n).then((data) => {
        const first = n * TILE_WIDTH * span;
        if (data === null) {
          note("missing", { index: first, reason: `${name} is not stored` });
          return;
        }
        this.#stored = true;
        if (data.length % HASH !== 0 || data.length > TILE_WIDTH * HASH) {
          note("wrong", {
            index: first,
            reason: `${name}: stored tile of ${data.length} bytes is not 1-256 hashes`,
          });
          return;
        }
        if (data.length < hashes.length * HASH) {
          note("wrong", {
            index: first,
            reason: `${name}: stored tile holds ${
              data.length / HASH
            } hashes, the tree has ${hashes.length}`,
          });
          return;
        }
        for (let i = 0; i < hashes.length; i++) {
          if (!bytesEqual(data.subarray(i * HASH, (i + 1) * HASH), hashes[i])) {
            note("wrong", {
              index: (n * TILE_WIDTH + i) * span,
              reason: `${name}: stored hash ${i} is not the tree's`,
            });
            return;
          }
        }
      }, (e) => {
        this.#failed ??= e;
      }),
    );
  }
}
