/**
 * The PostgreSQL store's commit: one transaction per group commit, ordered
 * on the head row.
 *
 * ## The serialization point: the head row
 * The transaction's first statement is `UPDATE head … WHERE version =
 * <the version the writer built on>`. PostgreSQL holds that row's lock until
 * the transaction ends, so commits from every process are ordered on it; a
 * writer whose version is stale updates no row and the whole transaction is
 * rolled back (`{ok: false}`: the group commit re-reads the head, rebuilds
 * and signs again). The entries, the envelope and signed-body indexes
 * (primary keys: a body already logged makes the commit lose), the
 * issuer/primitive/time indexes, the checkpoint and the tiles are written in
 * the same transaction, pipelined behind that statement. No commit lands on
 * a head it did not check, so two processes never store checkpoints of one
 * size with different roots; the entries' primary key is a second guard.
 *
 * ## No lock beyond the row lock
 * A writer that lost re-reads the head and rebuilds; with several busy
 * processes most commits lose once (each process's cached head is stale after
 * another's commit). A variant in which a loser took a "turn" (a session
 * advisory lock on a reserved connection, so it could not lose twice) was
 * built and measured: no throughput gain on three processes, and postgres.js
 * throws an uncaught error from a reserved connection whose socket died when
 * PostgreSQL restarts, which would take the server process down. So commits
 * use pooled connections and the head row only.
 *
 * @module
 */
import type postgres from "postgres";
import type { CommitBatch, CommitResult } from "../store.ts";
import { indexTime } from "../time_key.ts";
import { type PgTarget, storeError } from "./connection.ts";
import { int, packHashes, utf8Bytes } from "./rows.ts";

/** A commit that lost the race on the head row or on an index (rolled back). */
const LOST = Symbol("lost");

type Tx = postgres.TransactionSql;

/**
 * How long PostgreSQL lets a commit's transaction sit idle (no statement
 * running) before it ends the session: half the store's deadline. A commit
 * sends its statements back to back; one idle for longer has a client that
 * froze (SIGSTOP, a long pause) or was cut off between its statements and
 * its COMMIT, and it holds the head row's lock, which every other server's
 * commits wait for. (Not less: the server counts the time a statement takes
 * to arrive too, and a commit's largest is up to ~32 MiB.)
 */
export function idleInTransactionMs(timeoutS: number): number {
  return timeoutS * 500;
}

/** The statements of one commit on `tx` (already in a transaction); the new version. */
async function writeBatch(
  tx: Tx,
  expected: string,
  batch: CommitBatch,
  timeoutS: number,
): Promise<string> {
  const es = batch.entries;
  const h = batch.head;
  const times = es.map((e) => utf8Bytes(indexTime(e.issuedAt)));
  const qs: Promise<readonly unknown[]>[] = [];
  // The transaction's own limits, set inside it (not as connection startup parameters,
  // which poolers such as PgBouncer refuse): the server cancels a statement past the
  // store's deadline, and ends the session if this client stalls before COMMIT.
  qs.push(
    tx`SELECT set_config('statement_timeout', ${String(timeoutS * 1000)}, true),
              set_config('idle_in_transaction_session_timeout',
                         ${String(idleInTransactionMs(timeoutS))}, true)`,
  );
  const first = 1;
  // The head row first: its lock orders every writer.
  qs.push(
    tx`UPDATE regledger.head SET version = version + 1, size = ${h.size},
         root = ${h.root}, last_leaf_hash = ${h.lastLeafHash}
       WHERE one AND version = ${expected}::bigint RETURNING version`,
    expected === "0"
      ? tx`INSERT INTO regledger.meta (origin, verifier_key)
           VALUES (${batch.meta.origin}, ${batch.meta.verifierKey})
           ON CONFLICT DO NOTHING RETURNING 1 AS ok`
      : Promise.resolve([1]),
  );
  if (es.length > 0) {
    const rows = (f: (e: CommitBatch["entries"][number], i: number) => Record<string, unknown>) =>
      tx(es.map(f) as Record<string, postgres.SerializableParameter>[]);
    qs.push(
      tx`INSERT INTO regledger.body_index ${rows((e) => ({ sha256: e.bodySha256, idx: e.index }))}
         ON CONFLICT DO NOTHING RETURNING 1`,
      tx`INSERT INTO regledger.envelope_index ${
        rows((e) => ({ sha256: e.envelopeSha256, idx: e.index }))
      } ON CONFLICT DO NOTHING RETURNING 1`,
      tx`INSERT INTO regledger.entries ${
        rows((e) => ({
          idx: e.index,
          ends_commit: e.endsCommit,
          leaf: e.leaf,
          hashes: packHashes(e.hashes),
          envelope: e.envelope,
        }))
      }`,
      tx`INSERT INTO regledger.issuer_index ${
        rows((e, i) => ({ issuer: utf8Bytes(e.issuer), time_key: times[i], idx: e.index }))
      }`,
      tx`INSERT INTO regledger.primitive_index ${
        rows((e, i) => ({ primitive: utf8Bytes(e.primitive), time_key: times[i], idx: e.index }))
      }`,
      tx`INSERT INTO regledger.issuer_primitive_index ${
        rows((e, i) => ({
          issuer: utf8Bytes(e.issuer),
          primitive: utf8Bytes(e.primitive),
          time_key: times[i],
          idx: e.index,
        }))
      }`,
    );
  }
  qs.push(
    tx`INSERT INTO regledger.checkpoints (size, text) VALUES (${h.size}, ${batch.checkpoint})`,
  );
  if (batch.tiles && batch.tiles.length > 0) {
    qs.push(
      tx`INSERT INTO regledger.tiles ${
        tx(batch.tiles.map((t) => ({ level: t.level, n: t.n, data: t.data })))
      } ON CONFLICT (level, n) DO UPDATE SET data = EXCLUDED.data`,
    );
  }
  const rs = await Promise.allSettled(qs);
  const value = (i: number) =>
    rs[i].status === "fulfilled"
      ? (rs[i] as PromiseFulfilledResult<readonly unknown[]>).value
      : null;
  const failed = rs.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
  if (rs[0].status === "rejected") throw rs[0].reason; // the limits could not be set
  const head = value(first);
  if (head === null) throw (rs[first] as PromiseRejectedResult).reason;
  if (head.length !== 1) throw LOST; // another writer moved the head
  if (value(first + 1)?.length !== 1) throw LOST; // an identity already stored
  if (es.length > 0) {
    const bodies = value(first + 2);
    if (bodies === null) throw failed!.reason;
    // A signed body (or envelope) already logged loses the race.
    if (bodies.length !== es.length || value(first + 3)?.length !== es.length) throw LOST;
  }
  if (failed) throw failed.reason;
  return String(int((head[0] as { version: unknown }).version, "head version"));
}

/** Commits of one store (on its current connection pool). */
export class PgCommitter {
  readonly #target: PgTarget;

  constructor(target: PgTarget) {
    this.#target = target;
  }

  /** See `LedgerStore.commit`; `sql` is the store's current pool. */
  async commit(
    sql: postgres.Sql,
    expectedVersion: string | null,
    batch: CommitBatch,
  ): Promise<CommitResult> {
    if (expectedVersion !== null && !/^[1-9]\d{0,18}$/.test(expectedVersion)) return { ok: false };
    const expected = expectedVersion ?? "0";
    try {
      const version = await sql.begin((tx) =>
        writeBatch(tx, expected, batch, this.#target.timeout)
      );
      return { ok: true, version };
    } catch (e) {
      if (e === LOST) return { ok: false };
      throw storeError(e, "commit", this.#target);
    }
  }
}
