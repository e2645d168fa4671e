/**
 * The PostgreSQL schema of a ledger (`docs/formats.md`, "PostgreSQL
 * schema") and its versioned migrations, applied when a store is opened.
 *
 * Everything lives in the schema `regledger` of one database (one ledger
 * per database, as one Deno KV file holds one ledger). `schema_version`
 * holds the version the tables are at; opening applies the missing
 * migrations in one transaction under an advisory lock, so that several
 * servers starting at once on a fresh database migrate it exactly once. A
 * database at a version newer than this code knows is refused (an older
 * binary must not write a newer layout), and so is a read-only database
 * (a replica) whose schema is missing or behind.
 *
 * Strings that come from envelopes (issuer, primitive, the UTC time key) are
 * stored as their UTF-8 bytes (`bytea`): byte order is code-point order, the
 * order every store's index scans use, and PostgreSQL text cannot hold NUL.
 *
 * @module
 */
import type postgres from "postgres";
import { LedgerStateError } from "../errors.ts";

/** The schema (namespace) holding a ledger's tables. */
export const SCHEMA = "regledger";

/** One migration: the SQL that takes the schema from `version - 1` to `version`. */
interface Migration {
  version: number;
  sql: string;
}

const MIGRATIONS: Migration[] = [{
  version: 1,
  sql: `
CREATE SCHEMA IF NOT EXISTS regledger;
CREATE TABLE regledger.schema_version (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  version integer NOT NULL
);
CREATE TABLE regledger.meta (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  origin text NOT NULL,
  verifier_key text NOT NULL
);
CREATE TABLE regledger.head (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  root bytea NOT NULL,
  last_leaf_hash bytea NOT NULL
);
INSERT INTO regledger.head (version, size, root, last_leaf_hash) VALUES (
  0, 0,
  '\\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '\\x0000000000000000000000000000000000000000000000000000000000000000'
);
CREATE TABLE regledger.entries (
  idx bigint PRIMARY KEY CHECK (idx >= 0),
  ends_commit boolean NOT NULL,
  leaf bytea NOT NULL,
  hashes bytea NOT NULL,
  envelope bytea NOT NULL
);
CREATE TABLE regledger.envelope_index (
  sha256 bytea PRIMARY KEY,
  idx bigint NOT NULL
);
CREATE TABLE regledger.body_index (
  sha256 bytea PRIMARY KEY,
  idx bigint NOT NULL
);
CREATE TABLE regledger.issuer_index (
  issuer bytea NOT NULL,
  time_key bytea NOT NULL,
  idx bigint NOT NULL,
  PRIMARY KEY (issuer, time_key, idx)
);
CREATE TABLE regledger.primitive_index (
  primitive bytea NOT NULL,
  time_key bytea NOT NULL,
  idx bigint NOT NULL,
  PRIMARY KEY (primitive, time_key, idx)
);
CREATE INDEX primitive_index_time ON regledger.primitive_index (time_key, idx);
CREATE TABLE regledger.checkpoints (
  size bigint PRIMARY KEY CHECK (size >= 1),
  text text NOT NULL
);
CREATE TABLE regledger.tiles (
  level integer NOT NULL,
  n bigint NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (level, n)
);
`,
}, {
  // v2: the issuer+primitive index (Deno KV's ["ip", issuer, primitive, t, n]): one
  // issuer's statistic over time is one range scan instead of a join of two indexes.
  // Filled from the two indexes it combines (every entry has one row in each, with
  // the same time key).
  version: 2,
  sql: `
CREATE TABLE regledger.issuer_primitive_index (
  issuer bytea NOT NULL,
  primitive bytea NOT NULL,
  time_key bytea NOT NULL,
  idx bigint NOT NULL,
  PRIMARY KEY (issuer, primitive, time_key, idx)
);
INSERT INTO regledger.issuer_primitive_index (issuer, primitive, time_key, idx)
  SELECT i.issuer, p.primitive, i.time_key, i.idx
  FROM regledger.issuer_index i
  JOIN regledger.primitive_index p ON p.idx = i.idx AND p.time_key = i.time_key;
`,
}];

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * The deadline of a creation or migration, in seconds (unless `?timeout=` is
 * longer): copying an index of millions of rows, or waiting for another
 * server's migration, may take longer than one operation's `?timeout=`.
 */
export const MIGRATION_TIMEOUT_S = 3600;

/** Advisory lock key that serializes migrations ("regledgr" as a big-endian integer). */
export const MIGRATION_LOCK = 0x7265676c65646772n;

/** The schema version of the database: 0 when it has no ledger schema yet. */
export async function readSchemaVersion(
  sql: postgres.Sql | postgres.TransactionSql,
): Promise<number> {
  // A query of pg_class (not to_regclass, which reads the catalog cache): after waiting
  // for the migration lock it sees the tables another process has just created.
  const [t] = await sql`SELECT count(*)::int AS present FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'regledger' AND c.relname = 'schema_version'`;
  if (t.present === 0) return 0;
  const rows = await sql`SELECT version FROM regledger.schema_version`;
  return rows.length === 0 ? 0 : Number(rows[0].version);
}

function newer(v: number, where: string): LedgerStateError {
  return new LedgerStateError(
    `${where}: the ledger schema is at version ${v}, newer than this regledger knows ` +
      `(${SCHEMA_VERSION}): upgrade regledger (an older version must not write a newer layout)`,
  );
}

/**
 * Check the schema: the version it is at when it must be migrated to
 * {@link SCHEMA_VERSION}, `null` when it is current.
 * @throws {LedgerStateError} when the schema is newer than this code, or
 *   missing/behind and the database is read-only or `migrate` is false.
 */
export async function checkSchema(
  sql: postgres.Sql,
  where: string,
  migrate: boolean,
): Promise<number | null> {
  const v = await readSchemaVersion(sql);
  if (v === SCHEMA_VERSION) return null;
  if (v > SCHEMA_VERSION) throw newer(v, where);
  const [ro] = await sql`SELECT current_setting('transaction_read_only') = 'on' AS ro`;
  if (ro.ro || !migrate) {
    throw new LedgerStateError(
      `${where}: the ledger schema is ${v === 0 ? "missing" : `at version ${v}`}, this ` +
        `regledger needs version ${SCHEMA_VERSION}, and ${
          ro.ro ? "the database is read-only (a replica?)" : "this open does not write"
        }: open it once for writing against the primary to create or migrate it`,
    );
  }
  return v;
}

/**
 * Apply the missing migrations in one transaction under the migration lock
 * (another process may have applied them meanwhile: then nothing is done).
 * @returns the version the schema was at when the lock was taken.
 * @throws {LedgerStateError} when the schema is newer than this code.
 */
export async function migrateSchema(
  sql: postgres.Sql,
  where: string,
  timeoutMs: number,
): Promise<number> {
  return await sql.begin(async (tx) => {
    // The server gives up when the client does (waiting for the lock included).
    await tx`SELECT set_config('statement_timeout', ${String(timeoutMs)}, true)`;
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    const now = await readSchemaVersion(tx);
    if (now > SCHEMA_VERSION) throw newer(now, where);
    for (const m of MIGRATIONS) {
      if (m.version <= now) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO regledger.schema_version (version) VALUES (${m.version})
               ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version`;
    }
    return now;
  });
}
