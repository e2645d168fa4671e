/**
 * Operator routes: the bundled schemas, Prometheus metrics and the
 * trust-store reload.
 *
 * @module
 */
import type { Context } from "hono";
import type { ServerDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { onlyParams } from "../http.ts";
import type { ServerMetrics } from "../metrics.ts";

/** `GET /v1/schemas`: the names of the bundled JSON Schemas. */
export function schemaListRoute(deps: ServerDeps): (c: Context<AppEnv>) => Response {
  return (c) => {
    onlyParams(c, []);
    return c.json({ schemas: deps.schemas.list() });
  };
}

/** `GET /v1/schemas/{name}`: one bundled schema, 404 listing the names otherwise. */
export function schemaRoute(deps: ServerDeps): (c: Context<AppEnv>) => Response {
  return (c) => {
    onlyParams(c, []);
    const name = c.req.param("name") ?? "";
    const s = deps.schemas.get(name);
    if (!s) {
      throw new ApiError(404, `no schema '${name.slice(0, 64)}'`, { schemas: deps.schemas.list() });
    }
    return c.json(s);
  };
}

/**
 * `GET /metrics`: the Prometheus text exposition (format 0.0.4), after
 * `beforeRender` has refreshed the values read from elsewhere (the log size).
 */
export function metricsRoute(
  metrics: ServerMetrics,
  beforeRender: () => Promise<void>,
): (c: Context<AppEnv>) => Promise<Response> {
  return async (c) => {
    await beforeRender();
    return c.body(metrics.render(), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  };
}

/** `POST /v1/admin/reload-trust-store`: re-read the trust-store file (422 keeps the old one). */
export function reloadTrustStoreRoute(
  deps: ServerDeps,
  metrics: ServerMetrics,
): (c: Context<AppEnv>) => Promise<Response> {
  return async (c) => {
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
  };
}
