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
import { sha256, toBase64 } from "../core/bytes.ts";
import type { ParsedEnvelope } from "../core/envelope_types.ts";
import { signCheckpoint } from "./checkpoint.ts";
import { LedgerStateError } from "./errors.ts";
import { proveRecord } from "./merkle/mod.ts";
import { proveRecords } from "./merkle/batch_prove.ts";
import type { Ed25519NoteSigner, NoteSigner } from "./note.ts";
import type { LedgerMeta, LedgerStore, VersionedHead } from "./store.ts";
import type { SignedHeadGuard } from "./signed_head.ts";
import type { PrivacyBudgetKeeper } from "./privacy_budget.ts";
import type { AppendResult, CommitInfo } from "./wire.ts";
import { type Pending, prepareAppend, type PreparedAppend } from "./group_commit_input.ts";
import { answerRefusals, checkBudgets } from "./group_commit_budget.ts";
import { appendResult, batchEntries, buildBatchTree } from "./group_commit_tree.ts";

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
    let p: PreparedAppend;
    try {
      p = prepareAppend(env, this.#store.limits.maxEnvelopeBytes);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ ...p, resolve, reject });
      if (!this.#flushing) this.#flushing = this.#flush();
    });
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
      const { keeper, refusals, admitted } = await checkBudgets(this.budgets, vh.head.size, todo);
      const refuse = () =>
        answerRefusals(
          this.#store,
          todo,
          refusals,
          (p, e) => [p, ...followers.get(toBase64(p.body)) ?? []].forEach((q) => q.reject(e)),
          async (p, idx) => settle(p, await this.#existingResult(idx)),
        );
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
    const tree = await buildBatchTree(this.#store, vh.head, todo);
    const { n0, size, root, leaves, leafHashes, reader, head } = tree;
    const checkpoint = await signCheckpoint({ origin: this.#origin, size, root }, this.#signers);
    const entries = batchEntries(tree, todo);
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
    // All of the batch's proofs come from one read of the union of their
    // hashes: the batch's own are in memory, the older ones (the left
    // subtrees, shared by every proof) are read once.
    const receipts = (async () => {
      const proofs = await proveRecords(size, todo.map((_, i) => n0 + i), reader);
      return todo.map((p, i) =>
        appendResult(n0 + i, size, leaves[i], leafHashes[i], p.sha, checkpoint, proofs[i], false)
      );
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
    return appendResult(
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
