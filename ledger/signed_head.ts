/**
 * The signed-head record: the largest tree size and root this log has
 * signed, kept OUTSIDE the store (`DIR/signed-head`, beside `DIR/log-key`),
 * so that a store that lost entries is noticed.
 *
 * A Deno KV file can be emptied, deleted or replaced by an older backup
 * while the log key survives; without this record the ledger would then
 * sign a checkpoint that contradicts the ones it already published (a
 * fork). With it, opening refuses a store that is behind the record
 * (fewer entries), inconsistent with it (same size, another root) or whose
 * tree does not extend the recorded one (checked with a consistency proof
 * from the store), naming the problem in a {@link LedgerStateError}.
 *
 * The record is written durably (temporary file, fsync, rename, fsync of the
 * directory) before a checkpoint leaves the process: before an append's
 * receipt is delivered and before `Ledger.checkpoint()` returns it. It only
 * ever grows; several processes sharing one store may leave it lagging
 * behind the store (a lower bound is still a valid record), never ahead.
 * A group commit {@link SignedHeadGuard.stage stages} its record (the
 * temporary file written and fsynced) while the store commits, and
 * {@link SignedHeadGuard.record records} it (rename, fsync of the directory)
 * only once the store commit succeeded: one fsync instead of two after the
 * commit, and the record is still never ahead of the store.
 *
 * A log made before this record existed gets one from its current head on
 * the first open. Starting a new log under an existing key (or accepting a
 * store deliberately restored from an older copy) needs `replace: true`
 * (`--new-log-under-existing-key` on the command line): the old record is
 * kept as `signed-head.replaced-<time>` and a new one is written.
 *
 * @module
 */
import { bytesEqual, fromBase64, toBase64 } from "../core/bytes.ts";
import {
  isStorageFull,
  LedgerCorruptionError,
  LedgerStateError,
  LedgerStorageFullError,
} from "./errors.ts";
import { missingBelowHead } from "./head_check.ts";
import { proveTree, verifyConsistency } from "./merkle/mod.ts";
import type { LedgerStore, LogHead } from "./store.ts";

/** File name of the signed-head record inside a data directory. */
export const SIGNED_HEAD_FILE = "signed-head";

/** What the record holds: the largest signed tree. */
export interface SignedHead {
  /** Tree size. */
  size: number;
  /** Root hash of the tree. */
  root: Uint8Array;
  /** The checkpoint text signed for it. */
  checkpoint: string;
}

function parseRecord(path: string, text: string): SignedHead {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = null;
  }
  const o = v as Record<string, unknown> | null;
  let root: Uint8Array | null = null;
  try {
    if (o && typeof o.root === "string") root = fromBase64(o.root);
  } catch {
    root = null;
  }
  if (
    !o || typeof o.size !== "number" || !Number.isSafeInteger(o.size) || o.size < 1 ||
    root === null || root.length !== 32 || typeof o.checkpoint !== "string"
  ) {
    throw new LedgerStateError(
      `${path} is not a signed-head record ({"size", "root", "checkpoint"}); ` +
        `restore it from a backup (see docs/deployment.md)`,
    );
  }
  return { size: o.size, root, checkpoint: o.checkpoint };
}

/**
 * Read `dir/signed-head`; null when there is none.
 * @throws {LedgerStateError} when the file is unreadable or malformed.
 */
export async function readSignedHead(dir: string): Promise<SignedHead | null> {
  const path = `${dir}/${SIGNED_HEAD_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new LedgerStateError(`cannot read ${path}`, { cause: e });
  }
  return parseRecord(path, text);
}

/** Write `dir/signed-head` durably: temporary file, fsync, rename, fsync of the directory. */
async function writeSignedHead(dir: string, rec: SignedHead): Promise<void> {
  await publishStaged(dir, await stageFile(dir, rec));
}

/** The record's temporary file, written and fsynced (not yet in place); its path. */
async function stageFile(dir: string, rec: SignedHead): Promise<string> {
  const path = `${dir}/${SIGNED_HEAD_FILE}`;
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  const body = JSON.stringify({
    size: rec.size,
    root: toBase64(rec.root),
    checkpoint: rec.checkpoint,
  }) + "\n";
  try {
    const f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
    try {
      await f.write(new TextEncoder().encode(body));
      await f.sync();
    } finally {
      f.close();
    }
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new LedgerStateError(`cannot write ${path}`, { cause: e });
  }
  return tmp;
}

/** Move a staged temporary file into place durably: rename, fsync of the directory. */
async function publishStaged(dir: string, tmp: string): Promise<void> {
  const path = `${dir}/${SIGNED_HEAD_FILE}`;
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    if (isStorageFull(e)) {
      throw new LedgerStorageFullError(`the disk holding ${path} is full`, { cause: e });
    }
    throw new LedgerStateError(`cannot write ${path}`, { cause: e });
  }
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Directories cannot be opened for fsync on every platform (Windows).
  }
}

/**
 * Why `head` (read from the store) is not an extension of the record, or
 * null when it is.
 */
async function mismatch(
  store: LedgerStore,
  head: LogHead,
  rec: SignedHead,
  where: string,
): Promise<string | null> {
  if (head.size < rec.size) {
    return `the store is behind the log: it holds ${head.size} entries, but this log has ` +
      `signed a checkpoint of size ${rec.size} (${where}); was ledger.kv emptied, deleted ` +
      `or restored from an older copy? See docs/deployment.md`;
  }
  if (head.size === rec.size) {
    return bytesEqual(head.root, rec.root) ? null : `the store is inconsistent with the log: ` +
      `its tree of size ${head.size} has another root than the checkpoint this log signed ` +
      `(${where})`;
  }
  // A corrupt head claiming entries that are not stored is named as such.
  const missing = await missingBelowHead(store, head);
  if (missing) return missing.reason;
  try {
    const proof = await proveTree(head.size, rec.size, store);
    verifyConsistency(rec.size, head.size, proof, rec.root, head.root);
    return null;
  } catch (e) {
    return `the store's tree of size ${head.size} does not extend the checkpoint of size ` +
      `${rec.size} this log signed (${where}): ${(e as Error).message}`;
  }
}

/**
 * Whether `rec` already covers `head` (not larger); a different root at the
 * same size is a fork and throws.
 */
function covered(rec: SignedHead | null, head: LogHead): boolean {
  if (rec === null || head.size > rec.size) return false;
  if (head.size === rec.size && !bytesEqual(head.root, rec.root)) {
    throw new LedgerStateError(
      `refusing to publish a checkpoint of size ${head.size} whose root differs from the one ` +
        `this log signed for that size`,
    );
  }
  return true;
}

/** Options of {@link SignedHeadGuard.open}. */
export interface SignedHeadOpenOptions {
  /**
   * Accept the store as it is although it contradicts the record (a new log,
   * or a deliberately restored older copy, under the existing key): the old
   * record is renamed to `signed-head.replaced-<time>`.
   * @default {false}
   */
  replace?: boolean;
  /**
   * Do not throw on a mismatch; report it in {@link SignedHeadGuard.problem}
   * (for audits). Nothing is written.
   * @default {false}
   */
  audit?: boolean;
}

/** The record of one data directory, checked against a store. */
export class SignedHeadGuard {
  readonly #dir: string;
  #rec: SignedHead | null;
  /**
   * The record the store was checked against at open: every head this
   * process reads or commits on afterwards is at least that large. (A larger
   * record, written later by this or another process, may be ahead of a head
   * this process still has cached, so it is not what signing is checked
   * against.)
   */
  readonly #floor: SignedHead | null;
  #writing: Promise<void> = Promise.resolve();
  /** Why the store does not match the record (audit opens only), or null. */
  readonly problem: string | null;

  private constructor(dir: string, rec: SignedHead | null, problem: string | null) {
    this.#dir = dir;
    this.#rec = rec;
    this.#floor = rec;
    this.problem = problem;
  }

  /** The record as last read or written (null: none yet). */
  get recorded(): SignedHead | null {
    return this.#rec;
  }

  /**
   * Check `store` against `dir/signed-head`, creating the record from the
   * store's head when there is none (a log made before the record existed).
   *
   * @throws {LedgerStateError} naming the problem when the store is behind
   *   the record, inconsistent with it or does not extend it (unless
   *   `replace` or `audit`), or the record is malformed.
   */
  static async open(
    dir: string,
    store: LedgerStore,
    opts: SignedHeadOpenOptions = {},
  ): Promise<SignedHeadGuard> {
    const where = `${dir}/${SIGNED_HEAD_FILE}`;
    const rec = await readSignedHead(dir);
    let head: LogHead;
    try {
      ({ head } = await store.readHead());
    } catch (e) {
      // An audit names a corrupt head itself (with the rest of what it finds); it must
      // not fail to open on it. Anything else refuses as before.
      if (opts.audit && e instanceof LedgerCorruptionError) {
        return new SignedHeadGuard(dir, rec, null);
      }
      throw e;
    }
    const problem = rec === null ? null : await mismatch(store, head, rec, where);
    if (problem !== null && opts.audit) return new SignedHeadGuard(dir, rec, problem);
    if (problem !== null && !opts.replace) throw new LedgerStateError(problem);
    if (problem !== null) {
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      await Deno.rename(where, `${where}.replaced-${stamp}`);
    }
    const guard = new SignedHeadGuard(dir, problem === null ? rec : null, null);
    if (!opts.audit && head.size > 0 && (guard.#rec === null || head.size > guard.#rec.size)) {
      const cp = await store.readCheckpoint(head.size);
      if (cp !== null) await guard.record(head, cp);
    }
    return guard;
  }

  /**
   * Refuse to sign on top of `head` when it is behind the record or has
   * another root at the recorded size.
   * @throws {LedgerStateError} naming the problem.
   */
  checkBase(head: LogHead): void {
    const rec = this.#floor;
    if (rec === null) return;
    if (head.size < rec.size || (head.size === rec.size && !bytesEqual(head.root, rec.root))) {
      throw new LedgerStateError(
        `refusing to sign: the store's head (size ${head.size}) is behind or inconsistent ` +
          `with the checkpoint of size ${rec.size} this log signed ` +
          `(${this.#dir}/${SIGNED_HEAD_FILE})`,
      );
    }
  }

  /**
   * Record `head` (signed as `checkpoint`) durably when it is larger than
   * the record; call before the checkpoint leaves the process. With `staged`
   * (from {@link stage} for the same head and checkpoint, while the store
   * committed), only the rename and the directory's fsync remain; a staged
   * file that is not needed is removed.
   * @throws {LedgerStateError} when the file cannot be written, or `head`
   *   contradicts the record at the same size.
   */
  record(head: LogHead, checkpoint: string, staged?: StagedSignedHead): Promise<void> {
    const run = this.#writing.then(() => this.#record(head, checkpoint, staged)).catch(
      async (e) => {
        await staged?.discard();
        throw e;
      },
    );
    this.#writing = run.catch(() => {});
    return run;
  }

  async #record(head: LogHead, checkpoint: string, staged?: StagedSignedHead): Promise<void> {
    // An older tree (a receipt delivered after a later commit) is already covered.
    if (covered(this.#rec, head)) return staged?.discard();
    // Another process may have recorded a larger tree meanwhile: never shrink the file.
    const onDisk = await readSignedHead(this.#dir);
    if (onDisk !== null && onDisk.size > (this.#rec?.size ?? 0)) this.#rec = onDisk;
    if (covered(this.#rec, head)) return staged?.discard();
    const rec = { size: head.size, root: head.root, checkpoint };
    const tmp = staged?.matches(rec) ? await staged.file.catch(() => null) : null;
    if (tmp === null) {
      await staged?.discard();
      await writeSignedHead(this.#dir, rec);
    } else {
      await publishStaged(this.#dir, tmp);
    }
    this.#rec = rec;
  }

  /**
   * Start writing the record of `head` (signed as `checkpoint`) to a
   * temporary file and fsyncing it, without putting it in place: call while
   * the store commits `head`, then pass the result to {@link record} once
   * the commit succeeded, or call its `discard()` when it did not. Never
   * rejects (a failed stage makes {@link record} write the file itself).
   */
  stage(head: LogHead, checkpoint: string): StagedSignedHead {
    const rec = { size: head.size, root: head.root, checkpoint };
    const file = stageFile(this.#dir, rec);
    file.catch(() => {});
    let discarded = false;
    return {
      file,
      matches: (r) =>
        !discarded && r.size === rec.size && bytesEqual(r.root, rec.root) &&
        r.checkpoint === rec.checkpoint,
      discard: async () => {
        if (discarded) return;
        discarded = true;
        const tmp = await file.catch(() => null);
        if (tmp !== null) await Deno.remove(tmp).catch(() => {});
      },
    };
  }
}

/** A record written to its temporary file by {@link SignedHeadGuard.stage}, not yet in place. */
export interface StagedSignedHead {
  /** The temporary file's path once written and fsynced. */
  readonly file: Promise<string>;
  /** Whether this is the record of `rec` (and was not discarded). */
  matches(rec: SignedHead): boolean;
  /** Remove the temporary file (the commit failed or the record was not needed). */
  discard(): Promise<void>;
}
