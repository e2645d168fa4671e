/**
 * The PostgreSQL store's half of an audit (`LedgerStore.scanDerived`): every
 * row of the envelope, signed-body, issuer and primitive indexes, decoded
 * into derived records for `verifyLog` to check against the entries, and
 * every row it cannot attribute (a hash that is not 32 bytes, key bytes
 * that are not UTF-8) as `unaccounted`.
 *
 * @module
 */
import type postgres from "postgres";
import type { DerivedRecord } from "../store.ts";

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const PAGE = 2000;

function text(v: unknown): string | null {
  if (!(v instanceof Uint8Array)) return null;
  try {
    return utf8Fatal.decode(v);
  } catch {
    return null;
  }
}

function index(v: unknown): number | null {
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/**
 * Runs one query on the store's current pool: retried on a fresh pool after a
 * dropped connection, under the store's deadline, errors made the store's
 * (redacted). Each page of a scan is one call, so an audit outlives a pool
 * replaced under it (`ledger/pg/pool.ts`).
 */
export type PgQuery = <T>(what: string, f: (sql: postgres.Sql) => Promise<T>) => Promise<T>;

/** The derived records of the ledger for entries below `size`, read through `query`. */
export async function* scanPgDerived(
  query: PgQuery,
  size: number,
): AsyncGenerator<DerivedRecord> {
  for (const table of ["envelope_index", "body_index"] as const) {
    const kind = table === "envelope_index" ? "envelope" : "body";
    for await (const r of keyset(query, table, ["sha256"], size)) {
      const n = index(r.idx);
      if (!(r.sha256 instanceof Uint8Array) || r.sha256.length !== 32 || n === null) {
        yield { kind: "unaccounted", what: `a ${table} row is malformed`, index: n ?? undefined };
        continue;
      }
      yield { kind, sha256: new Uint8Array(r.sha256), index: n };
    }
  }
  for await (const r of keyset(query, "issuer_index", ["issuer", "time_key"], size)) {
    const issuer = text(r.issuer);
    const time = text(r.time_key);
    const n = index(r.idx);
    if (issuer === null || time === null || n === null) {
      yield {
        kind: "unaccounted",
        what: "an issuer_index row is malformed",
        index: n ?? undefined,
      };
      continue;
    }
    yield { kind: "issuer", issuer, time, index: n };
  }
  for await (const r of keyset(query, "primitive_index", ["primitive", "time_key"], size)) {
    const primitive = text(r.primitive);
    const time = text(r.time_key);
    const n = index(r.idx);
    if (primitive === null || time === null || n === null) {
      yield {
        kind: "unaccounted",
        what: "a primitive_index row is malformed",
        index: n ?? undefined,
      };
      continue;
    }
    yield { kind: "primitive", primitive, time, index: n };
  }
  // The issuer+primitive index (schema v2) must be exactly the issuer and primitive
  // rows of each entry combined: a row missing, extra or changed is reported for its entry.
  const diff = await query("auditing issuer_primitive_index", (sql) =>
    sql`
      (SELECT idx, 'missing' AS how FROM (
         SELECT i.issuer, p.primitive, i.time_key, i.idx FROM regledger.issuer_index i
         JOIN regledger.primitive_index p ON p.idx = i.idx AND p.time_key = i.time_key
         WHERE i.idx < ${size}
         EXCEPT SELECT issuer, primitive, time_key, idx FROM regledger.issuer_primitive_index
         WHERE idx < ${size}) m)
      UNION ALL
      (SELECT idx, 'extra' AS how FROM (
         SELECT issuer, primitive, time_key, idx FROM regledger.issuer_primitive_index
         WHERE idx < ${size}
         EXCEPT SELECT i.issuer, p.primitive, i.time_key, i.idx FROM regledger.issuer_index i
         JOIN regledger.primitive_index p ON p.idx = i.idx AND p.time_key = i.time_key
         WHERE i.idx < ${size}) x)
      ORDER BY idx LIMIT 1000`);
  for (const r of diff) {
    const n = index(r.idx);
    yield {
      kind: "unaccounted",
      what: `entry ${n}: an issuer+primitive index row is ${
        r.how === "missing" ? "missing" : "not its issuer and primitive rows combined"
      }`,
      index: n ?? undefined,
    };
  }
}

/**
 * Every row of `table` with `idx < size`, in primary-key order (`cols`
 * then `idx` for the index tables, `sha256` alone for the hash indexes),
 * a page at a time (keyset pagination: no transaction held open).
 */
async function* keyset(
  query: PgQuery,
  table: string,
  cols: string[],
  size: number,
): AsyncGenerator<postgres.Row> {
  const key = table.endsWith("_index") && cols[0] !== "sha256" ? [...cols, "idx"] : cols;
  let after: postgres.Row | null = null;
  for (;;) {
    // Built on the pool of this attempt: a retry after a dropped connection runs on a fresh one.
    const rows: postgres.RowList<postgres.Row[]> = await query(`auditing ${table}`, (sql) => {
      const keyList = sql.unsafe(key.join(", "));
      const bound = after === null
        ? sql`TRUE`
        : sql`(${keyList}) > (${
          key.map((k) => sql`${(after as postgres.Row)[k]}`).reduce((a, b) => sql`${a}, ${b}`)
        })`;
      return sql`SELECT ${keyList}${cols[0] === "sha256" ? sql`, idx` : sql``}
        FROM ${sql("regledger." + table)}
        WHERE idx < ${size} AND ${bound} ORDER BY ${keyList} LIMIT ${PAGE}`;
    });
    yield* rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1];
  }
}
