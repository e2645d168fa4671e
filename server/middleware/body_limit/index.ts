/**
 * Request body limits: Hono's `bodyLimit` (declared and streamed bodies)
 * answering 413 in the API's JSON error shape, with a larger limit for the
 * routes whose requests are big by design (the CKKS evaluator's Galois keys).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../../env.ts";
import { jsonError } from "../../errors.ts";

/** Options of {@linkcode bodyLimits}. */
export interface BodyLimitsOptions {
  /** Limit in bytes of every route not in `perPath`. */
  maxSize: number;
  /** Exact request paths with their own limit in bytes. @default {{}} */
  perPath?: Readonly<Record<string, number>>;
}

function limitOf(maxSize: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: () =>
      jsonError(413, `request body over the limit of ${maxSize} bytes`, { limit: maxSize }),
  });
}

/**
 * Limit request bodies: 413 `{error, limit}` once a body passes its path's
 * limit, whether declared by `Content-Length` or streamed.
 *
 * @throws {RangeError} when a limit is not a positive integer.
 */
export function bodyLimits(opts: BodyLimitsOptions): MiddlewareHandler<AppEnv> {
  const check = (name: string, n: number) => {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`bodyLimits: ${name} must be a positive integer, got ${n}`);
    }
  };
  check("maxSize", opts.maxSize);
  const fallback = limitOf(opts.maxSize);
  const special = new Map<string, MiddlewareHandler<AppEnv>>();
  for (const [path, n] of Object.entries(opts.perPath ?? {})) {
    check(`perPath['${path}']`, n);
    special.set(path, limitOf(n));
  }
  return (c, next) => (special.get(c.req.path) ?? fallback)(c, next);
}
