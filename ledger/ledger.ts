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
import { LedgerCorruptionError, LedgerRangeError, LedgerStateError } from "./errors.ts";
import { GroupCommit } from "./group_commit.ts";
import { KvStore } from "./kv_store.ts";
import { DEFAULT_ORIGIN, loadOrCreateLogKey, logKeyFromText } from "./log_key.ts";
import { EMPTY_TREE_HASH, proveRecord, proveTree } from "./merkle/mod.ts";
import type { Ed25519NoteSigner } from "./note.ts";
import { queryStore } from "./query.ts";
import { readBundle, readHashTile, TileNotFoundError } from "./tiles/store_tiles.ts";
import type { LedgerStore, LogHead } from "./store.ts";
import { verifyLog, type VerifyLogResult, type VerifyProgress } from "./verify_log.ts";
import type {
  AppendResult,
  CommitInfo,
  ConsistencyProofJson,
  InclusionProofJson,
  LogEntry,
  QueryOptions,
  QueryResult,
} from "./wire.ts";

export {
  LedgerCorruptionError,
  LedgerInputError,
  LedgerRangeError,
  LedgerStateError,
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
} from "./wire.ts";

/** Options of {@link openLedger}. */
export interface OpenLedgerOptions {
  /**
   * Data directory: the KV file is `DIR/ledger.kv`, the log key `DIR/log-key`.
   * Give this, `path` or `store`.
   */
  dataDir?: string;
  /**
   * The Deno KV database: a file path, `:memory:`, or a KV Connect URL
   * (`https://…`, with `DENO_KV_ACCESS_TOKEN` in the environment). With a
   * file path and no `dataDir`/`logKey`, the log key lives beside the file;
   * with `:memory:` or a URL, give `logKey` or `dataDir`.
   */
  path?: string;
  /**
   * A store to use instead of Deno KV (e.g. a `MemoryStore`); the ledger owns
   * it from now on (closing the ledger closes it). Give `logKey` (or
   * `dataDir` for the log key) with it.
   */
  store?: LedgerStore;
  /**
   * Checkpoint origin (and log key name).
   * @default {"regledger.local/log"}
   */
  origin?: string;
  /** The log signing key: Go signer-key text or a signer. Default: load or create `DIR/log-key`. */
  logKey?: string | Ed25519NoteSigner;
  /**
   * Open for an audit: a stored identity record naming another origin or key
   * does not stop opening (`verify` reports it; appends still refuse).
   * @default {false}
   */
  audit?: boolean;
  /**
   * Most entries per group commit, at most the store's `limits.maxBatchEntries`
   * (Deno KV: 98, one check per entry plus the head's and the identity's).
   * @default {the store's maximum}
   */
  maxBatch?: number;
  /**
   * Called after each successful group commit (metrics): the new tree size,
   * how many entries the commit appended, and how many attempts it took
   * (more than one when another writer committed first).
   */
  onCommit?: (info: CommitInfo) => void;
  /**
   * Store the hash tiles each commit completes or grows, so serving a tile
   * is one read. Off by default until `verifyLog` audits stored tiles: a
   * stored tile is data the audit does not yet check, and its corruption
   * checker requires every stored byte to be checked. Off, tiles are
   * derived from the stored hashes on read (same bytes). @default {false}
   */
  storeTiles?: boolean;
}

function checkIndexArg(name: string, v: unknown, min = 0): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new LedgerRangeError(name, `must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

/** A ledger opened by {@link openLedger}. */
export class Ledger {
  /** The log's verifier key (Go note format). */
  readonly verifierKey: string;
  /** The checkpoint origin. */
  readonly origin: string;
  /** The storage (for audits and tests). */
  readonly store: LedgerStore;
  #signer: Ed25519NoteSigner;
  #commits: GroupCommit;
  #closed = false;

  /** Use {@link openLedger}. */
  constructor(
    store: LedgerStore,
    signer: Ed25519NoteSigner,
    origin: string,
    maxBatch: number,
    onCommit?: (info: CommitInfo) => void,
    storeTiles = false,
  ) {
    this.store = store;
    this.#signer = signer;
    this.origin = origin;
    this.verifierKey = signer.verifierKey();
    this.#commits = new GroupCommit(store, signer, origin, maxBatch, onCommit, storeTiles);
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
      return await signCheckpoint({ origin: this.origin, size: 0, root: EMPTY_TREE_HASH }, [
        this.#signer,
      ]);
    }
    const cp = await this.store.readCheckpoint(head.size);
    if (cp === null) throw new LedgerStateError(`no checkpoint stored for tree size ${head.size}`);
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
  verify(opts: { onProgress?: (p: VerifyProgress) => void } = {}): Promise<VerifyLogResult> {
    return verifyLog(this.store, {
      verifierKey: this.verifierKey,
      origin: this.origin,
      onProgress: opts.onProgress,
    });
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
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * assert.equal(await ledger.size(), 0);
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
  let signer: Ed25519NoteSigner;
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
  } else {
    const keyDir = opts.dataDir ??
      (path === undefined || remote || path === ":memory:" ? undefined : dirname(path));
    if (keyDir === undefined) {
      throw new TypeError(
        "a store, :memory: or remote ledger needs `logKey` or `dataDir` for its log key",
      );
    }
    signer = await loadOrCreateLogKey(keyDir, origin);
  }
  const store = opts.store ?? await KvStore.open(path!);
  try {
    const max = store.limits.maxBatchEntries;
    const maxBatch = opts.maxBatch ?? max;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1 || maxBatch > max) {
      throw new RangeError(`maxBatch must be an integer in [1, ${max}], got ${maxBatch}`);
    }
    const ledger = new Ledger(store, signer, origin, maxBatch, opts.onCommit, opts.storeTiles);
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
    return ledger;
  } catch (e) {
    store.close();
    throw e;
  }
}
