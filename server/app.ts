/**
 * The regledger HTTP API (CONTRACT §5) as a Hono app: a plain `fetch`
 * handler built by {@linkcode createApp}, tested in-process with
 * `app.request()` and served by `server/serve.ts`.
 *
 * Middleware, outermost first: request id → access log and metrics → 405
 * for a known path with another method → secure headers → CORS allow-list → timeout → body limit → (per route)
 * authentication → scope → per-token rate limit.
 *
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { every } from "hono/combine";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { matchedRoutes } from "hono/route";
import { secureHeaders } from "hono/secure-headers";
import denoJson from "../deno.json" with { type: "json" };
import { ApiKeyring, authenticate, principalOf, requireScope } from "./auth.ts";
import type { Scope, ServerConfig } from "./config.ts";
import type { ServerDeps } from "./deps.ts";
import { ApiError, errorToResponse, jsonError } from "./errors.ts";
import type { AppEnv } from "./http.ts";
import { onlyParams } from "./http.ts";
import { Gauge, ServerMetrics } from "./metrics.ts";
import { buildOpenApi } from "./openapi.ts";
import { rateLimit, TokenBuckets } from "./rate_limit.ts";
import { auditRoute } from "./routes/audit.ts";
import { submitEnvelope, verifyRoute } from "./routes/envelopes.ts";
import { CKKS_EVALUATE_PATH, ckksEvaluateRoute, evaluateInThread } from "./routes/ckks.ts";
import {
  bundleRoute,
  checkpointRoute,
  consistencyRoute,
  entryRoute,
  inclusionRoute,
  keyRoute,
  queryRoute,
} from "./routes/log.ts";

/** Version reported by `/version` and the OpenAPI document. */
export const SERVER_VERSION: string = denoJson.version;

/** Options of {@linkcode createApp} beyond dependencies and configuration. */
export interface AppOptions {
  /** Metrics registry to record into (a fresh one by default). */
  metrics?: ServerMetrics;
  /** `null` when ready, otherwise why not (answered by `/readyz` as 503). */
  notReady?: () => string | null;
  /** Called with a log line for failures that are the server's fault. */
  onBug?: (line: string) => void;
}

/**
 * The app: a `fetch` handler plus Hono's in-process `request` helper. The
 * object is a Hono app (`Hono<AppEnv>`); cast it to mount it in another Hono app.
 */
export interface RegledgerApp {
  /** Answer one request (what `Deno.serve` calls). */
  fetch(request: Request, env?: unknown, executionCtx?: undefined): Response | Promise<Response>;
  /** Answer a request built from a path or URL, in process (tests). */
  request(input: string | Request | URL, init?: RequestInit): Response | Promise<Response>;
}

function routeLabel(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    if (routes[i].method !== "ALL") return routes[i].path;
  }
  return "unmatched";
}

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

function stackOnly(e: unknown): string {
  if (!(e instanceof Error)) return typeof e;
  // The first stack line repeats the message, which may quote input: drop it.
  const frames = (e.stack ?? "").split("\n").slice(1, 6).map((s) => s.trim());
  return `${e.name}: ${frames.join(" | ")}`;
}

/**
 * Hono's `timeout` middleware (503 once `ms` pass) with one shared timer
 * instead of one timer per request: a sweep every `ms / 20` (at most 1 s)
 * fails the requests past their deadline, so a request times out at most one
 * sweep period after `ms` (plus however late the event loop runs the sweep).
 * The sweep stops when nothing is in flight.
 */
function requestTimeout(ms: number): MiddlewareHandler<AppEnv> {
  interface Waiter {
    deadline: number;
    fail: (e: Error) => void;
  }
  const inflight = new Set<Waiter>();
  const period = Math.max(1, Math.min(1000, Math.ceil(ms / 20)));
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const stopIfIdle = () => {
    if (inflight.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  const sweep = () => {
    const now = performance.now();
    for (const w of inflight) {
      if (w.deadline <= now) {
        inflight.delete(w);
        w.fail(new HTTPException(503, { message: "request timed out" }));
      }
    }
    stopIfIdle();
  };
  // One promise per request, settled by whichever comes first: the handler
  // chain or the sweep (no Promise.race, no async frame).
  return (_c, next) =>
    new Promise<void>((resolve, reject) => {
      const w: Waiter = { deadline: performance.now() + ms, fail: reject };
      inflight.add(w);
      sweeper ??= setInterval(sweep, period);
      const done = () => {
        inflight.delete(w);
        stopIfIdle();
      };
      const failed = (e: unknown) => {
        done();
        reject(e);
      };
      try {
        next().then(() => {
          done();
          resolve();
        }, failed);
      } catch (e) {
        failed(e);
      }
    });
}

/**
 * Build the app.
 *
 * @example
 * ```ts ignore
 * const app = createApp(deps, { ...DEFAULT_CONFIG, devMode: true });
 * const res = await app.request("/healthz");
 * ```
 */
export function createApp(
  deps: ServerDeps,
  config: ServerConfig,
  options: AppOptions = {},
): RegledgerApp {
  const metrics = options.metrics ?? new ServerMetrics();
  let logSize = 0;
  metrics.addGauge(new Gauge("regledger_log_size", "Entries in the log.", () => logSize));
  let batchStats = deps.log.drainBatchSizes ? 1 : 0;
  metrics.addGauge(
    new Gauge(
      "regledger_group_commit_stats_available",
      "1 when the ledger reports group-commit batch sizes, 0 when it does not.",
      () => batchStats,
    ),
  );
  const keyring = new ApiKeyring(config.apiKeys);
  const buckets = config.rateLimit ? new TokenBuckets(config.rateLimit) : null;
  const auth = authenticate(keyring, config.devMode);
  const onBug = options.onBug ?? ((line: string) => console.error(line));
  const guard = (scope: Scope | "any") =>
    buckets
      ? every(auth, requireScope(scope), rateLimit(buckets))
      : every(auth, requireScope(scope));

  const app = new Hono<AppEnv>();

  app.use(requestId({ limitLength: 128 }));
  app.use(async (c, next) => {
    const t0 = performance.now();
    await next();
    const seconds = (performance.now() - t0) / 1000;
    const route = routeLabel(c);
    const status = c.res.status;
    // Clients choose the method: keep the label set bounded.
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER";
    metrics.requests.inc({ method, route, status: String(status) });
    metrics.latency.observe(seconds, { method, route });
    if (config.accessLog) {
      config.accessLog(JSON.stringify({
        ts: new Date().toISOString(),
        level: status >= 500 ? "error" : "info",
        msg: "request",
        request_id: c.get("requestId"),
        method,
        route,
        path: c.req.path.slice(0, 256),
        status,
        duration_ms: Math.round(seconds * 1e6) / 1000,
        token: principalOf(c)?.tokenHash ?? null,
        bytes_in: Number(c.req.header("content-length") ?? 0) || 0,
      }));
    }
  });
  app.use(methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) =>
      jsonError(405, `method ${c.req.method} not allowed here (allowed: ${methods.join(", ")})`, {
        allowed: methods,
      }, { Allow: methods.join(", ") }),
  }));
  // A JSON API: no content may load or frame anything.
  app.use(secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  }));
  if (config.corsOrigins.length > 0) {
    const allowed = new Set(config.corsOrigins);
    app.use(cors({
      origin: (origin) => (allowed.has(origin) ? origin : null),
      allowMethods: ["GET", "POST", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
      exposeHeaders: ["X-Request-Id", "Retry-After"],
      maxAge: 600,
    }));
  }
  app.use(requestTimeout(config.requestTimeoutMs));
  const limitOf = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () =>
        jsonError(413, `request body over the limit of ${maxSize} bytes`, { limit: maxSize }),
    });
  const defaultLimit = limitOf(config.bodyLimit);
  // The split flow's requests carry Galois keys: that one route has its own limit.
  const ckksLimit = limitOf(config.ckksBodyLimit);
  app.use((c, next) =>
    c.req.path === CKKS_EVALUATE_PATH ? ckksLimit(c, next) : defaultLimit(c, next)
  );

  app.onError((e, c) =>
    errorToResponse(e, c, (err) =>
      onBug(JSON.stringify({
        ts: new Date().toISOString(),
        level: "error",
        msg: "unhandled error",
        request_id: c.get("requestId"),
        route: routeLabel(c),
        error: stackOnly(err),
      })))
  );
  app.notFound((c) => jsonError(404, `no route ${c.req.method} ${c.req.path.slice(0, 128)}`));

  // Public.
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const why = options.notReady?.() ?? null;
    if (why !== null) return c.json({ ready: false, error: why }, 503);
    return c.json({ ready: true, tree_size: await deps.log.size() });
  });
  app.get("/version", (c) =>
    c.json({
      name: "regledger",
      version: SERVER_VERSION,
      origin: deps.origin,
      verifier_key: deps.log.verifierKey,
      backends: deps.audits.backends,
      primitives: deps.audits.primitives,
      runtime: typeof Deno !== "undefined" ? `deno ${Deno.version.deno}` : "unknown",
    }));
  let openapi: string | undefined;
  app.get("/openapi.json", (c) => {
    openapi ??= JSON.stringify(openApiOf(deps));
    return c.body(openapi, 200, { "content-type": "application/json; charset=utf-8" });
  });
  app.get("/v1/log/checkpoint", checkpointRoute(deps));
  app.get("/v1/log/key", keyRoute(deps));

  // Protected.
  app.post("/v1/envelopes", guard("ledger:append"), submitEnvelope(deps, metrics));
  app.post("/v1/audit/:primitive", guard("audit:run"), auditRoute(deps, metrics, config.bodyLimit));
  app.get("/v1/log/entries", guard("ledger:read"), queryRoute(deps));
  app.get("/v1/log/entries/:index", guard("ledger:read"), entryRoute(deps));
  app.get("/v1/log/entries/:index/bundle", guard("ledger:read"), bundleRoute(deps));
  app.get("/v1/log/proof/inclusion", guard("ledger:read"), inclusionRoute(deps));
  app.get("/v1/log/proof/consistency", guard("ledger:read"), consistencyRoute(deps));
  app.post("/v1/verify", guard("verify"), verifyRoute(deps));
  app.post(
    CKKS_EVALUATE_PATH,
    guard("audit:run"),
    ckksEvaluateRoute(
      config.ckks ? (deps.ckksEvaluate ?? evaluateInThread) : null,
    ),
  );
  app.get("/v1/schemas", guard("any"), (c) => {
    onlyParams(c, []);
    return c.json({ schemas: deps.schemas.list() });
  });
  app.get("/v1/schemas/:name", guard("any"), (c) => {
    onlyParams(c, []);
    const name = c.req.param("name");
    const s = deps.schemas.get(name);
    if (!s) {
      throw new ApiError(404, `no schema '${name.slice(0, 64)}'`, { schemas: deps.schemas.list() });
    }
    return c.json(s);
  });
  app.get("/metrics", guard("ledger:read"), async (c) => {
    logSize = await deps.log.size();
    const sizes = deps.log.drainBatchSizes?.();
    if (sizes) {
      batchStats = 1;
      for (const n of sizes) metrics.batches.observe(n);
    }
    return c.body(metrics.render(), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });
  app.post("/v1/admin/reload-trust-store", guard("admin"), async (c) => {
    onlyParams(c, []);
    try {
      const s = await deps.envelopes.reloadTrustStore();
      metrics.reloads.inc({ result: "ok" });
      return c.json({ reloaded: true, ...s });
    } catch (e) {
      metrics.reloads.inc({ result: "error" });
      throw new ApiError(
        422,
        `trust store not reloaded: ${e instanceof Error ? e.message : String(e)}`,
        { reason: e instanceof Error ? e.name : "Error" },
      );
    }
  });

  return app;
}

/** The OpenAPI document of an app built over `deps`. */
export function openApiOf(deps: ServerDeps): Record<string, unknown> {
  const names = deps.schemas.list();
  const schemas: Record<string, Record<string, unknown>> = {};
  for (const n of names) {
    const s = deps.schemas.get(n);
    if (s) schemas[n] = s;
  }
  const find = (cands: string[]) => cands.find((c) => names.includes(c));
  return buildOpenApi({
    version: SERVER_VERSION,
    primitives: deps.audits.primitives,
    schemas,
    inputSchemaOf: (p) => find([`${p}.input`, `${p}-input`, `${p}_input`, `input/${p}`, p]),
    envelopeSchema: find(["envelope", "envelope.native", "regledger.envelope.v1"]),
  });
}
