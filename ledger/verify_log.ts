/**
 * Full audit of a ledger in any {@link LedgerStore}: read everything back
 * and recompute it, naming the first bad entry.
 *
 * For every entry, in order: it decodes, and passes the one entry checker
 * (`ledger/entry_check.ts`: canonical leaf naming its index, hash chain
 * `prev`, envelope hash); the stored hashes the entry's append wrote equal
 * the ones recomputed from the leaf hashes (an independent compact-range
 * recomputation, not the store's reader). At every size where a commit
 * ended, the stored checkpoint must exist, verify under the log's key and
 * name the recomputed root, and no other checkpoint may be stored. Every
 * stored hash tile equals the recomputed hashes it holds, and a store that
 * keeps tiles keeps every tile of the tree (`ledger/tiles/audit_tiles.ts`).
 * At the
 * end, the head must name the last entry, the root and the size, and the
 * derived records the store holds (`LedgerStore.scanDerived`: envelope-hash,
 * signed-body (one per distinct body, naming its first entry; the body is
 * recomputed from the stored envelope) and secondary indexes) must be exactly those the entries imply (an
 * order-independent 128-bit digest over the records; on mismatch,
 * per-entry 32-bit sums name the first entry whose records differ).
 *
 * The per-entry checks (entry check and signed-body hash,
 * `ledger/verify_entries.ts`) run on a worker for large logs, a range of
 * 1,000 entries at a time, while this thread reads the store and recomputes
 * the tree, the checkpoints and the indexes (see `checkWorker`).
 *
 * The audit covers the log as of the head read when it starts; entries,
 * checkpoints and index records appended meanwhile are left for the next
 * audit, so a live ledger can be audited while it takes appends.
 *
 * @module
 */
import { bytesEqual, toBase64 } from "../core/bytes.ts";
import { openCheckpoint } from "./checkpoint.ts";
import { missingBelowHead } from "./head_check.ts";
import { LedgerCorruptionError } from "./errors.ts";
import { ZERO_PREV } from "./leaf.ts";
import { EMPTY_TREE_HASH, nodeHash } from "./merkle/mod.ts";
import { parseVerifierKey } from "./note.ts";
import { parseNoteVerifierKey } from "./witness/keys.ts";
import type { DerivedRecord, LedgerStore, StoredCheckpoint, StoredEntry } from "./store.ts";
import { SetDigest } from "./set_digest.ts";
import { StoredTileAudit } from "./tiles/audit_tiles.ts";
import { indexTime } from "./time_key.ts";
import { checkRange, pack, type RangeChecked, type RangeRequest } from "./verify_entries.ts";

/**
 * Progress of a running audit.
 *
 * @example An empty log reports once, at the end
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { verifyLog, type VerifyProgress } from "./verify_log.ts";
 * const log = await Ed25519NoteSigner.generate("example.org/log");
 * const seen: VerifyProgress[] = [];
 * const onProgress = (p: VerifyProgress) => seen.push(p);
 * await verifyLog(new MemoryStore(), { verifierKey: log.verifierKey(), origin: log.name, onProgress });
 * assert.deepEqual(seen, [{ checked: 0, total: 0 }]);
 * ```
 */
export interface VerifyProgress {
  /** Entries checked so far. */
  checked: number;
  /** Entries the head names. */
  total: number;
}

/**
 * Options of {@link verifyLog}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { verifyLog, type VerifyLogOptions } from "./verify_log.ts";
 * const log = await Ed25519NoteSigner.generate("example.org/log");
 * const options: VerifyLogOptions = { verifierKey: log.verifierKey(), origin: "example.org/log" };
 * assert.equal((await verifyLog(new MemoryStore(), options)).ok, true);
 * ```
 */
export interface VerifyLogOptions {
  /** The log's verifier key (Go note format): every checkpoint must verify under it. */
  verifierKey: string;
  /**
   * The log's other verifier keys (its ML-DSA-44 key). When given, every
   * signature line on a stored checkpoint must be by one of the log's keys
   * and verify (the ledger writes only its own); checkpoints signed before
   * the key existed carry only the Ed25519 line.
   * @default {[]} (lines by other keys are then ignored, as signed-note says)
   */
  extraVerifierKeys?: readonly string[];
  /** The log's origin. */
  origin: string;
  /** Called every `progressEvery` entries and at the end. */
  onProgress?: (p: VerifyProgress) => void;
  /**
   * Entries between progress calls.
   * @default {10000}
   */
  progressEvery?: number;
  /**
   * Check the entries (leaf, chain, envelope and signed-body hashes) on a
   * second thread, a worker, while this one reads the store and recomputes
   * the tree and the indexes. The findings are the same either way; should
   * the worker fail, the entries are checked here.
   * @default {true when the log has at least 10,000 entries and the runtime has workers}
   */
  checkWorker?: boolean;
}

/**
 * Result of {@link verifyLog}.
 *
 * @example A clean empty log
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { verifyLog, type VerifyLogResult } from "./verify_log.ts";
 * const log = await Ed25519NoteSigner.generate("example.org/log");
 * const options = { verifierKey: log.verifierKey(), origin: log.name };
 * const result: VerifyLogResult = await verifyLog(new MemoryStore(), options);
 * assert.deepEqual(result, { ok: true, size: 0 }); // no first_bad_index, no reason
 * ```
 */
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

/** The parts a record is digested as (the same for expected and stored records). */
function recordParts(
  r: Exclude<DerivedRecord, { kind: "unaccounted" }>,
): (string | number | Uint8Array)[] {
  switch (r.kind) {
    case "envelope":
      return ["s", r.sha256, r.index];
    case "body":
      return ["b", r.sha256, r.index];
    case "issuer":
      return ["i", r.issuer, r.time, r.index];
    case "primitive":
      return ["p", r.primitive, r.time, r.index];
  }
}

/** The digest of the derived records a store holds, with per-entry sums and the first unaccounted one. */
interface DerivedScan {
  actual: SetDigest;
  perEntry: Uint32Array;
  unaccounted?: { what: string; index?: number };
}

async function scanDerived(store: LedgerStore, size: number): Promise<DerivedScan> {
  const actual = new SetDigest();
  const perEntry = new Uint32Array(size);
  let unaccounted: DerivedScan["unaccounted"];
  for await (const r of store.scanDerived(size)) {
    if (r.kind === "unaccounted") {
      unaccounted ??= { what: r.what, index: r.index };
      continue;
    }
    if (r.index >= size) continue; // appended after the head was read
    const h = actual.add(recordParts(r));
    perEntry[r.index] = (perEntry[r.index] + h) >>> 0;
  }
  return { actual, perEntry, unaccounted };
}

/**
 * Audit the ledger in `store`: recompute chain, leaf and envelope hashes,
 * stored node hashes, every stored checkpoint (signature and root), the
 * head and the derived records. Never throws for bad data: the result names
 * the first bad index and the reason.
 *
 * @example Audit a ledger's store, against the right origin and another one
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { verifyLog } from "./verify_log.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * await ledger.append(parseEnvelopeValue(await signAuditRun(run, key, { issuer: "acme" })));
 * const options = { verifierKey: ledger.verifierKey, origin: ledger.origin };
 * assert.deepEqual(await verifyLog(ledger.store, options), { ok: true, size: 1 });
 * const other = await verifyLog(ledger.store, { ...options, origin: "example.org/other" });
 * assert.equal(other.ok, false); // the stored checkpoints name another origin
 * assert.equal(typeof other.reason, "string");
 * await ledger.close();
 * ```
 */
export async function verifyLog(
  store: LedgerStore,
  opts: VerifyLogOptions,
): Promise<VerifyLogResult> {
  let size = 0;
  let derived: Promise<DerivedScan> | undefined;
  // Signed bodies seen so far: the body index names the first entry holding
  // each (a log written before that index may hold one body twice).
  const bodies = new Set<string>();
  const expected = new SetDigest();
  let expectedPerEntry = new Uint32Array(0);
  let checker: RangeChecker | undefined;
  try {
    return await audit();
  } finally {
    checker?.close();
    // A fault found among the entries returns before the index scan is done: let it finish.
    await derived?.catch(() => {});
  }

  /** Name the first entry below `bad.index` whose derived records differ, else `bad` itself. */
  async function locate(bad: Bad): Promise<VerifyLogResult> {
    let scan: DerivedScan | undefined;
    try {
      scan = await derived;
    } catch {
      scan = undefined;
    }
    const limit = bad.index ?? size;
    if (scan) {
      for (let n = 0; n < limit; n++) {
        if (scan.perEntry[n] !== expectedPerEntry[n]) {
          return {
            ok: false,
            size,
            first_bad_index: n,
            reason: `entry ${n}: its index records are missing or wrong`,
          };
        }
      }
    }
    if (bad.index === undefined) return { ok: false, size, reason: bad.message };
    return { ok: false, size, first_bad_index: bad.index, reason: bad.message };
  }

  async function audit(): Promise<VerifyLogResult> {
    try {
      const verifier = parseVerifierKey(opts.verifierKey);
      const extra = opts.extraVerifierKeys ?? [];
      const verifiers = [verifier, ...extra.map((k) => parseNoteVerifierKey(k).verifier)];
      const meta = await store.readMeta().catch((e) => {
        throw new Bad(undefined, `meta: ${(e as Error).message}`);
      });
      const vh = await store.readHead().catch((e) => {
        throw new Bad(undefined, `head: ${(e as Error).message}`);
      });
      // Bound the work by what is stored before sizing anything by the head.
      const missing = await missingBelowHead(store, vh.head).catch((e) => {
        throw new Bad(undefined, `head: ${(e as Error).message}`);
      });
      if (missing) {
        size = missing.index;
        throw new Bad(missing.index, missing.reason);
      }
      size = vh.head.size;
      expectedPerEntry = new Uint32Array(size);
      if (vh.version === null) {
        if (meta !== null) throw new Bad(undefined, "meta: present but the head is missing");
      } else if (meta === null) {
        throw new Bad(undefined, "meta: the ledger identity record is missing");
      } else if (meta.origin !== opts.origin || meta.verifierKey !== opts.verifierKey) {
        throw new Bad(undefined, "meta: the stored origin or verifier key is not this log's");
      }

      // Checkpoints, streamed in size order beside the entries (one per commit:
      // not held in memory); sizes beyond the head are left for the next audit.
      const cpIt = store.readCheckpoints(1, size + 1)[Symbol.asyncIterator]();
      const nextCheckpoint = async (): Promise<StoredCheckpoint | null> => {
        try {
          const r = await cpIt.next();
          return r.done ? null : r.value;
        } catch (e) {
          throw new Bad(
            e instanceof LedgerCorruptionError ? e.index : undefined,
            (e as Error).message,
          );
        }
      };
      let nextCp = await nextCheckpoint();

      // The derived records are read beside the entries (the reads overlap
      // the entry checks); compared once every entry has been checked.
      const scan = scanDerived(store, size);
      derived = scan;
      scan.catch(() => {}); // an entry fault may be reported first; then this result is unused

      const tiles = new StoredTileAudit(store);
      let prev: Uint8Array = ZERO_PREV;
      const frontier: Uint8Array[] = []; // roots of the complete subtrees, left to right
      const levels: number[] = [];
      let n = 0;
      const every = opts.progressEvery ?? 10000;
      checker = new RangeChecker(
        opts.checkWorker ?? (size >= WORKER_MIN_ENTRIES && typeof Worker === "function"),
      );
      for await (const range of rangesReadAhead(store, size, checker)) {
        const rc = await range.checked(prev);
        for (let i = 0; i < range.rows.length; i++) {
          const e = range.rows[i];
          if (i >= rc.ok) {
            // The entry check failed (its message names the entry), or threw something else.
            if (rc.fault?.kind === "entry") throw new Bad(n, rc.fault.message);
            throw new Error(rc.fault?.message ?? `entry ${n} was not checked`);
          }
          const lh = rc.leafHashes.subarray(32 * i, 32 * i + 32);
          const envelopeSha256 = rc.envelopeHashes.subarray(32 * i, 32 * i + 32);
          // Stored hashes: the leaf hash, then each subtree this record completes.
          if (e.hashes.length === 0 || !bytesEqual(e.hashes[0], lh)) {
            throw new Bad(n, `entry ${n}: stored leaf hash is wrong`);
          }
          frontier.push(lh);
          levels.push(0);
          tiles.add(0, lh);
          let j = 1;
          while (levels.length >= 2 && levels[levels.length - 1] === levels[levels.length - 2]) {
            const right = frontier.pop()!;
            const left = frontier.pop()!;
            const level = levels.pop()! + 1;
            levels.pop();
            const h = nodeHash(left, right);
            frontier.push(h);
            levels.push(level);
            tiles.add(level, h);
            if (j >= e.hashes.length || !bytesEqual(e.hashes[j], h)) {
              throw new Bad(n, `entry ${n}: stored node hash at level ${level} is wrong`);
            }
            j++;
          }
          if (j !== e.hashes.length) {
            throw new Bad(n, `entry ${n}: stores ${e.hashes.length - j} extra hashes`);
          }
          const t = indexTime(rc.issuedAt[i]);
          let sum = expected.add(
            recordParts({ kind: "envelope", sha256: envelopeSha256, index: n }),
          );
          if (i >= rc.bodies) throw new Bad(n, rc.fault!.message); // the signed body did not hash
          const body = rc.bodyHashes.subarray(32 * i, 32 * i + 32);
          const bodyKey = toBase64(body);
          if (!bodies.has(bodyKey)) {
            bodies.add(bodyKey);
            sum += expected.add(recordParts({ kind: "body", sha256: body, index: n }));
          }
          sum += expected.add(
            recordParts({ kind: "issuer", issuer: rc.issuer[i], time: t, index: n }),
          );
          sum += expected.add(
            recordParts({ kind: "primitive", primitive: rc.primitive[i], time: t, index: n }),
          );
          expectedPerEntry[n] = sum >>> 0;
          prev = lh;
          n++;
          let cp: string | undefined;
          if (nextCp !== null && nextCp.size === n) {
            cp = nextCp.text;
            nextCp = await nextCheckpoint();
          }
          if (nextCp !== null && nextCp.size < n) {
            throw new Bad(n - 1, `checkpoint for size ${nextCp.size} is stored twice`);
          }
          if (e.endsCommit !== (cp !== undefined)) {
            throw new Bad(
              n - 1,
              e.endsCommit
                ? `checkpoint for size ${n} (commit ended at entry ${n - 1}) is missing`
                : `checkpoint for size ${n} is stored but no commit ended at entry ${n - 1}`,
            );
          }
          if (cp !== undefined) {
            try {
              const c = await openCheckpoint(cp, verifiers, { origin: opts.origin });
              if (c.size !== n || !bytesEqual(c.root, rootOf(frontier))) {
                throw new Error("size or root is not the tree's");
              }
              if (!c.note.sigs.some((s) => s.keyId === verifier.keyId)) {
                throw new Error("no signature by the log's Ed25519 key");
              }
              if (extra.length > 0 && c.note.unverifiedSigs.length > 0) {
                throw new Error("a signature line is by none of the log's keys");
              }
            } catch (err) {
              throw new Bad(n - 1, `checkpoint for size ${n}: ${(err as Error).message}`);
            }
          }
          if (opts.onProgress && n % every === 0) opts.onProgress({ checked: n, total: size });
        }
        if (range.bad) throw range.bad;
      }
      if (n < size) throw new Bad(n, `entry ${n} is missing (head names ${size} entries)`);
      if (!bytesEqual(vh.head.root, rootOf(frontier))) {
        throw new Bad(undefined, "head: root is not the tree's root");
      }
      if (!bytesEqual(vh.head.lastLeafHash, prev)) {
        throw new Bad(undefined, "head: last leaf hash is not the last entry's");
      }
      // Stored hash tiles: each equals the hashes just recomputed.
      const tileFault = await tiles.finish();
      if (tileFault) throw new Bad(tileFault.index, tileFault.reason);
      // Derived records: exactly what the entries imply.
      const { actual, unaccounted } = await scan;
      if (!actual.equals(expected)) {
        return await locate(
          new Bad(
            undefined,
            "index records do not match the entries (an index record belongs to no entry)",
          ),
        );
      }
      if (unaccounted) {
        return {
          ok: false,
          size,
          ...(unaccounted.index !== undefined ? { first_bad_index: unaccounted.index } : {}),
          reason: unaccounted.what,
        };
      }
      opts.onProgress?.({ checked: n, total: size });
      return { ok: true, size };
    } catch (e) {
      if (e instanceof Bad) return await locate(e);
      return { ok: false, size, reason: `audit failed: ${(e as Error).message}` };
    }
  }
}

/** Logs from this size up check their entries on a worker by default (its start costs ~60 ms). */
const WORKER_MIN_ENTRIES = 10_000;

/**
 * Checks ranges of entries ({@link checkRange}) on a worker when asked to
 * and able, else on this thread when the audit reaches the range. A worker
 * that fails (cannot start, throws, a message it cannot read) is stopped;
 * its ranges, and all later ones, are then checked here.
 */
class RangeChecker {
  #worker: Worker | undefined;
  #pending = new Map<number, { resolve: (c: RangeChecked) => void; reject: (e: Error) => void }>();
  #id = 0;
  #first = true;

  constructor(useWorker: boolean) {
    const url = new URL("./verify_entries_worker.ts", import.meta.url);
    if (!useWorker || !canLoad(url)) return;
    try {
      const w = new Worker(url, { type: "module" });
      w.onmessage = (e: MessageEvent<{ id: number; checked: RangeChecked }>) => {
        const p = this.#pending.get(e.data.id);
        this.#pending.delete(e.data.id);
        p?.resolve(e.data.checked);
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault(); // the audit goes on without it
        this.#stop(new Error(`entry check worker failed: ${e.message}`));
      };
      w.onmessageerror = () => this.#stop(new Error("entry check worker: unreadable message"));
      this.#worker = w;
    } catch {
      this.#worker = undefined;
    }
  }

  #stop(err: Error): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  /**
   * Start checking `rows` (entries `start …`, in order after the last range
   * submitted). Returns how to get the result, given the previous entry's
   * leaf hash as the audit has it (used when the range is checked here).
   */
  submit(start: number, rows: StoredEntry[]): (prev: Uint8Array) => Promise<RangeChecked> {
    const here = (prev: Uint8Array) =>
      checkRange(start, prev, rows.map((e) => e.leaf), rows.map((e) => e.envelope)).checked;
    const w = this.#worker;
    if (!w || rows.length === 0) return (prev) => Promise.resolve(here(prev));
    const id = ++this.#id;
    const answer = new Promise<RangeChecked>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    answer.catch(() => {}); // awaited below; a range never awaited must not be an unhandled rejection
    try {
      const leaves = pack(rows.map((e) => e.leaf));
      const envelopes = pack(rows.map((e) => e.envelope));
      const req: RangeRequest = {
        id,
        start,
        ...(this.#first ? { prev: ZERO_PREV } : {}),
        leaves: leaves.bytes,
        leafEnds: leaves.ends,
        envelopes: envelopes.bytes,
        envelopeEnds: envelopes.ends,
      };
      this.#first = false;
      w.postMessage(req, [
        leaves.bytes.buffer,
        leaves.ends.buffer,
        envelopes.bytes.buffer,
        envelopes.ends.buffer,
      ]);
    } catch (err) {
      this.#stop(err as Error);
    }
    return async (prev) => {
      try {
        return await answer;
      } catch {
        return here(prev);
      }
    };
  }

  close(): void {
    this.#stop(new Error("audit finished"));
  }
}

/**
 * Whether a worker can load the module at `url`: a local file needs read
 * permission and must exist (a compiled binary holds only the files it was
 * built with). Checked first, so that a worker that cannot load does not
 * print an uncaught error; the checks then stay on this thread.
 */
function canLoad(url: URL): boolean {
  if (url.protocol !== "file:") return true;
  try {
    if (Deno.permissions.querySync({ name: "read", path: url }).state !== "granted") return false;
    return Deno.statSync(url).isFile;
  } catch {
    return false;
  }
}

/** One range of entries read, its check under way. */
interface ReadRange {
  rows: StoredEntry[];
  /** A missing or undecodable entry right after `rows`. */
  bad?: Bad;
  /** The range's check (see {@link RangeChecker.submit}). */
  checked: (prev: Uint8Array) => Promise<RangeChecked>;
}

/**
 * The entries below `size`, in order, in ranges of 1,000, each submitted
 * to `checker` once read: the next range is read (and checked, on a
 * worker) while the caller goes through the current one. A missing or
 * undecodable entry ends the stream with a {@link Bad} naming it, after the
 * good entries before it.
 */
async function* rangesReadAhead(
  store: LedgerStore,
  size: number,
  checker: RangeChecker,
): AsyncGenerator<ReadRange> {
  const RANGE = 1000;
  const read = async (a: number): Promise<{ rows: StoredEntry[]; bad?: Bad }> => {
    const end = Math.min(a + RANGE, size);
    try {
      const rows = await store.readEntries(a, end);
      return rows.length < end - a
        ? { rows, bad: new Bad(a + rows.length, `entry ${a + rows.length} is missing`) }
        : { rows };
    } catch (e) {
      if (!(e instanceof LedgerCorruptionError) || e.index === undefined || e.index < a) throw e;
      // Entries before the undecodable one are checked first (read one by one:
      // a stray key that made the range read fail may lie among them).
      const rows: StoredEntry[] = [];
      for (let k = a; k < e.index; k++) {
        const r = await store.readEntry(k).catch(() => null);
        if (r === null) break;
        rows.push(r);
      }
      const at = a + rows.length;
      return { rows, bad: new Bad(at, at === e.index ? e.message : `entry ${at} is missing`) };
    }
  };
  // Ranges are read one after another, so they reach the checker in order.
  const readAndSubmit = async (a: number): Promise<ReadRange> => {
    const r = await read(a);
    return { ...r, checked: checker.submit(a, r.rows) };
  };
  let next: Promise<ReadRange> | null = size > 0 ? readAndSubmit(0) : null;
  try {
    for (let a = 0; next !== null; a += RANGE) {
      const range = await next;
      next = a + RANGE < size && !range.bad ? readAndSubmit(a + RANGE) : null;
      yield range;
      if (range.bad) return;
    }
  } finally {
    await next?.catch(() => {}); // stopped early: let the read in flight finish
  }
}

function rootOf(frontier: Uint8Array[]): Uint8Array {
  if (frontier.length === 0) return EMPTY_TREE_HASH;
  let h = frontier[frontier.length - 1];
  for (let i = frontier.length - 2; i >= 0; i--) h = nodeHash(frontier[i], h);
  return h;
}
