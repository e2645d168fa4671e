/**
 * Group commit: `append` queues the envelope; one flush at a time takes
 * everything queued that fits one commit of the store
 * ({@link LedgerStore.commitBudget}), builds the leaves and the new stored
 * hashes on top of the head it read, signs a checkpoint for the new tree and
 * writes all of it in ONE atomic commit that checks the head's version (and
 * that none of the signed bodies is indexed yet: one signed body is one
 * entry, whatever its unsigned `receipt` and `timestamp` say). A caller's promise resolves
 * only after that commit succeeded, so an acknowledged entry is durable.
 * When another writer committed first, the check fails, nothing is written,
 * and the flush re-reads the head, resolves envelopes whose signed body is
 * now present as `existing` (the entry holding it), and retries with the
 * rest. An error whose outcome is unknown takes the same path: the
 * signed-body index tells which entries landed.
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
 * (origin, verifier key), and every later open checks it, so one store is
 * never extended under two keys.
 *
 * @module
 */
import { tilesForCommit } from "./tiles/store_tiles.ts";
import { sha256, toBase64, utf8Length } from "../core/bytes.ts";
import { resolveEnvelope, signedBodySha256 } from "../core/envelope.ts";
import { type ParsedEnvelope, PRIMITIVES } from "../core/envelope_types.ts";
import { datasetRelease, DpBlockError } from "../core/dp/budgets.ts";
import { signCheckpoint } from "./checkpoint.ts";
import { LedgerInputError, LedgerStateError } from "./errors.ts";
import { encodeLeaf, LEAF_VERSION } from "./leaf.ts";
import {
  type HashReader,
  leafHash,
  proveRecord,
  storedHashesForBatch,
  storedHashIndex,
  treeHash,
} from "./merkle/mod.ts";
import type { Ed25519NoteSigner, NoteSigner } from "./note.ts";
import type {
  EntrySize,
  LedgerMeta,
  LedgerStore,
  LogHead,
  NewEntry,
  VersionedHead,
} from "./store.ts";
import type { SignedHeadGuard } from "./signed_head.ts";
import type { BudgetCharge, PrivacyBudgetKeeper } from "./privacy_budget.ts";
import { formatTlogProof } from "./tlog_proof.ts";
import type { AppendResult, CommitInfo } from "./wire.ts";

interface Pending {
  env: ParsedEnvelope;
  /** SHA-256 of the whole canonical envelope (the leaf's `envelope_sha256`). */
  sha: Uint8Array;
  /** SHA-256 of the canonical signed body: the dedup key. */
  body: Uint8Array;
  canonical: Uint8Array;
  issuer: string;
  primitive: string;
  issuedAt: string;
  keyId: string;
  /** What it charges to a privacy budget (`privacy_budget.ts`). */
  charge: BudgetCharge;
  size: EntrySize;
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

/** The append side of a ledger: the queue and its group commits on one store. */
export class GroupCommit {
  readonly #storeTiles: boolean;
  readonly #store: LedgerStore;
  readonly #signers: readonly NoteSigner[];
  readonly #origin: string;
  readonly #meta: LedgerMeta;
  readonly #maxBatch: number;
  readonly #onCommit: ((info: CommitInfo) => void) | undefined;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #head: VersionedHead | null = null;
  /** The signed-head record (`ledger/signed_head.ts`), when the log keeps one. */
  signedHead: SignedHeadGuard | null = null;
  /** Privacy budgets (`ledger/privacy_budget.ts`), checked when configured. */
  budgets: PrivacyBudgetKeeper | null = null;

  /**
   * Append to `store` as log `origin`, signing checkpoints with `signer`
   * (Ed25519, the log's identity) and then each of `extraSigners` (the
   * ML-DSA-44 log key): Ed25519 first, so Go's `note` finds its line first.
   */
  constructor(
    store: LedgerStore,
    signer: Ed25519NoteSigner,
    origin: string,
    maxBatch: number,
    onCommit?: (info: CommitInfo) => void,
    extraSigners: readonly NoteSigner[] = [],
    storeTiles = false,
  ) {
    this.#storeTiles = storeTiles;
    this.#store = store;
    this.#signers = [signer, ...extraSigners];
    this.#origin = origin;
    this.#meta = { origin, verifierKey: signer.verifierKey() };
    this.#maxBatch = maxBatch;
    this.#onCommit = onCommit;
  }

  /** Resolves when nothing is queued or committing. */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /**
   * Queue an envelope; resolves after the commit holding it is durable (see
   * the module documentation).
   * @throws {LedgerInputError} when the envelope is too large or a field is too long.
   */
  append(env: ParsedEnvelope): Promise<AppendResult> {
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
    const max = this.#store.limits.maxEnvelopeBytes;
    if (env.canonical.length > max) {
      throw new LedgerInputError(
        "",
        `envelope is ${env.canonical.length} canonical bytes; the ledger stores at most ${max}`,
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
    let release;
    try {
      release = datasetRelease(v);
    } catch (e) {
      if (e instanceof DpBlockError) throw new LedgerInputError(e.pointer, e.message);
      throw e;
    }
    return {
      charge: { issuer, release },
      env: resolved,
      sha: sha256(canonical),
      body: signedBodySha256(resolved),
      canonical,
      issuer,
      primitive,
      issuedAt,
      keyId,
      size: {
        envelopeBytes: canonical.length,
        fieldBytes: utf8Length(issuer) + utf8Length(primitive) + utf8Length(issuedAt) +
          utf8Length(keyId),
      },
    };
  }

  /**
   * One flush at a time. A batch's receipts (proofs, tlog-proof texts) are
   * computed while its own commit is in flight, and delivered after it
   * succeeded. When at least as many appends are queued as the last batch
   * held, the next batch's commit is started before those receipts are
   * delivered, so that the delivery overlaps the store write; otherwise the
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
    const budget = this.#store.commitBudget();
    while (
      this.#queue.length > 0 && out.length < this.#maxBatch && budget.add(this.#queue[0].size)
    ) {
      out.push(this.#queue.shift()!);
    }
    return out;
  }

  /** Commit `batch`; resolves to the work that computes and delivers its receipts. */
  async #commitBatch(batch: Pending[]): Promise<(() => Promise<void>) | null> {
    // Same signed body twice in one batch (whatever their unsigned members):
    // the first is appended, the rest follow it.
    const leaders: Pending[] = [];
    const followers = new Map<string, Pending[]>();
    for (const p of batch) {
      const k = toBase64(p.body);
      const f = followers.get(k);
      if (f) f.push(p);
      else {
        followers.set(k, []);
        leaders.push(p);
      }
    }
    const settle = (p: Pending, r: AppendResult) => {
      p.resolve(r);
      for (const f of followers.get(toBase64(p.body)) ?? []) f.resolve({ ...r, existing: true });
    };
    let todo = leaders;
    for (let attempt = 0; todo.length > 0; attempt++) {
      const vh = this.#head ?? await this.#readHeadChecked();
      // Never sign on top of a store that lost signed entries.
      this.signedHead?.checkBase(vh.head);
      let outcome: { ok: true; results: () => Promise<AppendResult[]> } | {
        ok: false;
        error?: unknown;
      };
      // Privacy budgets: checked against the head this commit is conditioned on.
      const keeper = this.budgets?.active ? this.budgets : null;
      const refusals = keeper
        ? (await keeper.catchUp(vh.head.size), keeper.admit(todo.map((p) => p.charge)))
        : [];
      const admitted = keeper ? todo.filter((_, i) => refusals[i] === null) : todo;
      const refuse = async () => {
        const refused = todo.filter((_, i) => refusals[i]);
        const errors = refusals.filter((r) => r !== null);
        const fail = (p: Pending, e: unknown) =>
          [p, ...followers.get(toBase64(p.body)) ?? []].forEach((q) => q.reject(e));
        try {
          // A refused envelope already in the log is that entry (no new spend).
          const found = refused.length
            ? await this.#store.findBodies(refused.map((p) => p.body))
            : [];
          for (let i = 0; i < refused.length; i++) {
            const idx = found[i];
            if (idx === null) fail(refused[i], errors[i]);
            else settle(refused[i], await this.#existingResult(idx));
          }
        } catch (e) {
          refused.forEach((p) => fail(p, e)); // settling twice is a no-op
        }
      };
      if (admitted.length === 0) {
        await refuse();
        return null;
      }
      try {
        outcome = await this.#tryCommit(vh, admitted);
      } catch (e) {
        outcome = { ok: false, error: e };
      }
      if (outcome.ok) {
        const done = admitted;
        keeper?.record(vh.head.size, done.map((p) => p.charge));
        await refuse();
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
              for (const f of followers.get(toBase64(p.body)) ?? []) f.reject(e);
            }
          }
        };
      }
      // Lost a race, or the outcome is unknown: find out what is in the log now.
      this.#head = null;
      const err = outcome.error;
      if (err !== undefined && !this.#store.isTransient(err) && attempt >= 3) throw err;
      const found = await this.#store.findBodies(todo.map((p) => p.body));
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
    const vh = await this.#store.readHead();
    if (vh.version !== null) await this.#checkMeta();
    return vh;
  }

  async #checkMeta(): Promise<void> {
    const m = await this.#store.readMeta();
    if (m === null) throw new LedgerStateError("the store has a head but no ledger identity");
    if (m.origin !== this.#meta.origin || m.verifierKey !== this.#meta.verifierKey) {
      throw new LedgerStateError(
        `the store belongs to log ${JSON.stringify(m.origin)} with key ${m.verifierKey}, ` +
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
    const fresh = await storedHashesForBatch(n0, leafHashes, this.#store);
    const base = storedHashIndex(0, n0);
    const reader = overlay(this.#store, base, fresh);
    const size = n0 + todo.length;
    const root = await treeHash(size, reader);
    const checkpoint = await signCheckpoint({ origin: this.#origin, size, root }, this.#signers);
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
        bodySha256: p.body,
        issuer: p.issuer,
        primitive: p.primitive,
        issuedAt: p.issuedAt,
      });
      off += count;
    });
    const head: LogHead = { size, root, lastLeafHash: prev };
    const tiles = this.#storeTiles ? await tilesForCommit(n0, size, reader) : undefined;
    const committing = this.#store.commit(vh.version, {
      entries,
      head,
      checkpoint,
      meta: this.#meta,
      ...(tiles ? { tiles } : {}),
    });
    // The signed-head record's file is written and fsynced while the store
    // commits; it is put in place only after the commit succeeded.
    const staged = this.signedHead?.stage(head, checkpoint);
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
    const r = await committing.catch(async (e) => {
      await staged?.discard();
      throw e;
    });
    if (!r.ok) {
      await staged?.discard();
      if (vh.version === null) await this.#checkMeta().catch((e) => Promise.reject(e));
      return { ok: false };
    }
    this.#head = { head, version: r.version };
    const guard = this.signedHead;
    // The record is durable before the checkpoint leaves in a receipt.
    const results = async () => {
      if (guard) await guard.record(head, checkpoint, staged);
      return await receipts;
    };
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
    const vh = await this.#store.readHead();
    const e = await this.#store.readEntry(index);
    if (!e || index >= vh.head.size) {
      throw new LedgerStateError(`envelope index names entry ${index}, which is not in the log`);
    }
    const checkpoint = await this.#store.readCheckpoint(vh.head.size);
    if (checkpoint === null) {
      throw new LedgerStateError(`no checkpoint stored for tree size ${vh.head.size}`);
    }
    const proof = await proveRecord(vh.head.size, index, this.#store);
    if (this.signedHead) await this.signedHead.record(vh.head, checkpoint);
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
