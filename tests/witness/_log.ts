/**
 * A tiny in-memory log for witness tests: RFC 6962 tree (MemoryHashStore),
 * signed checkpoints and consistency proofs. Two instances built with the
 * same key and different leaves are a split view of one log.
 */
import { utf8 } from "../../core/bytes.ts";
import { signCheckpoint } from "../../ledger/checkpoint.ts";
import { EMPTY_TREE_HASH, MemoryHashStore, proveTree, treeHash } from "../../ledger/merkle/mod.ts";
import type { NoteSigner } from "../../ledger/note.ts";

export const ORIGIN = "example.com/log";

export class TestLog {
  readonly store = new MemoryHashStore();
  readonly signers: readonly NoteSigner[];
  readonly origin: string;

  constructor(signers: readonly NoteSigner[], origin = ORIGIN) {
    this.signers = signers;
    this.origin = origin;
  }

  get size(): number {
    return this.store.size;
  }

  /** Append `n` leaves named `${label}-${index}`. */
  async grow(n: number, label = "leaf"): Promise<this> {
    for (let i = 0; i < n; i++) await this.store.append(utf8(`${label}-${this.store.size}`));
    return this;
  }

  root(size = this.size): Promise<Uint8Array> {
    return size === 0 ? Promise.resolve(EMPTY_TREE_HASH) : treeHash(size, this.store);
  }

  async checkpoint(size = this.size): Promise<string> {
    return await signCheckpoint(
      { origin: this.origin, size, root: await this.root(size) },
      this.signers,
    );
  }

  /** Consistency proof from `from` to `to` (empty when from is 0 or equal). */
  proof(from: number, to = this.size): Promise<Uint8Array[]> {
    if (from === 0 || from === to) return Promise.resolve([]);
    return proveTree(to, from, this.store);
  }

  /** A copy with the same key and the same first `size` leaves (a "copied data directory"). */
  async fork(size = this.size): Promise<TestLog> {
    const f = new TestLog(this.signers, this.origin);
    for (let i = 0; i < size; i++) await f.store.append(utf8(`leaf-${i}`));
    return f;
  }
}
