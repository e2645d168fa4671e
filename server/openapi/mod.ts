/**
 * The OpenAPI 3.1 document of the server, built from two sources only: the
 * route table (`routes/table.ts`: paths, methods, `operationId`s, scopes)
 * and the bundled JSON Schemas (`core/schemas.ts`, embedded as components by
 * `components.ts`). Scopes are OAS security requirements on the `bearer`
 * scheme (OAS 3.1 §4.8.30: for schemes other than OAuth2/OpenID Connect the
 * array lists the roles the operation needs).
 *
 * @module
 */
import type { PrimitiveName } from "../../core/envelope_types.ts";
import type { ServerDeps } from "../deps.ts";
import { API_ROUTES, openApiPath } from "../routes/table.ts";
import { SERVER_VERSION } from "../version.ts";
import { componentSchemas, type Obj } from "./components.ts";
import { auditOperation, err, OPERATIONS } from "./operations.ts";

export { COMPONENT_PREFIX, componentSchemas, defComponentName, schemaRef } from "./components.ts";

/** Inputs of {@linkcode buildOpenApi}. */
export interface OpenApiInputs {
  /** Server version (`info.version`). */
  version: string;
  /** Primitives served by `POST /v1/audit/{primitive}`: one documented path each. */
  primitives: readonly PrimitiveName[];
  /**
   * `servers` of the document.
   * @default {[{url: "/"}, {url: "http://127.0.0.1:8080"}]}
   */
  servers?: { url: string; description?: string }[];
}

const DEFAULT_SERVERS = [
  { url: "/", description: "The server that serves this document." },
  { url: "http://127.0.0.1:8080", description: "`regledger serve` with its defaults." },
];

const COMMON_ERRORS: Record<string, Obj> = {
  "400": err("Malformed input: the body names the problem (`pointer` for schema errors)."),
  "401": err("Missing, malformed or unknown bearer token."),
  "403": err("The token lacks the route's scope."),
  "413": err("Request body over the limit."),
  "429": err("Rate limit exceeded; see `Retry-After`."),
};

const SCOPE_TEXT = "Bearer tokens from REGLEDGER_API_KEYS, each with scopes: `audit:run`, " +
  "`ledger:append`, `ledger:read`, `verify`, `metrics` (only `GET /metrics`), `admin` " +
  "(implies every scope). Each operation's security requirement lists the scope it needs; " +
  "an empty list means any valid token.";

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Build the OpenAPI 3.1 document.
 *
 * @example
 * ```ts
 * import { buildOpenApi } from "./mod.ts";
 * const doc = buildOpenApi({ version: "0.1.0", primitives: ["drift"] });
 * if (doc.openapi !== "3.1.0") throw new Error("not OpenAPI 3.1");
 * ```
 */
export function buildOpenApi(inp: OpenApiInputs): Record<string, unknown> & { openapi: string } {
  const paths: Record<string, Record<string, Obj>> = {};
  const add = (path: string, method: string, op: Obj) => {
    (paths[path] ??= {})[method.toLowerCase()] = op;
  };
  for (const r of API_ROUTES) {
    const security = r.access === null ? [] : [{ bearer: r.access === "any" ? [] : [r.access] }];
    const finish = (operationId: string, doc: Obj & { responses: Obj }): Obj => ({
      operationId,
      ...doc,
      security,
      responses: r.access === null ? doc.responses : { ...COMMON_ERRORS, ...doc.responses },
    });
    if (r.operationId === "runAudit") {
      for (const p of inp.primitives) {
        const path = openApiPath(r.path).replace("{primitive}", p);
        add(path, r.method, finish(`run${capitalised(p)}Audit`, { ...auditOperation(p) }));
      }
      continue;
    }
    add(openApiPath(r.path), r.method, finish(r.operationId, { ...OPERATIONS[r.operationId] }));
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "regledger",
      version: inp.version,
      description: "Verifiable audit ledger for regulated AI: signed audit envelopes in an " +
        "RFC 6962 Merkle log with C2SP checkpoints. " + SCOPE_TEXT,
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    servers: inp.servers ?? DEFAULT_SERVERS,
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: SCOPE_TEXT } },
    },
  };
}

/** The OpenAPI document of an app built over `deps`. */
export function openApiOf(deps: ServerDeps): Record<string, unknown> & { openapi: string } {
  return buildOpenApi({ version: SERVER_VERSION, primitives: deps.audits.primitives });
}
