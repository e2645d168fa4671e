/**
 * The ledger: open a log on a {@link LedgerStore} (Deno KV by default),
 * append envelopes with group commit (`ledger/group_commit.ts`), read
 * entries, prove inclusion and consistency, query (`ledger/query.ts`),
 * audit (`ledger/verify_log.ts`).
 *
 * @module
 */
import { toBase64 } from "../core/bytes.ts";
import type { ParsedEnvelope } from "../core/envelope_types.ts";
import { signCheckpoint } from "./checkpoint.ts";
import {
  LedgerCorruptionError,
  LedgerRangeError,
  LedgerReadOnlyError,
  LedgerStateError,
} from "./errors.ts";
import { GroupCommit } from "./group_commit.ts";
import { KvStore } from "./kv_store.ts";
import { DEFAULT_ORIGIN, logKeyFromText } from "./log_key.ts";
import { EMPTY_TREE_HASH, proveRecord, proveTree } from "./merkle/mod.ts";
import type { Ed25519NoteSigner, NoteSigner } from "./note.ts";
import { checkStoreAtStartup, missingBelowHead } from "./head_check.ts";
import type { OpenLedgerOptions } from "./open_options.ts";
import { queryStore } from "./query.ts";
import { loadKey, pqKeyFor, verifierOnlySigner } from "./open_keys.ts";
import { SignedHeadGuard } from "./signed_head.ts";
import { readBundle, readHashTile, TileNotFoundError } from "./tiles/store_tiles.ts";
import type { LedgerStore, LogHead } from "./store.ts";
import { verifyLog, type VerifyLogResult, type VerifyProgress } from "./verify_log.ts";
import type { MlDsa44NoteSigner } from "./witness/mldsa.ts";
import type { DatasetBudget } from "../core/dp/budgets.ts";
import { PrivacyBudgetKeeper, type PrivacyBudgetStatus } from "./privacy_budget.ts";
import type {
  AppendResult,
  CommitInfo,
  ConsistencyProofJson,
  InclusionProofJson,
  LogEntry,
  QueryOptions,
  QueryResult,
} from "./wire.ts";

export type { OpenLedgerOptions } from "./open_options.ts";
export {
  LedgerCorruptionError,
  LedgerInputError,
  LedgerRangeError,
  LedgerReadOnlyError,
  LedgerStateError,
  LedgerStorageFullError,
} from "./errors.ts";
export {
  type AppendResult,
  type CommitInfo,
  type ConsistencyProofJson,
  type EntrySummary,
  entryToJson,
  type InclusionProofJson,
  type LogEntry,
  type QueryOptions,
  type QueryResult,
  type ResultSummary,
} from "./wire.ts";

function checkIndexArg(name: string, v: unknown, min = 0): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new LedgerRangeError(name, `must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

let attachSignedHead: (ledger: Ledger, guard: SignedHeadGuard) => void;
let markMirror: (ledger: Ledger) => void;

/**
 * A ledger opened by {@link openLedger}.
 *
 * @example Append, prove, audit, and check a receipt offline
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { LedgerStateError } from "./errors.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { verifyTlogProof } from "./tlog_proof.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const receipts = [];
 * for (const p of [[5, 3, 2], [1, 1, 8]]) {
 *   const envelope = await signAuditRun(runAudit("drift", { p, q: [4, 4, 2] }), key, {
 *     issuer: "acme",
 *   });
 *   receipts.push(await ledger.append(parseEnvelopeValue(envelope)));
 * }
 * assert.equal(await ledger.size(), 2);
 * assert.equal((await ledger.proveInclusion(0)).proof.length, 1); // the sibling leaf
 * assert.equal((await ledger.proveConsistency(1, 2)).proof.length, 1);
 * assert.deepEqual(await ledger.verify(), { ok: true, size: 2 });
 * // A receipt verifies offline with only the log's verifier key.
 * const proven = await verifyTlogProof(receipts[0].tlog_proof, ledger.verifierKey);
 * assert.equal(proven.index, 0);
 * await ledger.close();
 * await assert.rejects(ledger.size(), LedgerStateError); // closed
 * ```
 */
export class Ledger {
  /** The log's Ed25519 verifier key (Go note format): its identity, `GET /v1/log/key`. */
  readonly verifierKey: string;
  /**
   * Every verifier key of the log, Ed25519 first, then ML-DSA-44 when the
   * log has one (`GET /v1/log/keys`): each checkpoint carries a signature by each.
   */
  readonly verifierKeys: readonly string[];
  /** The checkpoint origin. */
  readonly origin: string;
  /** The storage (for audits and tests). */
  readonly store: LedgerStore;
  #signers: readonly NoteSigner[];
  #commits: GroupCommit;
  #closed = false;
  #signedHead: SignedHeadGuard | null = null;
  #mirror = false;

  /** Use {@link openLedger}. */
  constructor(
    store: LedgerStore,
    signer: Ed25519NoteSigner,
    origin: string,
    maxBatch: number,
    onCommit?: (info: CommitInfo) => void,
    pqSigner?: MlDsa44NoteSigner,
    storeTiles = false,
  ) {
    this.store = store;
    this.#signers = pqSigner ? [signer, pqSigner] : [signer];
    this.origin = origin;
    this.verifierKey = signer.verifierKey();
    this.verifierKeys = Object.freeze([
      this.verifierKey,
      ...(pqSigner ? [pqSigner.verifierKey()] : []),
    ]);
    this.#commits = new GroupCommit(
      store,
      signer,
      origin,
      maxBatch,
      onCommit,
      pqSigner ? [pqSigner] : [],
      storeTiles,
    );
    this.#budgets = new PrivacyBudgetKeeper(store);
    this.#commits.budgets = this.#budgets;
  }

  #budgets: PrivacyBudgetKeeper;

  /**
   * Set the privacy budgets appends are checked against
   * (`parsePrivacyBudgets` of `core/dp/budgets.ts`), or null for none: see
   * `ledger/privacy_budget.ts`. An append that would exceed its issuer's
   * budget for its dataset is refused with `LedgerBudgetExceededError`.
   */
  setPrivacyBudgets(budgets: ReadonlyMap<string, DatasetBudget> | null): void {
    this.#budgets.setBudgets(budgets);
  }

  /** The budget, spend and spending entries of `issuer` on `dataset`, from the log's entries. */
  async privacyBudget(issuer: string, dataset: string): Promise<PrivacyBudgetStatus> {
    if (this.#closed) throw new LedgerStateError("ledger is closed");
    return await this.#budgets.status(issuer, dataset, await this.size());
  }

  static {
    // Only openLedger attaches the signed-head record (not part of the public surface).
    attachSignedHead = (ledger, guard) => {
      ledger.#signedHead = guard;
      ledger.#commits.signedHead = guard;
    };
    markMirror = (ledger) => {
      ledger.#mirror = true;
    };
  }

  /**
   * Append an envelope (already verified by the caller against its trust
   * policy). Resolves after the commit holding it is durable; the same
   * envelope again resolves to its existing entry with `existing: true`.
   *
   * @throws {LedgerInputError} when the envelope is too large or a field is too long.
   * @throws {LedgerStateError} when the ledger is closed or the store belongs to another log.
   */
  append(env: ParsedEnvelope): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new LedgerStateError("ledger is closed"));
    if (this.#mirror) {
      return Promise.reject(
        new LedgerReadOnlyError("this ledger is a read-only mirror: append to the log it mirrors"),
      );
    }
    return this.#commits.append(env);
  }

  /** The current number of entries (read from the store: other processes may append). */
  async size(): Promise<number> {
    return (await this.store.readHead()).head.size;
  }

  /** The current head. */
  async head(): Promise<LogHead> {
    return (await this.store.readHead()).head;
  }

  /**
   * Entry `index`, or null when the log is not that long.
   * @throws {LedgerRangeError} when `index` is not a non-negative integer.
   */
  async get(index: number): Promise<LogEntry | null> {
    checkIndexArg("index", index);
    const e = await this.store.readEntry(index);
    if (!e) return null;
    return {
      index,
      leaf: toBase64(e.leaf),
      leaf_hash: toBase64(e.hashes[0]),
      envelope: new TextDecoder().decode(e.envelope),
    };
  }

  /** The latest signed checkpoint (for an empty log, a freshly signed size-0 checkpoint). */
  async checkpoint(): Promise<string> {
    const { head } = await this.store.readHead();
    if (head.size === 0) {
      return await signCheckpoint(
        { origin: this.origin, size: 0, root: EMPTY_TREE_HASH },
        this.#signers,
      );
    }
    const cp = await this.store.readCheckpoint(head.size);
    if (cp === null) throw new LedgerStateError(`no checkpoint stored for tree size ${head.size}`);
    // Another process may have appended: record the tree before its checkpoint leaves.
    if (this.#signedHead && !this.#signedHead.problem) await this.#signedHead.record(head, cp);
    return cp;
  }

  /**
   * The bytes of a C2SP tile of the current tree (docs/tiles.md): hash tile
   * `level` 0-63, or the `"entries"` / `"envelopes"` bundle, index `n`,
   * `width` 1-256 hashes or entries; `null` when the tree does not have all
   * of them. A hash tile is one store read (derived from the stored hashes
   * for a log written before tiles were stored); a bundle is one range read
   * of its entries.
   *
   * @example
   * ```ts
   * import { openLedger } from "./ledger.ts";
   * import { MemoryStore } from "./memory_store.ts";
   * import { Ed25519NoteSigner } from "./note.ts";
   * import assert from "node:assert/strict";
   * const logKey = await Ed25519NoteSigner.generate("example.org/log");
   * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
   * assert.equal(await ledger.tile({ level: 0, n: 0, width: 1 }), null);
   * await ledger.close();
   * ```
   */
  async tile(
    tile: { level: number | "entries" | "envelopes"; n: number; width: number },
  ): Promise<Uint8Array | null> {
    const { head } = await this.store.readHead();
    try {
      return typeof tile.level === "number"
        ? await readHashTile(this.store, tile, head.size)
        : await readBundle(this.store, tile, head.size, this.store.limits.maxEnvelopeBytes);
    } catch (e) {
      if (e instanceof TileNotFoundError) return null;
      throw e;
    }
  }

  /**
   * Inclusion proof of entry `index` in the tree of size `treeSize` (default: current).
   * @throws {LedgerRangeError} unless 0 <= index < treeSize <= size.
   */
  async proveInclusion(index: number, treeSize?: number): Promise<InclusionProofJson> {
    checkIndexArg("index", index);
    const size = await this.size();
    const t = treeSize === undefined ? size : checkIndexArg("tree_size", treeSize, 1);
    if (t > size) throw new LedgerRangeError("tree_size", `${t} exceeds the log size ${size}`);
    if (index >= t) throw new LedgerRangeError("index", `${index} is not below tree_size ${t}`);
    const e = await this.store.readEntry(index);
    if (!e) throw new LedgerStateError(`entry ${index} missing`);
    const proof = await proveRecord(t, index, this.store);
    return {
      index,
      tree_size: t,
      leaf_hash: toBase64(e.hashes[0]),
      proof: proof.map((h) => toBase64(h)),
    };
  }

  /**
   * Consistency proof between tree sizes `first` and `second`.
   * @throws {LedgerRangeError} unless 0 <= first <= second <= size.
   */
  async proveConsistency(first: number, second: number): Promise<ConsistencyProofJson> {
    checkIndexArg("first", first);
    checkIndexArg("second", second);
    const size = await this.size();
    if (second > size) {
      throw new LedgerRangeError("second", `${second} exceeds the log size ${size}`);
    }
    if (first > second) throw new LedgerRangeError("first", `${first} exceeds second ${second}`);
    const proof = first === 0 ? [] : await proveTree(second, first, this.store);
    return { first, second, proof: proof.map((h) => toBase64(h)) };
  }

  /**
   * Entries by issuer, primitive, issue-time range and breach, paginated.
   * @throws {LedgerRangeError} for a bad limit, bound or cursor.
   */
  query(opts: QueryOptions = {}): Promise<QueryResult> {
    return queryStore(this.store, opts);
  }

  /** Audit the whole log (see {@link verifyLog}). */
  async verify(
    opts: { onProgress?: (p: VerifyProgress) => void } = {},
  ): Promise<VerifyLogResult> {
    const problem = this.#signedHead?.problem;
    if (problem) {
      // A head claiming unstored entries is named with its index, like verifyLog does.
      const head = await this.head();
      const missing = await missingBelowHead(this.store, head);
      if (missing) {
        return { ok: false, size: missing.index, first_bad_index: missing.index, reason: problem };
      }
      return { ok: false, size: head.size, reason: problem };
    }
    return await verifyLog(this.store, {
      verifierKey: this.verifierKey,
      extraVerifierKeys: this.verifierKeys.slice(1),
      origin: this.origin,
      onProgress: opts.onProgress,
    });
  }

  /**
   * The start-up checks a server runs before it says it is ready: the
   * head's last entry is stored, the next one is not, and the checkpoint for
   * the head's size exists and verifies under the log key.
   * @throws {LedgerCorruptionError} naming the check and the index.
   */
  async checkStartup(): Promise<void> {
    await checkStoreAtStartup(this.store, this.verifierKey, this.origin);
  }

  /** Wait for queued appends, then close the store. Later calls fail with {@link LedgerStateError}. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#commits.idle();
    this.store.close();
  }
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

/**
 * Open (creating on first use) a ledger.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { MlDsa44NoteSigner } from "./witness/mldsa.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const pqLogKey = MlDsa44NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({
 *   store: new MemoryStore(),
 *   logKey,
 *   pqLogKey,
 *   origin: "example.org/log",
 * });
 * assert.equal(await ledger.size(), 0);
 * // Ed25519 first (the log's identity), then ML-DSA-44; checkpoints carry both.
 * assert.deepEqual(ledger.verifierKeys, [logKey.verifierKey(), pqLogKey.verifierKey()]);
 * assert.equal((await ledger.checkpoint()).split("\n— ").length, 3);
 * await ledger.close();
 * ```
 *
 * @throws {TypeError} when none of `dataDir`, `path` and `store` is given,
 *   or a memory/remote path or a store comes without a key.
 * @throws {RangeError} when `maxBatch` is outside [1, the store's maximum].
 * @throws {LogKeyError} when the log key is malformed or names another origin.
 * @throws {LedgerStateError} when the store belongs to another log, or Deno
 *   KV is not enabled (run with `--unstable-kv`, or `"unstable": ["kv"]` in
 *   deno.json).
 */
export async function openLedger(opts: OpenLedgerOptions): Promise<Ledger> {
  if (opts.mirrorKey !== undefined) return await openMirror(opts, opts.mirrorKey);
  const origin = opts.origin ?? DEFAULT_ORIGIN;
  let path = opts.path;
  if (opts.store === undefined && path === undefined) {
    if (!opts.dataDir) throw new TypeError("openLedger needs `dataDir`, `path` or `store`");
    await Deno.mkdir(opts.dataDir, { recursive: true });
    path = `${opts.dataDir}/ledger.kv`;
  }
  const remote = path !== undefined && /^https?:\/\//i.test(path);
  if (remote && !/^https:\/\//i.test(path!)) {
    throw new TypeError("a remote KV Connect URL must use https://");
  }
  let signer!: Ed25519NoteSigner;
  if (typeof opts.logKey === "string") signer = await logKeyFromText(opts.logKey, origin);
  else if (opts.logKey) {
    signer = opts.logKey;
    if (signer.name !== origin) {
      throw new TypeError(
        `log key is named ${JSON.stringify(signer.name)} but the origin is ${
          JSON.stringify(origin)
        }`,
      );
    }
  }
  const keyDir = opts.dataDir ??
    (path === undefined || remote || path === ":memory:" ? undefined : dirname(path));
  if (!opts.logKey && keyDir === undefined) {
    throw new TypeError(
      "a store, :memory: or remote ledger needs `logKey` or `dataDir` for its log key",
    );
  }
  const store = opts.store ??
    await KvStore.open(path!, {
      migrate: opts.audit !== true && opts.readOnly !== true,
      tiles: opts.storeTiles !== false,
    });
  try {
    if (!opts.logKey) signer = await loadKey(keyDir!, origin, store, opts.readOnly === true);
    // After the Ed25519 key: a log whose key is refused gets no new ML-DSA-44 key file either.
    const pqSigner = await pqKeyFor(opts, origin, keyDir);
    const max = store.limits.maxBatchEntries;
    const maxBatch = opts.maxBatch ?? max;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1 || maxBatch > max) {
      throw new RangeError(`maxBatch must be an integer in [1, ${max}], got ${maxBatch}`);
    }
    // Tiles by default; a store that already holds them keeps them current.
    const storeTiles = opts.storeTiles !== false || await store.readTile(0, 0) !== null;
    const ledger = new Ledger(
      store,
      signer,
      origin,
      maxBatch,
      opts.onCommit,
      pqSigner,
      storeTiles,
    );
    // A corrupt identity record does not stop opening (so `verify` can report it);
    // appends re-read it and refuse.
    const meta = await store.readMeta().catch((e) => {
      if (e instanceof LedgerCorruptionError) return null;
      throw e;
    });
    if (
      !opts.audit && meta && (meta.origin !== origin || meta.verifierKey !== ledger.verifierKey)
    ) {
      throw new LedgerStateError(
        `the store belongs to log ${JSON.stringify(meta.origin)} with key ${meta.verifierKey}, ` +
          `not ${JSON.stringify(origin)} with key ${ledger.verifierKey}`,
      );
    }
    // The record lives beside the log key file (or in the data directory).
    const recordDir = opts.dataDir ?? (opts.logKey ? undefined : keyDir);
    if (recordDir !== undefined) {
      attachSignedHead(
        ledger,
        await SignedHeadGuard.open(recordDir, store, {
          replace: opts.newLogUnderExistingKey === true,
          audit: opts.audit === true,
        }),
      );
    }
    return ledger;
  } catch (e) {
    store.close();
    throw e;
  }
}

/** A mirror's ledger: read-only, under the verifier key it pinned (no signing key). */
async function openMirror(opts: OpenLedgerOptions, verifierKey: string): Promise<Ledger> {
  const signer = verifierOnlySigner(verifierKey);
  const path = opts.path ?? (opts.dataDir ? `${opts.dataDir}/ledger.kv` : undefined);
  if (path === undefined && opts.store === undefined) {
    throw new TypeError("openLedger with mirrorKey needs `dataDir`, `path` or `store`");
  }
  const store = opts.store ?? await KvStore.open(path!, { migrate: false });
  try {
    const meta = await store.readMeta();
    if (meta && (meta.origin !== signer.name || meta.verifierKey !== verifierKey)) {
      throw new LedgerStateError(
        `the store mirrors log ${JSON.stringify(meta.origin)} with key ${meta.verifierKey}, ` +
          `not ${verifierKey}`,
      );
    }
    const ledger = new Ledger(store, signer, signer.name, store.limits.maxBatchEntries);
    markMirror(ledger);
    return ledger;
  } catch (e) {
    store.close();
    throw e;
  }
}
