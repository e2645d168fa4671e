/**
 * The regledger HTTP API (docs/formats.md §8) as a Hono app: a plain `fetch`
 * handler built by {@linkcode createApp}, tested in-process with
 * `app.request()` and served by `server/serve.ts`.
 *
 * This file only wires: the routes and their scopes come from
 * `routes/table.ts`, the handlers from `routes/`, the middleware from Hono
 * and `middleware/`. Middleware, outermost first: request id → access log
 * and metrics → 405 for a known path with another method → secure headers →
 * CORS allow-list → timeout → body limit → (per route) authentication →
 * scope → per-token rate limit.
 *
 * @module
 */
import { type Handler, Hono } from "hono";
import { every } from "hono/combine";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { Scope, ServerConfig } from "./config.ts";
import type { ServerDeps } from "./deps.ts";
import type { AppEnv } from "./env.ts";
import { errorToResponse, jsonError } from "./errors.ts";
import { Gauge, ServerMetrics } from "./metrics.ts";
import { accessLog, routeLabel } from "./middleware/access_log/index.ts";
import { ApiKeyring, authenticate, requireScope } from "./middleware/auth/index.ts";
import { bodyLimits } from "./middleware/body_limit/index.ts";
import { rateLimit, TokenBuckets } from "./middleware/rate_limit/index.ts";
import { requestTimeout } from "./middleware/timeout/index.ts";
import { openApiOf } from "./openapi/mod.ts";
import {
  metricsRoute,
  reloadTrustStoreRoute,
  schemaListRoute,
  schemaRoute,
} from "./routes/admin.ts";
import { trustStoreRoute, whoamiRoute } from "./routes/access.ts";
import { evidenceRoute } from "./routes/evidence.ts";
import { privacyBudgetRoute } from "./routes/privacy.ts";
import { auditRoute } from "./routes/audit.ts";
import { CKKS_EVALUATE_PATH, ckksEvaluateRoute, evaluateInThread } from "./routes/ckks.ts";
import { submitEnvelope, verifyRoute } from "./routes/envelopes.ts";
import {
  bundleRoute,
  checkpointRoute,
  consistencyRoute,
  entryRoute,
  inclusionRoute,
  keyRoute,
  keysRoute,
  queryRoute,
} from "./routes/log.ts";
import { tileCheckpointRoute, tileRoute } from "./routes/tiles.ts";
import { healthRoute, openApiRoute, readyRoute, versionRoute } from "./routes/meta.ts";
import { API_ROUTES, CONSOLE_ROUTES, type OperationId } from "./routes/table.ts";
import { CONSOLE_CSP, consoleAssetRoute, consolePageRoute, isConsolePath } from "./console/mod.ts";
import { SERVER_VERSION } from "./version.ts";

export { openApiOf } from "./openapi/mod.ts";
export { SERVER_VERSION } from "./version.ts";

/** Options of {@linkcode createApp} beyond dependencies and configuration. */
export interface AppOptions {
  /**
   * Metrics registry to record into (a fresh one by default). Pass the one
   * whose `recordCommit` is the ledger's `onCommit` to get group-commit series.
   */
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

function stackOnly(e: unknown): string {
  if (!(e instanceof Error)) return typeof e;
  // The first stack line repeats the message, which may quote input: drop it.
  const frames = (e.stack ?? "").split("\n").slice(1, 6).map((s) => s.trim());
  return `${e.name}: ${frames.join(" | ")}`;
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
  app.use(accessLog({ metrics, write: config.accessLog }));
  app.use(methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) =>
      jsonError(405, `method ${c.req.method} not allowed here (allowed: ${methods.join(", ")})`, {
        allowed: methods,
      }, { Allow: methods.join(", ") }),
  }));
  // A JSON API: no content may load or frame anything. The console's pages
  // load their own script and style and call the API: same origin only.
  const apiHeaders = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  });
  const consoleHeaders = secureHeaders({ contentSecurityPolicy: CONSOLE_CSP });
  app.use((c, next) => (isConsolePath(c.req.path) ? consoleHeaders : apiHeaders)(c, next));
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
  // The split flow's requests carry Galois keys: that one route has its own limit.
  app.use(bodyLimits({
    maxSize: config.bodyLimit,
    perPath: { [CKKS_EVALUATE_PATH]: config.ckksBodyLimit },
  }));

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

  const handlers: Record<OperationId, Handler<AppEnv>> = {
    getHealth: healthRoute(),
    getReadiness: readyRoute(deps, options.notReady ?? (() => null)),
    getVersion: versionRoute(deps, SERVER_VERSION),
    getOpenApi: openApiRoute(() => openApiOf(deps)),
    getCheckpoint: checkpointRoute(deps),
    getVerifierKey: keyRoute(deps),
    getVerifierKeys: keysRoute(deps),
    getTileCheckpoint: tileCheckpointRoute(deps),
    getEntryTile: tileRoute(deps, "entries"),
    getEnvelopeTile: tileRoute(deps, "envelopes"),
    getHashTile: tileRoute(deps, "hash"),
    submitEnvelope: submitEnvelope(deps, metrics),
    runAudit: auditRoute(deps, metrics, config.bodyLimit),
    queryEntries: queryRoute(deps),
    getEntry: entryRoute(deps),
    getEntryBundle: bundleRoute(deps),
    getInclusionProof: inclusionRoute(deps),
    getConsistencyProof: consistencyRoute(deps),
    verifyEnvelope: verifyRoute(deps),
    getPrivacyBudget: privacyBudgetRoute(deps),
    evaluateCkks: ckksEvaluateRoute(config.ckks ? (deps.ckksEvaluate ?? evaluateInThread) : null, {
      maxBytes: config.ckksBodyLimit,
      maxDegree: config.ckksMaxDegree,
    }),
    listSchemas: schemaListRoute(deps),
    getSchema: schemaRoute(deps),
    getMetrics: metricsRoute(metrics, async () => {
      logSize = await deps.log.size();
    }),
    reloadTrustStore: reloadTrustStoreRoute(deps, metrics),
    getTrustStore: trustStoreRoute(deps),
    getEvidencePack: evidenceRoute(deps),
    whoami: whoamiRoute(config.devMode),
  };
  const consoleHandlers = { getConsole: consolePageRoute(), getConsoleAsset: consoleAssetRoute() };
  for (const r of CONSOLE_ROUTES) app.on(r.method, r.path, consoleHandlers[r.operationId]);
  for (const r of API_ROUTES) {
    const h = handlers[r.operationId];
    const bundle = r.operationId === "getEntryTile" || r.operationId === "getEnvelopeTile";
    if (r.access === null || (bundle && config.publicBundles)) app.on(r.method, r.path, h);
    else app.on(r.method, r.path, guard(r.access), h);
  }
  return app;
}
