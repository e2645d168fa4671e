/**
 * HTTP error mapping: every failure becomes a JSON body `{error, ...}` with a
 * 4xx status that names the problem; only a bug in the server is a 500, and
 * its body carries the request id, never the exception text.
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { EnvelopeVerificationError, InputValidationError, JsonParseError } from "../core/errors.ts";
import {
  LedgerInputError,
  LedgerRangeError,
  LedgerReadOnlyError,
  LedgerStateError,
  LedgerStorageFullError,
} from "../ledger/ledger.ts";
import { LedgerBudgetExceededError } from "../ledger/privacy_budget.ts";

/** A failure the server answers with a chosen status and JSON body. */
export class ApiError extends Error {
  /** HTTP status (4xx unless the server itself failed). */
  readonly status: ContentfulStatusCode;
  /** Extra JSON fields beside `error` (`reason`, `pointer`, `rule`, ...). */
  readonly extra: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Record<string, string>;
  /** Build an error answered as `status` with `{error: message, ...extra}`. */
  constructor(
    status: ContentfulStatusCode,
    message: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ApiError";
    this.status = status;
    this.extra = extra;
    this.headers = headers;
  }
}

/** A JSON error response. */
export function jsonError(
  status: ContentfulStatusCode,
  error: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error, ...extra }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * Map any thrown value to a response. `onBug` is told about failures that
 * are not the client's fault (logged by the caller with the request id, never
 * returned to the client).
 */
export function errorToResponse(
  e: unknown,
  c: Context,
  onBug: (e: unknown) => void,
): Response {
  if (e instanceof ApiError) return jsonError(e.status, e.message, e.extra, e.headers);
  if (e instanceof InputValidationError) {
    return jsonError(400, e.message, { pointer: e.pointer, rule: e.rule });
  }
  if (e instanceof JsonParseError) {
    return jsonError(400, e.message, { rule: e.rule, offset: e.offset });
  }
  if (e instanceof LedgerRangeError) {
    return jsonError(400, e.message, { parameter: e.argument });
  }
  if (e instanceof LedgerInputError) {
    return jsonError(400, e.message, { pointer: e.pointer, rule: "ledger-limit" });
  }
  if (e instanceof LedgerStorageFullError) {
    // The cause (SQLite's or the system's message, no payload) goes to the access log.
    c.set(
      "fault" as never,
      `storage full: ${String((e.cause as Error)?.message ?? e.message)}` as never,
    );
    return jsonError(
      503,
      "the ledger's disk is full: appends are refused until space returns (nothing was appended)",
      { reason: "storage-full" },
      { "Retry-After": "30" },
    );
  }
  if (e instanceof LedgerReadOnlyError) {
    return jsonError(405, e.message, {}, { Allow: "GET, HEAD" });
  }
  if (e instanceof LedgerStateError) {
    // Closed during shutdown, or the KV file belongs to another log: not the client's fault.
    return jsonError(503, "the ledger is not available", {}, { "Retry-After": "5" });
  }
  if (e instanceof LedgerBudgetExceededError) {
    return jsonError(422, e.message, {
      reason: e.reason,
      issuer: e.issuer,
      dataset: e.dataset,
      budget: e.budget,
      would_spend: e.wouldSpend,
    });
  }
  if (e instanceof EnvelopeVerificationError) {
    return jsonError(422, e.message, { reason: e.name });
  }
  if (e instanceof HTTPException) {
    const res = e.res;
    // Our own JSON answers thrown through Hono middleware (bearer auth) pass as they are.
    if (res && (res.headers.get("content-type") ?? "").startsWith("application/json")) return res;
    const status = res?.status ?? e.status;
    // Hono middleware (body limit, bearer auth, timeout) answers text; keep
    // their headers (WWW-Authenticate) and give the body our JSON shape.
    const headers: Record<string, string> = {};
    res?.headers.forEach((v, k) => {
      if (k !== "content-type" && k !== "content-length") headers[k] = v;
    });
    const message = e.message || res?.statusText || `HTTP ${status}`;
    return jsonError(status as ContentfulStatusCode, message, {}, headers);
  }
  onBug(e);
  const requestId = c.get("requestId" as never) as string | undefined;
  return jsonError(500, "internal error", requestId ? { request_id: requestId } : {});
}
