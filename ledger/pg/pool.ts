/**
 * The PostgreSQL store's connection pool, made safe to lose the database.
 *
 * ## Why the pool is replaced after a connection failure
 * postgres.js 3.4.9 buffers a small write behind a `setImmediate`; when the
 * socket closes while such a write is pending, `closed()` clears that
 * immediate but never resets its handle nor the buffered bytes. The
 * connection object is kept in the pool and reconnected later, and then
 * every write it makes (first the startup message) is appended to the stale
 * buffer and never flushed: the connection sits until `connect_timeout`,
 * fails, reconnects, and sits again (upstream: porsager/postgres#1154,
 * #1208, unmerged guards #1168/#1176/#1209). The same race, when the stale
 * immediate does run, throws `TypeError: Cannot read properties of null
 * (reading 'write')` from a timer: uncaught, it takes the whole process down.
 * After `pg_ctl stop -m immediate` under load, a server's pool can hold
 * several such connections, and its appends fail or stall for tens of seconds
 * (seen by the chaos test in `tests/pg/multi_serve_test.ts`).
 *
 * So: after any connection-class failure (a dropped or refused connection,
 * a shutdown, a timeout) the pool is retired (its connections destroyed)
 * and a fresh one with fresh connection objects takes its place; that
 * TypeError, recognised by its message and its postgres.js stack, is
 * stopped from killing the process and retires every open pool.
 *
 * ## No await on the database without a deadline
 * Every operation runs under a deadline (`?timeout=` seconds in the URL,
 * default 30; a schema migration has its own, `MIGRATION_TIMEOUT_S` in
 * `ledger/pg/schema.ts`): past it, the operation fails with a transient
 * {@link PgStoreError} (`QUERY_TIMEOUT`) and the pool is retired, so a
 * database that stops answering (a black-holed network, a hung server) never
 * leaves a caller waiting forever. A commit whose deadline passes has an
 * unknown outcome; the group commit then asks the signed-body index which
 * entries landed, as after any failed commit.
 *
 * A commit also has the database enforce it (`ledger/pg/commit.ts`: the
 * transaction's own `statement_timeout` and `idle_in_transaction_session_timeout`).
 *
 * ## Outages are logged once
 * The first connection-class failure calls `onStatus` with the cause (the
 * password redacted); the next successful operation calls it again with the
 * outage's length.
 *
 * @module
 */
import postgres from "postgres";
import { isTransientPgError, type PgStoreError, type PgTarget, storeError } from "./connection.ts";

/** Codes that are the database's answer, not a connection failure: the pool is fine. */
const NOT_CONNECTION = new Set(["40001", "40P01", "55P03", "57014"]);

/** Whether `e` says the connection (not the transaction) failed. */
export function isConnectionFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && NOT_CONNECTION.has(code)) return false;
  return isTransientPgError(e);
}

/** Every open pool, so that the process-wide guard can retire them. */
const live = new Set<PgPool>();
let guarded = false;

/**
 * Whether `e` is postgres.js's write to a closed socket from its write timer
 * (see the module documentation): a `TypeError` about `write` of null thrown
 * from `nextWrite` in postgres.js's `connection.js`.
 */
export function isDriverWriteRace(e: unknown): boolean {
  if (!(e instanceof TypeError)) return false;
  const stack = e.stack ?? "";
  return /reading 'write'|evaluating 'socket\.write'/.test(e.message) &&
    /nextWrite/.test(stack) && /postgres[\\/][^()]*connection\.js/.test(stack);
}

function installGuard(): void {
  if (guarded) return;
  guarded = true;
  globalThis.addEventListener("error", (ev: ErrorEvent) => {
    if (!isDriverWriteRace(ev.error)) return;
    ev.preventDefault();
    for (const p of live) p.retire("the driver wrote to a closed connection");
  });
}

/** Options of {@link PgPool}. */
export interface PgPoolOptions {
  /** Status lines: an outage's start (with its cause) and its end. */
  onStatus?: (line: string) => void;
}

/** One store's connection pool: replaced after a connection failure. */
export class PgPool {
  readonly target: PgTarget;
  readonly #onStatus: (line: string) => void;
  #sql: postgres.Sql;
  #gen = 0;
  #retired: Promise<void>[] = [];
  #closed = false;
  #outageSince: number | null = null;
  readonly #ssl: postgres.Options<Record<string, never>>["ssl"];

  /** @throws {TypeError} when `?sslrootcert=` cannot be read. */
  constructor(target: PgTarget, options: PgPoolOptions = {}) {
    this.target = target;
    if (target.sslRootCert !== undefined) {
      let ca: string;
      try {
        ca = Deno.readTextFileSync(target.sslRootCert);
      } catch (e) {
        throw new TypeError(
          `--store ${target.redacted}: cannot read sslrootcert: ${(e as Error).message}`,
        );
      }
      // verify-full against this CA: the chain and the host name or address are checked.
      this.#ssl = { ca, rejectUnauthorized: true };
    } else {
      this.#ssl = target.ssl;
    }
    this.#onStatus = options.onStatus ?? (() => {});
    this.#sql = this.#open();
    installGuard();
    live.add(this);
  }

  #open(): postgres.Sql {
    const t = this.target;
    return postgres({
      host: t.host,
      port: t.port,
      database: t.database,
      username: t.user,
      ...(t.password !== undefined ? { password: t.password } : {}),
      ...(this.#ssl ? { ssl: this.#ssl } : {}),
      max: t.max,
      connect_timeout: Math.min(10, t.timeout),
      onnotice: () => {},
      connection: { application_name: "regledger" },
    });
  }

  /** The current pool (for a cursor or a transaction run through {@link run}). */
  get sql(): postgres.Sql {
    return this.#sql;
  }

  /** Retire the current pool (its connections destroyed) and open a fresh one. */
  retire(why: string): void {
    if (this.#closed) return;
    const old = this.#sql;
    this.#gen++;
    this.#sql = this.#open();
    this.#retired.push(old.end({ timeout: 0 }).catch(() => {}));
    if (this.#retired.length > 16) this.#retired = this.#retired.slice(-16);
    this.#outage(why);
  }

  #outage(why: string): void {
    if (this.#outageSince !== null || this.#closed) return;
    this.#outageSince = Date.now();
    this.#onStatus(
      `regledger: PostgreSQL ${this.target.redacted} is unavailable (${why}); ` +
        `appends are answered 503 until it is back`,
    );
  }

  /**
   * Run `f` on the current pool under the deadline. A connection failure or
   * a timeout retires the pool; the error is the store's (redacted).
   */
  async run<T>(
    what: string,
    f: (sql: postgres.Sql) => Promise<T>,
    options: { timeoutS?: number } = {},
  ): Promise<T> {
    const gen = this.#gen;
    const timeoutS = options.timeoutS ?? this.target.timeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = Object.assign(
          new Error(`no answer within ${timeoutS} s`),
          { code: "QUERY_TIMEOUT" },
        );
        reject(e);
      }, timeoutS * 1000);
    });
    try {
      const r = await Promise.race([f(this.#sql), deadline]);
      if (this.#outageSince !== null) {
        const s = ((Date.now() - this.#outageSince) / 1000).toFixed(1);
        this.#outageSince = null;
        this.#onStatus(`regledger: PostgreSQL ${this.target.redacted} is back (after ${s} s)`);
      }
      return r;
    } catch (e) {
      if (isConnectionFailure(e)) {
        const err: PgStoreError = storeError(e, what, this.target);
        if (gen === this.#gen) this.retire(err.message);
        else this.#outage(err.message);
        throw err;
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Disconnect every pool (queued statements finish first, for up to 5 s). */
  async end(): Promise<void> {
    this.#closed = true;
    live.delete(this);
    await Promise.all([this.#sql.end({ timeout: 5 }).catch(() => {}), ...this.#retired]);
  }
}
