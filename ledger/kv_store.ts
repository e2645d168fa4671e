/**
 * The ledger store on Deno KV (an embedded SQLite file, `:memory:`, or a
 * remote KV Connect URL). The key layout is in `ledger/kv_layout.ts`, the
 * value encodings in `ledger/kv_codec.ts`; this file owns Deno KV's commit
 * budget (64 KiB values, 1,000 mutations, 800 KiB and 100 checks per
 * atomic commit) so the ledger above it never counts KV mutations.
 *
 * Committed stored hashes never change, so `readHashes` caches them
 * (`ledger/stored_hash_cache.ts`, shared with the PostgreSQL store).
 *
 * @module
 */
import { concatBytes, utf8 } from "../core/bytes.ts";
import {
  isStorageFull,
  LedgerCorruptionError,
  LedgerStateError,
  LedgerStorageFullError,
} from "./errors.ts";
import {
  type DecodedEntryValue,
  decodeEntryValue,
  decodeHead,
  decodeIndexValue,
  decodeMeta,
  encodeHead,
  encodeIndexValue,
  encodeMeta,
  KV_MAX_CHECKS,
  KV_MAX_COMMIT_BYTES,
  KV_MAX_MUTATIONS,
  KV_MAX_VALUE,
  MAX_ENVELOPE_BYTES,
} from "./kv_codec.ts";
import {
  BODY_MARK_KEY,
  bodyKey,
  checkpointKey,
  chunkKey,
  entryKey,
  entryRecords,
  envelopeKey,
  HEAD_KEY,
  IP_MARK_KEY,
  KIND,
  META_KEY,
  TILE_MARK_KEY,
  tileKey,
} from "./kv_layout.ts";
import { ZERO_PREV } from "./leaf.ts";
import { EMPTY_TREE_HASH } from "./merkle/mod.ts";
import type {
  CommitBatch,
  CommitBudget,
  CommitResult,
  DerivedRecord,
  EntrySize,
  IndexHit,
  IndexSelector,
  LedgerMeta,
  LedgerStore,
  StoredCheckpoint,
  StoredEntry,
  StoreLimits,
  VersionedHead,
} from "./store.ts";
import { scanKvDerived } from "./kv_audit.ts";
import { indexIssuerPrimitive, indexSignedBodies, storeTilesOnce } from "./kv_migrate.ts";
import { scanKvIndex } from "./kv_scan.ts";
import { StoredHashCache } from "./stored_hash_cache.ts";
import { isTransientKvError, retryTransient } from "./kv_retry.ts";

const EMPTY = new Uint8Array(0);
/** Most hash tiles one commit writes (two per level, five levels). */
const TILE_RESERVE = 10;
const utf8Fatal = new TextDecoder("utf-8", { fatal: true });

/** A {@link LedgerStore} on one Deno KV database. */
export class KvStore implements LedgerStore {
  /** The underlying KV handle (Deno KV specific tools and tests only). */
  readonly kv: Deno.Kv;
  /** Deno KV's limits: 512 KiB envelopes, one check per entry plus the head's and the identity's. */
  readonly limits: StoreLimits = {
    maxEnvelopeBytes: MAX_ENVELOPE_BYTES,
    maxBatchEntries: KV_MAX_CHECKS - 2,
  };
  #hashes = new StoredHashCache();
  #ipBuilt = false;

  /** Wrap an open KV handle; the store owns it from now on. */
  constructor(kv: Deno.Kv) {
    this.kv = kv;
  }

  /**
   * Open a KV database: a file path, `:memory:`, or an `https://` KV Connect URL.
   * Unless `options.migrate` is false, a log written before the signed-body
   * index existed gets it built now, and one written before hash tiles were
   * stored gets them stored (`kv_migrate.ts`; not when `options.tiles` is
   * false), and one written before the issuer+primitive index gets it built;
   * audits and read-only opens pass `migrate: false`, so that they
   * never write and a lost index or tile mark is reported rather than rebuilt.
   * @throws {TypeError} when `path` is empty.
   * @throws {LedgerStateError} when Deno KV is not enabled (no `--unstable-kv`).
   * @throws {LedgerCorruptionError} when the file is not a Deno KV (SQLite) database.
   */
  static async open(
    path: string,
    options: { migrate?: boolean; tiles?: boolean } = {},
  ): Promise<KvStore> {
    if (typeof path !== "string" || path.length === 0) {
      throw new TypeError("path must be a non-empty file path, ':memory:' or an https:// URL");
    }
    if (typeof (Deno as { openKv?: unknown }).openKv !== "function") {
      throw new LedgerStateError(
        "Deno KV is not enabled: run deno with --unstable-kv, or add " +
          '"unstable": ["kv"] to deno.json',
      );
    }
    let kv: Deno.Kv;
    try {
      kv = await Deno.openKv(path);
    } catch (e) {
      const msg = (e as Error).message;
      // SQLite's words for a file that is not (or no longer) a database.
      if (/not a database|malformed|corrupt/i.test(msg)) {
        throw new LedgerCorruptionError(`${path} is not a Deno KV database (${msg})`, undefined, {
          cause: e,
        });
      }
      throw new LedgerStateError(`cannot open the Deno KV database ${path}: ${msg}`, { cause: e });
    }
    const store = new KvStore(kv);
    if (options.migrate === false) return store;
    try {
      await indexSignedBodies(store);
      if (options.tiles !== false) await storeTilesOnce(store);
      await indexIssuerPrimitive(store);
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  /**
   * A commit's budget on Deno KV: at most {@link StoreLimits.maxBatchEntries}
   * entries, 1,000 mutations and 800 KiB, counted conservatively per entry
   * (the envelope in 64 KiB values, the leaf and index keys that repeat its
   * fields, up to 64 stored hashes, key and encoding overhead).
   */
  commitBudget(): CommitBudget {
    let entries = 0;
    // Reserved for the hash tiles a commit writes: a batch of fewer than 256
    // entries completes at most one tile and grows at most one partial tile
    // per level, and a log below 2^40 entries has at most 5 levels.
    let bytes = 4096 + TILE_RESERVE * (256 * 32 + 64);
    let mutations = 3 + TILE_RESERVE;
    const max = this.limits.maxBatchEntries;
    return {
      add(e: EntrySize): boolean {
        const b = e.envelopeBytes + 4 * e.fieldBytes + 64 * 32 + 1024;
        const m = 6 + Math.ceil(e.envelopeBytes / KV_MAX_VALUE);
        if (
          entries > 0 &&
          (entries >= max || bytes + b > KV_MAX_COMMIT_BYTES || mutations + m > KV_MAX_MUTATIONS)
        ) {
          return false;
        }
        entries++;
        bytes += b;
        mutations += m;
        return true;
      },
    };
  }

  async readHead(): Promise<VersionedHead> {
    const r = await retryTransient(() => this.kv.get<Uint8Array>(HEAD_KEY));
    if (r.versionstamp === null) {
      return { head: { size: 0, root: EMPTY_TREE_HASH, lastLeafHash: ZERO_PREV }, version: null };
    }
    return { head: decodeHead(r.value), version: r.versionstamp };
  }

  async readMeta(): Promise<LedgerMeta | null> {
    const r = await retryTransient(() => this.kv.get<Uint8Array>(META_KEY));
    return r.versionstamp === null ? null : decodeMeta(r.value);
  }

  async findEnvelopes(sha256s: Uint8Array[]): Promise<(number | null)[]> {
    const out: (number | null)[] = [];
    for (let i = 0; i < sha256s.length; i += 10) {
      const keys = sha256s.slice(i, i + 10).map(envelopeKey);
      const rs = await retryTransient(() => this.kv.getMany<Uint8Array[]>(keys));
      for (const r of rs) {
        out.push(r.versionstamp === null ? null : decodeIndexValue(r.value, "envelope index"));
      }
    }
    return out;
  }

  async findBodies(sha256s: Uint8Array[]): Promise<(number | null)[]> {
    const out: (number | null)[] = [];
    for (let i = 0; i < sha256s.length; i += 10) {
      const keys = sha256s.slice(i, i + 10).map(bodyKey);
      const rs = await retryTransient(() => this.kv.getMany<Uint8Array[]>(keys));
      for (const r of rs) {
        out.push(r.versionstamp === null ? null : decodeIndexValue(r.value, "signed-body index"));
      }
    }
    return out;
  }

  async readEntry(index: number): Promise<StoredEntry | null> {
    const r = await retryTransient(() => this.kv.get<Uint8Array>(entryKey(index)));
    if (r.versionstamp === null) return null;
    return await this.#finish(index, decodeEntryValue(r.value, index));
  }

  /** Complete a decoded entry value with its chunks (read when it has any). */
  async #finish(index: number, d: DecodedEntryValue): Promise<StoredEntry> {
    let envelope = d.first;
    if (d.chunkCount > 0) {
      const parts = [d.first];
      for (let j = 1; j <= d.chunkCount; j += 10) {
        const keys: Deno.KvKey[] = [];
        for (let k = j; k < j + 10 && k <= d.chunkCount; k++) keys.push(chunkKey(index, k));
        const rs = await retryTransient(() => this.kv.getMany<Uint8Array[]>(keys));
        for (const r of rs) {
          if (r.versionstamp === null || !(r.value instanceof Uint8Array)) {
            throw new LedgerCorruptionError(`entry ${index}: envelope chunk missing`, index);
          }
          parts.push(r.value);
        }
      }
      envelope = concatBytes(...parts);
      if (envelope.length !== d.envelopeLength) {
        throw new LedgerCorruptionError(
          `entry ${index}: envelope chunks have the wrong size`,
          index,
        );
      }
    }
    return { index, leaf: d.leaf, hashes: d.hashes, endsCommit: d.endsCommit, envelope };
  }

  /**
   * Entries in [start, end). A key in the range that is not the next
   * entry's (a fraction, a string, extra parts) is corruption naming the
   * entry expected there; from 0 the scan starts at the `"e"` prefix itself,
   * so stray keys sorting before entry 0 are seen too.
   */
  async readEntries(start: number, end: number): Promise<StoredEntry[]> {
    const out: StoredEntry[] = [];
    if (end <= start) return out;
    const it = this.kv.list<Uint8Array>({
      start: start === 0 ? [KIND.entry] : entryKey(start),
      end: entryKey(end),
    }, { batchSize: Math.min(1000, end - start) });
    let next = start;
    for await (const r of it) {
      const n = r.key[1];
      if (r.key.length !== 2 || !Object.is(n, next)) {
        if (r.key.length === 2 && Number.isSafeInteger(n) && (n as number) > next) break;
        throw new LedgerCorruptionError(`entry key ${String(n)} is malformed`, next);
      }
      const d = decodeEntryValue(r.value, next);
      out.push(
        d.chunkCount === 0
          ? {
            index: next,
            leaf: d.leaf,
            hashes: d.hashes,
            endsCommit: d.endsCommit,
            envelope: d.first,
          }
          : await this.#finish(next, d),
      );
      next++;
    }
    return out;
  }

  async readTile(level: number, n: number): Promise<Uint8Array | null> {
    const r = await retryTransient(() => this.kv.get<Uint8Array>(tileKey(level, n)));
    return r.value instanceof Uint8Array ? r.value : null;
  }

  async readCheckpoint(size: number): Promise<string | null> {
    const r = await retryTransient(() => this.kv.get<Uint8Array>(checkpointKey(size)));
    if (r.versionstamp === null) return null;
    return decodeCheckpoint(size, r.value);
  }

  async *readCheckpoints(start: number, end: number): AsyncGenerator<StoredCheckpoint> {
    if (end <= start) return;
    // From 1, the scan starts at the prefix itself, so malformed keys sorting first are seen.
    const it = this.kv.list<Uint8Array>({
      start: start <= 1 ? [KIND.checkpoint] : checkpointKey(start),
      end: checkpointKey(end),
    }, { batchSize: 500 });
    for await (const r of it) {
      const s = r.key[1];
      if (r.key.length !== 2 || typeof s !== "number" || !Number.isSafeInteger(s) || s < 1) {
        throw new LedgerCorruptionError(`checkpoint key ${String(s)} is not a tree size`);
      }
      if (s < start) continue;
      if (s >= end) return;
      yield { size: s, text: decodeCheckpoint(s, r.value) };
    }
  }

  async readHashes(indexes: number[]): Promise<Uint8Array[]> {
    const plan = this.#hashes.plan(indexes);
    const reads: Promise<void>[] = [];
    for (let i = 0; i < plan.records.length; i += 10) {
      const group = plan.records.slice(i, i + 10);
      reads.push((async () => {
        const rs = await retryTransient(() => this.kv.getMany<Uint8Array[]>(group.map(entryKey)));
        rs.forEach((r, j) => {
          const rec = group[j];
          plan.fill(rec, r.versionstamp === null ? null : decodeEntryValue(r.value, rec).hashes);
        });
      })());
    }
    await Promise.all(reads);
    return plan.out;
  }

  /** Remember hashes known to be committed at stored indexes `base, base+1, …`. */
  rememberHashes(base: number, hashes: readonly Uint8Array[]): void {
    this.#hashes.rememberHashes(base, hashes);
  }

  async commit(expectedVersion: string | null, batch: CommitBatch): Promise<CommitResult> {
    let op = this.kv.atomic().check({ key: HEAD_KEY, versionstamp: expectedVersion });
    if (expectedVersion === null) {
      op = op.check({ key: META_KEY, versionstamp: null }).set(META_KEY, encodeMeta(batch.meta))
        .set(BODY_MARK_KEY, EMPTY).set(IP_MARK_KEY, EMPTY);
    }
    for (const e of batch.entries) {
      // One check per entry (KV allows 100 per commit): the signed-body key.
      // A whole envelope already logged has its body indexed too.
      op = op.check({ key: bodyKey(e.bodySha256), versionstamp: null })
        .set(bodyKey(e.bodySha256), encodeIndexValue(e.index));
      for (const [k, v] of entryRecords(e)) op = op.set(k, v);
    }
    op = op.set(HEAD_KEY, encodeHead(batch.head)).set(
      checkpointKey(batch.head.size),
      utf8(batch.checkpoint),
    );
    for (const t of batch.tiles ?? []) op = op.set(tileKey(t.level, t.n), t.data);
    // A fresh store whose first commit stores tiles keeps them all from now on.
    if (expectedVersion === null && batch.tiles) op = op.set(TILE_MARK_KEY, EMPTY);
    let r;
    try {
      r = await op.commit();
    } catch (e) {
      if (isStorageFull(e)) {
        throw new LedgerStorageFullError("the disk holding ledger.kv is full", { cause: e });
      }
      throw e;
    }
    if (!r.ok) return { ok: false };
    for (const e of batch.entries) this.#hashes.rememberRecord(e.index, e.hashes);
    return { ok: true, version: r.versionstamp };
  }

  isTransient(error: unknown): boolean {
    return isTransientKvError(error);
  }

  scanDerived(size: number): AsyncIterable<DerivedRecord> {
    return scanKvDerived(this.kv, size);
  }

  async scanIndex(sel: IndexSelector, limit: number): Promise<IndexHit[]> {
    // The mark, once stored, stays: read it until it is seen.
    if (!this.#ipBuilt && sel.issuer !== undefined && sel.primitive !== undefined) {
      const m = await retryTransient(() => this.kv.get(IP_MARK_KEY));
      this.#ipBuilt = m.versionstamp !== null;
    }
    return await scanKvIndex(this.kv, sel, limit, this.#ipBuilt, (n) => this.readEntry(n));
  }

  close(): void {
    this.kv.close();
  }
}

function decodeCheckpoint(size: number, v: unknown): string {
  if (!(v instanceof Uint8Array)) {
    throw new LedgerCorruptionError(`checkpoint ${size}: value is not bytes`, size - 1);
  }
  try {
    return utf8Fatal.decode(v);
  } catch (e) {
    throw new LedgerCorruptionError(`checkpoint ${size}: not UTF-8`, size - 1, { cause: e });
  }
}
