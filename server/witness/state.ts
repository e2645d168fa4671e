/**
 * The witness's state in its own Deno KV file: per log, the latest
 * checkpoint it cosigned (size, root and the cosigned note), as one
 * versioned record under `["witness", "log", <origin>]`.
 *
 * C2SP tlog-witness requires checking the old size and persisting the new
 * checkpoint atomically. Here every accepted checkpoint is one KV atomic
 * operation that checks the versionstamp of the record the decision was
 * made on and sets the new record: two requests (in this process or in
 * another one on the same file, e.g. a restarted witness whose
 * predecessor is not quite dead) cannot both move a log forward from the
 * same state, and a cosignature is answered only after its record is
 * committed, so a SIGKILL at any moment leaves either the old state (no
 * cosignature was sent) or the new one. A failed check, or a commit that
 * found the file locked by another process, re-reads the record and
 * decides again.
 *
 * Within one process, requests for one log are also queued, so they do
 * not spin on the check; different logs proceed in parallel, and their
 * writes share KV commits (`./group_commit.ts`): one disk wait per batch. The last
 * record read is cached with its versionstamp; the check makes a stale
 * cache harmless.
 *
 * @module
 */
import {
  type AddCheckpointDecision,
  type AddCheckpointRequest,
  decideAddCheckpoint,
  type WitnessLog,
  type WitnessLogState,
} from "../../ledger/witness/add_checkpoint.ts";
import type { NoteSigner } from "../../ledger/note.ts";
import { KvGroupCommitter } from "./group_commit.ts";

/** What the witness stores per log. */
export interface StoredLog extends WitnessLogState {
  /** The latest cosigned checkpoint: the log's verified signatures and ours. */
  checkpoint: string;
}

interface Cached {
  value: StoredLog | null;
  versionstamp: string | null;
}

/**
 * Requests for one log that may wait for their turn; more are refused
 * (a log sends one checkpoint at a time: a queue this long is a flood).
 */
export const MAX_WAITING_PER_LOG = 256;

/** How often a decision is retried when another writer got there first. */
const MAX_ATTEMPTS = 64;

function key(origin: string): Deno.KvKey {
  return ["witness", "log", origin];
}

/** The witness's per-log state over one Deno KV file. */
export class WitnessStore {
  readonly #kv: Deno.Kv;
  readonly #committer: KvGroupCommitter;
  readonly #cache = new Map<string, Cached>();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #waiting = new Map<string, number>();
  #closed = false;

  private constructor(kv: Deno.Kv) {
    this.#kv = kv;
    this.#committer = new KvGroupCommitter(kv);
  }

  /** Open (or create) the KV file at `path`. */
  static async open(path: string): Promise<WitnessStore> {
    return new WitnessStore(await Deno.openKv(path));
  }

  /** The stored record of `origin`, or `null` when nothing was cosigned. */
  async get(origin: string): Promise<StoredLog | null> {
    return (await this.#read(origin)).value;
  }

  /** Read from the file (health check): throws when the KV file does not answer. */
  async ping(): Promise<void> {
    if (this.#closed) throw new Error("witness store is closed");
    await this.#kv.get(["witness", "ping"]);
  }

  /** Sizes of the logs this process has seen (for metrics). */
  cachedSizes(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [origin, c] of this.#cache) if (c.value) out.set(origin, c.value.size);
    return out;
  }

  /** Requests queued or in progress per log (for metrics); logs with none are absent. */
  waiting(): Map<string, number> {
    return new Map(this.#waiting);
  }

  /** Read every stored record once (fills the cache, e.g. for metrics at start). */
  async load(origins: Iterable<string>): Promise<void> {
    for (const o of origins) await this.#read(o, true);
  }

  async #read(origin: string, fresh = false): Promise<Cached> {
    const hit = fresh ? undefined : this.#cache.get(origin);
    if (hit) return hit;
    const r = await this.#kv.get<StoredLog>(key(origin));
    const c: Cached = { value: r.value, versionstamp: r.versionstamp };
    this.#cache.set(origin, c);
    return c;
  }

  /**
   * Decide `request` for `log` against the stored state and, when it is
   * cosigned, commit the new state before returning. The returned 200
   * decision's cosignatures are safe to send: its state is durable.
   * `null` when {@link MAX_WAITING_PER_LOG} requests for the log are
   * already waiting (the caller answers 503).
   */
  addCheckpoint(
    request: AddCheckpointRequest,
    log: WitnessLog | undefined,
    cosigners: readonly NoteSigner[],
  ): Promise<AddCheckpointDecision | null> {
    if (this.#closed) return Promise.reject(new Error("witness store is closed"));
    if (log === undefined || log.origin !== request.checkpoint.origin) {
      // Unknown origin: nothing to read or lock.
      return decideAddCheckpoint(request, undefined, undefined, cosigners);
    }
    const origin = log.origin;
    const waiting = this.#waiting.get(origin) ?? 0;
    if (waiting >= MAX_WAITING_PER_LOG) return Promise.resolve(null);
    this.#waiting.set(origin, waiting + 1);
    const prev = this.#queues.get(origin) ?? Promise.resolve();
    const run = prev.then(() => this.#decide(request, log, cosigners)).finally(() => {
      const n = (this.#waiting.get(origin) ?? 1) - 1;
      if (n === 0) this.#waiting.delete(origin);
      else this.#waiting.set(origin, n);
    });
    const tail = run.catch(() => {});
    this.#queues.set(origin, tail);
    void tail.then(() => {
      if (this.#queues.get(origin) === tail) this.#queues.delete(origin);
    });
    return run;
  }

  async #decide(
    request: AddCheckpointRequest,
    log: WitnessLog,
    cosigners: readonly NoteSigner[],
  ): Promise<AddCheckpointDecision> {
    const origin = log.origin;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const cur = await this.#read(origin, attempt > 0);
      const state = cur.value ? { size: cur.value.size, root: cur.value.root } : undefined;
      const d = await decideAddCheckpoint(request, log, state, cosigners);
      if (d.status !== 200) return d;
      const value: StoredLog = {
        size: d.newState.size,
        root: d.newState.root,
        checkpoint: d.cosignedCheckpoint,
      };
      const res = await this.#committer.write(
        key(origin),
        cur.versionstamp,
        value,
        value.checkpoint.length + 64,
      );
      if (res.kind === "ok") {
        this.#cache.set(origin, { value, versionstamp: res.versionstamp });
        return d;
      }
      if (res.kind === "busy") {
        // Another process holds the file's write lock: nothing was written.
        await new Promise((r) => setTimeout(r, 1 + Math.floor(Math.random() * 4)));
      }
      // Another writer moved the record (or held the lock): decide again on what is there.
    }
    throw new Error(`witness state of ${origin} kept changing under ${MAX_ATTEMPTS} attempts`);
  }

  /** Wait for queued requests, then close the KV file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#queues.values()]);
    await this.#committer.idle();
    this.#kv.close();
  }
}
