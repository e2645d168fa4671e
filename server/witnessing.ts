/**
 * The log server's witnessing (C2SP `tlog-witness`, CONTRACT §8): every new
 * checkpoint goes, in the background, to each configured witness with a
 * consistency proof from the size that witness holds; the cosignatures that
 * come back are verified and merged, and a checkpoint cosigned by the
 * quorum is *published*: `GET /checkpoint` serves it and
 * `POST /v1/envelopes?wait=witnessed` answers with a receipt against it.
 * Appends never wait for any of this unless they ask to.
 *
 * Rounds: the witnesses all work on one *target* checkpoint. The target
 * moves to the log's newest checkpoint once the quorum has cosigned it, or
 * once every witness has answered it at least once (so a dead quorum does
 * not pin an old checkpoint), and only when the log has grown. Targets only
 * grow, so the published checkpoint never goes back in size, across
 * restarts too (before the first quorum of a process, the target itself is
 * served, with whatever cosignatures it has).
 *
 * A round starts as soon as the one before allows (quorum, or every
 * witness answered) on the newest checkpoint an append handed over, so
 * checkpoints signed during a round are coalesced into the next; no timer
 * is involved. Waiters are answered per published checkpoint, all at once,
 * with their inclusion proofs made together (`./witnessing_proofs.ts`), and
 * `regledger_witnessed_phase_seconds` says where their time went.
 *
 * Each witness has one request in flight at most (and all witnesses
 * together at most `maxConcurrency`), and requests to one witness start on
 * average at least `minRequestIntervalMs` apart, with bursts of
 * `requestBurst` (a token bucket); failures back off exponentially with
 * jitter. The size each witness holds starts at 0 and is learnt from its
 * 409 answers. A split view — the witness holds another tree of this log
 * (422, or 409 naming the size sent), or a size beyond this log — is
 * reported loudly: an `error` log line, the `regledger_witness_split_view`
 * metric, and `/readyz`'s `witnessing` detail.
 *
 * The answers themselves are read by `ledger/witness/client.ts`.
 *
 * @module
 */
import { fromBase64 } from "../core/bytes.ts";
import { parseCheckpointText } from "../ledger/checkpoint.ts";
import { formatTlogProof, parseTlogProof } from "../ledger/tlog_proof.ts";
import { mergeCosignatures } from "../ledger/witness/add_checkpoint.ts";
import type { WitnessEndpoint } from "../ledger/witness/client.ts";
import { ALG_ML_DSA_44, type MlDsa44Engine, MlDsa44NoteVerifier } from "../ledger/witness/mldsa.ts";
import type { AppendResult, ConsistencyProofJson, LogService } from "./deps.ts";
import { WitnessMetrics } from "./witnessing_metrics.ts";
import { sleep, Slots, witnessRound } from "./witnessing_round.ts";

/** Options of {@linkcode Witnessing}. */
export interface WitnessingOptions {
  /** The log (unwrapped: {@linkcode Witnessing.wrapLog} wraps it for the routes). */
  log: LogService;
  /** The witnesses (from `witnessEndpoints`). */
  witnesses: readonly WitnessEndpoint[];
  /** How many witnesses must cosign a checkpoint before it is published. @default all */
  quorum?: number;
  /** How long `wait=witnessed` waits for the quorum, in ms. @default {10000} */
  waitTimeoutMs?: number;
  /** Timeout of one `add-checkpoint` request, in ms. @default {10000} */
  requestTimeoutMs?: number;
  /** Most `add-checkpoint` requests in flight over all witnesses. @default {8} */
  maxConcurrency?: number;
  /**
   * Rounds' requests to one witness start on average at least this far
   * apart, in ms: at most 100 requests/s per witness by default, within a
   * witness's default per-client rate limit (100/s, bursts of 200; a
   * witness that answers 429 anyway is backed off from). A round is never
   * held back while the witness has had fewer than `requestBurst` requests
   * in the last `requestBurst` intervals, so a round after a quiet moment
   * starts at once. `0`: no spacing. @default {10}
   */
  minRequestIntervalMs?: number;
  /** Requests to one witness that may start back to back (see `minRequestIntervalMs`). @default {4} */
  requestBurst?: number;
  /** How often the log's size is re-read (appends by other processes), in ms. @default {1000} */
  pollIntervalMs?: number;
  /** First retry delay after a failure, in ms (doubles per failure, with jitter). @default {100} */
  backoffBaseMs?: number;
  /** Longest retry delay, in ms. @default {30000} */
  backoffMaxMs?: number;
  /** One JSON line per event worth an operator's eye. @default {console.error} */
  logLine?: (line: string) => void;
  /** The HTTP client (tests inject faults). @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** Uniform [0, 1) (jitter). @default {Math.random} */
  random?: () => number;
  /**
   * Verifies ML-DSA-44 cosignatures (liboqs checks one in ~0.4 ms where the
   * JavaScript default takes ~3 ms, on the thread that answers requests).
   * @default the keys' own (noble, JavaScript)
   */
  mlDsaEngine?: MlDsa44Engine;
}

/** `w` with its ML-DSA-44 keys verified by `engine`. */
function withEngine(w: WitnessEndpoint, engine: MlDsa44Engine | undefined): WitnessEndpoint {
  if (engine === undefined) return w;
  return {
    ...w,
    keys: w.keys.map((k) =>
      k.type === ALG_ML_DSA_44
        ? { ...k, verifier: new MlDsa44NoteVerifier(k.verifier.name, k.publicKey, engine) }
        : k
    ),
  };
}

/** One witness as `/readyz` shows it. */
export interface WitnessStatus {
  /** Its name (first key's). */
  name: string;
  /** Its submission prefix. */
  url: string;
  /** The size it holds, as far as this server knows. */
  size: number;
  /** The largest size it cosigned for this server since start, or null. */
  cosigned_size: number | null;
  /** Entries of the log it has not cosigned yet. */
  lag: number;
  /** `ok`, `pending` (no answer yet), `failing`, `refused`, `split-view`. */
  state: "ok" | "pending" | "failing" | "refused" | "split-view";
  /** Consecutive failures. */
  failures: number;
  /** The last failure, while failing. */
  last_error?: string;
}

/** The `witnessing` detail of `/readyz`. */
export interface WitnessingStatus {
  /** Witnesses that must cosign. */
  quorum: number;
  /** Newest tree size the server knows of. */
  log_size: number;
  /** Size of the published (quorum-cosigned) checkpoint, or null before the first. */
  witnessed_size: number | null;
  /** `log_size - witnessed_size` (all of the log while nothing is witnessed). */
  lag: number;
  /** True while any witness shows a split view of this log. */
  split_view: boolean;
  /** Per witness. */
  witnesses: WitnessStatus[];
}

interface Target {
  size: number;
  text: string;
  lines: Map<WitnessEndpoint, string[]>;
  answered: Set<WitnessEndpoint>;
  /** `performance.now()` when it became the target (phase timings). */
  createdAt: number;
  /** Consistency proofs to it by old size: witnesses that hold one size share one proof. */
  proofs: Map<number, Promise<ConsistencyProofJson>>;
}

interface WitnessState {
  endpoint: WitnessEndpoint;
  /** The size the witness holds, as learnt (0 until known). */
  size: number;
  cosignedSize: number | null;
  failures: number;
  state: WitnessStatus["state"];
  lastError?: string;
  doneWith?: Target;
  /** Requests it may be sent now without waiting (a token bucket, `minRequestIntervalMs`). */
  tokens: number;
  /** `performance.now()` when `tokens` was last topped up. */
  refilledAt: number;
}

interface Waiter {
  size: number;
  /** The entry whose receipt it waits for (its proof is made with the batch's). */
  index?: number;
  /** `performance.now()` when it started waiting (phase timings). */
  at: number;
  resolve: (answer: Answer | undefined) => void;
}

/** What a waiter gets: the published checkpoint, and its batch's proofs. */
interface Answer {
  published: Published;
  /** Inclusion proofs to `published` by entry index, for the waiters it answered at once. */
  proofs?: Promise<Map<number, string[]> | undefined>;
}

/** A quorum-cosigned checkpoint, as published. */
interface Published {
  size: number;
  text: string;
  /** The target it was (phase timings); absent before `start`. */
  target?: Target;
  /** `performance.now()` when the quorum was reached. */
  at: number;
}

/** Checkpoint text → tree size. */
function sizeOf(signedCheckpoint: string): number {
  return parseCheckpointText(signedCheckpoint.slice(0, signedCheckpoint.indexOf("\n\n") + 1)).size;
}

/**
 * Background witnessing of one log (see the module documentation).
 * {@linkcode Witnessing.start} starts it; {@linkcode Witnessing.close} stops it.
 */
export class Witnessing {
  /** Witnesses that must cosign. */
  readonly quorum: number;
  /** How long `wait=witnessed` waits, in ms. */
  readonly waitTimeoutMs: number;
  /** Metric families (add them to the server's registry). */
  readonly metrics: WitnessMetrics;
  readonly #log: LogService;
  readonly #states: WitnessState[];
  readonly #opts: Required<
    Omit<WitnessingOptions, "log" | "witnesses" | "quorum" | "mlDsaEngine">
  >;
  readonly #closing = new AbortController();
  #target: Target | undefined;
  #published: Published | undefined;
  /** The newest checkpoint an append of this process handed over (no store read needed). */
  #newest: { size: number; text: string } | undefined;
  #latestSize = 0;
  #advancing = false;
  #again = false;
  #changed = Promise.withResolvers<void>();
  #waiters: Waiter[] = [];
  readonly #slots: Slots;
  #loops: Promise<void>[] = [];
  #poll: ReturnType<typeof setInterval> | undefined;

  /** Configure; nothing runs before {@linkcode Witnessing.start}. */
  constructor(opts: WitnessingOptions) {
    const n = opts.witnesses.length;
    if (n === 0) throw new RangeError("witnesses: at least one witness is needed");
    const q = opts.quorum ?? n;
    if (!Number.isSafeInteger(q) || q < 1 || q > n) {
      throw new RangeError(`quorum must be from 1 to ${n}, got ${q}`);
    }
    this.quorum = q;
    this.#log = opts.log;
    this.#opts = {
      waitTimeoutMs: opts.waitTimeoutMs ?? 10_000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
      maxConcurrency: opts.maxConcurrency ?? 8,
      pollIntervalMs: opts.pollIntervalMs ?? 1000,
      minRequestIntervalMs: opts.minRequestIntervalMs ?? 10,
      requestBurst: opts.requestBurst ?? 4,
      backoffBaseMs: opts.backoffBaseMs ?? 100,
      backoffMaxMs: opts.backoffMaxMs ?? 30_000,
      logLine: opts.logLine ?? ((l) => console.error(l)),
      fetch: opts.fetch ?? ((input, init) => fetch(input, init)),
      random: opts.random ?? Math.random,
    };
    this.waitTimeoutMs = this.#opts.waitTimeoutMs;
    this.#slots = new Slots(this.#opts.maxConcurrency);
    this.#states = opts.witnesses.map((w) => ({
      endpoint: withEngine(w, opts.mlDsaEngine),
      size: 0,
      cosignedSize: null,
      failures: 0,
      state: "pending",
      tokens: Math.max(1, opts.requestBurst ?? 4),
      refilledAt: performance.now(),
    }));
    this.metrics = new WitnessMetrics(() => this.status());
  }

  /** Take the log's newest checkpoint as the first target and start the witness loops. */
  async start(): Promise<void> {
    await this.#advance(true);
    for (const s of this.#states) this.#loops.push(this.#run(s));
    this.#poll = setInterval(() => {
      this.#log.size().then((n) => this.notify(n), () => {});
    }, this.#opts.pollIntervalMs);
  }

  /** Stop: no new requests, in-flight ones are aborted, waiters get `undefined`. Idempotent. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    clearInterval(this.#poll);
    this.#wake();
    for (const w of this.#waiters.splice(0)) w.resolve(undefined);
    await Promise.all(this.#loops);
  }

  /**
   * The log has (at least) `treeSize` entries: witness them when the round
   * allows. `checkpoint`, the log's signed checkpoint for `treeSize` (an
   * append's receipt has it), spares the next round reading it back.
   */
  notify(treeSize: number, checkpoint?: string): void {
    if (treeSize > this.#latestSize) this.#latestSize = treeSize;
    if (checkpoint !== undefined && treeSize > (this.#newest?.size ?? -1)) {
      this.#newest = { size: treeSize, text: checkpoint };
    }
    this.#maybeAdvance();
  }

  /**
   * The checkpoint `GET /checkpoint` serves: the newest one the quorum
   * cosigned; before the first, the current target with the cosignatures
   * it has; before `start`, the log's own.
   */
  async publishedCheckpoint(): Promise<string> {
    if (this.#published) return this.#published.text;
    const t = this.#target;
    if (t) return mergeCosignatures(t.text, [...t.lines.values()].flat());
    return await this.#log.checkpoint();
  }

  /**
   * The published checkpoint once it covers `treeSize` entries, or
   * `undefined` when `timeoutMs` passes first (or on close).
   */
  async waitForWitnessed(
    treeSize: number,
    timeoutMs = this.waitTimeoutMs,
  ): Promise<string | undefined> {
    return (await this.#waitPublished(treeSize, timeoutMs))?.published.text;
  }

  /**
   * Wait for a published checkpoint of `treeSize` or more. Waiters are not
   * polled: the round that publishes a checkpoint answers every waiter it
   * covers, in one pass.
   */
  #waitPublished(
    treeSize: number,
    timeoutMs: number,
    index?: number,
  ): Promise<Answer | undefined> {
    const p = this.#published;
    if (p && p.size >= treeSize) return Promise.resolve({ published: p });
    if (this.#closing.signal.aborted) return Promise.resolve(undefined);
    const { promise, resolve } = Promise.withResolvers<Answer | undefined>();
    const timer = setTimeout(() => {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      resolve(undefined);
    }, timeoutMs);
    const waiter: Waiter = {
      size: treeSize,
      ...(index !== undefined ? { index } : {}),
      at: performance.now(),
      resolve: (cp) => {
        clearTimeout(timer);
        resolve(cp);
      },
    };
    this.#waiters.push(waiter);
    this.notify(treeSize);
    return promise;
  }

  /**
   * `receipt` (an append's) re-issued against the published checkpoint once
   * that covers its entry: same entry, the quorum-cosigned checkpoint, an
   * inclusion proof to it and the `tlog-proof@v1` text. `undefined` when
   * the wait times out. `opts.submittedAt` (`performance.now()` when the
   * request arrived) adds the append's own time to the phase metrics.
   */
  async witnessedReceipt<R extends Omit<AppendResult, "existing">>(
    receipt: R,
    opts: { timeoutMs?: number; submittedAt?: number } = {},
  ): Promise<R | undefined> {
    const at = performance.now();
    const answer = await this.#waitPublished(
      receipt.index + 1,
      opts.timeoutMs ?? this.waitTimeoutMs,
      receipt.index,
    );
    if (answer === undefined) return undefined;
    const { published } = answer;
    const { size, text: checkpoint } = published;
    const leaf = await this.#leafOf(receipt);
    const proof = (await answer.proofs)?.get(receipt.index) ??
      (await this.#log.proveInclusion(receipt.index, size)).proof;
    this.#phases(at, published, performance.now(), opts.submittedAt);
    return {
      ...receipt,
      tree_size: size,
      checkpoint,
      inclusion_proof: proof,
      tlog_proof: formatTlogProof({
        extra: leaf,
        index: receipt.index,
        proof: proof.map(fromBase64),
        checkpoint,
      }),
    };
  }

  /**
   * The inclusion proofs of `indices` to the tree of size `size`, by index;
   * `undefined` when they cannot be made together (each waiter then asks
   * for its own, and sees the error if there is one).
   */
  async #proofs(indices: number[], size: number): Promise<Map<number, string[]> | undefined> {
    const log = this.#log;
    if (!log.proveInclusions) return undefined;
    const unique = [...new Set(indices)];
    try {
      const lists = await log.proveInclusions(unique, size);
      return new Map(unique.map((i, k) => [i, lists[k]]));
    } catch {
      return undefined;
    }
  }

  /** The entry's leaf bytes: from the append's own `tlog-proof` (no store read), else the log. */
  async #leafOf(receipt: Omit<AppendResult, "existing">): Promise<Uint8Array> {
    try {
      const extra = parseTlogProof(receipt.tlog_proof).extra;
      if (extra !== undefined) return extra;
    } catch { /* read it from the log */ }
    const entry = await this.#log.get(receipt.index);
    if (entry === null) throw new Error(`entry ${receipt.index} vanished from the log`);
    return fromBase64(entry.leaf);
  }

  /**
   * Where one wait's time went (`regledger_witnessed_phase_seconds`): the
   * append, waiting for a round whose checkpoint covers the entry, that
   * round up to the quorum, and building the receipt. The phases add up to
   * `total`.
   */
  #phases(at: number, p: Published, done: number, submittedAt?: number): void {
    const h = this.metrics.phases;
    const quorumAt = Math.max(p.at, at);
    const roundAt = Math.min(Math.max(p.target?.createdAt ?? at, at), quorumAt);
    if (submittedAt !== undefined) {
      h.observe(Math.max(0, at - submittedAt) / 1000, { phase: "append" });
    }
    h.observe((roundAt - at) / 1000, { phase: "wait_for_round" });
    h.observe((quorumAt - roundAt) / 1000, { phase: "round_to_quorum" });
    h.observe((done - quorumAt) / 1000, { phase: "receipt" });
    h.observe((done - (submittedAt ?? at)) / 1000, { phase: "total" });
  }

  /**
   * `log` for the routes: each append tells the witnessing the log grew,
   * and `checkpoint()` carries the cosignatures when the newest checkpoint
   * is the published one.
   */
  wrapLog(log: LogService): LogService {
    const checkpoint = async () => {
      const text = await log.checkpoint();
      const p = this.#published;
      return p && p.size === sizeOf(text) ? p.text : text;
    };
    const append = async (parsed: Parameters<LogService["append"]>[0]) => {
      const r = await log.append(parsed);
      this.notify(r.tree_size, r.checkpoint);
      return r;
    };
    // Everything else is the log's own, called on the log itself.
    return new Proxy(log, {
      get(target, prop) {
        if (prop === "append") return append;
        if (prop === "checkpoint") return checkpoint;
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  }

  /** Where witnessing stands (`/readyz`'s `witnessing`). */
  status(): WitnessingStatus {
    const latest = Math.max(this.#latestSize, this.#published?.size ?? 0);
    return {
      quorum: this.quorum,
      log_size: latest,
      witnessed_size: this.#published?.size ?? null,
      lag: latest - (this.#published?.size ?? 0),
      split_view: this.#states.some((s) => s.state === "split-view"),
      witnesses: this.#states.map((s) => {
        const w: WitnessStatus = {
          name: s.endpoint.name,
          url: s.endpoint.url,
          size: s.size,
          cosigned_size: s.cosignedSize,
          lag: latest - (s.cosignedSize ?? 0),
          state: s.state,
          failures: s.failures,
        };
        if (s.lastError !== undefined && s.state !== "ok") w.last_error = s.lastError;
        return w;
      }),
    };
  }

  #wake(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }

  #quorumOn(t: Target): boolean {
    return t.lines.size >= this.quorum;
  }

  /**
   * Start the next round as soon as the current one allows (no timer): on
   * the newest checkpoint, so checkpoints signed during a round are
   * coalesced into one. An append's checkpoint is used as it is; only one
   * from another process is read from the store.
   */
  #maybeAdvance(): void {
    const t = this.#target;
    if (t === undefined || this.#latestSize <= t.size) return;
    if (!this.#quorumOn(t) && t.answered.size < this.#states.length) return;
    const n = this.#newest;
    if (n !== undefined && n.size >= this.#latestSize && !this.#advancing) {
      this.#setTarget(n.size, n.text);
      return;
    }
    void this.#advance(false);
  }

  #setTarget(size: number, text: string): void {
    this.#target = {
      size,
      text,
      lines: new Map(),
      answered: new Set(),
      createdAt: performance.now(),
      proofs: new Map(),
    };
    this.#wake();
  }

  /** Move the target to the log's newest checkpoint (if it is newer). */
  async #advance(first: boolean): Promise<void> {
    if (this.#advancing) {
      this.#again = true;
      return;
    }
    this.#advancing = true;
    try {
      do {
        this.#again = false;
        if (this.#closing.signal.aborted) return;
        const text = await this.#log.checkpoint();
        const size = sizeOf(text);
        if (size > this.#latestSize) this.#latestSize = size;
        if (this.#target === undefined || size > this.#target.size) this.#setTarget(size, text);
      } while (this.#again);
    } catch (e) {
      if (first) throw e;
      this.#event("error", "cannot read the log's checkpoint to witness it", {
        error: (e as Error).message,
      });
    } finally {
      this.#advancing = false;
    }
  }

  async #run(s: WitnessState): Promise<void> {
    const signal = this.#closing.signal;
    while (!signal.aborted) {
      const t = this.#target;
      if (t === undefined || s.doneWith === t) {
        await this.#changed.promise; // close() wakes it too
        continue;
      }
      const gap = this.#takeToken(s);
      if (gap > 0) {
        await sleep(gap, signal); // then the newest target, which may have moved meanwhile
        continue;
      }
      if (!t.answered.has(s.endpoint)) {
        this.metrics.phases.observe((performance.now() - t.createdAt) / 1000, {
          phase: "round_start_to_send",
        });
      }
      let ok: boolean;
      try {
        ok = await this.#submit(s, t);
      } catch (e) {
        if (signal.aborted) return;
        ok = false;
        this.#fail(s, "failing", "error", `add-checkpoint failed: ${(e as Error).message}`);
      }
      t.answered.add(s.endpoint);
      if (ok) s.doneWith = t;
      this.#maybeAdvance();
      if (!ok && !signal.aborted) {
        const exp = this.#opts.backoffBaseMs * 2 ** Math.min(s.failures - 1, 20);
        const cap = Math.min(this.#opts.backoffMaxMs, exp);
        await sleep(cap / 2 + (cap / 2) * this.#opts.random(), signal);
      }
    }
  }

  /** 0 when a request to `s` may start now (and takes its token), else the ms until one may. */
  #takeToken(s: WitnessState): number {
    const per = this.#opts.minRequestIntervalMs;
    if (per <= 0) return 0;
    const now = performance.now();
    const burst = Math.max(1, this.#opts.requestBurst);
    s.tokens = Math.min(burst, s.tokens + (now - s.refilledAt) / per);
    s.refilledAt = now;
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return 0;
    }
    return (1 - s.tokens) * per;
  }

  /** One round with witness `s` on target `t`; true when it cosigned. */
  async #submit(s: WitnessState, t: Target): Promise<boolean> {
    const log = this.#log;
    const r = await witnessRound(s, t, {
      log: {
        size: () => log.size(),
        proveConsistency: (first, second) => {
          if (second !== t.size) return log.proveConsistency(first, second);
          let p = t.proofs.get(first);
          if (p === undefined) {
            p = log.proveConsistency(first, second);
            t.proofs.set(first, p);
            p.catch(() => t.proofs.delete(first));
          }
          return p;
        },
      },
      fetch: this.#opts.fetch,
      requestTimeoutMs: this.#opts.requestTimeoutMs,
      signal: this.#closing.signal,
      metrics: this.metrics,
      slots: this.#slots,
    });
    switch (r.kind) {
      case "cosigned":
        this.#cosigned(s, t, r.lines);
        return true;
      case "stale":
        // Another process appended past this target, and the witness saw it: move on.
        this.notify(r.logSize);
        await this.#advance(false);
        return false;
      case "failed":
        this.#fail(s, r.state, r.reason, r.message);
        return false;
    }
  }

  #cosigned(s: WitnessState, t: Target, lines: string[]): void {
    const was = s.state;
    s.size = t.size;
    s.cosignedSize = Math.max(s.cosignedSize ?? 0, t.size);
    s.failures = 0;
    s.state = "ok";
    delete s.lastError;
    if (was !== "ok" && was !== "pending") {
      this.#event("info", "witness cosigns again", { witness: s.endpoint.name, size: t.size });
    }
    if (this.#target !== t) return; // a superseded round: its cosignatures are not published
    t.lines.set(s.endpoint, lines);
    if (!this.#quorumOn(t)) return;
    const p = this.#published;
    if (p !== undefined && p.size > t.size) return;
    const text = mergeCosignatures(t.text, [...t.lines.values()].flat());
    const at = performance.now();
    this.metrics.phases.observe((at - t.createdAt) / 1000, { phase: "round_start_to_quorum" });
    const published: Published = { size: t.size, text, target: t, at };
    this.#published = published;
    // Every waiter this checkpoint covers is answered now, in one pass, and
    // their inclusion proofs are made together (one store read).
    const still: Waiter[] = [];
    const answered: Waiter[] = [];
    for (const w of this.#waiters) (w.size <= t.size ? answered : still).push(w);
    this.#waiters = still;
    const indices = answered.flatMap((w) => (w.index === undefined ? [] : [w.index]));
    const proofs = indices.length > 0 ? this.#proofs(indices, t.size) : undefined;
    for (const w of answered) w.resolve(proofs ? { published, proofs } : { published });
  }

  #fail(s: WitnessState, state: WitnessStatus["state"], reason: string, message: string): void {
    s.failures++;
    this.metrics.failures.inc({ witness: s.endpoint.name, reason });
    const changed = s.state !== state || s.lastError !== message;
    s.state = state;
    s.lastError = message;
    // One line per change of state, not one per retry.
    if (!changed) return;
    const split = state === "split-view";
    this.#event(
      split || state === "refused" ? "error" : "warn",
      split ? "SPLIT VIEW: a witness holds a different tree of this log" : "witness failing",
      {
        witness: s.endpoint.name,
        url: s.endpoint.url,
        reason,
        witness_size: s.size,
        log_size: this.#latestSize,
        detail: message,
      },
    );
  }

  #event(level: string, msg: string, fields: Record<string, unknown>): void {
    this.#opts.logLine(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }));
  }
}
