/**
 * One witnessing round with one witness (`server/witnessing.ts` runs them):
 * send the target checkpoint to the witness's `add-checkpoint` with a
 * consistency proof from the size it holds, follow its 409s (the size it
 * really holds) a few times, and say what came of it. What an answer means
 * is `ledger/witness/client.ts`'s; this module does the HTTP and the proofs.
 *
 * @module
 */
import { fromBase64 } from "../core/bytes.ts";
import { formatAddCheckpointRequest } from "../ledger/witness/add_checkpoint.ts";
import {
  type AddCheckpointOutcome,
  readAddCheckpointResponse,
  type WitnessEndpoint,
} from "../ledger/witness/client.ts";
import type { LogService } from "./deps.ts";
import type { WitnessMetrics } from "./witnessing_metrics.ts";

/** How many 409s one round follows before it gives up. */
export const MAX_CONFLICTS_PER_ROUND = 3;

/** What a round needs beyond the witness and the checkpoint. */
export interface RoundContext {
  /** The log (sizes and consistency proofs). */
  log: Pick<LogService, "size" | "proveConsistency">;
  /** The HTTP client. */
  fetch: typeof fetch;
  /** Timeout of one request, in ms. */
  requestTimeoutMs: number;
  /** Aborted when witnessing stops. */
  signal: AbortSignal;
  /** Where requests are counted and timed. */
  metrics: WitnessMetrics;
  /** Bounds the requests in flight over all witnesses. */
  slots: Slots;
}

/** The outcome of {@linkcode witnessRound}. */
export type RoundResult =
  | { kind: "cosigned"; lines: string[] }
  /** The witness holds a size this process's target is behind, and the log has it: move on. */
  | { kind: "stale"; logSize: number }
  | {
    kind: "failed";
    /** The witness's state from now on. */
    state: "failing" | "refused" | "split-view";
    /** Stable short name (metrics). */
    reason: string;
    /** For the operator. */
    message: string;
  };

/**
 * Run one round: `witness.size` is the size the witness is believed to
 * hold, and is updated from its 409 answers (and to `target.size` once it
 * cosigns).
 *
 * @throws when `ctx.signal` aborts mid-request.
 */
export async function witnessRound(
  witness: { endpoint: WitnessEndpoint; size: number },
  target: { size: number; text: string },
  ctx: RoundContext,
): Promise<RoundResult> {
  const name = witness.endpoint.name;
  for (let conflicts = 0; conflicts < MAX_CONFLICTS_PER_ROUND; conflicts++) {
    if (witness.size > target.size) {
      const logSize = await ctx.log.size();
      if (logSize >= witness.size) return { kind: "stale", logSize };
      return {
        kind: "failed",
        state: "split-view",
        reason: "witness-ahead",
        message:
          `the witness cosigned size ${witness.size} of this log's origin, but this log has ` +
          `${logSize} entries: another copy of this log (same key) is ahead of it, or it was rolled back`,
      };
    }
    const old = witness.size;
    const proof = old === 0 || old === target.size
      ? []
      : (await ctx.log.proveConsistency(old, target.size)).proof.map(fromBase64);
    const outcome = await post(
      witness.endpoint,
      formatAddCheckpointRequest(old, proof, target.text),
      old,
      target.text,
      ctx,
    );
    ctx.metrics.requests.inc({ witness: name, outcome: outcome.kind });
    switch (outcome.kind) {
      case "cosigned":
        witness.size = target.size;
        return { kind: "cosigned", lines: outcome.lines };
      case "conflict":
        witness.size = outcome.witnessSize;
        continue;
      case "split-view":
        return {
          kind: "failed",
          state: "split-view",
          reason: "split-view",
          message: outcome.message,
        };
      case "refused":
        return {
          kind: "failed",
          state: "refused",
          reason: outcome.reason,
          message: outcome.message,
        };
      case "unavailable":
        return {
          kind: "failed",
          state: "failing",
          reason: "unavailable",
          message: outcome.message,
        };
    }
  }
  return {
    kind: "failed",
    state: "failing",
    reason: "conflict",
    message: "the witness's size kept changing (another log server?)",
  };
}

async function post(
  endpoint: WitnessEndpoint,
  body: string,
  oldSize: number,
  checkpoint: string,
  ctx: RoundContext,
): Promise<AddCheckpointOutcome> {
  await ctx.slots.acquire();
  const started = performance.now();
  try {
    const res = await ctx.fetch(endpoint.addCheckpointUrl, {
      method: "POST",
      headers: { "content-type": "text/plain; charset=utf-8" },
      body,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.requestTimeoutMs)]),
    });
    const text = await readCapped(res);
    return await readAddCheckpointResponse(
      { status: res.status, contentType: res.headers.get("content-type"), body: text },
      oldSize,
      checkpoint,
      endpoint.keys,
    );
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    const why = e instanceof DOMException && e.name === "TimeoutError"
      ? `no answer within ${ctx.requestTimeoutMs} ms`
      : `cannot reach ${endpoint.url}: ${(e as Error).message}`;
    return { kind: "unavailable", status: 0, message: why };
  } finally {
    ctx.metrics.latency.observe((performance.now() - started) / 1000, { witness: endpoint.name });
    ctx.slots.release();
  }
}

/** Read at most `max` bytes of a body as text (a witness answers a few lines). */
async function readCapped(res: Response, max = 65_536): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(n, max));
  let off = 0;
  for (const c of chunks) {
    const part = c.subarray(0, all.length - off);
    all.set(part, off);
    off += part.length;
  }
  return new TextDecoder().decode(all);
}

/** A counting semaphore: at most `n` holders at once, the others wait in order. */
export class Slots {
  #free: number;
  #queue: (() => void)[] = [];

  /** `n` slots. */
  constructor(n: number) {
    this.#free = n;
  }

  /** Wait for a slot. */
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((r) => this.#queue.push(r));
  }

  /** Give a slot back (to the longest waiter, if any). */
  release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#free++;
  }
}

/** Resolve after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
