/**
 * What a client may learn about the server's trust decisions and its own
 * access: the trust store in force (public keys, revocations, pins) and the
 * scopes of the token it holds. The console reads both: the first to verify
 * issuer signatures in the browser, the second to show what a token allows.
 *
 * @module
 */
import type { Context } from "hono";
import { SCOPES } from "../config.ts";
import type { ServerDeps } from "../deps.ts";
import type { AppEnv } from "../env.ts";
import { onlyParams } from "../http.ts";
import { hasScope, principalOf } from "../middleware/auth/index.ts";

/**
 * `GET /v1/trust-store`: the trust store the server verifies envelopes
 * against, `{keys, revoked, parameter_set_pins}` (schema `trust-store`):
 * the trust-store file merged with the server's own issuer key, PEMs
 * re-encoded canonically. Public material only.
 */
export function trustStoreRoute(deps: ServerDeps): (c: Context<AppEnv>) => Response {
  return (c) => {
    onlyParams(c, []);
    c.header("cache-control", "no-store");
    return c.json(deps.envelopes.trustStoreJson());
  };
}

/**
 * `GET /v1/whoami`: `{dev_mode, scopes, allows}` of the caller's token —
 * the scopes it was granted and every scope it may use (`admin` implies
 * all). In dev mode every request is the admin principal.
 */
export function whoamiRoute(devMode: boolean): (c: Context<AppEnv>) => Response {
  return (c) => {
    onlyParams(c, []);
    const p = principalOf(c);
    // The route needs a token ("any"), so a principal is always set here.
    const scopes = p ? [...p.scopes].sort() : [];
    const allows = p ? SCOPES.filter((s) => hasScope(p, s)) : [];
    c.header("cache-control", "no-store");
    return c.json({ dev_mode: devMode, scopes, allows });
  };
}
