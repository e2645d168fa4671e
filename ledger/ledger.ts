/**
 * The ledger: open a log on Deno KV, append envelopes with group commit,
 * read entries, prove inclusion and consistency, query, audit.
 *
 * ## Append, group commit and durability
 *
 * `append` queues the envelope; one flush at a time takes everything
 * queued (within Deno KV's per-commit limits), builds the leaves and the new
 * stored hashes on top of the head it read, signs a checkpoint for the new
 * tree and writes all of it in ONE atomic commit that checks the head's
 * versionstamp (and that none of the envelopes is indexed yet). A caller's
 * promise resolves only after that commit succeeded, so an acknowledged
 * entry is durable. When another process committed first, the check fails,
 * nothing is written, and the flush re-reads the head, resolves envelopes
 * that are now present as `existing`, and retries with the rest. An I/O
 * error whose outcome is unknown takes the same path: the envelope-hash
 * index tells which entries landed.
 *
 * ## Why the log never signs two inconsistent checkpoints
 *
 * A checkpoint is only ever published by the commit that stores it, and
 * that commit succeeds only if the head is still the version the tree was
 * built on; the new tree is that head's tree plus appended leaves. So the
 * stored checkpoints form one chain of extensions: each one's tree is a
 * prefix of every later one's. A checkpoint signed for a commit that then
 * fails is dropped in memory and never leaves the process (it is neither
 * stored nor returned). The first commit also stores the log's identity
 * (origin, verifier key), and every later open checks it, so one KV
 * database is never extended under two keys.
 *
 * @module
 */
import { utcTimeKey } from "./time_key.ts";
import { sha256, toBase64, utf8, utf8Length } from "../core/bytes.ts";
import { RegledgerError } from "../core/errors.ts";
import { resolveEnvelope } from "../core/envelope.ts";
import { type ParsedEnvelope, PRIMITIVES } from "../core/envelope_types.ts";
import { signCheckpoint } from "./checkpoint.ts";
import { encodeLeaf, LEAF_VERSION } from "./leaf.ts";
import {
  EMPTY_TREE_HASH,
  type HashReader,
  leafHash,
  proveRecord,
  proveTree,
  storedHashesForBatch,
  storedHashIndex,
  treeHash,
} from "./merkle/mod.ts";
import type { Ed25519NoteSigner } from "./note.ts";
import { formatTlogProof } from "./tlog_proof.ts";
import {
  isTransientKvError,
  KV_MAX_CHECKS,
  KV_MAX_COMMIT_BYTES,
  KV_MAX_MUTATIONS,
  KV_MAX_VALUE,
  KvStore,
  LedgerCorruptionError,
  MAX_ENVELOPE_BYTES,
} from "./kv_store.ts";
import { DEFAULT_ORIGIN, loadOrCreateLogKey, logKeyFromText } from "./log_key.ts";
import type { LedgerMeta, LogHead, NewEntry, VersionedHead } from "./store.ts";
import { verifyLog, type VerifyLogResult, type VerifyProgress } from "./verify_log.ts";

/** A bad argument (index or size out of range, malformed cursor): a 4xx, not a 5xx. */
export class LedgerRangeError extends RegledgerError {
  /** The argument at fault. */
  readonly argument: string;
  /** Build the error. */
  constructor(argument: string, message: string, options?: ErrorOptions) {
    super(`${argument}: ${message}`, options);
    this.argument = argument;
  }
}

/** An envelope the ledger cannot store (too large, a field too long): a 4xx. */
export class LedgerInputError extends RegledgerError {
  /** The envelope field at fault, as a JSON pointer ("" for the whole envelope). */
  readonly pointer: string;
  /** Build the error. */
  constructor(pointer: string, message: string, options?: ErrorOptions) {
    super(`${pointer || "/"}: ${message}`, options);
    this.pointer = pointer;
  }
}

/** The KV database belongs to another log (other origin or key), or the ledger is closed. */
export class LedgerStateError extends RegledgerError {}

/** The receipt of an append (CONTRACT §5 `POST /v1/envelopes`). */
export interface AppendResult {
  /** The entry's index. */
  index: number;
  /** Tree size the proof and checkpoint are for. */
  tree_size: number;
  /** base64 RFC 6962 leaf hash. */
  leaf_hash: string;
  /** base64 SHA-256 of the envelope's canonical bytes. */
  envelope_sha256: string;
  /** Signed C2SP checkpoint for `tree_size`. */
  checkpoint: string;
  /** base64 RFC 6962 audit path, leaf to root. */
  inclusion_proof: string[];
  /** C2SP `tlog-proof@v1` receipt (leaf bytes in `extra`). */
  tlog_proof: string;
  /** True when the envelope was already in the log (nothing was appended). */
  existing: boolean;
}

/** One log entry as served (`GET /v1/log/entries/{index}`). */
export interface LogEntry {
  /** The entry's index. */
  index: number;
  /** base64 of the exact leaf bytes. */
  leaf: string;
  /** base64 RFC 6962 leaf hash. */
  leaf_hash: string;
  /**
   * The envelope's canonical text (JCS, or for legacy envelopes Python's
   * form with numbers as received). Use {@link entryToJson} to embed it
   * raw, so numbers such as `1.0` survive. (A legacy envelope holding
   * Python's `NaN`/`Infinity` extension is stored as received, so its text
   * is not strict JSON.)
   */
  envelope: string;
}

/** An inclusion proof (`GET /v1/log/proof/inclusion`). */
export interface InclusionProofJson {
  /** Entry index. */
  index: number;
  /** Tree size the proof is for. */
  tree_size: number;
  /** base64 leaf hash. */
  leaf_hash: string;
  /** base64 audit path. */
  proof: string[];
}

/** A consistency proof (`GET /v1/log/proof/consistency`). */
export interface ConsistencyProofJson {
  /** Older tree size. */
  first: number;
  /** Newer tree size. */
  second: number;
  /** base64 RFC 6962 §2.1.2 proof. */
  proof: string[];
}

/** One query hit. */
export interface EntrySummary {
  /** Entry index. */
  index: number;
  /** Envelope `issued_at`. */
  issued_at: string;
  /** Envelope `issuer`. */
  issuer: string;
  /** Envelope `primitive`. */
  primitive: string;
  /** Envelope `receipt.key_id`. */
  key_id: string;
  /** base64 envelope SHA-256. */
  envelope_sha256: string;
  /** base64 leaf hash. */
  leaf_hash: string;
}

/** Query options: any combination; results in (issued_at, index) order. */
export interface QueryOptions {
  /** Only this issuer. */
  issuer?: string;
  /** Only this primitive. */
  primitive?: string;
  /** `issued_at >= from`, compared as instants (any RFC 3339 offset and precision). */
  from?: string;
  /** `issued_at < to`, compared as instants. */
  to?: string;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  /**
   * Page size, 1 to 1000.
   * @default {100}
   */
  limit?: number;
}

/** A page of query results. */
export interface QueryResult {
  /** The hits. */
  entries: EntrySummary[];
  /** Cursor for the next page, null at the end. */
  next_cursor: string | null;
}

/** Options of {@link openLedger}. */
export interface OpenLedgerOptions {
  /**
   * Data directory: the KV file is `DIR/ledger.kv`, the log key `DIR/log-key`.
   * Give this or `path`.
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
   * Most entries per group commit (at most 98: one KV check per entry plus the head's).
   * @default {98}
   */
  maxBatch?: number;
  /**
   * Called after each successful group commit (metrics): the new tree size,
   * how many entries the commit appended, and how many attempts it took
   * (more than one when another writer committed first).
   */
  onCommit?: (info: CommitInfo) => void;
}

/** What {@link OpenLedgerOptions.onCommit} reports for one commit. */
export interface CommitInfo {
  /** Tree size after the commit. */
  tree_size: number;
  /** Entries appended by the commit. */
  entries: number;
  /** Commit attempts (1 when no other writer interfered). */
  attempts: number;
}

interface Pending {
  env: ParsedEnvelope;
  sha: Uint8Array;
  canonical: Uint8Array;
  issuer: string;
  primitive: string;
  issuedAt: string;
  keyId: string;
  bytes: number;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

const MAX_FIELD_BYTES = { issuer: 512, primitive: 64, issued_at: 64, key_id: 512 } as const;

function fieldString(v: Record<string, unknown>, name: keyof typeof MAX_FIELD_BYTES): string {
  const pointer = name === "key_id" ? "/receipt/key_id" : `/${name}`;
  const x = name === "key_id"
    ? (v.receipt as Record<string, unknown> | undefined)?.key_id
    : v[name];
  if (typeof x !== "string" || x.length === 0) {
    throw new LedgerInputError(pointer, "must be a non-empty string");
  }
  if (utf8Length(x) > MAX_FIELD_BYTES[name]) {
    throw new LedgerInputError(pointer, `must be at most ${MAX_FIELD_BYTES[name]} UTF-8 bytes`);
  }
  return x;
}

function checkIndexArg(name: string, v: unknown, min = 0): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new LedgerRangeError(name, `must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

/** Embed an entry as JSON with its canonical envelope text spliced in raw. */
export function entryToJson(entry: LogEntry): string {
  return `{"index":${entry.index},"leaf":${JSON.stringify(entry.leaf)},"leaf_hash":${
    JSON.stringify(entry.leaf_hash)
  },"envelope":${entry.envelope}}`;
}

function encodeCursor(issuedAt: string, index: number): string {
  return toBase64(utf8(JSON.stringify([issuedAt, index])));
}

function decodeCursor(c: string): { issuedAt: string; index: number } {
  try {
    const v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(c), (ch) => ch.charCodeAt(0)),
    ));
    if (
      Array.isArray(v) && v.length === 2 && typeof v[0] === "string" &&
      Number.isSafeInteger(v[1]) && v[1] >= 0
    ) return { issuedAt: v[0], index: v[1] };
  } catch {
    // fall through
  }
  throw new LedgerRangeError("cursor", "is not a cursor returned by query");
}

/** A ledger opened by {@link openLedger}. */
export class Ledger {
  /** The log's verifier key (Go note format). */
  readonly verifierKey: string;
  /** The checkpoint origin. */
  readonly origin: string;
  /** The storage (for audits and tests). */
  readonly store: KvStore;
  #signer: Ed25519NoteSigner;
  #meta: LedgerMeta;
  #maxBatch: number;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #head: VersionedHead | null = null;
  #closed = false;

  #onCommit: ((info: CommitInfo) => void) | undefined;

  /** Use {@link openLedger}. */
  constructor(
    store: KvStore,
    signer: Ed25519NoteSigner,
    origin: string,
    maxBatch: number,
    onCommit?: (info: CommitInfo) => void,
  ) {
    this.#onCommit = onCommit;
    this.store = store;
    this.#signer = signer;
    this.origin = origin;
    this.verifierKey = signer.verifierKey();
    this.#meta = { origin, verifierKey: this.verifierKey };
    this.#maxBatch = maxBatch;
  }

  /**
   * Append an envelope (already verified by the caller against its trust
   * policy). Resolves after the commit holding it is durable; the same
   * envelope again resolves to its existing entry with `existing: true`.
   *
   * @throws {LedgerInputError} when the envelope is too large or a field is too long.
   * @throws {LedgerStateError} when the ledger is closed or the KV database belongs to another log.
   */
  append(env: ParsedEnvelope): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new LedgerStateError("ledger is closed"));
    let p: Omit<Pending, "resolve" | "reject">;
    try {
      p = this.#prepare(env);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ ...p, resolve, reject });
      if (!this.#flushing) this.#flushing = this.#flush();
    });
  }

  #prepare(env: ParsedEnvelope): Omit<Pending, "resolve" | "reject"> {
    if (!env || !(env.canonical instanceof Uint8Array)) {
      throw new LedgerInputError("", "not a parsed envelope (use parseEnvelopeText)");
    }
    if (env.canonical.length > MAX_ENVELOPE_BYTES) {
      throw new LedgerInputError(
        "",
        `envelope is ${env.canonical.length} canonical bytes; the ledger stores at most ${MAX_ENVELOPE_BYTES}`,
      );
    }
    // Trust only bytes derived by core/envelope.ts from the canonical form.
    const resolved = resolveEnvelope(env).envelope;
    const v = resolved.value as unknown as Record<string, unknown>;
    const canonical = resolved.canonical;
    const issuer = fieldString(v, "issuer");
    const primitive = fieldString(v, "primitive");
    if (!(PRIMITIVES as readonly string[]).includes(primitive)) {
      throw new LedgerInputError("/primitive", `must be one of ${PRIMITIVES.join(", ")}`);
    }
    const issuedAt = fieldString(v, "issued_at");
    const keyId = fieldString(v, "key_id");
    return {
      env: resolved,
      sha: sha256(canonical),
      canonical,
      issuer,
      primitive,
      issuedAt,
      keyId,
      // Commit-size budget, conservatively: the envelope, the leaf (which
      // repeats issuer, issued_at and key_id), up to 64 stored hashes, the
      // index keys (issuer and issued_at again), and key/encoding overhead.
      bytes: canonical.length +
        3 * (utf8Length(issuer) + utf8Length(issuedAt)) + utf8Length(keyId) + 64 * 32 + 1024,
    };
  }

  /**
   * One flush at a time. A batch's receipts (proofs, tlog-proof texts) are
   * computed while its own commit is in flight, and delivered after it
   * succeeded. When at least as many appends are queued as the last batch
   * held, the next batch's commit is started before those receipts are
   * delivered, so that the delivery overlaps the KV write; otherwise the
   * receipts go first, so that their callers' next appends join the batch.
   */
  async #flush(): Promise<void> {
    let deferred: { size: number; run: () => Promise<void> } | null = null;
    try {
      for (;;) {
        // Callers waiting for receipts usually append again at once (a
        // closed loop): when fewer appends are queued than the last batch
        // had, deliver its receipts first so their next appends join the
        // next batch instead of splitting it.
        if (deferred && this.#queue.length < Math.min(deferred.size, this.#maxBatch)) {
          const d: () => Promise<void> = deferred.run;
          deferred = null;
          await d();
          continue;
        }
        if (this.#queue.length === 0) break;
        const batch = this.#take();
        const committing = this.#commitBatch(batch).catch((e) => {
          for (const p of batch) p.reject(e);
          return null;
        });
        if (deferred) {
          const d: () => Promise<void> = deferred.run;
          deferred = null;
          await d();
        }
        const run = await committing;
        deferred = run ? { size: batch.length, run } : null;
      }
    } finally {
      this.#flushing = null;
    }
  }

  #take(): Pending[] {
    const out: Pending[] = [];
    let bytes = 4096;
    let mutations = 3;
    while (this.#queue.length > 0 && out.length < this.#maxBatch) {
      const p = this.#queue[0];
      const m = 4 + Math.ceil(p.canonical.length / KV_MAX_VALUE);
      if (
        out.length > 0 &&
        (bytes + p.bytes > KV_MAX_COMMIT_BYTES || mutations + m > KV_MAX_MUTATIONS)
      ) {
        break;
      }
      out.push(this.#queue.shift()!);
      bytes += p.bytes;
      mutations += m;
    }
    return out;
  }

  /** Commit `batch`; resolves to the work that computes and delivers its receipts. */
  async #commitBatch(batch: Pending[]): Promise<(() => Promise<void>) | null> {
    // Same envelope twice in one batch: the first is appended, the rest follow it.
    const leaders: Pending[] = [];
    const followers = new Map<string, Pending[]>();
    for (const p of batch) {
      const k = toBase64(p.sha);
      const f = followers.get(k);
      if (f) f.push(p);
      else {
        followers.set(k, []);
        leaders.push(p);
      }
    }
    const settle = (p: Pending, r: AppendResult) => {
      p.resolve(r);
      for (const f of followers.get(r.envelope_sha256) ?? []) f.resolve({ ...r, existing: true });
    };
    let todo = leaders;
    for (let attempt = 0; todo.length > 0; attempt++) {
      const vh = this.#head ?? await this.#readHeadChecked();
      let outcome: { ok: true; results: () => Promise<AppendResult[]> } | {
        ok: false;
        error?: unknown;
      };
      try {
        outcome = await this.#tryCommit(vh, todo);
      } catch (e) {
        outcome = { ok: false, error: e };
      }
      if (outcome.ok) {
        const done = todo;
        try {
          this.#onCommit?.({
            tree_size: this.#head!.head.size,
            entries: done.length,
            attempts: attempt + 1,
          });
        } catch {
          // A metrics hook never fails an append.
        }
        const results = outcome.results;
        return async () => {
          try {
            const rs = await results();
            done.forEach((p, i) => settle(p, rs[i]));
          } catch (e) {
            // The entries are committed; only building their receipts failed.
            for (const p of done) {
              p.reject(e);
              for (const f of followers.get(toBase64(p.sha)) ?? []) f.reject(e);
            }
          }
        };
      }
      // Lost a race, or the outcome is unknown: find out what is in the log now.
      this.#head = null;
      const err = outcome.error;
      if (err !== undefined && !isTransientKvError(err) && attempt >= 3) throw err;
      const found = await this.store.findEnvelopes(todo.map((p) => p.sha));
      const rest: Pending[] = [];
      for (let i = 0; i < todo.length; i++) {
        const idx = found[i];
        if (idx === null) rest.push(todo[i]);
        else settle(todo[i], await this.#existingResult(idx));
      }
      todo = rest;
      if (attempt > 2 && todo.length > 0) {
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(20, attempt)));
      }
    }
    return null;
  }

  async #readHeadChecked(): Promise<VersionedHead> {
    const vh = await this.store.readHead();
    if (vh.version !== null) await this.#checkMeta();
    return vh;
  }

  async #checkMeta(): Promise<void> {
    const m = await this.store.readMeta();
    if (m === null) throw new LedgerStateError("KV database has a head but no ledger identity");
    if (m.origin !== this.#meta.origin || m.verifierKey !== this.#meta.verifierKey) {
      throw new LedgerStateError(
        `KV database belongs to log ${JSON.stringify(m.origin)} with key ${m.verifierKey}, ` +
          `not ${JSON.stringify(this.#meta.origin)} with key ${this.#meta.verifierKey}`,
      );
    }
  }

  async #tryCommit(
    vh: VersionedHead,
    todo: Pending[],
  ): Promise<{ ok: true; results: () => Promise<AppendResult[]> } | { ok: false }> {
    const n0 = vh.head.size;
    const leaves: Uint8Array[] = [];
    const leafHashes: Uint8Array[] = [];
    let prev = vh.head.lastLeafHash;
    todo.forEach((p, i) => {
      const leaf = encodeLeaf({
        envelope_sha256: toBase64(p.sha),
        index: n0 + i,
        issued_at: p.issuedAt,
        issuer: p.issuer,
        key_id: p.keyId,
        prev: toBase64(prev),
        primitive: p.primitive,
        v: LEAF_VERSION,
      });
      leaves.push(leaf);
      prev = leafHash(leaf);
      leafHashes.push(prev);
    });
    const fresh = await storedHashesForBatch(n0, leafHashes, this.store);
    const base = storedHashIndex(0, n0);
    const reader = overlay(this.store, base, fresh);
    const size = n0 + todo.length;
    const root = await treeHash(size, reader);
    const checkpoint = await signCheckpoint({ origin: this.origin, size, root }, [this.#signer]);
    const entries: NewEntry[] = [];
    let off = 0;
    todo.forEach((p, i) => {
      const count = storedHashIndex(0, n0 + i + 1) - storedHashIndex(0, n0 + i);
      entries.push({
        index: n0 + i,
        leaf: leaves[i],
        hashes: fresh.slice(off, off + count),
        endsCommit: i === todo.length - 1,
        envelope: p.canonical,
        envelopeSha256: p.sha,
        issuer: p.issuer,
        primitive: p.primitive,
        issuedAt: p.issuedAt,
      });
      off += count;
    });
    const head: LogHead = { size, root, lastLeafHash: prev };
    const committing = this.store.commit(vh.version, {
      entries,
      head,
      checkpoint,
      meta: this.#meta,
    });
    // The receipts (proofs, tlog-proof texts) depend only on the new tree, so
    // they are computed while the commit is in flight; they are handed out
    // only if it succeeds, and dropped otherwise.
    const receipts = (async () => {
      const out: AppendResult[] = [];
      for (let i = 0; i < todo.length; i++) {
        const proof = await proveRecord(size, n0 + i, reader);
        out.push(
          this.#result(
            n0 + i,
            size,
            leaves[i],
            leafHashes[i],
            todo[i].sha,
            checkpoint,
            proof,
            false,
          ),
        );
      }
      return out;
    })();
    receipts.catch(() => {}); // a failure is reported when the receipts are delivered
    const r = await committing;
    if (!r.ok) {
      if (vh.version === null) await this.#checkMeta().catch((e) => Promise.reject(e));
      return { ok: false };
    }
    this.#head = { head, version: r.version };
    this.store.rememberHashes(base, fresh);
    const results = () => receipts;
    return { ok: true, results };
  }

  #result(
    index: number,
    size: number,
    leaf: Uint8Array,
    lh: Uint8Array,
    sha: Uint8Array,
    checkpoint: string,
    proof: Uint8Array[],
    existing: boolean,
  ): AppendResult {
    return {
      index,
      tree_size: size,
      leaf_hash: toBase64(lh),
      envelope_sha256: toBase64(sha),
      checkpoint,
      inclusion_proof: proof.map((h) => toBase64(h)),
      tlog_proof: formatTlogProof({ extra: leaf, index, proof, checkpoint }),
      existing,
    };
  }

  async #existingResult(index: number): Promise<AppendResult> {
    const vh = await this.store.readHead();
    const e = await this.store.readEntry(index);
    if (!e || index >= vh.head.size) {
      throw new LedgerStateError(`envelope index names entry ${index}, which is not in the log`);
    }
    const checkpoint = await this.store.readCheckpoint(vh.head.size);
    if (checkpoint === null) {
      throw new LedgerStateError(`no checkpoint stored for tree size ${vh.head.size}`);
    }
    const proof = await proveRecord(vh.head.size, index, this.store);
    return this.#result(
      index,
      vh.head.size,
      e.leaf,
      e.hashes[0],
      sha256(e.envelope),
      checkpoint,
      proof,
      true,
    );
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
   * Entries by issuer, primitive and issue-time range, paginated.
   * @throws {LedgerRangeError} for a bad limit or cursor.
   */
  async query(opts: QueryOptions = {}): Promise<QueryResult> {
    const limit = opts.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
      throw new LedgerRangeError("limit", `must be an integer in [1, 1000], got ${String(limit)}`);
    }
    for (const k of ["issuer", "primitive", "from", "to"] as const) {
      const v = opts[k];
      if (v !== undefined && (typeof v !== "string" || utf8Length(v) > 512)) {
        throw new LedgerRangeError(k, "must be a string of at most 512 bytes");
      }
    }
    // Bounds compare with the index keys' UTC form, whatever offset the caller wrote.
    const bound = (k: "from" | "to") => {
      const v = opts[k];
      if (v === undefined) return undefined;
      // A full date alone means its midnight UTC.
      const key = utcTimeKey(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
      if (key === undefined) {
        throw new LedgerRangeError(k, "must be an RFC 3339 date-time (or a full date)");
      }
      return key;
    };
    const from = bound("from");
    const to = bound("to");
    const after = opts.cursor !== undefined && opts.cursor !== null
      ? decodeCursor(opts.cursor)
      : undefined;
    const hits = await this.store.scanIndex({
      issuer: opts.issuer,
      primitive: opts.primitive,
      from,
      to,
      after,
    }, limit + 1);
    const more = hits.length > limit;
    const page = hits.slice(0, limit);
    const entries: EntrySummary[] = [];
    for (const h of page) {
      const e = await this.store.readEntry(h.index);
      if (!e) throw new LedgerStateError(`index names missing entry ${h.index}`);
      const leaf = JSON.parse(new TextDecoder().decode(e.leaf)) as Record<string, string>;
      entries.push({
        index: h.index,
        issued_at: leaf.issued_at,
        issuer: leaf.issuer,
        primitive: leaf.primitive,
        key_id: leaf.key_id,
        envelope_sha256: leaf.envelope_sha256,
        leaf_hash: toBase64(e.hashes[0]),
      });
    }
    const last = page[page.length - 1];
    return { entries, next_cursor: more && last ? encodeCursor(last.issuedAt, last.index) : null };
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
    while (this.#flushing) await this.#flushing;
    this.store.close();
  }
}

function overlay(store: HashReader, base: number, fresh: Uint8Array[]): HashReader {
  return {
    async readHashes(indexes: number[]): Promise<Uint8Array[]> {
      const old = indexes.filter((i) => i < base);
      const got = old.length > 0 ? await store.readHashes(old) : [];
      let j = 0;
      return indexes.map((i) => {
        if (i < base) return got[j++];
        const h = fresh[i - base];
        if (!h) throw new RangeError(`no stored hash at index ${i}`);
        return h;
      });
    },
  };
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

/**
 * Open (creating on first use) a ledger.
 *
 * @example
 * ```ts ignore
 * import { openLedger } from "./ledger.ts";
 * const ledger = await openLedger({ dataDir: "./data" });
 * console.log(ledger.verifierKey, await ledger.size());
 * await ledger.close();
 * ```
 *
 * @throws {TypeError} when neither `dataDir` nor `path` is given, or a
 *   memory/remote path comes without a key.
 * @throws {LogKeyError} when the log key is malformed or names another origin.
 * @throws {LedgerStateError} when the database belongs to another log.
 */
export async function openLedger(opts: OpenLedgerOptions): Promise<Ledger> {
  const origin = opts.origin ?? DEFAULT_ORIGIN;
  const maxBatch = opts.maxBatch ?? KV_MAX_CHECKS - 2;
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1 || maxBatch > KV_MAX_CHECKS - 2) {
    throw new RangeError(
      `maxBatch must be an integer in [1, ${KV_MAX_CHECKS - 2}], got ${maxBatch}`,
    );
  }
  let path = opts.path;
  if (path === undefined) {
    if (!opts.dataDir) throw new TypeError("openLedger needs `dataDir` or `path`");
    await Deno.mkdir(opts.dataDir, { recursive: true });
    path = `${opts.dataDir}/ledger.kv`;
  }
  const remote = /^https?:\/\//i.test(path);
  if (remote && !/^https:\/\//i.test(path)) {
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
    const keyDir = opts.dataDir ?? (remote || path === ":memory:" ? undefined : dirname(path));
    if (keyDir === undefined) {
      throw new TypeError(
        "a :memory: or remote ledger needs `logKey` or `dataDir` for its log key",
      );
    }
    signer = await loadOrCreateLogKey(keyDir, origin);
  }
  const store = await KvStore.open(path);
  const ledger = new Ledger(store, signer, origin, maxBatch, opts.onCommit);
  try {
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
        `KV database belongs to log ${JSON.stringify(meta.origin)} with key ${meta.verifierKey}, ` +
          `not ${JSON.stringify(origin)} with key ${ledger.verifierKey}`,
      );
    }
  } catch (e) {
    store.close();
    throw e;
  }
  return ledger;
}
