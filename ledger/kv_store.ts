/**
 * The ledger store on Deno KV (an embedded SQLite file, `:memory:`, or a
 * remote KV Connect URL).
 *
 * Key layout (one KV database per ledger):
 *
 * | key | value |
 * | --- | --- |
 * | `["meta"]` | UTF-8 JSON `{origin, verifier_key}`, written by the first commit |
 * | `["head"]` | 72 bytes: u64 size, root, last leaf hash |
 * | `["e", n]` | entry n: format, flags (ends its commit), leaf, the stored hashes its append wrote, envelope (first part) |
 * | `["c", n, j]` | chunk j ≥ 1 of entry n's envelope when it exceeds one 64 KiB value |
 * | `["s", sha256]` | u64 index of the entry holding the envelope with this SHA-256 |
 * | `["i", issuer, t, n]`, `["p", primitive, t, n]` | empty: secondary indexes; `t` is `issued_at` as a UTC key (`ledger/time_key.ts`) so text order is time order (queries by time alone merge the six primitive indexes) |
 * | `["cp", size]` | UTF-8 signed checkpoint for tree size `size` |
 *
 * Node hashes use tlog's dense numbering; the hashes written by entry n's
 * append are packed into `["e", n]`, so an append costs a constant number of
 * mutations and a proof reads at most log2(size) entries (cached, since
 * committed hashes never change).
 *
 * @module
 */
import { indexTime } from "./time_key.ts";
import { bytesEqual, concatBytes, utf8 } from "../core/bytes.ts";
import { RegledgerError } from "../core/errors.ts";
import { PRIMITIVES } from "../core/envelope_types.ts";
import { EMPTY_TREE_HASH, HASH_SIZE, splitStoredHashIndex } from "./merkle/mod.ts";
import type {
  CommitBatch,
  CommitResult,
  IndexHit,
  IndexSelector,
  LedgerMeta,
  LedgerStore,
  LogHead,
  StoredEntry,
  VersionedHead,
} from "./store.ts";

/** Largest Deno KV value, in bytes. */
export const KV_MAX_VALUE = 65536;
/** Largest total size of one Deno KV atomic commit, in bytes. */
export const KV_MAX_COMMIT_BYTES = 819200;
/** Most mutations in one Deno KV atomic commit. */
export const KV_MAX_MUTATIONS = 1000;
/** Most checks in one Deno KV atomic commit. */
export const KV_MAX_CHECKS = 100;
/**
 * Largest envelope (canonical bytes) the ledger stores. Larger envelopes are
 * refused: an entry must fit in one atomic commit (800 KiB) with room to spare.
 */
export const MAX_ENVELOPE_BYTES = 512 * 1024;

/** The stored data is not what the ledger wrote (decoding failed). */
export class LedgerCorruptionError extends RegledgerError {
  /** The entry index the bad data belongs to, when known. */
  readonly index: number | undefined;
  /** Build the error. */
  constructor(message: string, index?: number, options?: ErrorOptions) {
    super(message, options);
    this.index = index;
  }
}

const EMPTY = new Uint8Array(0);
const ZERO_HASH = new Uint8Array(HASH_SIZE);
const ENTRY_FORMAT = 1;
const FLAG_ENDS_COMMIT = 1;
const CACHE_LIMIT = 200_000;

/** Header length of an entry value (format, flags, u16 leaf length, hash count, u32 envelope length, u16 chunk count). */
function entryHeaderLength(leafLen: number, hashCount: number): number {
  return 4 + leafLen + 1 + hashCount * HASH_SIZE + 4 + 2;
}

/** Encode an entry: its `["e", n]` value and its extra chunks (canonical: one byte string per entry). */
export function encodeEntry(e: StoredEntry): { value: Uint8Array; chunks: Uint8Array[] } {
  if (e.leaf.length > 0xffff) throw new RangeError(`leaf is ${e.leaf.length} bytes (max 65535)`);
  if (e.hashes.length > 64) throw new RangeError(`entry has ${e.hashes.length} hashes (max 64)`);
  if (e.envelope.length > MAX_ENVELOPE_BYTES) {
    throw new RangeError(`envelope is ${e.envelope.length} bytes (max ${MAX_ENVELOPE_BYTES})`);
  }
  const head = entryHeaderLength(e.leaf.length, e.hashes.length);
  const firstCap = KV_MAX_VALUE - head;
  const first = e.envelope.subarray(0, Math.min(firstCap, e.envelope.length));
  const chunks: Uint8Array[] = [];
  for (let o = first.length; o < e.envelope.length; o += KV_MAX_VALUE) {
    chunks.push(e.envelope.subarray(o, Math.min(o + KV_MAX_VALUE, e.envelope.length)));
  }
  const v = new Uint8Array(head + first.length);
  const dv = new DataView(v.buffer);
  v[0] = ENTRY_FORMAT;
  v[1] = e.endsCommit ? FLAG_ENDS_COMMIT : 0;
  dv.setUint16(2, e.leaf.length);
  v.set(e.leaf, 4);
  let o = 4 + e.leaf.length;
  v[o++] = e.hashes.length;
  for (const h of e.hashes) {
    if (h.length !== HASH_SIZE) throw new RangeError("stored hash must be 32 bytes");
    v.set(h, o);
    o += HASH_SIZE;
  }
  dv.setUint32(o, e.envelope.length);
  dv.setUint16(o + 4, chunks.length);
  v.set(first, o + 6);
  return { value: v, chunks };
}

/** An `["e", n]` value, decoded. */
export interface DecodedEntryValue {
  /** The entry ended its commit. */
  endsCommit: boolean;
  /** Leaf bytes. */
  leaf: Uint8Array;
  /** Stored hashes written by the entry's append. */
  hashes: Uint8Array[];
  /** Total envelope length. */
  envelopeLength: number;
  /** Number of `["c", n, j]` chunks. */
  chunkCount: number;
  /** The envelope bytes held in the entry value itself. */
  first: Uint8Array;
}

/**
 * Decode an `["e", n]` value strictly (every byte accounted for).
 * @throws {LedgerCorruptionError} naming the index and the rule broken.
 */
export function decodeEntryValue(v: Uint8Array, index: number): DecodedEntryValue {
  const bad = (why: string) => new LedgerCorruptionError(`entry ${index}: ${why}`, index);
  if (!(v instanceof Uint8Array)) throw bad("value is not bytes");
  if (v.length < 4) throw bad("value too short");
  if (v[0] !== ENTRY_FORMAT) throw bad(`unknown entry format ${v[0]}`);
  if ((v[1] & ~FLAG_ENDS_COMMIT) !== 0) throw bad(`unknown entry flags ${v[1]}`);
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const leafLen = dv.getUint16(2);
  let o = 4 + leafLen;
  if (o + 1 > v.length) throw bad("truncated leaf");
  const leaf = v.subarray(4, o);
  const hc = v[o++];
  if (hc < 1 || hc > 64) throw bad(`bad stored hash count ${hc}`);
  if (o + hc * HASH_SIZE + 6 > v.length) throw bad("truncated stored hashes");
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < hc; i++, o += HASH_SIZE) hashes.push(v.subarray(o, o + HASH_SIZE));
  const envelopeLength = dv.getUint32(o);
  const chunkCount = dv.getUint16(o + 4);
  const first = v.subarray(o + 6);
  if (envelopeLength > MAX_ENVELOPE_BYTES) throw bad("envelope length over the limit");
  const firstCap = KV_MAX_VALUE - (o + 6);
  const expectFirst = Math.min(firstCap, envelopeLength);
  const expectChunks = Math.ceil((envelopeLength - expectFirst) / KV_MAX_VALUE);
  if (first.length !== expectFirst || chunkCount !== expectChunks) {
    throw bad("envelope length does not match the stored bytes");
  }
  return { endsCommit: v[1] === FLAG_ENDS_COMMIT, leaf, hashes, envelopeLength, chunkCount, first };
}

function encodeHead(h: LogHead): Uint8Array {
  const v = new Uint8Array(8 + 2 * HASH_SIZE);
  new DataView(v.buffer).setBigUint64(0, BigInt(h.size));
  v.set(h.root, 8);
  v.set(h.lastLeafHash, 8 + HASH_SIZE);
  return v;
}

function decodeHead(v: unknown): LogHead {
  if (!(v instanceof Uint8Array) || v.length !== 8 + 2 * HASH_SIZE) {
    throw new LedgerCorruptionError("head: value is not 72 bytes");
  }
  const size = new DataView(v.buffer, v.byteOffset).getBigUint64(0);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LedgerCorruptionError("head: size too large");
  }
  return {
    size: Number(size),
    root: v.slice(8, 8 + HASH_SIZE),
    lastLeafHash: v.slice(8 + HASH_SIZE),
  };
}

/** Encode an entry index as the 8-byte big-endian value of an `["s", sha]` key. */
export function encodeIndexValue(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad entry index ${n}`);
  const v = new Uint8Array(8);
  const dv = new DataView(v.buffer);
  dv.setUint32(0, Math.floor(n / 0x1_0000_0000));
  dv.setUint32(4, n >>> 0);
  return v;
}

function decodeIndexValue(v: unknown, what: string): number {
  if (!(v instanceof Uint8Array) || v.length !== 8) {
    throw new LedgerCorruptionError(`${what}: index value is not 8 bytes`);
  }
  const n = new DataView(v.buffer, v.byteOffset).getBigUint64(0);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new LedgerCorruptionError(`${what}: bad index`);
  return Number(n);
}

/** Encode the `["meta"]` value. */
export function encodeMeta(m: LedgerMeta): Uint8Array {
  return utf8(JSON.stringify({ origin: m.origin, verifier_key: m.verifierKey }));
}

function decodeMeta(v: unknown): LedgerMeta {
  try {
    if (!(v instanceof Uint8Array)) throw new Error("not bytes");
    const o = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(v));
    if (typeof o?.origin !== "string" || typeof o?.verifier_key !== "string") {
      throw new Error("shape");
    }
    const m = { origin: o.origin, verifierKey: o.verifier_key };
    if (!bytesEqual(encodeMeta(m), v)) throw new Error("not canonical");
    return m;
  } catch (e) {
    throw new LedgerCorruptionError("meta: value is not the ledger identity record", undefined, {
      cause: e,
    });
  }
}

/** The secondary index keys of one entry. */
export function indexKeys(
  e: { index: number; issuer: string; primitive: string; issuedAt: string },
): Deno.KvKey[] {
  const t = indexTime(e.issuedAt);
  return [
    ["i", e.issuer, t, e.index],
    ["p", e.primitive, t, e.index],
  ];
}

const TRANSIENT = /database is locked|busy/i;

/** Whether `e` is a transient SQLite contention error worth retrying. */
export function isTransientKvError(e: unknown): boolean {
  return e instanceof Error && TRANSIENT.test(e.message);
}

/** Run a read, retrying transient lock errors with a short jittered backoff. */
export async function retryTransient<T>(f: () => Promise<T>, attempts = 200): Promise<T> {
  for (let i = 0;; i++) {
    try {
      return await f();
    } catch (e) {
      if (!isTransientKvError(e) || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, Math.min(50, 1 + i) * Math.random()));
    }
  }
}

/** A {@link LedgerStore} on one Deno KV database. */
export class KvStore implements LedgerStore {
  /** The underlying KV handle (for audits and tests). */
  readonly kv: Deno.Kv;
  #cache = new Map<number, Uint8Array>();

  /** Wrap an open KV handle; the store owns it from now on. */
  constructor(kv: Deno.Kv) {
    this.kv = kv;
  }

  /**
   * Open a KV database: a file path, `:memory:`, or an `https://` KV Connect URL.
   * @throws {TypeError} when `path` is empty.
   */
  static async open(path: string): Promise<KvStore> {
    if (typeof path !== "string" || path.length === 0) {
      throw new TypeError("path must be a non-empty file path, ':memory:' or an https:// URL");
    }
    return new KvStore(await Deno.openKv(path));
  }

  async readHead(): Promise<VersionedHead> {
    const r = await retryTransient(() => this.kv.get<Uint8Array>(["head"]));
    if (r.versionstamp === null) {
      return { head: { size: 0, root: EMPTY_TREE_HASH, lastLeafHash: ZERO_HASH }, version: null };
    }
    return { head: decodeHead(r.value), version: r.versionstamp };
  }

  async readMeta(): Promise<LedgerMeta | null> {
    const r = await retryTransient(() => this.kv.get<Uint8Array>(["meta"]));
    return r.versionstamp === null ? null : decodeMeta(r.value);
  }

  async findEnvelopes(sha256s: Uint8Array[]): Promise<(number | null)[]> {
    const out: (number | null)[] = [];
    for (let i = 0; i < sha256s.length; i += 10) {
      const keys = sha256s.slice(i, i + 10).map((s) => ["s", s]);
      const rs = await retryTransient(() => this.kv.getMany<Uint8Array[]>(keys));
      for (const r of rs) {
        out.push(r.versionstamp === null ? null : decodeIndexValue(r.value, "envelope index"));
      }
    }
    return out;
  }

  async readEntry(index: number): Promise<StoredEntry | null> {
    const r = await retryTransient(() => this.kv.get<Uint8Array>(["e", index]));
    if (r.versionstamp === null) return null;
    return await this.#finish(index, r.value);
  }

  async #finish(index: number, value: Uint8Array): Promise<StoredEntry> {
    return await this.finishEntry(index, decodeEntryValue(value, index));
  }

  /** Complete a decoded entry value with its chunks (read when it has any). */
  async finishEntry(index: number, d: DecodedEntryValue): Promise<StoredEntry> {
    let envelope = d.first;
    if (d.chunkCount > 0) {
      const parts = [d.first];
      for (let j = 1; j <= d.chunkCount; j += 10) {
        const keys: Deno.KvKey[] = [];
        for (let k = j; k < j + 10 && k <= d.chunkCount; k++) keys.push(["c", index, k]);
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

  async readEntries(start: number, end: number): Promise<StoredEntry[]> {
    const out: StoredEntry[] = [];
    if (end <= start) return out;
    const it = this.kv.list<Uint8Array>({ start: ["e", start], end: ["e", end] }, {
      batchSize: 500,
    });
    let next = start;
    for await (const r of it) {
      const n = r.key[1];
      if (!Object.is(n, next)) break;
      out.push(await this.#finish(next, r.value));
      next++;
    }
    return out;
  }

  async readCheckpoint(size: number): Promise<string | null> {
    const r = await retryTransient(() => this.kv.get<Uint8Array>(["cp", size]));
    if (r.versionstamp === null) return null;
    if (!(r.value instanceof Uint8Array)) {
      throw new LedgerCorruptionError(`checkpoint ${size}: value is not bytes`);
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(r.value);
    } catch (e) {
      throw new LedgerCorruptionError(`checkpoint ${size}: not UTF-8`, undefined, { cause: e });
    }
  }

  async readHashes(indexes: number[]): Promise<Uint8Array[]> {
    const out = new Array<Uint8Array>(indexes.length);
    const want = new Map<number, { slot: number; level: number }[]>();
    indexes.forEach((idx, slot) => {
      const c = this.#cache.get(idx);
      if (c) {
        out[slot] = c;
        return;
      }
      const [level, n] = splitStoredHashIndex(idx);
      // The node (level, n) was stored by the append of the last record it covers.
      const record = (n + 1) * 2 ** level - 1;
      const list = want.get(record) ?? [];
      list.push({ slot, level });
      want.set(record, list);
    });
    const records = [...want.keys()];
    const reads: Promise<void>[] = [];
    for (let i = 0; i < records.length; i += 10) {
      const group = records.slice(i, i + 10);
      reads.push((async () => {
        const rs = await retryTransient(() =>
          this.kv.getMany<Uint8Array[]>(group.map((r) => ["e", r]))
        );
        rs.forEach((r, j) => {
          const rec = group[j];
          if (r.versionstamp === null) {
            throw new RangeError(`no stored hashes for record ${rec} (not in the log)`);
          }
          const d = decodeEntryValue(r.value, rec);
          for (const { slot, level } of want.get(rec)!) {
            const h = d.hashes[level];
            if (!h) throw new LedgerCorruptionError(`entry ${rec}: missing level ${level}`, rec);
            out[slot] = h.slice();
            this.#remember(indexes[slot], out[slot]);
          }
        });
      })());
    }
    await Promise.all(reads);
    return out;
  }

  #remember(idx: number, h: Uint8Array): void {
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(idx, h);
  }

  /** Remember hashes known to be committed at stored indexes `base, base+1, …`. */
  rememberHashes(base: number, hashes: readonly Uint8Array[]): void {
    hashes.forEach((h, i) => this.#remember(base + i, h));
  }

  async commit(expectedVersion: string | null, batch: CommitBatch): Promise<CommitResult> {
    let op = this.kv.atomic().check({ key: ["head"], versionstamp: expectedVersion });
    if (expectedVersion === null) {
      op = op.check({ key: ["meta"], versionstamp: null }).set(["meta"], encodeMeta(batch.meta));
    }
    for (const e of batch.entries) {
      const { value, chunks } = encodeEntry(e);
      op = op.check({ key: ["s", e.envelopeSha256], versionstamp: null })
        .set(["e", e.index], value)
        .set(["s", e.envelopeSha256], encodeIndexValue(e.index));
      chunks.forEach((c, j) => {
        op = op.set(["c", e.index, j + 1], c);
      });
      for (const k of indexKeys(e)) op = op.set(k, EMPTY);
    }
    op = op.set(["head"], encodeHead(batch.head)).set(
      ["cp", batch.head.size],
      utf8(batch.checkpoint),
    );
    const r = await op.commit();
    return r.ok ? { ok: true, version: r.versionstamp } : { ok: false };
  }

  async scanIndex(sel: IndexSelector, limit: number): Promise<IndexHit[]> {
    const hits: IndexHit[] = [];
    if (sel.issuer === undefined && sel.primitive === undefined) {
      // No time-only index (one row less per entry): merge the six primitive indexes.
      const its = PRIMITIVES.map((p) => this.#scan(["p", p], sel, limit)[Symbol.asyncIterator]());
      const heads = await Promise.all(its.map((it) => it.next()));
      while (hits.length < limit) {
        let best = -1;
        for (let k = 0; k < heads.length; k++) {
          const h = heads[k];
          if (h.done) continue;
          if (best < 0 || compareHits(h.value, heads[best].value as IndexHit) < 0) best = k;
        }
        if (best < 0) break;
        hits.push(heads[best].value as IndexHit);
        heads[best] = await its[best].next();
      }
      await Promise.all(its.map((it) => it.return(undefined)));
      return hits;
    }
    const prefix: Deno.KvKey = sel.issuer !== undefined
      ? ["i", sel.issuer]
      : ["p", sel.primitive as string];
    const filterPrimitive = sel.issuer !== undefined && sel.primitive !== undefined;
    for await (const h of this.#scan(prefix, sel, limit)) {
      if (filterPrimitive) {
        const e = await this.readEntry(h.index);
        if (!e) throw new LedgerCorruptionError(`index names missing entry ${h.index}`, h.index);
        const leaf = JSON.parse(new TextDecoder().decode(e.leaf)) as { primitive?: unknown };
        if (leaf.primitive !== sel.primitive) continue;
      }
      hits.push(h);
      if (hits.length >= limit) break;
    }
    return hits;
  }

  /** Hits of one `[kind, value, t, n]` index (t: UTC time key) in key order, within the selector's bounds. */
  async *#scan(prefix: Deno.KvKey, sel: IndexSelector, limit: number): AsyncGenerator<IndexHit> {
    let start: Deno.KvKey | undefined = sel.from !== undefined ? [...prefix, sel.from] : undefined;
    if (sel.after) {
      const a: Deno.KvKey = [...prefix, sel.after.issuedAt, sel.after.index + 1];
      if (sel.from === undefined || compareText(sel.after.issuedAt, sel.from) >= 0) start = a;
    }
    const end: Deno.KvKey = sel.to !== undefined ? [...prefix, sel.to] : [...prefix, MAX_KEY_PART];
    const it = this.kv.list<Uint8Array>(
      start === undefined ? { prefix, end } : { start, end },
      { batchSize: Math.min(500, limit + 1) },
    );
    const base = prefix.length;
    for await (const r of it) {
      const issuedAt = r.key[base];
      const index = r.key[base + 1];
      if (typeof issuedAt !== "string" || typeof index !== "number") {
        throw new LedgerCorruptionError(`index key ${JSON.stringify(r.key.map(String))} malformed`);
      }
      yield { index, issuedAt };
    }
  }

  close(): void {
    this.kv.close();
  }
}

// `true` sorts after every string and number in Deno KV key order.
const MAX_KEY_PART = true;

/** Compare strings by code point (Deno KV orders string key parts by their UTF-8 bytes). */
function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function compareHits(a: IndexHit, b: IndexHit): number {
  return compareText(a.issuedAt, b.issuedAt) || a.index - b.index;
}
