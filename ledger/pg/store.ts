/**
 * The ledger store on PostgreSQL: one database shared by any number of
 * server processes (CONTRACT §13, issue 16). The schema and its migrations
 * are in `ledger/pg/schema.ts`, row decoding in `ledger/pg/rows.ts`, the
 * URL, redaction and error classification in `ledger/pg/connection.ts`.
 *
 * ## Driver: postgres.js (`npm:postgres`), not node-postgres (`npm:pg`)
 * postgres.js is pure ECMAScript with no native add-on and no dependencies,
 * runs under Deno through `npm:` without Node shims beyond `node:net`,
 * pipelines the statements of one transaction on its connection (a whole
 * commit is a few round trips, not one per statement), builds multi-row
 * inserts from arrays of objects (`sql(rows)`), only ever sends values as
 * parameters (tagged templates: no SQL built from strings), reconnects by
 * itself after the server restarts, and keeps query parameters out of its
 * errors unless debugging is on. node-postgres is as mature but needs
 * `pg-pool` and hand-built parameter lists for bulk inserts, and its native
 * binding does not load under Deno.
 *
 * ## One serialization point: the head row
 * Every commit is one transaction whose first write is the head row, checked
 * against the version the writer built on (`ledger/pg/commit.ts`).
 *
 * Committed stored hashes never change, so `readHashes` caches them
 * (`ledger/stored_hash_cache.ts`, shared with the Deno KV store).
 *
 * @module
 */
import { toHex } from "../../core/bytes.ts";
import { LedgerCorruptionError, LedgerStateError } from "../errors.ts";
import { ZERO_PREV } from "../leaf.ts";
import { EMPTY_TREE_HASH } from "../merkle/mod.ts";
import { StoredHashCache } from "../stored_hash_cache.ts";
import type {
  CommitBatch,
  CommitBudget,
  CommitResult,
  DerivedRecord,
  EntrySize,
  IndexHit,
  IndexSelector,
  LedgerMeta,
  LedgerStore,
  StoredCheckpoint,
  StoredEntry,
  StoreLimits,
  VersionedHead,
} from "../store.ts";
import { isTransientPgError, parsePgUrl, type PgTarget, storeError } from "./connection.ts";
import { PgCommitter } from "./commit.ts";
import { PgPool } from "./pool.ts";
import type { Sql as PgSql } from "postgres";
import { scanPgDerived } from "./derived.ts";
import {
  arrayLiteral,
  bytes,
  decodeEntryRow,
  decodeHeadRow,
  type EntryRow,
  type HeadRow,
  int,
  unpackHashes,
  utf8Bytes,
  utf8Text,
} from "./rows.ts";
import { checkSchema, migrateSchema, MIGRATION_TIMEOUT_S, SCHEMA_VERSION } from "./schema.ts";

/** Largest envelope kept: the same as Deno KV's, so a log can move between engines. */
const MAX_ENVELOPE_BYTES = 512 * 1024;
/** Most entries per commit. */
const MAX_BATCH_ENTRIES = 1000;
/** Most bytes one commit sends (entries, their index rows, tiles), well below PostgreSQL's limits. */
const MAX_COMMIT_BYTES = 32 * 1024 * 1024;

/** Options of {@link PgStore.open}. */
export interface PgStoreOptions {
  /**
   * Create or migrate the schema when it is missing or behind. `false`
   * (audits, read-only commands) only checks it.
   * @default {true}
   */
  migrate?: boolean;
  /**
   * Refuse a read-only database (a replica) at open, with a clear error,
   * instead of at the first append.
   * @default {true}
   */
  requireWritable?: boolean;
  /**
   * Status lines (never payloads or the password): a schema creation or
   * migration when it starts and when it ends, a database outage when it
   * starts, with its cause, and when it ends (`serve` logs them).
   */
  onStatus?: (line: string) => void;
}

/**
 * A {@link LedgerStore} on one PostgreSQL database.
 *
 * @example Open, append through a ledger, reopen (needs a running PostgreSQL)
 * ```ts ignore
 * import { openLedger } from "../ledger.ts";
 * import { PgStore } from "./store.ts";
 * const store = await PgStore.open("postgres://regledger@127.0.0.1:5432/ledger");
 * const ledger = await openLedger({ store, dataDir: "./keys", origin: "example.org/log" });
 * await ledger.close();
 * ```
 */
export class PgStore implements LedgerStore {
  /** 512 KiB envelopes (as on Deno KV), 1,000 entries per commit. */
  readonly limits: StoreLimits = {
    maxEnvelopeBytes: MAX_ENVELOPE_BYTES,
    maxBatchEntries: MAX_BATCH_ENTRIES,
  };
  /** The database URL with its password redacted (for messages). */
  readonly where: string;
  readonly #pool: PgPool;
  readonly #target: PgTarget;
  readonly #committer: PgCommitter;
  #hashes = new StoredHashCache();
  #ended: Promise<void> | null = null;

  private constructor(pool: PgPool) {
    this.#pool = pool;
    this.#target = pool.target;
    this.where = pool.target.redacted;
    this.#committer = new PgCommitter(pool.target);
  }

  /** The current connection pool (replaced after a connection failure: `ledger/pg/pool.ts`). */
  get #sql() {
    return this.#pool.sql;
  }

  /**
   * Connect to the database at `url` (`postgres://USER[:PASS]@HOST[:PORT]/DB`,
   * `?sslmode=require|verify-full|prefer`, `?sslrootcert=` (a CA file for
   * verify-full), `?max=` connections, `?timeout=` seconds per operation; without a
   * password in the URL, `PGPASSWORD` is used), then create or migrate the
   * schema (see {@link PgStoreOptions}).
   * @throws {TypeError} when the URL is malformed (the password redacted).
   * @throws {LedgerStateError} when the database is unreachable, refuses the
   *   login, is read-only, or its schema is at an unknown (newer) version.
   */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const target = parsePgUrl(url);
    const pool = new PgPool(target, options.onStatus ? { onStatus: options.onStatus } : {});
    const store = new PgStore(pool);
    try {
      const from = await pool.run(
        "opening the ledger",
        (sql) => checkSchema(sql, target.redacted, options.migrate !== false),
      );
      if (from !== null) await migrate(pool, from, options.onStatus);
      if (options.requireWritable !== false) {
        const [r] = await pool.run(
          "opening the ledger",
          (sql) => sql`SELECT current_setting('transaction_read_only') = 'on' AS ro`,
        );
        if (r.ro) {
          throw new LedgerStateError(
            `PostgreSQL ${target.redacted}: the database is read-only (a replica, or ` +
              `default_transaction_read_only): appends need the primary`,
          );
        }
      }
    } catch (e) {
      store.close();
      await store.closed();
      throw e instanceof LedgerStateError ? e : storeError(e, "opening the ledger", target);
    }
    return store;
  }

  /** Run a read, retrying a dropped connection a few times (the driver reconnects). */
  async #read<T>(what: string, f: () => Promise<T>): Promise<T> {
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#pool.run(what, f);
      } catch (e) {
        if (e instanceof LedgerCorruptionError || e instanceof RangeError) throw e;
        if (!isTransientPgError(e) || attempt >= 3) throw storeError(e, what, this.#target);
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1) * (0.5 + Math.random())));
      }
    }
  }

  /**
   * A commit's budget: at most 1,000 entries and about 32 MiB of rows
   * (envelope, leaf and index rows repeating its fields, up to 64 hashes).
   */
  commitBudget(): CommitBudget {
    let entries = 0;
    let bytes = 64 * 1024; // head, checkpoint, tiles (at most ten of 8 KiB)
    return {
      add(e: EntrySize): boolean {
        const b = e.envelopeBytes + 4 * e.fieldBytes + 64 * 32 + 512;
        if (entries > 0 && (entries >= MAX_BATCH_ENTRIES || bytes + b > MAX_COMMIT_BYTES)) {
          return false;
        }
        entries++;
        bytes += b;
        return true;
      },
    };
  }

  readHead(): Promise<VersionedHead> {
    return this.#read("reading the head", async () => {
      const rows = await this.#sql<HeadRow[]>`
        SELECT version, size, root, last_leaf_hash FROM regledger.head`;
      if (rows.length !== 1) throw new LedgerCorruptionError("head: the head row is missing");
      const { head, version } = decodeHeadRow(rows[0]);
      if (version === 0) {
        if (head.size !== 0) throw new LedgerCorruptionError("head: version 0 with entries");
        return { head: { size: 0, root: EMPTY_TREE_HASH, lastLeafHash: ZERO_PREV }, version: null };
      }
      return { head, version: String(version) };
    });
  }

  readMeta(): Promise<LedgerMeta | null> {
    return this.#read("reading the ledger identity", async () => {
      const rows = await this.#sql`SELECT origin, verifier_key FROM regledger.meta`;
      if (rows.length === 0) return null;
      return { origin: rows[0].origin as string, verifierKey: rows[0].verifier_key as string };
    });
  }

  findEnvelopes(sha256s: Uint8Array[]): Promise<(number | null)[]> {
    return this.#findIn("envelope_index", sha256s);
  }

  findBodies(sha256s: Uint8Array[]): Promise<(number | null)[]> {
    return this.#findIn("body_index", sha256s);
  }

  #findIn(table: "envelope_index" | "body_index", shas: Uint8Array[]): Promise<(number | null)[]> {
    if (shas.length === 0) return Promise.resolve([]);
    const hex = shas.map(toHex);
    return this.#read(`reading the ${table.replace("_", " ")}`, async () => {
      const rows = await this.#sql`
        SELECT encode(sha256, 'hex') AS sha, idx FROM ${this.#sql("regledger." + table)}
        WHERE sha256 IN (SELECT decode(h, 'hex') FROM unnest(${arrayLiteral(hex)}::text[]) h)`;
      const found = new Map<string, number>();
      for (const r of rows) found.set(r.sha as string, int(r.idx, table));
      return hex.map((h) => found.get(h) ?? null);
    });
  }

  readEntry(index: number): Promise<StoredEntry | null> {
    return this.#read(`reading entry ${index}`, async () => {
      const rows = await this.#sql<EntryRow[]>`
        SELECT idx, ends_commit, leaf, hashes, envelope FROM regledger.entries WHERE idx = ${index}`;
      return rows.length === 0 ? null : decodeEntryRow(rows[0], index);
    });
  }

  readEntries(start: number, end: number): Promise<StoredEntry[]> {
    if (end <= start) return Promise.resolve([]);
    return this.#read(`reading entries ${start}-${end - 1}`, async () => {
      const rows = await this.#sql<EntryRow[]>`
        SELECT idx, ends_commit, leaf, hashes, envelope FROM regledger.entries
        WHERE idx >= ${start} AND idx < ${end} ORDER BY idx`;
      const out: StoredEntry[] = [];
      for (const r of rows) {
        if (int(r.idx, "entry") !== start + out.length) break; // stops at the first gap
        out.push(decodeEntryRow(r, start + out.length));
      }
      return out;
    });
  }

  readTile(level: number, n: number): Promise<Uint8Array | null> {
    return this.#read(`reading tile ${level}/${n}`, async () => {
      const rows = await this.#sql`
        SELECT data FROM regledger.tiles WHERE level = ${level} AND n = ${n}`;
      return rows.length === 0 ? null : bytes(rows[0].data);
    });
  }

  readCheckpoint(size: number): Promise<string | null> {
    return this.#read(`reading checkpoint ${size}`, async () => {
      const rows = await this.#sql`SELECT text FROM regledger.checkpoints WHERE size = ${size}`;
      return rows.length === 0 ? null : rows[0].text as string;
    });
  }

  async *readCheckpoints(start: number, end: number): AsyncGenerator<StoredCheckpoint> {
    let from = start;
    while (from < end) {
      const rows = await this.#read(
        "reading checkpoints",
        () =>
          this.#sql`SELECT size, text FROM regledger.checkpoints
                  WHERE size >= ${from} AND size < ${end} ORDER BY size LIMIT 1000`,
      );
      for (const r of rows) yield { size: int(r.size, "checkpoint size"), text: r.text as string };
      if (rows.length < 1000) return;
      from = int(rows[rows.length - 1].size, "checkpoint size") + 1;
    }
  }

  async readHashes(indexes: number[]): Promise<Uint8Array[]> {
    const plan = this.#hashes.plan(indexes);
    if (plan.records.length === 0) return plan.out;
    const rows = await this.#read(
      "reading stored hashes",
      () =>
        this.#sql`SELECT idx, hashes FROM regledger.entries
                WHERE idx = ANY(${arrayLiteral(plan.records.map(String))}::bigint[])`,
    );
    const got = new Map<number, unknown>();
    for (const r of rows) got.set(int(r.idx, "entry"), r.hashes);
    for (const rec of plan.records) {
      plan.fill(rec, got.has(rec) ? unpackHashes(got.get(rec), rec) : null);
    }
    return plan.out;
  }

  async commit(expectedVersion: string | null, batch: CommitBatch): Promise<CommitResult> {
    const r = await this.#pool.run(
      "commit",
      (sql) => this.#committer.commit(sql, expectedVersion, batch),
    );
    if (r.ok) {
      for (const e of batch.entries) this.#hashes.rememberRecord(e.index, e.hashes);
    }
    return r;
  }

  isTransient(error: unknown): boolean {
    return isTransientPgError(error);
  }

  scanDerived(size: number): AsyncIterable<DerivedRecord> {
    // Each page through #read: an audit outlives a pool replaced under it.
    return scanPgDerived((what, f) => this.#read(what, () => f(this.#sql)), size);
  }

  scanIndex(sel: IndexSelector, limit: number): Promise<IndexHit[]> {
    const lim = Math.max(0, Math.floor(limit));
    const whereOn = (sql: PgSql) => {
      const conds = [sql`TRUE`];
      if (sel.from !== undefined) conds.push(sql`x.time_key >= ${utf8Bytes(sel.from)}`);
      if (sel.to !== undefined) conds.push(sql`x.time_key < ${utf8Bytes(sel.to)}`);
      if (sel.after) {
        conds.push(
          sql`(x.time_key, x.idx) > (${
            utf8Bytes(sel.after.issuedAt)
          }::bytea, ${sel.after.index}::bigint)`,
        );
      }
      return conds.reduce((a, c) => sql`${a} AND ${c}`);
    };
    return this.#read("scanning an index", async () => {
      // The pool of this attempt (a retry after a connection failure runs on a fresh one).
      const sql = this.#sql;
      const where = whereOn(sql);
      let rows;
      if (sel.issuer !== undefined && sel.primitive !== undefined) {
        // One range of the issuer+primitive index (schema v2).
        rows = await sql`SELECT x.idx, x.time_key FROM regledger.issuer_primitive_index x
          WHERE x.issuer = ${utf8Bytes(sel.issuer)} AND x.primitive = ${utf8Bytes(sel.primitive)}
          AND ${where} ORDER BY x.time_key, x.idx LIMIT ${lim}`;
      } else if (sel.issuer !== undefined) {
        rows = await sql`SELECT x.idx, x.time_key FROM regledger.issuer_index x
          WHERE x.issuer = ${utf8Bytes(sel.issuer)} AND ${where}
          ORDER BY x.time_key, x.idx LIMIT ${lim}`;
      } else if (sel.primitive !== undefined) {
        rows = await sql`SELECT x.idx, x.time_key FROM regledger.primitive_index x
          WHERE x.primitive = ${utf8Bytes(sel.primitive)} AND ${where}
          ORDER BY x.time_key, x.idx LIMIT ${lim}`;
      } else {
        rows = await sql`SELECT x.idx, x.time_key FROM regledger.primitive_index x
          WHERE ${where} ORDER BY x.time_key, x.idx LIMIT ${lim}`;
      }
      return rows.map((r) => ({
        index: int(r.idx, "index row"),
        issuedAt: utf8Text(r.time_key, "index time key"),
      }));
    });
  }

  /** Disconnect (queued statements finish first); {@link closed} resolves when done. */
  close(): void {
    this.#ended ??= this.#pool.end();
  }

  /** Resolves once {@link close} has disconnected every connection. */
  closed(): Promise<void> {
    return this.#ended ?? Promise.resolve();
  }
}

/**
 * Migrate the schema from version `from`, with status lines before and after,
 * under the migration's own deadline ({@link MIGRATION_TIMEOUT_S}).
 */
async function migrate(
  pool: PgPool,
  from: number,
  onStatus: ((line: string) => void) | undefined,
): Promise<void> {
  const where = pool.target.redacted;
  const what = from === 0
    ? `creating the ledger schema (version ${SCHEMA_VERSION})`
    : `migrating the ledger schema from version ${from} to ${SCHEMA_VERSION}`;
  onStatus?.(`regledger: PostgreSQL ${where}: ${what} ...`);
  const t0 = performance.now();
  const timeoutS = Math.max(MIGRATION_TIMEOUT_S, pool.target.timeout);
  const was = await pool.run(
    "migrating the ledger schema",
    (sql) => migrateSchema(sql, where, timeoutS * 1000),
    { timeoutS },
  );
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  onStatus?.(
    `regledger: PostgreSQL ${where}: ${
      was === SCHEMA_VERSION
        ? `the ledger schema was brought to version ${SCHEMA_VERSION} by another process`
        : `ledger schema at version ${SCHEMA_VERSION}`
    } (${s} s)`,
  );
}
