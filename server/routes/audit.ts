/**
 * `POST /v1/audit/{primitive}[?backend=plaintext|ckks]`: validate the input
 * against the primitive's schema, run it, sign with the server's issuer key,
 * append; 201 `{envelope, receipt}`.
 *
 * @module
 */
import type { Context } from "hono";
import type { PrimitiveName } from "../../core/envelope_types.ts";
import { parseJson } from "../../core/json_text.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { type AppEnv, jsonWithRaw, onlyParams, readJsonBody } from "../http.ts";
import type { ServerMetrics } from "../metrics.ts";

/** Every backend name the API knows, available or not. */
export const KNOWN_BACKENDS: readonly string[] = ["plaintext", "ckks"];

/** The route handler. */
export function auditRoute(
  deps: ServerDeps,
  metrics: ServerMetrics,
  bodyLimit: number,
): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    onlyParams(c, ["backend"]);
    const primitive = c.req.param("primitive") ?? "";
    if (!(deps.audits.primitives as readonly string[]).includes(primitive)) {
      throw new ApiError(404, `unknown primitive '${primitive.slice(0, 64)}'`, {
        primitives: [...deps.audits.primitives],
      });
    }
    const backend = c.req.query("backend") ?? "plaintext";
    if (!KNOWN_BACKENDS.includes(backend)) {
      throw new ApiError(400, `unknown backend '${backend.slice(0, 64)}'`, {
        parameter: "backend",
        backends: [...deps.audits.backends],
      });
    }
    if (!deps.audits.backends.includes(backend)) {
      throw new ApiError(400, `backend ${backend} not available`, {
        parameter: "backend",
        backends: [...deps.audits.backends],
        hint: "the server offers CKKS only when started with REGLEDGER_CKKS=1",
      });
    }
    const bytes = await readJsonBody(c);
    // Strict parse: invalid UTF-8, duplicate keys, deep nesting and numbers
    // that overflow a double are 400s here, before the schema sees the value.
    const input = parseJson(bytes, { maxBytes: bodyLimit });
    const parsed = await deps.audits.run(primitive as PrimitiveName, input, backend);
    const { existing, ...receipt } = await deps.log.append(parsed);
    metrics.appends.inc({ outcome: existing ? "existing" : "new" });
    return jsonWithRaw(existing ? 200 : 201, {}, {
      envelope: new TextDecoder().decode(parsed.canonical),
      receipt: JSON.stringify(receipt),
    });
  };
}
