/**
 * The `--store` option of `serve` and the `ledger` commands: a
 * `postgres://USER[:PASS]@HOST[:PORT]/DB` URL names a PostgreSQL database
 * holding the log (CONTRACT §13); without it the log is Deno KV in the data
 * directory. The PostgreSQL driver is loaded only when such a URL is given,
 * so a Deno KV deployment never loads it.
 *
 * @module
 */
import { isPostgresUrl, parsePgUrl, redactUrl } from "./pg/connection.ts";
import type { LedgerStore } from "./store.ts";

/** How a `--store` URL is opened. */
export interface StoreUrlOptions {
  /**
   * Appends will follow: create or migrate the schema, refuse a read-only
   * database. `false` (reads, audits) writes nothing and needs the schema.
   */
  write: boolean;
  /**
   * Status lines: a database outage when it starts (its cause, the password
   * redacted) and when it ends. `serve` passes its log.
   */
  status?: (line: string) => void;
}

/**
 * Check a `--store` value before anything is opened.
 * @throws {TypeError} naming what is wrong, the password redacted.
 */
export function checkStoreUrl(url: string): void {
  if (!isPostgresUrl(url)) {
    throw new TypeError(
      `--store ${redactUrl(url)}: not a postgres://USER[:PASS]@HOST[:PORT]/DB URL ` +
        `(leave --store out for Deno KV in the --data directory)`,
    );
  }
  parsePgUrl(url);
}

/**
 * Open the store named by `url` (today: PostgreSQL). Errors never show the
 * URL's password.
 * @throws {TypeError} when `url` is not a `postgres://` URL or is malformed.
 * @throws {LedgerStateError} when the database is unreachable, read-only
 *   (with `write`), without a ledger schema (without `write`) or at a newer
 *   schema version.
 */
export async function openStoreUrl(url: string, options: StoreUrlOptions): Promise<LedgerStore> {
  checkStoreUrl(url);
  const { PgStore } = await import("./pg/store.ts");
  return await PgStore.open(url, {
    migrate: options.write,
    requireWritable: options.write,
    ...(options.status ? { onStatus: options.status } : {}),
  });
}
