/**
 * A {@link LedgerStore} in memory: for tests, examples and library users
 * who want a ledger without Deno KV. Nothing survives the process; several
 * handles ({@link MemoryStore.handle}) share one log, as several processes
 * share one database.
 *
 * @module
 */
import { fromBase64, toBase64 } from "../core/bytes.ts";
import { LedgerStateError } from "./errors.ts";
import { ZERO_PREV } from "./leaf.ts";
import { EMPTY_TREE_HASH } from "./merkle/mod.ts";
import { recordStoringHash } from "./stored_hash_cache.ts";
import type {
  CommitBatch,
  CommitBudget,
  CommitResult,
  DerivedRecord,
  IndexHit,
  IndexSelector,
  LedgerMeta,
  LedgerStore,
  LogHead,
  StoredCheckpoint,
  StoredEntry,
  StoreLimits,
  VersionedHead,
} from "./store.ts";
import { compareIndexTime, indexTime } from "./time_key.ts";

interface IndexRow {
  issuer: string;
  primitive: string;
  time: string;
  index: number;
}

/** The log that handles share. */
class MemoryLog {
  head: { head: LogHead; version: string } | null = null;
  meta: LedgerMeta | null = null;
  entries: StoredEntry[] = [];
  envelopes = new Map<string, number>();
  bodies = new Map<string, number>();
  checkpoints = new Map<number, string>();
  tiles = new Map<string, Uint8Array>();
  rows: IndexRow[] = [];
  versions = 0;
}

/**
 * Options of {@link MemoryStore}.
 *
 * @example A store that keeps envelopes of at most 64 KiB
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStore, type MemoryStoreOptions } from "./memory_store.ts";
 * const options: MemoryStoreOptions = { maxEnvelopeBytes: 65536 };
 * const store = new MemoryStore(options);
 * assert.equal(store.limits.maxEnvelopeBytes, 65536);
 * assert.equal(store.limits.maxBatchEntries, 1000);
 * store.close();
 * ```
 */
export interface MemoryStoreOptions {
  /**
   * Largest envelope (canonical bytes) the store keeps.
   * @default {524288}
   */
  maxEnvelopeBytes?: number;
  /**
   * Most entries one commit may hold.
   * @default {1000}
   */
  maxBatchEntries?: number;
}

/**
 * A ledger store in memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStore } from "./memory_store.ts";
 * const store = new MemoryStore();
 * assert.equal((await store.readHead()).head.size, 0);
 * store.close();
 * ```
 */
export class MemoryStore implements LedgerStore {
  /** The store's limits. */
  readonly limits: StoreLimits;
  #log: MemoryLog;
  #closed = false;

  /** A new, empty log. */
  constructor(options: MemoryStoreOptions = {}) {
    this.limits = {
      maxEnvelopeBytes: options.maxEnvelopeBytes ?? 512 * 1024,
      maxBatchEntries: options.maxBatchEntries ?? 1000,
    };
    for (const [k, v] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new RangeError(`${k} must be a positive integer, got ${v}`);
      }
    }
    this.#log = new MemoryLog();
  }

  /** Another handle on the same log (as a second process would open the same database). */
  handle(): MemoryStore {
    const h = new MemoryStore(this.limits);
    h.#log = this.#log;
    return h;
  }

  #open(): MemoryLog {
    if (this.#closed) throw new LedgerStateError("store is closed");
    return this.#log;
  }

  commitBudget(): CommitBudget {
    let entries = 0;
    const max = this.limits.maxBatchEntries;
    return { add: () => entries < max && ++entries > 0 };
  }

  readHead(): Promise<VersionedHead> {
    const log = this.#open();
    return Promise.resolve(
      log.head === null
        ? { head: { size: 0, root: EMPTY_TREE_HASH, lastLeafHash: ZERO_PREV }, version: null }
        : { head: log.head.head, version: log.head.version },
    );
  }

  readMeta(): Promise<LedgerMeta | null> {
    const m = this.#open().meta;
    return Promise.resolve(m === null ? null : { ...m });
  }

  findEnvelopes(sha256s: Uint8Array[]): Promise<(number | null)[]> {
    const log = this.#open();
    return Promise.resolve(sha256s.map((s) => log.envelopes.get(toBase64(s)) ?? null));
  }

  findBodies(sha256s: Uint8Array[]): Promise<(number | null)[]> {
    const log = this.#open();
    return Promise.resolve(sha256s.map((s) => log.bodies.get(toBase64(s)) ?? null));
  }

  readEntry(index: number): Promise<StoredEntry | null> {
    return Promise.resolve(this.#open().entries[index] ?? null);
  }

  readEntries(start: number, end: number): Promise<StoredEntry[]> {
    const log = this.#open();
    const out: StoredEntry[] = [];
    for (let i = start; i < end && log.entries[i] !== undefined; i++) out.push(log.entries[i]);
    return Promise.resolve(out);
  }

  readCheckpoint(size: number): Promise<string | null> {
    return Promise.resolve(this.#open().checkpoints.get(size) ?? null);
  }

  async *readCheckpoints(start: number, end: number): AsyncGenerator<StoredCheckpoint> {
    const sizes = [...this.#open().checkpoints.keys()].filter((s) => s >= start && s < end);
    for (const size of sizes.sort((a, b) => a - b)) {
      const text = this.#open().checkpoints.get(size);
      if (text !== undefined) yield { size, text };
    }
  }

  // deno-lint-ignore require-await
  async readHashes(indexes: number[]): Promise<Uint8Array[]> {
    // async: an index past the log is a rejected promise, as from every store, not a throw.
    const log = this.#open();
    return indexes.map((idx) => {
      const { record, level } = recordStoringHash(idx);
      const h = log.entries[record]?.hashes[level];
      if (h === undefined) throw new RangeError(`no stored hash at index ${idx} (not in the log)`);
      return h;
    });
  }

  readTile(level: number, n: number): Promise<Uint8Array | null> {
    const t = this.#open().tiles.get(`${level}/${n}`);
    return Promise.resolve(t ? t.slice() : null);
  }

  async commit(expectedVersion: string | null, batch: CommitBatch): Promise<CommitResult> {
    await Promise.resolve(); // as any store: other writers may run before the commit lands
    const log = this.#open();
    if ((log.head?.version ?? null) !== expectedVersion) return { ok: false };
    if (expectedVersion === null && log.meta !== null) return { ok: false };
    if (
      batch.entries.some((e) =>
        log.envelopes.has(toBase64(e.envelopeSha256)) || log.bodies.has(toBase64(e.bodySha256))
      )
    ) {
      return { ok: false };
    }
    // Checked: now apply it all at once (nothing awaits in between).
    if (expectedVersion === null) log.meta = { ...batch.meta };
    for (const e of batch.entries) {
      log.entries[e.index] = {
        index: e.index,
        leaf: e.leaf.slice(),
        hashes: e.hashes.map((h) => h.slice()),
        endsCommit: e.endsCommit,
        envelope: e.envelope.slice(),
      };
      log.envelopes.set(toBase64(e.envelopeSha256), e.index);
      log.bodies.set(toBase64(e.bodySha256), e.index);
      log.rows.push({
        issuer: e.issuer,
        primitive: e.primitive,
        time: indexTime(e.issuedAt),
        index: e.index,
      });
    }
    const version = String(++log.versions).padStart(20, "0");
    log.head = {
      head: {
        size: batch.head.size,
        root: batch.head.root.slice(),
        lastLeafHash: batch.head.lastLeafHash.slice(),
      },
      version,
    };
    log.checkpoints.set(batch.head.size, batch.checkpoint);
    for (const t of batch.tiles ?? []) log.tiles.set(`${t.level}/${t.n}`, t.data.slice());
    return { ok: true, version };
  }

  scanIndex(sel: IndexSelector, limit: number): Promise<IndexHit[]> {
    const rows = this.#open().rows.filter((r) =>
      (sel.issuer === undefined || r.issuer === sel.issuer) &&
      (sel.primitive === undefined || r.primitive === sel.primitive) &&
      (sel.from === undefined || compareIndexTime(r.time, sel.from) >= 0) &&
      (sel.to === undefined || compareIndexTime(r.time, sel.to) < 0) &&
      (sel.after === undefined || compareIndexTime(r.time, sel.after.issuedAt) > 0 ||
        (r.time === sel.after.issuedAt && r.index > sel.after.index))
    );
    rows.sort((a, b) => compareIndexTime(a.time, b.time) || a.index - b.index);
    return Promise.resolve(rows.slice(0, limit).map((r) => ({ index: r.index, issuedAt: r.time })));
  }

  async *scanDerived(size: number): AsyncGenerator<DerivedRecord> {
    const log = this.#open();
    for (const [sha, index] of [...log.envelopes]) {
      if (index < size) {
        yield {
          kind: "envelope",
          sha256: Uint8Array.from(atob(sha), (c) => c.charCodeAt(0)),
          index,
        };
      }
    }
    for (const [sha, index] of [...log.bodies]) {
      if (index < size) yield { kind: "body", sha256: fromBase64(sha), index };
    }
    for (const r of [...log.rows]) {
      if (r.index >= size) continue;
      yield { kind: "issuer", issuer: r.issuer, time: r.time, index: r.index };
      yield { kind: "primitive", primitive: r.primitive, time: r.time, index: r.index };
    }
  }

  isTransient(): boolean {
    return false;
  }

  close(): void {
    this.#closed = true;
  }
}
