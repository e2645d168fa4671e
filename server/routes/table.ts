/**
 * Every route of the API in one table: method, path (Hono syntax), the
 * OpenAPI `operationId` and the scope a token needs. `createApp` registers
 * exactly these routes with exactly these scopes, and the OpenAPI document
 * is built from the same table, so the document cannot name a route or a
 * scope the server does not have.
 *
 * @module
 */
import type { Scope } from "../config.ts";

/** What a route needs: a scope, any valid token (`"any"`), or nothing (`null`, public). */
export type RouteAccess = Scope | "any" | null;

/** One route of the API. */
export interface RouteSpec {
  /** HTTP method. */
  readonly method: "GET" | "POST";
  /** Path in Hono syntax (`:name` parameters). */
  readonly path: string;
  /** OpenAPI `operationId` (the audit route is documented once per primitive). */
  readonly operationId: string;
  /** Who may call it. */
  readonly access: RouteAccess;
}

/** The API's routes, in registration order. */
export const API_ROUTES = [
  { method: "GET", path: "/healthz", operationId: "getHealth", access: null },
  { method: "GET", path: "/readyz", operationId: "getReadiness", access: null },
  { method: "GET", path: "/version", operationId: "getVersion", access: null },
  { method: "GET", path: "/openapi.json", operationId: "getOpenApi", access: null },
  { method: "GET", path: "/v1/log/checkpoint", operationId: "getCheckpoint", access: null },
  { method: "GET", path: "/v1/log/key", operationId: "getVerifierKey", access: null },
  { method: "GET", path: "/v1/log/keys", operationId: "getVerifierKeys", access: null },
  // C2SP tlog-tiles at the root. The bundle routes come before the hash-tile
  // route, which would also match them; they are public when the server is
  // configured so (`publicBundles`).
  { method: "GET", path: "/checkpoint", operationId: "getTileCheckpoint", access: null },
  {
    method: "GET",
    path: "/tile/entries/:path{.+}",
    operationId: "getEntryTile",
    access: "ledger:read",
  },
  {
    method: "GET",
    path: "/tile/envelopes/:path{.+}",
    operationId: "getEnvelopeTile",
    access: "ledger:read",
  },
  { method: "GET", path: "/tile/:path{.+}", operationId: "getHashTile", access: null },
  {
    method: "POST",
    path: "/v1/envelopes",
    operationId: "submitEnvelope",
    access: "ledger:append",
  },
  { method: "POST", path: "/v1/audit/:primitive", operationId: "runAudit", access: "audit:run" },
  { method: "GET", path: "/v1/log/entries", operationId: "queryEntries", access: "ledger:read" },
  { method: "GET", path: "/v1/log/entries/:index", operationId: "getEntry", access: "ledger:read" },
  {
    method: "GET",
    path: "/v1/log/entries/:index/bundle",
    operationId: "getEntryBundle",
    access: "ledger:read",
  },
  {
    method: "GET",
    path: "/v1/log/proof/inclusion",
    operationId: "getInclusionProof",
    access: "ledger:read",
  },
  {
    method: "GET",
    path: "/v1/log/proof/consistency",
    operationId: "getConsistencyProof",
    access: "ledger:read",
  },
  { method: "POST", path: "/v1/verify", operationId: "verifyEnvelope", access: "verify" },
  {
    method: "GET",
    path: "/v1/privacy/budget",
    operationId: "getPrivacyBudget",
    access: "ledger:read",
  },
  { method: "POST", path: "/v1/ckks/evaluate", operationId: "evaluateCkks", access: "audit:run" },
  { method: "GET", path: "/v1/schemas", operationId: "listSchemas", access: "any" },
  { method: "GET", path: "/v1/schemas/:name", operationId: "getSchema", access: "any" },
  { method: "GET", path: "/v1/evidence", operationId: "getEvidencePack", access: "ledger:read" },
  { method: "GET", path: "/v1/trust-store", operationId: "getTrustStore", access: "any" },
  { method: "GET", path: "/v1/whoami", operationId: "whoami", access: "any" },
  { method: "GET", path: "/metrics", operationId: "getMetrics", access: "metrics" },
  {
    method: "POST",
    path: "/v1/admin/reload-trust-store",
    operationId: "reloadTrustStore",
    access: "admin",
  },
] as const satisfies readonly RouteSpec[];

/**
 * The regulator's console (`server/console/`): its page at `/console` and
 * every deep link under it, and its bundled assets. Public (the page holds
 * no data; the API calls it makes carry the user's token) and not part of
 * the OpenAPI document, which describes the JSON API.
 */
export const CONSOLE_ROUTES = [
  { method: "GET", path: "/console", operationId: "getConsole", access: null },
  { method: "GET", path: "/console/assets/:name", operationId: "getConsoleAsset", access: null },
  { method: "GET", path: "/console/*", operationId: "getConsole", access: null },
] as const satisfies readonly RouteSpec[];

/** The `operationId` of a route in {@linkcode API_ROUTES}. */
export type OperationId = typeof API_ROUTES[number]["operationId"];

/**
 * `/v1/log/entries/:index` → `/v1/log/entries/{index}` (OpenAPI path
 * template; a parameter's pattern, `:path{.+}`, is dropped).
 */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)(\{[^}]*\})?/g, "{$1}");
}
