/**
 * Where a PostgreSQL ledger lives: the `postgres://USER[:PASS]@HOST:PORT/DB`
 * URL (parsed and checked here, with its password redacted from everything
 * shown), and what the PostgreSQL store's errors say and whether they are
 * worth retrying.
 *
 * Secrets never leave through an error: every message a store error carries
 * has the password (plain and URL-encoded) replaced by `***`, the
 * underlying driver error is not kept as `cause` (postgres.js errors can
 * carry query parameters, that is audit payloads), and only its SQLSTATE
 * `code` survives.
 *
 * @module
 */
import { LedgerStateError } from "../errors.ts";

/** A parsed, checked `postgres://` URL. */
export interface PgTarget {
  /** Host name or address. */
  host: string;
  /** TCP port. @default {5432} */
  port: number;
  /** Database name. */
  database: string;
  /** User name. */
  user: string;
  /** Password, when the URL has one (else `PGPASSWORD` or none). */
  password?: string;
  /**
   * TLS mode from `?sslmode=`: `disable` (the default), `prefer` (TLS if the
   * server offers it, unverified), `require` (TLS, the certificate not
   * verified), `verify-full` (TLS, the certificate verified against the
   * system's CAs or `sslrootcert`, and the host name or address checked).
   */
  ssl?: "prefer" | "require" | "verify-full";
  /** `?sslrootcert=`: a PEM file of the CA(s) `verify-full` trusts instead of the system's. */
  sslRootCert?: string;
  /** Connection pool size from `?max=` (per process). @default {10} */
  max: number;
  /**
   * Seconds any one database operation may take, from `?timeout=` (1-3600),
   * before it fails as transient and the connection pool is replaced.
   * @default {30}
   */
  timeout: number;
  /** The URL with its password replaced by `***`: what messages show. */
  redacted: string;
}

const SSL_MODES = ["disable", "prefer", "require", "verify-full"] as const;
const KNOWN_PARAMS = new Set(["sslmode", "sslrootcert", "max", "timeout"]);

/** Whether `text` names a PostgreSQL store (`postgres://` or `postgresql://`). */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}

/**
 * `url` with the password (if any) replaced by `***`; text that does not
 * parse as a URL is returned as `postgres://***` (it may hold a secret).
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "postgres://***";
  }
  if (u.password !== "") u.password = "***";
  return u.toString();
}

/**
 * Parse and check a PostgreSQL URL.
 * @throws {TypeError} naming what is wrong (never echoing the password).
 */
export function parsePgUrl(url: string): PgTarget {
  const shown = redactUrl(url);
  const bad = (why: string) =>
    new TypeError(`--store ${shown}: ${why} (want postgres://USER[:PASS]@HOST[:PORT]/DB)`);
  if (!isPostgresUrl(url)) throw bad("not a postgres:// URL");
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad("not a URL");
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw bad("no host");
  const port = u.port === "" ? 5432 : Number(u.port);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (database === "" || database.includes("/")) throw bad("no database name");
  const user = decodeURIComponent(u.username);
  if (user === "") throw bad("no user name");
  for (const k of u.searchParams.keys()) {
    if (!KNOWN_PARAMS.has(k)) throw bad(`unknown parameter ${JSON.stringify(k)}`);
  }
  const mode = u.searchParams.get("sslmode") ?? "disable";
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw bad(`sslmode must be one of ${SSL_MODES.join(", ")}`);
  }
  const rootCert = u.searchParams.get("sslrootcert") ?? undefined;
  if (rootCert !== undefined && mode !== "verify-full") {
    throw bad("sslrootcert needs sslmode=verify-full");
  }
  if (rootCert === "") throw bad("sslrootcert is empty");
  const maxText = u.searchParams.get("max") ?? "10";
  const max = Number(maxText);
  if (!/^\d+$/.test(maxText) || max < 1 || max > 1000) throw bad("max must be 1-1000");
  const timeoutText = u.searchParams.get("timeout") ?? "30";
  const timeout = Number(timeoutText);
  if (!/^\d+$/.test(timeoutText) || timeout < 1 || timeout > 3600) {
    throw bad("timeout must be 1-3600 (seconds)");
  }
  return {
    host,
    port,
    database,
    user,
    ...(u.password !== "" ? { password: decodeURIComponent(u.password) } : {}),
    ...(mode !== "disable" ? { ssl: mode as PgTarget["ssl"] } : {}),
    ...(rootCert !== undefined ? { sslRootCert: rootCert } : {}),
    max,
    timeout,
    redacted: shown,
  };
}

/** A PostgreSQL store failure: the message is redacted; `code` is the SQLSTATE or driver code. */
export class PgStoreError extends LedgerStateError {
  /** SQLSTATE (`40001`, `08006`, …) or the driver's code (`CONNECTION_CLOSED`, `ECONNREFUSED`). */
  readonly code: string | undefined;

  /** `message` must already be redacted. */
  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

/** SQLSTATEs and driver codes worth retrying: the connection or a lock, not the request. */
const TRANSIENT_CODES = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available
  "57014", // query_canceled: statement_timeout (the server's side of the deadline)
  "25P03", // idle_in_transaction_session_timeout: the server ended a stalled transaction
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, in recovery)
  "53300", // too_many_connections
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "QUERY_TIMEOUT", // the store's own deadline (ledger/pg/pool.ts)
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
]);

/** The SQLSTATE or driver code of an error, if it has one. */
export function errorCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/**
 * Whether `e` is transient: a serialization failure or deadlock, or the
 * connection failing (class 08, shutdown, refused, reset) — retrying may succeed.
 */
export function isTransientPgError(e: unknown): boolean {
  const code = errorCode(e);
  if (code === undefined) {
    return e instanceof Deno.errors.ConnectionRefused || e instanceof Deno.errors.ConnectionReset ||
      e instanceof Deno.errors.BrokenPipe;
  }
  return TRANSIENT_CODES.has(code) || code.startsWith("08");
}

/** Replace every occurrence of `secret` (plain and URL-encoded) in `text` by `***`. */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  let out = text.split(secret).join("***");
  const enc = encodeURIComponent(secret);
  if (enc !== secret) out = out.split(enc).join("***");
  return out;
}

/**
 * The store's error for driver error `e` while doing `what` on `target`:
 * a redacted message naming the database, the SQLSTATE kept as `code`, and
 * a hint for the common cases (unreachable, read-only, authentication).
 */
export function storeError(e: unknown, what: string, target: PgTarget): PgStoreError {
  if (e instanceof PgStoreError) return e;
  const code = errorCode(e);
  const raw = e instanceof Error ? e.message : String(e);
  let hint = "";
  if (code === "25006") hint = " (the database is read-only: a replica, or read-only mode)";
  else if (code === "28P01" || code === "28000") hint = " (authentication failed)";
  else if (code === "3D000") hint = " (no such database: create it first)";
  else if (isTransientPgError(e)) hint = " (is PostgreSQL running and reachable?)";
  const msg = `PostgreSQL ${target.redacted}: ${what} failed: ${raw}${
    code && !raw.includes(code) ? ` [${code}]` : ""
  }${hint}`;
  return new PgStoreError(redactSecret(msg, target.password), code);
}
