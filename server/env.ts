/**
 * The Hono environment of the regledger app and the request principal it
 * carries: the one module that middleware and routes both import, so that
 * authentication and the request helpers do not import each other.
 *
 * @module
 */
import type { Scope } from "./config.ts";

/** Who made a request: the short hash of its token and its scopes. */
export interface Principal {
  /** First 12 hex digits of SHA-256(token): safe to log. */
  tokenHash: string;
  /** Scopes granted (`admin` implies all). */
  scopes: ReadonlySet<Scope>;
}

/** The Hono environment of the regledger app. */
export interface AppEnv {
  /** Per-request variables. */
  Variables: {
    /** Set by Hono's request-id middleware. */
    requestId: string;
    /** Set by authentication. */
    principal: Principal;
    /** A server-side fault's cause for the access log (never a payload): e.g. a full disk. */
    fault: string;
  };
}
