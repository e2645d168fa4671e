/**
 * Request metrics and the structured access log: one counter increment, one
 * latency observation and (when configured) one JSON line per request. Only
 * the route pattern, method, status, timing and the token's short hash are
 * recorded: never bodies, results, paths beyond 256 characters or tokens.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../../env.ts";
import type { ServerMetrics } from "../../metrics.ts";
import { principalOf } from "../auth/index.ts";

/** The route pattern that answered `c` (`"unmatched"` for none): a bounded label. */
export function routeLabel(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    if (routes[i].method !== "ALL") return routes[i].path;
  }
  return "unmatched";
}

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Options of {@linkcode accessLog}. */
export interface AccessLogOptions {
  /** Where request counts and latencies are recorded. */
  metrics: ServerMetrics;
  /** Where the JSON access-log lines go, or `null` for none. */
  write: ((line: string) => void) | null;
}

/** Record every request in `metrics` and, when `write` is set, as one JSON log line. */
export function accessLog(opts: AccessLogOptions): MiddlewareHandler<AppEnv> {
  const { metrics, write } = opts;
  return async (c, next) => {
    const t0 = performance.now();
    await next();
    const seconds = (performance.now() - t0) / 1000;
    const route = routeLabel(c);
    const status = c.res.status;
    // Clients choose the method: keep the label set bounded.
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER";
    metrics.requests.inc({ method, route, status: String(status) });
    metrics.latency.observe(seconds, { method, route });
    if (write) {
      write(JSON.stringify({
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
        ...(c.get("fault") ? { fault: c.get("fault") } : {}),
      }));
    }
  };
}
