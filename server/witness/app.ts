/**
 * The witness's HTTP app (a Hono `fetch` handler), C2SP tlog-witness
 * (https://c2sp.org/tlog-witness) with one prefix for submission and
 * monitoring:
 *
 * | route | what |
 * | --- | --- |
 * | `POST /add-checkpoint` | the spec's call: 200 cosignature lines, 400, 403, 404, 409 (`text/x.tlog.size`), 422 |
 * | `GET /<origin hash>/checkpoint` | the latest checkpoint cosigned for that log, with the log's and the witness's signatures; 404 when none |
 * | `GET /healthz` | `ok` when the state file answers |
 * | `GET /metrics` | Prometheus text: requests by status, cosignatures and size per log, process series |
 *
 * Beyond the spec: a request body over the limit is 413, a client (by
 * remote address) over its rate is 429 with `Retry-After`, more than 256
 * requests waiting for one log is 503 with `Retry-After`, another method
 * than POST on `/add-checkpoint` is 405, and every error body is one line
 * of plain text. The rules (request format, status codes,
 * consistency) live in `ledger/witness/add_checkpoint.ts`; the atomic
 * state change in `./state.ts`.
 *
 * @module
 */
import { Hono } from "hono";
import {
  AddCheckpointFormatError,
  type AddCheckpointRequest,
  originHash,
  parseAddCheckpointRequest,
  TEXT_CONTENT_TYPE,
  type WitnessLog,
} from "../../ledger/witness/add_checkpoint.ts";
import type { NoteSigner } from "../../ledger/note.ts";
import type { RateLimitConfig } from "../config.ts";
import { TokenBuckets } from "../middleware/rate_limit/index.ts";
import { WitnessMetrics } from "./metrics.ts";
import type { WitnessStore } from "./state.ts";

/** Default request body limit: 63 proof lines and a checkpoint with a few ML-DSA signatures fit many times. */
export const DEFAULT_WITNESS_BODY_LIMIT = 65_536;

/** The Hono environment: the server passes the client's address. */
export interface WitnessEnv {
  /** Bindings passed to `app.fetch(request, bindings)`. */
  Bindings: {
    /** The client's address (rate-limit key); absent in-process. */
    remoteAddr?: string;
  };
}

/** Options of {@link createWitnessApp}. */
export interface WitnessAppOptions {
  /** The state. */
  store: WitnessStore;
  /** The logs this witness accepts, by origin. */
  logs: ReadonlyMap<string, WitnessLog>;
  /** The witness's cosigners (Ed25519 first). */
  cosigners: readonly NoteSigner[];
  /** Metrics (made when absent). */
  metrics?: WitnessMetrics;
  /** Per-client rate limit; `null` for none. @default {null} */
  rateLimit?: RateLimitConfig | null;
  /** Body limit in bytes. @default {DEFAULT_WITNESS_BODY_LIMIT} */
  bodyLimit?: number;
  /** Status lines (never secrets). @default {() => {}} */
  status?: (line: string) => void;
}

/**
 * The request body, or `undefined` once it passes `limit` bytes (declared
 * by `Content-Length` or streamed): read without buffering more than that.
 */
async function readLimited(req: Request, limit: number): Promise<Uint8Array | undefined> {
  const declared = req.headers.get("content-length");
  if (declared !== null) {
    // The server holds the body to its declared length.
    return Number(declared) > limit ? undefined : new Uint8Array(await req.arrayBuffer());
  }
  if (req.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of req.body) {
    n += chunk.length;
    if (n > limit) return undefined;
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(n);
  let off = 0;
  for (const ch of chunks) {
    out.set(ch, off);
    off += ch.length;
  }
  return out;
}

function text(body: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": TEXT_CONTENT_TYPE, ...headers },
  });
}

/** The witness app. */
export function createWitnessApp(opts: WitnessAppOptions): Hono<WitnessEnv> {
  const { store, logs, cosigners } = opts;
  const metrics = opts.metrics ?? new WitnessMetrics(store);
  const status = opts.status ?? (() => {});
  const limit = opts.bodyLimit ?? DEFAULT_WITNESS_BODY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`bodyLimit must be a positive integer, got ${limit}`);
  }
  const buckets = opts.rateLimit ? new TokenBuckets(opts.rateLimit) : undefined;
  const byHash = new Map<string, string>();
  for (const origin of logs.keys()) byHash.set(originHash(origin), origin);

  const app = new Hono<WitnessEnv>();
  app.onError((e, _c) => {
    status(`witness: internal error: ${e instanceof Error ? e.message : String(e)}`);
    return text("internal error\n", 500);
  });
  app.notFound(() => text("not found\n", 404));

  const answer = (body: string, status: number, reason: string, type = TEXT_CONTENT_TYPE) => {
    metrics.request(status, reason);
    return new Response(body, { status, headers: { "content-type": type } });
  };

  app.post("/add-checkpoint", async (c) => {
    if (buckets) {
      const wait = buckets.take(c.env?.remoteAddr ?? "local");
      if (wait > 0) {
        metrics.request(429, "rate-limited");
        return text("rate limit exceeded\n", 429, { "retry-after": String(wait) });
      }
    }
    const body = await readLimited(c.req.raw, limit);
    if (body === undefined) {
      return answer(`request body over the limit of ${limit} bytes\n`, 413, "too-large");
    }
    let request: AddCheckpointRequest;
    try {
      request = parseAddCheckpointRequest(body);
    } catch (e) {
      if (e instanceof AddCheckpointFormatError) return answer(e.message + "\n", 400, "malformed");
      throw e;
    }
    const d = await store.addCheckpoint(request, logs.get(request.checkpoint.origin), cosigners);
    if (d === null) {
      metrics.request(503, "busy");
      return text("too many requests for this log are waiting\n", 503, { "retry-after": "1" });
    }
    if (d.status === 200) {
      metrics.cosigned(d.origin);
      return answer(d.body, 200, "cosigned", d.contentType);
    }
    if (d.status === 422) {
      // Signed by the log yet inconsistent with what we cosigned: possible misbehaviour.
      status(
        `witness: refused a checkpoint of ${d.origin} at size ${request.checkpoint.size} ` +
          `(old ${request.oldSize}): ${d.body.trim()}`,
      );
    }
    return answer(d.body, d.status, d.reason, d.contentType);
  });

  app.all("/add-checkpoint", () => text("add-checkpoint takes POST\n", 405, { allow: "POST" }));

  app.get("/healthz", async () => {
    try {
      await store.ping();
    } catch (e) {
      status(`witness: health check failed: ${(e as Error).message}`);
      return text("state file unavailable\n", 503);
    }
    return text("ok\n", 200);
  });

  app.get("/metrics", () =>
    new Response(metrics.render(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    }));

  app.get("/:hash/checkpoint", async (c) => {
    const origin = byHash.get(c.req.param("hash"));
    const stored = origin === undefined ? null : await store.get(origin);
    if (stored === null) return text("no checkpoint cosigned for this log\n", 404);
    return text(stored.checkpoint, 200, { "cache-control": "no-cache" });
  });

  return app;
}
