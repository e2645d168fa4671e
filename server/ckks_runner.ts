/**
 * CKKS work off the event loop: one worker (server/ckks_worker.ts) runs
 * encrypted audits and split-flow evaluations one at a time, so that a
 * seconds-long SEAL computation never stalls submissions, proofs or probes.
 * One at a time because each job holds hundreds of megabytes of keys and
 * ciphertexts and already fills a core. A worker that dies (out of memory,
 * say) fails its job and is replaced for the next one.
 *
 * @module
 */
import { InputValidationError } from "../core/errors.ts";
import type { AuditBackend } from "../core/audit/index.ts";
import type { CkksAnswer, CkksJob } from "./ckks_worker.ts";

type Job = CkksJob extends infer J ? (J extends unknown ? Omit<J, "id"> : never) : never;

/** Runs CKKS jobs in one worker thread, in order. */
export class CkksRunner {
  #worker: Worker | null = null;
  #tail: Promise<unknown> = Promise.resolve();
  #nextId = 0;
  #closed = false;
  #current: { id: number; resolve: (v: unknown) => void; reject: (e: unknown) => void } | null =
    null;

  /** The split flow's evaluator: a `regledger.ckks-response.v1` for a request. */
  evaluate(request: unknown): Promise<unknown> {
    return this.#enqueue({ type: "evaluate", request });
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
    this.#current?.reject(new Error("the CKKS runner was closed"));
    this.#current = null;
    this.#worker?.terminate();
    this.#worker = null;
  }

  #enqueue(job: Job): Promise<unknown> {
    const run = this.#tail.then(() => this.#run(job));
    this.#tail = run.catch(() => {});
    return run;
  }

  #run(job: Job): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("the CKKS runner was closed"));
    const worker = this.#worker ??= this.#spawn();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#current = { id, resolve, reject };
      worker.postMessage({ ...job, id } as CkksJob);
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
