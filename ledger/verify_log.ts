/**
 * Full audit of a ledger stored on Deno KV: read everything back and
 * recompute it, naming the first bad entry.
 *
 * For every entry, in order: the value decodes strictly; the leaf is a
 * canonical leaf whose `index` is the entry's; its `prev` is the previous
 * leaf's hash (the chain); its `envelope_sha256` is the SHA-256 of the stored
 * envelope bytes; the stored hashes the entry's append wrote equal the ones
 * recomputed from the leaf hashes (an independent compact-range
 * recomputation, not the store's reader). At every size where a commit
 * ended, the stored checkpoint must exist, verify under the log's key and
 * name the recomputed root. At the end, the head must name the last entry,
 * the root and the size, the set of checkpoint keys must be exactly the
 * commit ends, and the envelope-hash and secondary indexes must be exactly
 * the keys and values the entries imply (checked with an order-independent
 * 128-bit digest over key/value pairs; on mismatch every entry's index keys
 * are looked up one by one to name the first bad entry).
 *
 * The audit covers the log as of the head read when it starts; entries,
 * checkpoints and index keys appended meanwhile are left for the next audit,
 * so a live ledger can be audited while it takes appends.
 *
 * @module
 */
import { bytesEqual, sha256, toBase64 } from "../core/bytes.ts";
import { openCheckpoint } from "./checkpoint.ts";
import { decodeLeaf, LEAF_VERSION, type LeafFields } from "./leaf.ts";
import { EMPTY_TREE_HASH, leafHash, nodeHash } from "./merkle/mod.ts";
import { parseVerifierKey } from "./note.ts";
import { decodeEntryValue, encodeIndexValue, indexKeys, type KvStore } from "./kv_store.ts";

/** Progress of a running audit. */
export interface VerifyProgress {
  /** Entries checked so far. */
  checked: number;
  /** Entries the head names. */
  total: number;
}

/** Options of {@link verifyLog}. */
export interface VerifyLogOptions {
  /** The log's verifier key (Go note format): every checkpoint must verify under it. */
  verifierKey: string;
  /** The log's origin. */
  origin: string;
  /** Called every `progressEvery` entries and at the end. */
  onProgress?: (p: VerifyProgress) => void;
  /**
   * Entries between progress calls.
   * @default {10000}
   */
  progressEvery?: number;
}

/** Result of {@link verifyLog}. */
export interface VerifyLogResult {
  /** Whether everything recomputed. */
  ok: boolean;
  /** Entries in the log (per the head; for a bad log, what was read). */
  size: number;
  /** The first entry found bad (absent when the fault is not tied to an entry, e.g. the head). */
  first_bad_index?: number;
  /** What failed, naming the rule. */
  reason?: string;
}

class Bad extends Error {
  constructor(readonly index: number | undefined, reason: string) {
    super(reason);
  }
}

/** Order-independent 128-bit digest of a set of key/value pairs (not cryptographic). */
class SetDigest {
  lanes = new Uint32Array(4);
  count = 0;
  #h0 = 0;
  #h1 = 0;
  #h2 = 0;
  #h3 = 0;
  #mix(x: number): void {
    this.#h0 = Math.imul(this.#h0 ^ x, 0x01000193);
    this.#h1 = Math.imul(this.#h1 ^ x, 0x5bd1e995);
    this.#h2 = Math.imul((this.#h2 ^ x) + 0x27d4eb2d, 0x165667b1);
    this.#h3 = Math.imul(this.#h3 ^ (x + (this.#h3 >>> 15)), 0x85ebca77);
  }
  // Lengths are mixed first, so packing several units per word stays unambiguous.
  #mixBytes(b: Uint8Array): void {
    this.#mix(b.length);
    let i = 0;
    for (; i + 4 <= b.length; i += 4) {
      this.#mix((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
    }
    for (; i < b.length; i++) this.#mix(b[i]);
  }
  #mixText(s: string): void {
    this.#mix(s.length);
    let i = 0;
    for (; i + 2 <= s.length; i += 2) this.#mix((s.charCodeAt(i) << 16) | s.charCodeAt(i + 1));
    if (i < s.length) this.#mix(s.charCodeAt(i));
  }
  add(parts: readonly Deno.KvKeyPart[], value: Uint8Array): void {
    this.#h0 = 0x811c9dc5;
    this.#h1 = 0x01000193 ^ 0x9e3779b9;
    this.#h2 = 0x85ebca6b;
    this.#h3 = 0xc2b2ae35;
    for (const p of parts) {
      if (typeof p === "string") {
        this.#mix(1);
        this.#mixText(p);
      } else if (typeof p === "number") {
        this.#mix(2);
        this.#mixText(Object.is(p, -0) ? "-0" : String(p));
      } else if (p instanceof Uint8Array) {
        this.#mix(3);
        this.#mixBytes(p);
      } else {
        this.#mix(4);
        this.#mixText(String(p) + typeof p);
      }
    }
    this.#mix(5);
    this.#mixBytes(value);
    const h = [this.#h0, this.#h1, this.#h2, this.#h3];
    for (let i = 0; i < 4; i++) {
      let x = h[i];
      x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
      x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
      this.lanes[i] = (this.lanes[i] + ((x ^ (x >>> 16)) >>> 0)) >>> 0;
    }
    this.count++;
  }
  equals(o: SetDigest): boolean {
    return this.count === o.count && this.lanes.every((v, i) => v === o.lanes[i]);
  }
}

const EMPTY = new Uint8Array(0);
const INDEX_PREFIXES = ["s", "i", "p"] as const;

/** The derived index pairs of one entry. */
function derivedPairs(
  n: number,
  envelopeSha256: Uint8Array,
  leaf: { issuer: string; primitive: string; issued_at: string },
): [Deno.KvKey, Uint8Array][] {
  const keys = indexKeys({
    index: n,
    issuer: leaf.issuer,
    primitive: leaf.primitive,
    issuedAt: leaf.issued_at,
  });
  return [
    [["s", envelopeSha256], encodeIndexValue(n)],
    ...keys.map((k) => [k, EMPTY] as [Deno.KvKey, Uint8Array]),
  ];
}

/**
 * Audit the ledger in `store`: recompute chain, leaf and envelope hashes,
 * stored node hashes, every stored checkpoint (signature and root), the
 * head and the indexes. Never throws for bad data: the result names the
 * first bad index and the reason.
 */
export async function verifyLog(store: KvStore, opts: VerifyLogOptions): Promise<VerifyLogResult> {
  const kv = store.kv;
  let size = 0;
  let derived: Promise<unknown> | undefined;
  try {
    return await audit();
  } finally {
    // A fault found among the entries returns before the index scan is done: let it finish.
    await derived?.catch(() => {});
  }

  async function audit(): Promise<VerifyLogResult> {
    try {
      const verifier = parseVerifierKey(opts.verifierKey);
      const meta = await store.readMeta().catch((e) => {
        throw new Bad(undefined, `meta: ${(e as Error).message}`);
      });
      const vh = await store.readHead().catch((e) => {
        throw new Bad(undefined, `head: ${(e as Error).message}`);
      });
      size = vh.head.size;
      if (vh.version === null) {
        if (meta !== null) throw new Bad(undefined, "meta: present but the head is missing");
      } else if (meta === null) {
        throw new Bad(undefined, "meta: the ledger identity record is missing");
      } else if (meta.origin !== opts.origin || meta.verifierKey !== opts.verifierKey) {
        throw new Bad(undefined, "meta: the stored origin or verifier key is not this log's");
      }

      // Checkpoints, streamed in size order beside the entries (one per commit:
      // not held in memory). Keys must be integer sizes >= 1; sizes beyond the
      // head were appended after it was read and are left for the next audit.
      const cpIt = kv.list<Uint8Array>({ prefix: ["cp"] }, { batchSize: 500 })[
        Symbol.asyncIterator
      ]();
      const nextCheckpoint = async (): Promise<{ size: number; value: Uint8Array } | null> => {
        const r = await cpIt.next();
        if (r.done) return null;
        const s = r.value.key[1];
        if (
          r.value.key.length !== 2 || typeof s !== "number" || !Number.isSafeInteger(s) || s < 1
        ) {
          throw new Bad(undefined, `checkpoint key ${String(s)} is not a tree size`);
        }
        return s <= size ? { size: s, value: r.value.value } : null;
      };
      let nextCp = await nextCheckpoint();

      // The index and chunk keys are read beside the entries (the KV reads
      // overlap the entry checks); compared once every entry has been checked.
      const scan = scanDerived(kv, size);
      derived = scan;
      scan.catch(() => {}); // an entry fault may be reported first; then this result is unused

      // Entries, in order, each batch read while the previous one is checked.
      const expected = new SetDigest();
      let chunkCount = 0;
      let prev: Uint8Array | null = null;
      const frontier: Uint8Array[] = []; // roots of the complete subtrees, left to right
      const levels: number[] = [];
      let n = 0;
      let pendingBad: Bad | undefined;
      const every = opts.progressEvery ?? 10000;
      for await (const r of entriesReadAhead(kv, size)) {
        const k = r.key[1];
        if (r.key.length !== 2 || !Object.is(k, n)) {
          throw new Bad(
            n,
            typeof k === "number" && k > n
              ? `entry ${n} is missing`
              : `entry key ${String(k)} is malformed`,
          );
        }
        if (n >= size) throw new Bad(n, `entry ${n} lies beyond the head (size ${size})`);
        let d;
        try {
          d = decodeEntryValue(r.value, n);
        } catch (e) {
          throw new Bad(n, (e as Error).message);
        }
        let envelope = d.first;
        if (d.chunkCount > 0) {
          try {
            envelope = (await store.finishEntry(n, d)).envelope;
          } catch (e) {
            throw new Bad(n, (e as Error).message);
          }
          chunkCount += d.chunkCount;
        }
        const leaf = readLeaf(d.leaf, n);
        if (leaf.index !== n) throw new Bad(n, `entry ${n}: leaf names index ${leaf.index}`);
        const lh = leafHash(d.leaf);
        const prevWant = prev ?? new Uint8Array(32);
        if (leaf.prev !== toBase64(prevWant)) {
          throw new Bad(n, `entry ${n}: chain broken (prev is not the previous leaf hash)`);
        }
        const envSha = sha256(envelope);
        if (leaf.envelope_sha256 !== toBase64(envSha)) {
          throw new Bad(n, `entry ${n}: envelope bytes do not hash to the leaf's envelope_sha256`);
        }
        // Stored hashes: the leaf hash, then each subtree this record completes.
        if (d.hashes.length === 0 || !bytesEqual(d.hashes[0], lh)) {
          throw new Bad(n, `entry ${n}: stored leaf hash is wrong`);
        }
        frontier.push(lh);
        levels.push(0);
        let j = 1;
        while (levels.length >= 2 && levels[levels.length - 1] === levels[levels.length - 2]) {
          const right = frontier.pop()!;
          const left = frontier.pop()!;
          const level = levels.pop()! + 1;
          levels.pop();
          const h = nodeHash(left, right);
          frontier.push(h);
          levels.push(level);
          if (j >= d.hashes.length || !bytesEqual(d.hashes[j], h)) {
            throw new Bad(n, `entry ${n}: stored node hash at level ${level} is wrong`);
          }
          j++;
        }
        if (j !== d.hashes.length) {
          throw new Bad(n, `entry ${n}: stores ${d.hashes.length - j} extra hashes`);
        }
        for (const [key, value] of derivedPairs(n, envSha, leaf)) expected.add(key, value);
        prev = lh;
        n++;
        let cp: Uint8Array | undefined;
        if (nextCp !== null && nextCp.size === n) {
          cp = nextCp.value;
          nextCp = await nextCheckpoint();
        }
        if (d.endsCommit !== (cp !== undefined)) {
          throw new Bad(
            n - 1,
            d.endsCommit
              ? `checkpoint for size ${n} (commit ended at entry ${n - 1}) is missing`
              : `checkpoint for size ${n} is stored but no commit ended at entry ${n - 1}`,
          );
        }
        if (cp !== undefined) {
          const root = rootOf(frontier);
          try {
            const c = await openCheckpoint(cp, verifier, { origin: opts.origin });
            if (c.size !== n || !bytesEqual(c.root, root)) {
              throw new Error("size or root is not the tree's");
            }
          } catch (e) {
            pendingBad = new Bad(n - 1, `checkpoint for size ${n}: ${(e as Error).message}`);
            break;
          }
        }
        if (opts.onProgress && n % every === 0) opts.onProgress({ checked: n, total: size });
      }
      if (pendingBad) return await locate(store, pendingBad, size);
      if (n < size) throw new Bad(n, `entry ${n} is missing (head names ${size} entries)`);
      const root = rootOf(frontier);
      if (!bytesEqual(vh.head.root, root)) {
        throw new Bad(undefined, "head: root is not the tree's root");
      }
      if (!bytesEqual(vh.head.lastLeafHash, prev ?? new Uint8Array(32))) {
        throw new Bad(undefined, "head: last leaf hash is not the last entry's");
      }
      // Indexes and chunks: exactly what the entries imply.
      const { chunks, actual } = await scan;
      if (!actual.equals(expected)) {
        return await locate(store, new Bad(undefined, "indexes do not match the entries"), size);
      }
      if (chunks !== chunkCount) {
        throw new Bad(undefined, `${chunks - chunkCount} envelope chunk keys belong to no entry`);
      }
      opts.onProgress?.({ checked: n, total: size });
      return { ok: true, size };
    } catch (e) {
      if (e instanceof Bad) {
        if (e.index !== undefined) return await locate(store, e, size);
        return { ok: false, size, reason: e.message };
      }
      return { ok: false, size, reason: `audit failed: ${(e as Error).message}` };
    }
  }
}

/**
 * The `["e", …]` rows below `["e", size]` (and any malformed `["e", …]` key
 * sorting before them), in key order, in contiguous ranges of 1,000 keys:
 * the next range is read while the caller checks the current one.
 */
async function* entriesReadAhead(
  kv: Deno.Kv,
  size: number,
): AsyncGenerator<Deno.KvEntry<Uint8Array>> {
  const RANGE = 1000;
  const read = (a: number) =>
    Array.fromAsync(
      kv.list<Uint8Array>({
        start: a === 0 ? ["e"] : ["e", a],
        end: ["e", Math.min(a + RANGE, size)],
      }, { batchSize: RANGE }),
    );
  let next: Promise<Deno.KvEntry<Uint8Array>[]> | null = read(0);
  try {
    for (let a = 0; next !== null; a += RANGE) {
      const rows: Deno.KvEntry<Uint8Array>[] = await next;
      next = a + RANGE < size ? read(a + RANGE) : null;
      yield* rows;
    }
  } finally {
    await next?.catch(() => {}); // stopped early: let the read in flight finish
  }
}

/** Digest of the index keys and count of chunk keys, leaving out those of entries >= size. */
async function scanDerived(
  kv: Deno.Kv,
  size: number,
): Promise<{ chunks: number; actual: SetDigest }> {
  let chunks = 0;
  for await (const r of kv.list({ prefix: ["c"] })) {
    if (!(typeof r.key[1] === "number" && r.key[1] >= size)) chunks++;
  }
  const actual = new SetDigest();
  for (const p of INDEX_PREFIXES) {
    for await (const r of kv.list<Uint8Array>({ prefix: [p] }, { batchSize: 1000 })) {
      if (entryOfIndexKey(r.key, r.value) >= size) continue; // appended after the head was read
      actual.add(r.key, r.value instanceof Uint8Array ? r.value : new Uint8Array([0xff]));
    }
  }
  return { chunks, actual };
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parse and check a leaf. Fast path: JSON.parse, then compare the text with
 * the JCS form rebuilt from the parsed fields (RFC 8785 serializes strings
 * exactly as JSON.stringify and the field order is fixed); anything else
 * goes through the strict `decodeLeaf` for the precise error.
 */
function readLeaf(bytes: Uint8Array, n: number): LeafFields {
  try {
    const text = utf8Decoder.decode(bytes);
    const o = JSON.parse(text);
    if (
      o !== null && typeof o === "object" && typeof o.envelope_sha256 === "string" &&
      Number.isSafeInteger(o.index) && o.index >= 0 && typeof o.issued_at === "string" &&
      typeof o.issuer === "string" && typeof o.key_id === "string" &&
      typeof o.prev === "string" && typeof o.primitive === "string" && o.v === LEAF_VERSION
    ) {
      const canonical =
        `{"envelope_sha256":${JSON.stringify(o.envelope_sha256)},"index":${o.index},` +
        `"issued_at":${JSON.stringify(o.issued_at)},"issuer":${JSON.stringify(o.issuer)},` +
        `"key_id":${JSON.stringify(o.key_id)},"prev":${JSON.stringify(o.prev)},` +
        `"primitive":${JSON.stringify(o.primitive)},"v":${JSON.stringify(o.v)}}`;
      if (canonical === text) return o as LeafFields;
    }
  } catch {
    // fall through to the strict decoder for the error
  }
  try {
    return decodeLeaf(bytes);
  } catch (e) {
    throw new Bad(n, `entry ${n}: leaf: ${(e as Error).message}`);
  }
}

/** The entry an index key/value names (-1 when unreadable: then it is counted, and mismatches). */
function entryOfIndexKey(key: Deno.KvKey, value: unknown): number {
  if (key[0] === "s") {
    if (!(value instanceof Uint8Array) || value.length !== 8) return -1;
    const n = new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0);
    return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
  }
  const n = key[key.length - 1];
  return typeof n === "number" && Number.isFinite(n) ? n : -1;
}

function rootOf(frontier: Uint8Array[]): Uint8Array {
  if (frontier.length === 0) return EMPTY_TREE_HASH;
  let h = frontier[frontier.length - 1];
  for (let i = frontier.length - 2; i >= 0; i--) h = nodeHash(frontier[i], h);
  return h;
}

/**
 * Name the first bad entry: index faults are found by looking up every
 * entry's index keys below `bad.index` (or all entries when unknown).
 */
async function locate(store: KvStore, bad: Bad, size: number): Promise<VerifyLogResult> {
  const limit = bad.index ?? size;
  for (let n = 0; n < limit; n++) {
    const e = await store.readEntry(n).catch(() => null);
    if (!e) return { ok: false, size, first_bad_index: n, reason: `entry ${n} is unreadable` };
    const leaf = decodeLeaf(e.leaf);
    const pairs = derivedPairs(n, sha256(e.envelope), leaf);
    const got = await store.kv.getMany<Uint8Array[]>(pairs.map(([k]) => k));
    for (let i = 0; i < pairs.length; i++) {
      const v = got[i];
      if (
        v.versionstamp === null || !(v.value instanceof Uint8Array) ||
        !bytesEqual(v.value, pairs[i][1])
      ) {
        return {
          ok: false,
          size,
          first_bad_index: n,
          reason: `entry ${n}: index key ${
            JSON.stringify(pairs[i][0].map((p) => p instanceof Uint8Array ? toBase64(p) : p))
          } is missing or wrong`,
        };
      }
    }
  }
  if (bad.index === undefined) {
    return { ok: false, size, reason: `${bad.message} (an index key belongs to no entry)` };
  }
  return { ok: false, size, first_bad_index: bad.index, reason: bad.message };
}
