/**
 * Request and response helpers shared by the routes: the app's Hono
 * environment, strict body reading, strict integer parameters, and JSON
 * responses that splice stored envelope bytes in verbatim.
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError } from "./errors.ts";

export type { AppEnv } from "./env.ts";

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Read the request body as UTF-8 text. The content type, when given, must be
 * JSON (`application/json` or `+json`).
 * @throws {ApiError} 415 for another content type, 400 for an empty body or invalid UTF-8.
 */
export async function readJsonBody(c: Context): Promise<Uint8Array> {
  const ct = c.req.header("content-type");
  if (ct !== undefined) {
    const mt = ct.split(";")[0].trim().toLowerCase();
    if (mt !== "application/json" && !/^application\/[a-z0-9.+-]*\+json$/.test(mt)) {
      throw new ApiError(
        415,
        `unsupported content type '${mt.slice(0, 100)}' (send application/json)`,
      );
    }
  }
  let buf: ArrayBuffer;
  try {
    buf = await c.req.arrayBuffer();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, "could not read the request body", {}, {}, { cause: e });
  }
  if (buf.byteLength === 0) {
    throw new ApiError(400, "empty request body (expected a JSON document)");
  }
  return new Uint8Array(buf);
}

/**
 * Decode request bytes as UTF-8, rejecting invalid sequences.
 * @throws {ApiError} 400 naming the byte problem.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    throw new ApiError(400, "request body is not valid UTF-8", { rule: "utf-8" });
  }
}

const INDEX_RE = /^(0|[1-9][0-9]{0,15})$/;

/**
 * Parse a non-negative integer parameter written in plain decimal.
 * @throws {ApiError} 400 naming the parameter and the rule.
 */
export function parseIndex(name: string, raw: string | undefined): number;
/** Same, but an absent parameter gives `undefined`. */
export function parseIndex(
  name: string,
  raw: string | undefined,
  optional: true,
): number | undefined;
export function parseIndex(
  name: string,
  raw: string | undefined,
  optional = false,
): number | undefined {
  if (raw === undefined) {
    if (optional) return undefined;
    throw new ApiError(400, `missing query parameter '${name}'`, { parameter: name });
  }
  if (!INDEX_RE.test(raw)) {
    throw new ApiError(
      400,
      `parameter '${name}' must be a non-negative decimal integer`,
      { parameter: name },
    );
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) {
    throw new ApiError(400, `parameter '${name}' is too large`, { parameter: name });
  }
  return n;
}

/** Reject query parameters other than `allowed` (typos should not silently do nothing). */
export function onlyParams(c: Context, allowed: readonly string[]): void {
  // Most requests have no query: skip building a URL for them.
  if (!c.req.url.includes("?")) return;
  const url = new URL(c.req.url);
  const seen = new Set<string>();
  for (const k of url.searchParams.keys()) {
    if (!allowed.includes(k)) {
      throw new ApiError(400, `unknown query parameter '${k.slice(0, 64)}'`, {
        allowed: [...allowed],
      });
    }
    if (seen.has(k)) throw new ApiError(400, `query parameter '${k}' given twice`);
    seen.add(k);
  }
}

function isStrictJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A JSON response whose `rawFields` are already-serialised JSON texts spliced
 * in verbatim (stored envelope bytes keep their numbers exactly as received),
 * after the ordinary `fields`. A raw text that is not strict JSON (a legacy
 * envelope may hold Python's `NaN` or `Infinity`) is answered as `null` with
 * the exact text beside it in `<field>_text`, so the response stays JSON.
 */
export function jsonWithRaw(
  status: ContentfulStatusCode,
  fields: Record<string, unknown>,
  rawFields: Record<string, string>,
): Response {
  let body = JSON.stringify(fields);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(rawFields)) {
    const text = v;
    if (!isStrictJson(text)) {
      parts.push(
        `${JSON.stringify(k)}:null`,
        `${JSON.stringify(k + "_text")}:${JSON.stringify(text)}`,
      );
      continue;
    }
    parts.push(`${JSON.stringify(k)}:${text}`);
  }
  if (parts.length > 0) {
    body = body === "{}" ? `{${parts.join(",")}}` : `${body.slice(0, -1)},${parts.join(",")}}`;
  }
  return new Response(body, {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}
