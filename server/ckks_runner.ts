/**
 * CKKS work off the event loop: one worker (server/ckks_worker.ts) runs
 * encrypted audits and split-flow evaluations one at a time, so that a
 * seconds-long SEAL computation never stalls submissions, proofs or probes.
 * One at a time because each job holds hundreds of megabytes of keys and
 * ciphertexts and already fills a core. A worker that dies (out of memory,
 * say) fails its job and is replaced for the next one.
 *
 * Bounded: at most `maxQueued` jobs wait behind the running one; more are
 * refused at once with {@linkcode CkksBusyError} (503 with `Retry-After`),
 * and the route asks {@linkcode CkksRunner.busy} before it reads a body, so
 * a refused request never buffers its megabytes. A worker idle for
 * `idleMs` is stopped: WebAssembly memory never shrinks, so this is how the
 * process gets back near its baseline after a large job.
 *
 * @module
 */
import { InputValidationError, JsonParseError } from "../core/errors.ts";
import type { AuditBackend } from "../core/audit/index.ts";
import type { PolyModulusDegree } from "../core/fhe/ring_degrees.ts";
import { ApiError } from "./errors.ts";
import type { CkksAnswer, CkksJob } from "./ckks_worker.ts";

type Job = CkksJob extends infer J ? (J extends unknown ? Omit<J, "id"> : never) : never;

/** The evaluator is full: answered 503 with `Retry-After`. */
export class CkksBusyError extends ApiError {
  /** Build the error; `retryAfterSeconds` goes to the `Retry-After` header. */
  constructor(readonly retryAfterSeconds: number) {
    super(
      503,
      "the CKKS evaluator is busy (its queue is full); retry later",
      { reason: "busy" },
      { "retry-after": String(retryAfterSeconds) },
    );
    this.name = "CkksBusyError";
  }
}

/** Options of {@linkcode CkksRunner}. */
export interface CkksRunnerOptions {
  /** Jobs that may wait behind the running one. @default {1} */
  maxQueued?: number;
  /** Stop the worker after this long without work. @default {5000} */
  idleMs?: number;
}

/** Runs CKKS jobs in one worker thread, in order, with a bounded queue. */
export class CkksRunner {
  #worker: Worker | null = null;
  #tail: Promise<unknown> = Promise.resolve();
  #nextId = 0;
  #closed = false;
  #pending = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #jobSeconds = 2;
  readonly #maxQueued: number;
  readonly #idleMs: number;
  #current: { id: number; resolve: (v: unknown) => void; reject: (e: unknown) => void } | null =
    null;

  /** A runner; no worker starts until the first job. */
  constructor(options: CkksRunnerOptions = {}) {
    this.#maxQueued = options.maxQueued ?? 1;
    this.#idleMs = options.idleMs ?? 5000;
    if (!Number.isSafeInteger(this.#maxQueued) || this.#maxQueued < 0) {
      throw new RangeError(`maxQueued must be a non-negative integer, got ${this.#maxQueued}`);
    }
  }

  /** Jobs running or waiting. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether a worker thread is alive (it is stopped when idle). */
  get workerAlive(): boolean {
    return this.#worker !== null;
  }

  /** The refusal a new job would get now, or null when it would be queued. */
  busy(): CkksBusyError | null {
    if (this.#pending < 1 + this.#maxQueued) return null;
    return new CkksBusyError(Math.max(1, Math.ceil(this.#pending * this.#jobSeconds)));
  }

  /**
   * The split flow's evaluator on a request body's bytes (moved to the
   * worker, not copied: `body` is unusable afterwards). The worker parses
   * them with the hostile-input parser (`maxBytes`) and refuses ring
   * dimensions above `maxDegree`.
   * @throws {CkksBusyError} when the queue is full.
   */
  evaluateBody(
    body: Uint8Array,
    limits: { maxBytes: number; maxDegree: PolyModulusDegree },
  ): Promise<unknown> {
    const buf = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength
      ? body.buffer as ArrayBuffer
      : body.slice().buffer;
    return this.#enqueue({ type: "evaluate", body: buf, ...limits });
  }

  /** The whole encrypted audit in the worker, as an {@linkcode AuditBackend}. */
  auditBackend(): AuditBackend {
    return {
      name: "seal-ckks",
      // The worker runs core/fhe's ckksAuditBackend and answers with what it returns.
      run: (primitive, _circuit, input) =>
        this.#enqueue({ type: "audit", primitive, input }) as ReturnType<AuditBackend["run"]>,
    };
  }

  /** Stop the worker; queued and running jobs fail. Idempotent. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#current?.reject(new Error("the CKKS runner was closed"));
    this.#current = null;
    this.#worker?.terminate();
    this.#worker = null;
  }

  #enqueue(job: Job): Promise<unknown> {
    const refused = this.busy();
    if (refused) return Promise.reject(refused);
    this.#pending++;
    clearTimeout(this.#idleTimer);
    const run = this.#tail.then(() => this.#run(job)).finally(() => {
      if (--this.#pending === 0 && !this.#closed) this.#scheduleIdleStop();
    });
    this.#tail = run.catch(() => {});
    return run;
  }

  #scheduleIdleStop(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#pending === 0) {
        this.#worker?.terminate();
        this.#worker = null;
      }
    }, this.#idleMs);
    // An idle timer never keeps the process alive.
    Deno.unrefTimer(this.#idleTimer as unknown as number);
  }

  #run(job: Job): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("the CKKS runner was closed"));
    const worker = this.#worker ??= this.#spawn();
    const id = this.#nextId++;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      this.#current = { id, resolve, reject };
      const transfer = job.type === "evaluate" ? [job.body] : [];
      worker.postMessage({ ...job, id } as CkksJob, transfer);
    }).finally(() => {
      // A running average of job time, for Retry-After.
      this.#jobSeconds = 0.7 * this.#jobSeconds + 0.3 * (performance.now() - started) / 1000;
    });
  }

  #spawn(): Worker {
    const worker = new Worker(new URL("./ckks_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (e: MessageEvent<CkksAnswer>) => {
      const a = e.data;
      const cur = this.#current;
      if (!cur || cur.id !== a.id) return;
      this.#current = null;
      if (a.ok) {
        cur.resolve(a.value);
      } else if (a.name === "InputValidationError" && a.pointer !== undefined) {
        const prefix = `${a.pointer || "/"}: `;
        const message = a.message.startsWith(prefix) ? a.message.slice(prefix.length) : a.message;
        cur.reject(new InputValidationError(a.pointer, a.rule ?? "invalid", message));
      } else if (a.name === "JsonParseError" && a.offset !== undefined) {
        const prefix = `invalid JSON at offset ${a.offset}: `;
        const message = a.message.startsWith(prefix) ? a.message.slice(prefix.length) : a.message;
        cur.reject(new JsonParseError(a.rule ?? "syntax", a.offset, message));
      } else {
        cur.reject(new Error(`CKKS worker: ${a.name}: ${a.message}`));
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      worker.terminate();
      if (this.#worker === worker) this.#worker = null;
      const cur = this.#current;
      this.#current = null;
      cur?.reject(new Error(`the CKKS worker failed: ${e.message}`));
    };
    return worker;
  }
}
