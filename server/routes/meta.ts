/**
 * Public routes about the server itself: liveness, readiness, version and
 * the OpenAPI document.
 *
 * @module
 */
import type { Context } from "hono";
import type { ServerDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";

/** `GET /healthz`: 200 `{status: "ok"}` while the process answers. */
export function healthRoute(): (c: Context<AppEnv>) => Response {
  return (c) => c.json({ status: "ok" });
}

/**
 * `GET /readyz`: 200 with the tree size, or 503 naming why not (`notReady`);
 * with witnesses, also their state (`witnessing`).
 */
export function readyRoute(
  deps: ServerDeps,
  notReady: () => string | null,
): (c: Context<AppEnv>) => Promise<Response> {
  return async (c) => {
    const why = notReady();
    // With witnesses: their state, a split view included (it does not make the server unready).
    const witnessing = deps.witnessing ? { witnessing: deps.witnessing.status() } : {};
    if (why !== null) return c.json({ ready: false, error: why, ...witnessing }, 503);
    return c.json({ ready: true, tree_size: await deps.log.size(), ...witnessing });
  };
}

/** `GET /version`: version, log identity, backends and primitives. */
export function versionRoute(deps: ServerDeps, version: string): (c: Context<AppEnv>) => Response {
  return (c) =>
    c.json({
      name: "regledger",
      version,
      origin: deps.origin,
      verifier_key: deps.log.verifierKey,
      backends: deps.audits.backends,
      primitives: deps.audits.primitives,
      runtime: typeof Deno !== "undefined" ? `deno ${Deno.version.deno}` : "unknown",
    });
}

/** `GET /openapi.json`: the document `build` returns, serialised once on first request. */
export function openApiRoute(build: () => unknown): (c: Context<AppEnv>) => Response {
  let text: string | undefined;
  return (c) => {
    text ??= JSON.stringify(build());
    return c.body(text, 200, { "content-type": "application/json; charset=utf-8" });
  };
}
