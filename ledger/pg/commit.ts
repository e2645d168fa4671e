/**
 * The PostgreSQL store's commit: one transaction per group commit, ordered
 * on the head row, and (by default) turns for writers that lost a race.
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
 * ## Turns (`contention: "turns"`, the default)
 * With several processes, a purely optimistic writer may lose again and
 * again (each loss costs a re-read, a rebuild and a signature, during which
 * another process commits). So a writer that lost takes a turn: it waits for
 * an exclusive session advisory lock on a reserved connection before
 * answering `{ok: false}`, and its next commit runs on that connection while
 * it holds the lock, which every other commit takes in shared mode first.
 * Nobody else can move the head between its re-read and its commit, so it
 * loses at most once. The turn ends with that commit, or after
 * {@link TURN_MS} when no commit follows (then its commit simply runs
 * optimistically again); a process that dies loses its session, and with it
 * the lock. Correctness never depends on the lock: the head row decides.
 *
 * @module
 */
import type postgres from "postgres";
import type { CommitBatch, CommitResult } from "../store.ts";
import { indexTime } from "../time_key.ts";
import { type PgTarget, storeError } from "./connection.ts";
import { int, packHashes, utf8Bytes } from "./rows.ts";

/** How commits from several processes take turns (see the module documentation). */
export type Contention = "turns" | "optimistic";

/** Advisory lock key of commit turns ("regledgt"). */
const TURN_LOCK = "8243115290473244532"; // 0x7265676c65646774
/** Longest a turn waits for its commit before it is given up, in milliseconds. */
export const TURN_MS = 250;
/** A commit that lost the race on the head row or on an index (rolled back). */
const LOST = Symbol("lost");

type Tx = postgres.TransactionSql | postgres.ReservedSql;

/** The statements of one commit on `tx` (already in a transaction); the new version. */
async function writeBatch(
  tx: Tx,
  expected: string,
  batch: CommitBatch,
  turns: boolean,
): Promise<string> {
  const es = batch.entries;
  const h = batch.head;
  const times = es.map((e) => utf8Bytes(indexTime(e.issuedAt)));
  const qs: Promise<readonly unknown[]>[] = [];
  // Shared: every commit goes ahead unless a writer holds its turn (exclusive).
  if (turns) qs.push(tx`SELECT pg_advisory_xact_lock_shared(${TURN_LOCK}::bigint)`);
  const first = qs.length;
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
  if (first > 0 && value(0) === null) throw failed!.reason;
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

/** Commits of one store (one process's connection pool). */
export class PgCommitter {
  readonly #sql: postgres.Sql;
  readonly #target: PgTarget;
  readonly #turns: boolean;
  /** The reserved connection holding this process's turn, if it has one. */
  #turn: { sql: postgres.ReservedSql; timer: ReturnType<typeof setTimeout> } | null = null;

  constructor(sql: postgres.Sql, target: PgTarget, contention: Contention) {
    this.#sql = sql;
    this.#target = target;
    this.#turns = contention === "turns";
  }

  /** See `LedgerStore.commit`. */
  async commit(expectedVersion: string | null, batch: CommitBatch): Promise<CommitResult> {
    if (expectedVersion !== null && !/^[1-9]\d{0,18}$/.test(expectedVersion)) {
      return await this.#lost();
    }
    const expected = expectedVersion ?? "0";
    const turn = this.#turn;
    this.#turn = null;
    if (turn) clearTimeout(turn.timer);
    try {
      if (turn) {
        // Our turn: BEGIN … COMMIT on the connection that holds the exclusive lock.
        await turn.sql`BEGIN`;
        try {
          const version = await writeBatch(turn.sql, expected, batch, true);
          await turn.sql`COMMIT`;
          return { ok: true, version };
        } catch (e) {
          await turn.sql`ROLLBACK`.catch(() => {});
          throw e;
        }
      }
      const version = await this.#sql.begin((tx) => writeBatch(tx, expected, batch, this.#turns));
      return { ok: true, version };
    } catch (e) {
      if (e !== LOST) throw storeError(e, "commit", this.#target);
    } finally {
      if (turn) await endTurn(turn.sql);
    }
    return await this.#lost();
  }

  /** `{ok: false}`, after taking a turn (see the module documentation). */
  async #lost(): Promise<CommitResult> {
    if (!this.#turns || this.#turn) return { ok: false };
    let sql: postgres.ReservedSql | undefined;
    try {
      sql = await this.#sql.reserve();
      await sql`SELECT pg_advisory_lock(${TURN_LOCK}::bigint)`;
    } catch {
      // No turn (the database went away): the caller retries optimistically.
      if (sql) await endTurn(sql);
      return { ok: false };
    }
    const held = sql;
    const timer = setTimeout(() => {
      if (this.#turn?.sql !== held) return;
      this.#turn = null;
      endTurn(held);
    }, TURN_MS);
    this.#turn = { sql: held, timer };
    return { ok: false };
  }

  /** Give up a held turn (closing the store). */
  async close(): Promise<void> {
    const turn = this.#turn;
    this.#turn = null;
    if (turn) {
      clearTimeout(turn.timer);
      await endTurn(turn.sql);
    }
  }
}

/** Release the turn's lock and give its connection back to the pool. */
async function endTurn(sql: postgres.ReservedSql): Promise<void> {
  try {
    await sql`SELECT pg_advisory_unlock_all()`;
  } catch {
    // The connection is gone, and the session's lock with it.
  }
  sql.release();
}
