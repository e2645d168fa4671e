/**
 * The OpenAPI 3.1 document of the server, built from the same bundled JSON
 * Schemas that validate requests (OpenAPI 3.1 schemas are JSON Schema
 * 2020-12, so they are embedded unchanged under `components.schemas`).
 *
 * @module
 */
import type { Scope } from "./config.ts";

/** Inputs of {@linkcode buildOpenApi}. */
export interface OpenApiInputs {
  /** Server version. */
  version: string;
  /** Primitive names served by `POST /v1/audit/{primitive}`. */
  primitives: readonly string[];
  /** Every bundled schema by name. */
  schemas: Record<string, Record<string, unknown>>;
  /** Name of the input schema of a primitive, if bundled. */
  inputSchemaOf: (primitive: string) => string | undefined;
  /** Name of the envelope schema, if bundled. */
  envelopeSchema?: string;
}

/** A JSON object. */
export type Obj = Record<string, unknown>;

const json = (schema: Obj) => ({ "application/json": { schema } });
/** OpenAPI component names must match `^[a-zA-Z0-9._-]+$`. */
const componentName = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, "_");
const ref = (name: string) => ({ $ref: `#/components/schemas/${componentName(name)}` });

const ERROR = ref("Error");
const err = (description: string) => ({ description, content: json(ERROR) });
const COMMON_ERRORS = {
  "400": err("Malformed input: the body names the problem (`pointer` for schema errors)."),
  "401": err("Missing, malformed or unknown bearer token."),
  "403": err("The token lacks the route's scope."),
  "413": err("Request body over the limit."),
  "429": err("Rate limit exceeded; see `Retry-After`."),
};

function op(
  summary: string,
  scope: Scope | "any" | null,
  responses: Obj,
  extra: Obj = {},
): Obj {
  const o: Obj = { summary, responses, ...extra };
  if (scope === null) {
    o.security = [];
  } else {
    o.security = [{ bearer: [] }];
    o["x-required-scope"] = scope;
    o.responses = { ...COMMON_ERRORS, ...responses };
  }
  return o;
}

const indexParam = (
  name: string,
  where: "path" | "query",
  required: boolean,
  description: string,
) => ({
  name,
  in: where,
  required,
  description,
  schema: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
});

const strParam = (name: string, description: string, format?: string) => ({
  name,
  in: "query",
  required: false,
  description,
  schema: format ? { type: "string", format } : { type: "string", minLength: 1, maxLength: 256 },
});

const B64 = { type: "string", contentEncoding: "base64" };
const B64_LIST = { type: "array", items: B64 };

const RECEIPT: Obj = {
  type: "object",
  required: [
    "index",
    "tree_size",
    "leaf_hash",
    "envelope_sha256",
    "checkpoint",
    "inclusion_proof",
    "tlog_proof",
  ],
  properties: {
    index: { type: "integer", minimum: 0 },
    tree_size: { type: "integer", minimum: 1 },
    leaf_hash: B64,
    envelope_sha256: B64,
    checkpoint: { type: "string", description: "C2SP tlog-checkpoint signed note" },
    inclusion_proof: B64_LIST,
    tlog_proof: { type: "string", description: "C2SP tlog-proof@v1" },
  },
};

/**
 * Build the OpenAPI 3.1 document.
 *
 * @example
 * ```ts
 * import { buildOpenApi } from "./openapi.ts";
 * const doc = buildOpenApi({ version: "0.1.0", primitives: [], schemas: {}, inputSchemaOf: () => undefined });
 * console.assert(doc.openapi === "3.1.0");
 * ```
 */
export function buildOpenApi(inp: OpenApiInputs): Obj & { openapi: string } {
  const envelope = inp.envelopeSchema ? ref(inp.envelopeSchema) : { type: "object" };
  const components: Obj = {
    ...Object.fromEntries(Object.entries(inp.schemas).map(([k, v]) => [componentName(k), v])),
    Error: inp.schemas["error"] ? ref("error") : {
      type: "object",
      required: ["error"],
      properties: {
        error: { type: "string" },
        reason: { type: "string", description: "typed verification failure (422)" },
        pointer: { type: "string", description: "RFC 6901 JSON pointer (schema errors)" },
        rule: { type: "string" },
        parameter: { type: "string" },
      },
    },
    Receipt: inp.schemas["append-response"] ? ref("append-response") : RECEIPT,
  };
  const auditPaths: Obj = {};
  for (const p of inp.primitives) {
    const input = inp.inputSchemaOf(p);
    auditPaths[`/v1/audit/${p}`] = {
      post: op(
        `Run the ${p} audit, sign it with the server's issuer key and append it`,
        "audit:run",
        {
          "201": {
            description: "Signed envelope and its log receipt.",
            content: json({
              type: "object",
              required: ["envelope", "receipt"],
              properties: { envelope, receipt: ref("Receipt") },
            }),
          },
        },
        {
          parameters: [{
            name: "backend",
            in: "query",
            required: false,
            schema: { type: "string", enum: ["plaintext", "ckks"], default: "plaintext" },
            description: "`ckks` answers 400 while the CKKS backend is not available.",
          }],
          requestBody: {
            required: true,
            content: json(input ? ref(input) : { type: "object" }),
          },
        },
      ),
    };
  }
  const paths: Obj = {
    "/v1/envelopes": {
      post: op("Verify an envelope against the trust store and append it", "ledger:append", {
        "201": { description: "Appended.", content: json(ref("Receipt")) },
        "200": {
          description: "Already in the log: the existing entry.",
          content: json(ref("Receipt")),
        },
        "422": err("Typed verification failure; `reason` names it."),
      }, { requestBody: { required: true, content: json(envelope) } }),
    },
    ...auditPaths,
    "/v1/log/checkpoint": {
      get: op("The latest signed checkpoint", null, {
        "200": {
          description: "C2SP tlog-checkpoint",
          content: { "text/plain": { schema: { type: "string" } } },
        },
      }),
    },
    "/v1/log/key": {
      get: op("The log's verifier key (Go note format)", null, {
        "200": {
          description: "name+keyid+base64",
          content: { "text/plain": { schema: { type: "string" } } },
        },
      }),
    },
    "/v1/log/entries": {
      get: op("Entries by issuer, primitive and issue time, paginated", "ledger:read", {
        "200": {
          description: "Entry summaries in index order.",
          content: json({
            type: "object",
            properties: {
              entries: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    index: { type: "integer" },
                    leaf_hash: B64,
                    envelope_sha256: B64,
                    issuer: { type: "string" },
                    primitive: { type: "string" },
                    issued_at: { type: "string" },
                    key_id: { type: "string" },
                  },
                },
              },
              next_cursor: { type: ["string", "null"] },
            },
          }),
        },
      }, {
        parameters: [
          strParam("issuer", "exact issuer"),
          strParam("primitive", "exact primitive"),
          strParam("from", "issued_at ≥ from (RFC 3339)", "date-time"),
          strParam("to", "issued_at < to (RFC 3339)", "date-time"),
          { ...strParam("cursor", "next_cursor of the previous page (opaque)") },
          { ...indexParam("limit", "query", false, "page size (1–1000, default 100)") },
        ],
      }),
    },
    "/v1/log/entries/{index}": {
      get: op("One entry: leaf bytes, leaf hash and the envelope as stored", "ledger:read", {
        "200": {
          description: "The entry; `envelope` is the stored canonical text, numbers as received.",
          content: json({
            type: "object",
            properties: { index: { type: "integer" }, leaf: B64, leaf_hash: B64, envelope },
          }),
        },
        "404": err("No such entry."),
      }, { parameters: [indexParam("index", "path", true, "entry index")] }),
    },
    "/v1/log/entries/{index}/bundle": {
      get: op(
        "Entry, inclusion proof, latest checkpoint and tlog-proof in one answer",
        "ledger:read",
        {
          "200": {
            description: "Everything needed to check the entry offline.",
            content: json({
              type: "object",
              properties: {
                index: { type: "integer" },
                tree_size: { type: "integer" },
                leaf: B64,
                leaf_hash: B64,
                inclusion_proof: B64_LIST,
                checkpoint: { type: "string" },
                tlog_proof: { type: "string" },
                verifier_key: { type: "string" },
                envelope,
              },
            }),
          },
          "404": err("No such entry."),
        },
        { parameters: [indexParam("index", "path", true, "entry index")] },
      ),
    },
    "/v1/log/proof/inclusion": {
      get: op("RFC 6962 inclusion proof", "ledger:read", {
        "200": {
          description: "Audit path.",
          content: json({
            type: "object",
            properties: {
              index: { type: "integer" },
              tree_size: { type: "integer" },
              leaf_hash: B64,
              proof: B64_LIST,
            },
          }),
        },
      }, {
        parameters: [
          indexParam("index", "query", true, "entry index"),
          indexParam("tree_size", "query", false, "tree size (default: current)"),
        ],
      }),
    },
    "/v1/log/proof/consistency": {
      get: op("RFC 6962 consistency proof", "ledger:read", {
        "200": {
          description: "Consistency path.",
          content: json({
            type: "object",
            properties: {
              first: { type: "integer" },
              second: { type: "integer" },
              proof: B64_LIST,
            },
          }),
        },
      }, {
        parameters: [
          indexParam("first", "query", true, "older tree size"),
          indexParam("second", "query", false, "newer tree size (default: current)"),
        ],
      }),
    },
    "/v1/verify": {
      post: op("Verify an envelope against the trust store (nothing is appended)", "verify", {
        "200": {
          description: "`valid` and, when false, the typed `reason`.",
          content: json({
            type: "object",
            required: ["valid"],
            properties: {
              valid: { type: "boolean" },
              reason: { type: "string" },
              error: { type: "string" },
              kind: { type: "string", enum: ["native", "legacy"] },
              key_id: { type: ["string", "null"] },
              envelope_sha256: B64,
              logged_index: { type: ["integer", "null"] },
            },
          }),
        },
      }, { requestBody: { required: true, content: json(envelope) } }),
    },
    "/v1/ckks/evaluate": {
      post: op(
        "The split flow's evaluator: run a primitive's circuit on the client's ciphertexts with its evaluation keys (no secret key); nothing is appended. Offered when the server runs with REGLEDGER_CKKS=1 (404 otherwise).",
        "audit:run",
        {
          "200": {
            description:
              "`regledger.ckks-response.v1`: encrypted outputs only the client can decrypt.",
            content: json({
              type: "object",
              required: ["v", "primitive", "ciphertexts", "stats"],
              properties: {
                v: { const: "regledger.ckks-response.v1" },
                primitive: { type: "string" },
                ciphertexts: { type: "object", additionalProperties: { type: "string" } },
                stats: { type: "object" },
              },
            }),
          },
        },
        {
          requestBody: {
            required: true,
            content: json({
              type: "object",
              description:
                "`regledger.ckks-request.v1`: parameter set, layout, evaluation keys (public, relinearization, Galois) and ciphertexts, base64 of zstd SEAL bytes.",
              required: [
                "v",
                "primitive",
                "parameter_set",
                "depth_budget",
                "evaluation_keys",
                "layout",
                "ciphertexts",
              ],
              properties: { v: { const: "regledger.ckks-request.v1" } },
            }),
          },
        },
      ),
    },
    "/v1/schemas": {
      get: op("Names of the bundled JSON Schemas", "any", {
        "200": {
          description: "Schema names.",
          content: json({
            type: "object",
            properties: { schemas: { type: "array", items: { type: "string" } } },
          }),
        },
      }),
    },
    "/v1/schemas/{name}": {
      get: op("One bundled JSON Schema", "any", {
        "200": { description: "The schema.", content: json({ type: "object" }) },
        "404": err("No such schema."),
      }, {
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
      }),
    },
    "/v1/admin/reload-trust-store": {
      post: op("Re-read the trust store file (also on SIGHUP)", "admin", {
        "200": {
          description: "Counts of the new trust store.",
          content: json({
            type: "object",
            properties: { keys: { type: "integer" }, revoked: { type: "integer" } },
          }),
        },
        "422": err("The file is malformed; the previous trust store stays in use."),
      }),
    },
    "/metrics": {
      get: op("Prometheus metrics", "ledger:read", {
        "200": {
          description: "Text exposition format 0.0.4",
          content: { "text/plain": { schema: { type: "string" } } },
        },
      }),
    },
    "/healthz": { get: op("Liveness", null, { "200": { description: "Alive." } }) },
    "/readyz": {
      get: op("Readiness", null, {
        "200": { description: "Ready." },
        "503": { description: "Starting or shutting down." },
      }),
    },
    "/version": {
      get: op("Version and log identity", null, { "200": { description: "Version." } }),
    },
    "/openapi.json": { get: op("This document", null, { "200": { description: "OpenAPI 3.1." } }) },
  };
  // Where a bundled schema describes an answer, the document points at it.
  const answers: [string, string, string, string][] = [
    ["/v1/log/entries/{index}", "get", "200", "log-entry"],
    ["/v1/log/proof/inclusion", "get", "200", "inclusion-proof"],
    ["/v1/log/proof/consistency", "get", "200", "consistency-proof"],
    ["/v1/verify", "post", "200", "verify-response"],
    ...inp.primitives.map((p) =>
      [`/v1/audit/${p}`, "post", "201", "audit-response"] as [string, string, string, string]
    ),
  ];
  for (const [path, method, status, name] of answers) {
    if (!inp.schemas[name]) continue;
    const o = (paths[path] as Record<string, Obj>)[method];
    const r = (o.responses as Record<string, Obj>)[status];
    r.content = json(ref(name));
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "regledger",
      version: inp.version,
      description: "Verifiable audit ledger for regulated AI: signed audit envelopes in an " +
        "RFC 6962 Merkle log with C2SP checkpoints. Scopes: audit:run, ledger:append, " +
        "ledger:read, verify, admin (admin implies all); `x-required-scope` names each route's.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  };
}
