/**
 * Group commit of check-and-set writes to one Deno KV file: writes that
 * arrive while a commit is in flight are gathered and committed together
 * in the next KV atomic operation (each with its own versionstamp check).
 * A KV commit waits for the disk; with many logs submitting at once this
 * turns one disk wait per checkpoint into one per batch, without giving up
 * that a write is durable before its caller hears "ok".
 *
 * An atomic operation is all or nothing, so one failed check fails the
 * whole batch: the batch is then retried one write at a time to tell the
 * writes whose record moved (`conflict`) from the others. A file locked by
 * another process is `busy` for every write of the batch (nothing written).
 *
 * @module
 */

/** The outcome of one check-and-set write. */
export type CasOutcome =
  | { kind: "ok"; versionstamp: string }
  | { kind: "conflict" }
  | { kind: "busy" };

interface Pending {
  key: Deno.KvKey;
  expected: string | null;
  value: unknown;
  bytes: number;
  resolve: (o: CasOutcome) => void;
  reject: (e: unknown) => void;
}

/** Most writes in one atomic operation (Deno KV allows 100 checks). */
export const MAX_BATCH_WRITES = 64;
/** Most value bytes in one atomic operation (Deno KV allows 800 KiB). */
export const MAX_BATCH_BYTES = 512 * 1024;

function isBusy(e: unknown): boolean {
  return e instanceof Error && /database is locked|busy/i.test(e.message);
}

/** Batches check-and-set writes to one KV handle. */
export class KvGroupCommitter {
  readonly #kv: Deno.Kv;
  #queue: Pending[] = [];
  #flushing: Promise<void> | undefined;

  /** A committer over `kv`. */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /**
   * Set `key` to `value` if its versionstamp is still `expected` (`null`:
   * absent), in the next batch. `bytes` is the value's approximate size.
   */
  write(
    key: Deno.KvKey,
    expected: string | null,
    value: unknown,
    bytes: number,
  ): Promise<CasOutcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ key, expected, value, bytes, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  /** Resolves when nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        let n = 0;
        let bytes = 0;
        while (
          n < this.#queue.length && n < MAX_BATCH_WRITES &&
          (n === 0 || bytes + this.#queue[n].bytes <= MAX_BATCH_BYTES)
        ) {
          bytes += this.#queue[n].bytes;
          n++;
        }
        const batch = this.#queue.splice(0, n);
        await this.#commit(batch);
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    const op = this.#kv.atomic();
    for (const p of batch) op.check({ key: p.key, versionstamp: p.expected }).set(p.key, p.value);
    let res: Deno.KvCommitResult | Deno.KvCommitError;
    try {
      res = await op.commit();
    } catch (e) {
      for (const p of batch) {
        if (isBusy(e)) p.resolve({ kind: "busy" });
        else p.reject(e);
      }
      return;
    }
    if (res.ok) {
      for (const p of batch) p.resolve({ kind: "ok", versionstamp: res.versionstamp });
    } else if (batch.length === 1) {
      batch[0].resolve({ kind: "conflict" });
    } else {
      // Which check failed? Retry one by one (rare: another writer on the file).
      for (const p of batch) await this.#commit([p]);
    }
  }
}
