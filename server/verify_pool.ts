/**
 * A pool of Web Workers that verify envelopes off the main thread. Ed25519
 * verification and hashing are most of a submission's CPU time; the main
 * thread keeps HTTP, parsing and the ledger's group commit, so submissions
 * scale with cores.
 *
 * A verdict is the same as `verifyEnvelope` on the main thread would give:
 * the worker re-parses the envelope's canonical bytes and verifies them
 * against its copy of the trust store; a typed failure is rebuilt as the same
 * `EnvelopeVerificationError` subclass.
 *
 * @module
 */
import {
  type EnvelopeVerificationError,
  HashMismatch,
  InvalidSignature,
  RevokedIssuer,
  TimestampInvalid,
  UntrustedIssuer,
  WrongParameterSet,
} from "../core/errors.ts";
import type { ParsedEnvelope } from "../core/envelope_types.ts";
import type { TrustStoreJson } from "../core/trust_store.ts";
import type { VerifiedEnvelope } from "./deps.ts";
import type { PoolAnswer, PoolRequest } from "./verify_worker.ts";

const TYPED: Record<string, new (message: string, keyId?: string) => EnvelopeVerificationError> = {
  UntrustedIssuer,
  RevokedIssuer,
  WrongParameterSet,
  HashMismatch,
  InvalidSignature,
  TimestampInvalid,
};

interface Slot {
  worker: Worker;
  inflight: number;
  dead: boolean;
  storeAck: (() => void) | null;
  storeFail: ((e: Error) => void) | null;
}

/**
 * Default pool size: one worker per core beyond the main thread, at most 4;
 * none on two cores or fewer, where a worker competes with the main thread
 * (benchmarks/server.ts measured 0.8× the main-thread rate on 2 shared cores,
 * and 0.92–0.99× once the ledger got faster). Without workers the signature
 * check is still off the JavaScript thread: Deno runs Web Crypto's Ed25519
 * verify on its blocking pool (measured ~5–10 µs of JS-thread time per
 * verify, ~50 µs elsewhere), so a worker mainly adds a re-parse and messages.
 */
export function defaultVerifyWorkers(): number {
  const cores = typeof navigator !== "undefined" ? navigator.hardwareConcurrency ?? 2 : 2;
  return cores <= 2 ? 0 : Math.min(4, cores - 1);
}

/** Verifies envelopes in worker threads. */
export class VerifyPool {
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<
    number,
    { resolve: (v: VerifiedEnvelope) => void; reject: (e: unknown) => void; slot: Slot }
  >();
  #nextId = 0;
  #closed = false;

  private constructor() {}

  /**
   * Start `size` workers holding `store`.
   * @throws {RangeError} when `size` is not an integer from 1 to 64.
   */
  static async create(size: number, store: TrustStoreJson): Promise<VerifyPool> {
    if (!Number.isSafeInteger(size) || size < 1 || size > 64) {
      throw new RangeError(`verify pool size must be an integer from 1 to 64, got ${size}`);
    }
    const pool = new VerifyPool();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./verify_worker.ts", import.meta.url), { type: "module" });
      const slot: Slot = { worker, inflight: 0, dead: false, storeAck: null, storeFail: null };
      worker.onmessage = (e: MessageEvent<PoolAnswer>) => pool.#answer(slot, e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        pool.#failSlot(slot, new Error(`verify worker failed: ${e.message}`));
      };
      pool.#slots.push(slot);
    }
    try {
      await pool.setTrustStore(store);
    } catch (e) {
      pool.close();
      throw e;
    }
    return pool;
  }

  /** Number of workers still running. */
  get size(): number {
    return this.#closed ? 0 : this.#slots.filter((s) => !s.dead).length;
  }

  /** Give every worker a new trust store; resolves once all have it. */
  async setTrustStore(store: TrustStoreJson): Promise<void> {
    await Promise.all(
      this.#slots.filter((s) => !s.dead).map((slot) =>
        new Promise<void>((resolve, reject) => {
          slot.storeAck = resolve;
          slot.storeFail = reject;
          slot.worker.postMessage({ type: "store", store } satisfies PoolRequest);
        })
      ),
    );
  }

  /**
   * Verify `parsed` in the least busy worker.
   * @throws {EnvelopeVerificationError} the typed failure.
   * @throws {Error} when the pool is closed or no worker is running.
   */
  verify(parsed: ParsedEnvelope): Promise<VerifiedEnvelope> {
    let slot: Slot | undefined;
    for (const s of this.#slots) {
      if (!s.dead && (slot === undefined || s.inflight < slot.inflight)) slot = s;
    }
    if (this.#closed || slot === undefined) {
      return Promise.reject(new Error("verify pool has no running worker"));
    }
    const id = this.#nextId++;
    slot.inflight++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, slot: slot! });
      // The canonical bytes are copied (structured clone), never transferred:
      // the caller still appends this envelope.
      slot.worker.postMessage(
        { type: "verify", id, canonical: parsed.canonical } satisfies PoolRequest,
      );
    });
  }

  #answer(slot: Slot, m: PoolAnswer): void {
    if (m.type === "store-ok") {
      slot.storeAck?.();
      slot.storeAck = slot.storeFail = null;
      return;
    }
    if (m.type === "store-error") {
      slot.storeFail?.(new Error(m.message));
      slot.storeAck = slot.storeFail = null;
      return;
    }
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    slot.inflight--;
    if (m.ok) return p.resolve({ kind: m.kind, key_id: m.key_id, timestamp: m.timestamp });
    const Typed = m.typed ? TYPED[m.name] : undefined;
    p.reject(Typed ? new Typed(m.message, m.keyId) : new Error(`${m.name}: ${m.message}`));
  }

  #failSlot(slot: Slot, e: Error): void {
    slot.dead = true;
    for (const [id, p] of this.#pending) {
      if (p.slot === slot) {
        this.#pending.delete(id);
        p.reject(e);
      }
    }
    slot.inflight = 0;
    slot.storeFail?.(e);
    slot.storeAck = slot.storeFail = null;
  }

  /** Stop the workers; pending verifications fail. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#slots) {
      this.#failSlot(s, new Error("verify pool is closed"));
      s.worker.terminate();
    }
  }

  /** Kill one worker as if it had crashed (fault-injection tests). */
  crashOneForTest(): void {
    const s = this.#slots.find((x) => !x.dead);
    if (!s) return;
    s.worker.terminate();
    this.#failSlot(s, new Error("verify worker crashed"));
  }
}
