/**
 * A {@link LedgerStore} wrapper that makes commits fail on demand, before
 * or after the wrapped store wrote them (the writer cannot tell which): the
 * fault injection of the store contract suite.
 *
 * @module
 */
import type {
  CommitBatch,
  CommitBudget,
  CommitResult,
  DerivedRecord,
  IndexHit,
  IndexSelector,
  LedgerMeta,
  LedgerStore,
  StoredCheckpoint,
  StoredEntry,
  StoreLimits,
  VersionedHead,
} from "../../ledger/store.ts";

/** Delegates to `inner`; `failNext` and `failAlways` make commits throw. */
export class FaultyStore implements LedgerStore {
  readonly limits: StoreLimits;
  /** Every commit throws before writing while set. */
  failAlways = false;
  #next: "before" | "after" | null = null;

  constructor(readonly inner: LedgerStore) {
    this.limits = inner.limits;
  }

  /** The next commit throws, before or after the inner store wrote it. */
  failNext(mode: "before" | "after"): void {
    this.#next = mode;
  }

  async commit(v: string | null, batch: CommitBatch): Promise<CommitResult> {
    const mode = this.failAlways ? "before" : this.#next;
    this.#next = null;
    if (mode === "before") throw new Error("injected fault before the commit");
    const r = await this.inner.commit(v, batch);
    if (mode === "after") throw new Error("injected fault after the commit");
    return r;
  }

  commitBudget(): CommitBudget {
    return this.inner.commitBudget();
  }
  readHead(): Promise<VersionedHead> {
    return this.inner.readHead();
  }
  readMeta(): Promise<LedgerMeta | null> {
    return this.inner.readMeta();
  }
  findEnvelopes(s: Uint8Array[]): Promise<(number | null)[]> {
    return this.inner.findEnvelopes(s);
  }
  findBodies(s: Uint8Array[]): Promise<(number | null)[]> {
    return this.inner.findBodies(s);
  }
  readEntry(i: number): Promise<StoredEntry | null> {
    return this.inner.readEntry(i);
  }
  readEntries(a: number, b: number): Promise<StoredEntry[]> {
    return this.inner.readEntries(a, b);
  }
  readTile(level: number, n: number): Promise<Uint8Array | null> {
    return this.inner.readTile(level, n);
  }
  readCheckpoint(size: number): Promise<string | null> {
    return this.inner.readCheckpoint(size);
  }
  readCheckpoints(a: number, b: number): AsyncIterable<StoredCheckpoint> {
    return this.inner.readCheckpoints(a, b);
  }
  readHashes(indexes: number[]): Promise<Uint8Array[]> {
    return this.inner.readHashes(indexes);
  }
  scanIndex(sel: IndexSelector, limit: number): Promise<IndexHit[]> {
    return this.inner.scanIndex(sel, limit);
  }
  scanDerived(size: number): AsyncIterable<DerivedRecord> {
    return this.inner.scanDerived(size);
  }
  isTransient(e: unknown): boolean {
    return this.inner.isTransient(e);
  }
  close(): void {
    this.inner.close();
  }
}
