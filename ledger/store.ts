/**
 * The ledger's storage interface: a small reader/writer that the ledger
 * logic (group commit, proofs, audit) is written against, in the spirit of
 * tlog's one-method `ReadHashes`. `ledger/kv_store.ts` implements it on
 * Deno KV and `ledger/memory_store.ts` in memory; the Merkle math only ever
 * sees the {@link HashReader} half. Nothing above a store knows its keys or
 * its engine's limits: the group commit asks {@link LedgerStore.commitBudget}
 * how much one commit holds, and the audit (`verifyLog`) reads the derived
 * records through {@link LedgerStore.scanDerived}. The contract every store
 * meets is the test suite in `tests/ledger/store_contract.ts`.
 *
 * Every write goes through {@link LedgerStore.commit}: one atomic batch that
 * succeeds only if the head is still the version the writer read, so two
 * writers can never both extend the same head (no fork, no skipped index).
 *
 * @module
 */
import type { HashReader } from "./merkle/mod.ts";

/** The log's head: what the latest commit made the tree. */
export interface LogHead {
  /** Number of entries. */
  size: number;
  /** RFC 6962 root of the first `size` entries (SHA-256 of "" when empty). */
  root: Uint8Array;
  /** Leaf hash of entry `size - 1` (32 zero bytes when empty): the next entry's `prev`. */
  lastLeafHash: Uint8Array;
}

/** The head together with the opaque version a commit must check against. */
export interface VersionedHead {
  /** The head (size 0 for a fresh store). */
  head: LogHead;
  /** Opaque version of the stored head; `null` when no head was ever written. */
  version: string | null;
}

/** One log entry as stored. */
export interface StoredEntry {
  /** Position in the log. */
  index: number;
  /** Exact leaf bytes (the RFC 6962 leaf). */
  leaf: Uint8Array;
  /**
   * The stored hashes this entry's append wrote, starting at stored hash
   * index `storedHashIndex(0, index)`: the leaf hash, then one node hash per
   * subtree the entry completed (tlog.StoredHashes).
   */
  hashes: Uint8Array[];
  /** Whether this entry was the last of its commit (a checkpoint is stored for size `index + 1`). */
  endsCommit: boolean;
  /** The envelope's canonical bytes. */
  envelope: Uint8Array;
}

/** What a commit writes for one new entry. */
export interface NewEntry extends StoredEntry {
  /** SHA-256 of `envelope` (the leaf's `envelope_sha256`; indexed too). */
  envelopeSha256: Uint8Array;
  /**
   * SHA-256 of the envelope's canonical signed body: the dedup key (one
   * signed body is one entry, `docs/formats.md` §2.6). A commit fails when
   * any of its entries' bodies is already indexed.
   */
  bodySha256: Uint8Array;
  /** Envelope `issuer` (secondary index). */
  issuer: string;
  /** Envelope `primitive` (secondary index). */
  primitive: string;
  /** Envelope `issued_at` (secondary index, ordering of queries). */
  issuedAt: string;
}

/**
 * The latest version of one C2SP hash tile (`ledger/tiles/`): `data` is the
 * tile's hashes, 32 bytes each, 1 to 256 of them. A commit writes every
 * tile it completes or grows (`newHashTiles`), so a server answers any tile
 * path with one read of the stored version and a cut to the path's width.
 */
export interface StoredTile {
  /** Tile level (0 holds leaf hashes). */
  level: number;
  /** Tile index within its level. */
  n: number;
  /** The tile's hashes, concatenated (a multiple of 32 bytes, at most 8 KiB). */
  data: Uint8Array;
}

/** A write batch: entries `head.size - entries.length …` plus the new head and its checkpoint. */
export interface CommitBatch {
  /** The new entries, consecutive, starting at the old head's size. */
  entries: NewEntry[];
  /** The head after the batch. */
  head: LogHead;
  /** The signed checkpoint text for `head` (stored under its tree size). */
  checkpoint: string;
  /** Ledger identity (origin and verifier key) written once, checked forever after. */
  meta: LedgerMeta;
  /**
   * The hash tiles the batch completes or grows (full tiles it finishes and
   * the partial tiles of the new size), each replacing any stored version.
   * Absent: the store keeps no tiles for this batch and readers derive them.
   */
  tiles?: StoredTile[];
}

/** Result of {@link LedgerStore.commit}. */
export type CommitResult =
  | { ok: true; version: string }
  | { ok: false };

/** The identity a store was created with. */
export interface LedgerMeta {
  /** Checkpoint origin line. */
  origin: string;
  /** Verifier key in Go note format. */
  verifierKey: string;
}

/** A secondary-index selection for {@link LedgerStore.scanIndex}. */
export interface IndexSelector {
  /** Only entries with this issuer. */
  issuer?: string;
  /** Only entries with this primitive. */
  primitive?: string;
  /** Only entries with index time >= from (UTC keys, `ledger/time_key.ts`: text order is time order). */
  from?: string;
  /** Only entries with index time < to (UTC key). */
  to?: string;
  /** Resume strictly after this (issued_at, index) position. */
  after?: { issuedAt: string; index: number };
}

/** One secondary-index hit. */
export interface IndexHit {
  /** Entry index. */
  index: number;
  /** The entry's `issued_at`. */
  issuedAt: string;
}

/** One stored checkpoint. */
export interface StoredCheckpoint {
  /** The tree size it is for. */
  size: number;
  /** The signed checkpoint text. */
  text: string;
}

/** What one entry adds to a commit, for {@link CommitBudget.add}. */
export interface EntrySize {
  /** Canonical envelope bytes. */
  envelopeBytes: number;
  /** UTF-8 bytes of `issuer`, `primitive`, `issued_at` and `key_id` together. */
  fieldBytes: number;
}

/** A commit being filled: it takes entries while they fit in one atomic commit of the store. */
export interface CommitBudget {
  /**
   * Count `entry` in if it fits; false (nothing counted) when it does not.
   * The first entry always fits (the store refuses larger envelopes up
   * front, see {@link StoreLimits.maxEnvelopeBytes}).
   */
  add(entry: EntrySize): boolean;
}

/** Fixed limits of a store. */
export interface StoreLimits {
  /** Largest envelope (canonical bytes) the store keeps. */
  maxEnvelopeBytes: number;
  /** Most entries one commit may hold. */
  maxBatchEntries: number;
}

/**
 * One derived record a store keeps beside the entries (what an audit checks
 * against the entries): the envelope-hash index, the signed-body index (one
 * record per distinct signed body, naming the first entry holding it), the issuer and primitive
 * indexes (`time` is the entry's `issued_at` as a UTC index key,
 * `ledger/time_key.ts`), or a stored record the store cannot attribute to
 * any entry (`unaccounted`, with what it is).
 */
export type DerivedRecord =
  | { kind: "envelope"; sha256: Uint8Array; index: number }
  | { kind: "body"; sha256: Uint8Array; index: number }
  | { kind: "issuer"; issuer: string; time: string; index: number }
  | { kind: "primitive"; primitive: string; time: string; index: number }
  | { kind: "unaccounted"; what: string; index?: number };

/** Storage of one ledger. All methods may be called concurrently. */
export interface LedgerStore extends HashReader {
  /** The store's fixed limits. */
  readonly limits: StoreLimits;
  /** A fresh budget for one commit (the group commit fills a batch with it). */
  commitBudget(): CommitBudget;
  /** The current head and its version. */
  readHead(): Promise<VersionedHead>;
  /** The stored ledger identity, or null before the first commit. */
  readMeta(): Promise<LedgerMeta | null>;
  /** Entry indexes of envelopes by SHA-256 of the whole canonical envelope (null where absent), in order. */
  findEnvelopes(sha256s: Uint8Array[]): Promise<(number | null)[]>;
  /**
   * Entry indexes by SHA-256 of the canonical signed body (null where
   * absent), in order: the entry holding that body (the first one, in a log
   * written before the signed-body index existed).
   */
  findBodies(sha256s: Uint8Array[]): Promise<(number | null)[]>;
  /** Entry `index`, or null when absent. */
  readEntry(index: number): Promise<StoredEntry | null>;
  /**
   * Entries in [start, end), in order; stops early at the first missing one.
   * @throws {LedgerCorruptionError} naming the entry when stored data does not decode.
   */
  readEntries(start: number, end: number): Promise<StoredEntry[]>;
  /**
   * The latest stored version of hash tile (`level`, `n`), or null when
   * none is stored (a log written before tiles were stored: the caller
   * derives it from {@link readHashes}, see `ledger/tiles/store_tiles.ts`).
   * One read.
   */
  readTile(level: number, n: number): Promise<Uint8Array | null>;
  /** The checkpoint stored for tree size `size`, or null. */
  readCheckpoint(size: number): Promise<string | null>;
  /**
   * Every stored checkpoint for a tree size in [start, end), in size order.
   * @throws {LedgerCorruptionError} when a stored checkpoint or its key does not decode.
   */
  readCheckpoints(start: number, end: number): AsyncIterable<StoredCheckpoint>;
  /**
   * Atomically write `batch` if the head is still at `expectedVersion`
   * (and none of the batch's signed bodies or envelopes is already indexed). Returns
   * `{ok: false}` when another writer got there first; may throw on I/O
   * errors, in which case the batch may or may not have been written. The
   * batch must fit one {@link commitBudget}.
   */
  commit(expectedVersion: string | null, batch: CommitBatch): Promise<CommitResult>;
  /** Secondary-index hits in (issued_at, index) order, at most `limit`. */
  scanIndex(selector: IndexSelector, limit: number): Promise<IndexHit[]>;
  /**
   * For an audit: every derived record the store holds, in any order,
   * leaving out those of entries at or beyond `size` (appended after the
   * audit read the head). Anything stored that is neither an entry, a
   * checkpoint, the head, the identity nor a derived record the store can
   * attribute comes out as `unaccounted`.
   */
  scanDerived(size: number): AsyncIterable<DerivedRecord>;
  /**
   * Whether an error thrown by {@link commit} or a read is transient
   * contention (a lock, a serialization failure) worth retrying at once.
   */
  isTransient(error: unknown): boolean;
  /** Release the store. */
  close(): void;
}
