/**
 * The options of `openLedger`: where the log lives, its keys, and how
 * it is opened.
 *
 * @module
 */
import type { Ed25519NoteSigner } from "./note.ts";
import type { LedgerStore } from "./store.ts";
import type { MlDsa44Engine, MlDsa44NoteSigner } from "./witness/mldsa.ts";
import type { CommitInfo } from "./wire.ts";

/**
 * Options of `openLedger`.
 *
 * @example A ledger in a data directory keeps its log key there across reopenings
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLedger, type OpenLedgerOptions } from "./ledger.ts";
 * const dataDir = await Deno.makeTempDir();
 * try {
 *   const options: OpenLedgerOptions = { dataDir, origin: "example.org/log" };
 *   const first = await openLedger(options);
 *   const verifierKey = first.verifierKey;
 *   assert.ok(verifierKey.startsWith("example.org/log+"));
 *   await first.close();
 *   const again = await openLedger(options); // same directory: same log key
 *   assert.equal(again.verifierKey, verifierKey);
 *   await again.close();
 *   await assert.rejects(openLedger({ origin: "example.org/log" }), TypeError); // nowhere to store it
 * } finally {
 *   await Deno.remove(dataDir, { recursive: true });
 * }
 * ```
 */
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
   * The log's ML-DSA-44 checkpoint key (`PRIVATE+KEY+…` text of type 0x06,
   * or a signer), or `false` to sign checkpoints with Ed25519 only. Default:
   * load `DIR/log-key-mldsa44`, creating it unless `readOnly` or `audit`
   * (the directory is `dataDir`, else the KV file's directory); a store,
   * `:memory:` or remote ledger without `dataDir` gets no ML-DSA-44 key.
   */
  pqLogKey?: string | MlDsa44NoteSigner | false;
  /**
   * The ML-DSA-44 implementation that signs checkpoints when the key is
   * loaded from text or a file.
   * @default liboqs's where it loads, else nobleMlDsa44 (`defaultMlDsa44Engine()`
   * of `ledger/witness/mldsa_liboqs.ts`)
   */
  mlDsaEngine?: MlDsa44Engine;
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
   * Open without writing anything: a missing log key (Ed25519 or ML-DSA-44)
   * is never created — for the Ed25519 key that is an error, an existing
   * ML-DSA-44 key is still loaded — and the signed-head record is only
   * checked.
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * Open a mirror (a log copied by `ledger mirror`, which holds no signing
   * key) by the verifier key it pinned: read-only, every read works, appends
   * refuse; the origin is the key's name. Give it with `dataDir` or `path`.
   */
  mirrorKey?: string;
  /**
   * Accept a store that contradicts the signed-head record (`DIR/signed-head`,
   * see `ledger/signed_head.ts`): an emptied or replaced `ledger.kv` under the
   * existing log key starts a new log (whose checkpoints contradict the ones
   * already published). Without it, such a store is refused.
   * @default {false}
   */
  newLogUnderExistingKey?: boolean;
  /**
   * Called after each successful group commit (metrics): the new tree size,
   * how many entries the commit appended, and how many attempts it took
   * (more than one when another writer committed first).
   */
  onCommit?: (info: CommitInfo) => void;
  /**
   * Store the hash tiles each commit completes or grows, so serving a tile
   * is one read; `verifyLog` holds every stored tile to the tree. A Deno KV
   * log written before tiles were stored gets them built when a writer
   * opens it (not by `audit` or `readOnly` opens). `false` stores none (the
   * server then derives tiles from the stored hashes, same bytes) and is
   * honoured only for a store that holds none: once a store holds tiles,
   * every commit keeps them current, or its audit would name the stale one.
   * @default {true}
   */
  storeTiles?: boolean;
}
