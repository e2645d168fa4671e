/**
 * Bearer-token authentication with scopes.
 *
 * Tokens are compared as SHA-256 digests in constant time against every
 * configured key (no early exit), so neither the token's contents nor which
 * key matched leaks through timing. Only a short hash of a token ever reaches
 * a log line or metric label.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bytesEqual, sha256, toHex, utf8 } from "../../../core/bytes.ts";
import type { ApiKey, Scope } from "../../config.ts";
import type { AppEnv, Principal } from "../../env.ts";
import { jsonError } from "../../errors.ts";

export type { Principal } from "../../env.ts";

/** The principal of dev mode (auth disabled). */
export const DEV_PRINCIPAL: Principal = Object.freeze({
  tokenHash: "dev",
  scopes: new Set<Scope>(["admin"]),
});

/** Short, non-reversible label of a token for logs and rate-limit keys. */
export function tokenHash(token: string): string {
  return toHex(sha256(utf8(token))).slice(0, 12);
}

/** Whether `p` may use a route that needs `scope`. */
export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.has("admin") || p.scopes.has(scope);
}

/** Looks up bearer tokens in constant time. */
export class ApiKeyring {
  #digests: Uint8Array[];
  #principals: Principal[];

  /** Build a keyring from configured keys. */
  constructor(keys: readonly ApiKey[]) {
    this.#digests = keys.map((k) => sha256(utf8(k.token)));
    this.#principals = keys.map((k) => ({ tokenHash: tokenHash(k.token), scopes: k.scopes }));
  }

  /** How many keys are configured. */
  get size(): number {
    return this.#digests.length;
  }

  /** The principal of `token`, or `undefined` for an unknown token. */
  authenticate(token: string): Principal | undefined {
    const d = sha256(utf8(token));
    let found = -1;
    for (let i = 0; i < this.#digests.length; i++) {
      // Evaluate every comparison; select without branching on secret data.
      const eq = bytesEqual(this.#digests[i], d) ? 1 : 0;
      found = eq * i + (1 - eq) * found;
    }
    return found >= 0 ? this.#principals[found] : undefined;
  }
}

/** The authenticated principal of a request, if any. */
export function principalOf(c: Context<AppEnv>): Principal | undefined {
  return c.get("principal") as Principal | undefined;
}

const unauthorized = (error: string) => () =>
  jsonError(401, error, {}, { "WWW-Authenticate": 'Bearer realm="regledger"' });

/**
 * Middleware that authenticates the bearer token (Hono's `bearerAuth` with a
 * constant-time keyring lookup) and stores the {@linkcode Principal}. In dev
 * mode every request is the admin principal. Missing, malformed and unknown
 * tokens are all 401 with a JSON body.
 */
export function authenticate(keyring: ApiKeyring, devMode: boolean): MiddlewareHandler<AppEnv> {
  if (devMode) {
    return async (c, next) => {
      c.set("principal", DEV_PRINCIPAL);
      await next();
    };
  }
  return bearerAuth({
    realm: "regledger",
    verifyToken: (token, c) => {
      const p = keyring.authenticate(token);
      if (p) (c as Context<AppEnv>).set("principal", p);
      return p !== undefined;
    },
    noAuthenticationHeader: { message: unauthorized("missing bearer token") },
    invalidAuthenticationHeader: {
      message: unauthorized("malformed Authorization header (expected 'Bearer <token>')"),
    },
    invalidToken: { message: unauthorized("unknown bearer token") },
  });
}

/** Middleware answering 403 unless the principal has `scope` (run after {@linkcode authenticate}). */
export function requireScope(scope: Scope | "any"): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const p = principalOf(c);
    if (!p) {
      return jsonError(401, "missing bearer token", {}, {
        "WWW-Authenticate": 'Bearer realm="regledger"',
      });
    }
    if (scope !== "any" && !hasScope(p, scope)) {
      return jsonError(403, `this route needs scope '${scope}'`, { scope });
    }
    return await next();
  };
}
