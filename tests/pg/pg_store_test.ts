/**
 * The PostgreSQL store beyond the shared contract: clear, redacted errors
 * (unreachable, wrong password, malformed URL, read-only database, a schema
 * newer than the code), migrations run exactly once when several processes
 * open a fresh database at once, and `verifyLog` finding rows changed
 * behind the ledger's back in PostgreSQL itself.
 */
import assert from "node:assert/strict";
import { LedgerStateError } from "../../ledger/errors.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import {
  isTransientPgError,
  parsePgUrl,
  PgStoreError,
  redactUrl,
} from "../../ledger/pg/connection.ts";
import { MIGRATION_LOCK, SCHEMA_VERSION } from "../../ledger/pg/schema.ts";
import { isConnectionFailure } from "../../ledger/pg/pool.ts";
import { PgStore } from "../../ledger/pg/store.ts";
import { verifyLog } from "../../ledger/verify_log.ts";
import { makeEnvelope } from "../ledger/_helpers.ts";
import { PG_PASSWORD, registerClusterTeardown, sharedCluster } from "./_cluster.ts";

const ORIGIN = "pg.example/log";

function assertRedacted(e: unknown): void {
  const text = `${(e as Error).message}\n${(e as Error).stack}`;
  assert.ok(!text.includes(PG_PASSWORD), `password leaked: ${text}`);
  assert.ok(!text.includes(encodeURIComponent(PG_PASSWORD)), "encoded password leaked");
}

function dbName(url: string): string {
  return new URL(url).pathname.slice(1);
}

Deno.test("a PostgreSQL URL is checked and shown with its password redacted", () => {
  const t = parsePgUrl("postgres://alice:p%40ss@db.example:6543/ledger?sslmode=require&max=4");
  assert.deepEqual(
    [t.host, t.port, t.database, t.user, t.password, t.ssl, t.max],
    ["db.example", 6543, "ledger", "alice", "p@ss", "require", 4],
  );
  assert.equal(t.redacted, "postgres://alice:***@db.example:6543/ledger?sslmode=require&max=4");
  assert.equal(parsePgUrl("postgresql://bob@h/d").port, 5432);
  assert.equal(redactUrl("postgres://u:hunter2@h/d"), "postgres://u:***@h/d");
  for (
    const bad of [
      "postgres://u:hunter2@h/",
      "postgres://:hunter2@h/d",
      "postgres://u:hunter2@h/d?sslmode=maybe",
      "postgres://u:hunter2@h/d?password=x",
      "postgres://u:hunter2@h/d?max=0",
      "postgres://u:hunter2@h/d?contention=optimistic",
      "mysql://u:hunter2@h/d",
    ]
  ) {
    assert.throws(() => parsePgUrl(bad), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.ok(!e.message.includes("hunter2"), e.message);
      return true;
    });
  }
});

Deno.test("transient errors: connection failures and serialization failures, not bad requests", () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  for (
    const c of [
      "40001",
      "40P01",
      "57P01",
      "57014",
      "25P03",
      "08006",
      "CONNECTION_CLOSED",
      "ECONNREFUSED",
    ]
  ) {
    assert.equal(isTransientPgError(err(c)), true, c);
  }
  // A statement the server cancelled at the deadline, or a lost race: the pool is fine.
  for (const c of ["57014", "40001"]) assert.equal(isConnectionFailure(err(c)), false, c);
  for (const c of ["25P03", "CONNECTION_CLOSED"]) {
    assert.equal(isConnectionFailure(err(c)), true, c);
  }
  for (const c of ["23505", "25006", "42P01", "28P01"]) {
    assert.equal(isTransientPgError(err(c)), false, c);
  }
  assert.equal(isTransientPgError(new Error("no code")), false);
});

Deno.test({
  name: "opening: unreachable, wrong password, missing database: clear errors, no password",
  sanitizeResources: false,
  fn: async () => {
    const cluster = await sharedCluster();
    // A port nothing listens on (taken from the OS, then released).
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dead = (l.addr as Deno.NetAddr).port;
    l.close();
    await assert.rejects(
      () => PgStore.open(`postgres://postgres:${PG_PASSWORD}@127.0.0.1:${dead}/x`),
      (e: Error) => {
        assert.ok(e instanceof PgStoreError, String(e));
        assert.match(e.message, /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/x/);
        assert.match(e.message, /reachable/);
        assertRedacted(e);
        return true;
      },
    );
    const url = cluster.url("postgres").replace(encodeURIComponent(PG_PASSWORD), "wrong-pw");
    await assert.rejects(() => PgStore.open(url), (e: Error) => {
      assert.ok(e instanceof PgStoreError);
      assert.match(e.message, /authentication failed/);
      assert.ok(!e.message.includes("wrong-pw"), e.message);
      return true;
    });
    await assert.rejects(() => PgStore.open(cluster.url("no_such_db")), (e: Error) => {
      assert.match(e.message, /no such database/);
      assertRedacted(e);
      return true;
    });
  },
});

Deno.test({
  name: "migrations: several processes opening a fresh database at once migrate it once",
  sanitizeResources: false,
  fn: async () => {
    const cluster = await sharedCluster();
    const url = await cluster.createDatabase();
    const stores = await Promise.all(Array.from({ length: 5 }, () => PgStore.open(url)));
    try {
      assert.equal(
        (await cluster.psql(dbName(url), "SELECT version FROM regledger.schema_version")).trim(),
        String(SCHEMA_VERSION),
      );
      for (const s of stores) assert.equal((await s.readHead()).head.size, 0);
    } finally {
      for (const s of stores) s.close();
      await Promise.all(stores.map((s) => s.closed()));
    }
  },
});

Deno.test({
  name:
    "a migration may outlast ?timeout= (here: waiting for another process's migration), with status lines",
  sanitizeResources: false,
  fn: async () => {
    const cluster = await sharedCluster();
    const url = await cluster.createDatabase();
    const db = dbName(url);
    // Another process holds the migration lock for 3 s (as while it copies an index).
    const holder = cluster.psql(
      db,
      `BEGIN; SELECT pg_advisory_xact_lock(${MIGRATION_LOCK}); SELECT pg_sleep(3); COMMIT`,
    ).then(() => null, (e: Error) => e);
    const held = async () =>
      (await cluster.psql(
        db,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
      )).trim() === "1";
    while (!(await held())) await new Promise((r) => setTimeout(r, 20));
    const lines: string[] = [];
    const t0 = performance.now();
    // One operation's deadline is 1 s; the migration waits about 3 s and still completes.
    const store = await PgStore.open(`${url}?timeout=1`, { onStatus: (l) => lines.push(l) });
    const waited = performance.now() - t0;
    try {
      assert.equal(await holder, null);
      assert.ok(waited >= 1_500, `the open waited for the lock (${waited.toFixed(0)} ms)`);
      assert.equal((await store.readHead()).head.size, 0);
      assert.equal(
        (await cluster.psql(db, "SELECT version FROM regledger.schema_version")).trim(),
        String(SCHEMA_VERSION),
      );
      assert.equal(lines.length, 2, lines.join("\n"));
      assert.match(
        lines[0],
        new RegExp(
          `^regledger: PostgreSQL postgres://postgres:\\*\\*\\*@.*\\?timeout=1: ` +
            `creating the ledger schema \\(version ${SCHEMA_VERSION}\\) \\.\\.\\.$`,
        ),
      );
      assert.match(
        lines[1],
        new RegExp(`ledger schema at version ${SCHEMA_VERSION} \\([2-9]\\.\\d s\\)$`),
      );
      assert.ok(!lines.join("\n").includes(PG_PASSWORD));
      // Opening again: the schema is current, nothing is said.
      const again = await PgStore.open(url, { onStatus: (l) => lines.push(l) });
      again.close();
      await again.closed();
      assert.equal(lines.length, 2, lines.join("\n"));
    } finally {
      store.close();
      await store.closed();
    }
  },
});

Deno.test({
  name: "migration v1 to v2: an existing log gets its issuer+primitive index, used by queries",
  sanitizeResources: false,
  fn: async () => {
    const cluster = await sharedCluster();
    const url = await cluster.createDatabase();
    const db = dbName(url);
    const key = await Ed25519NoteSigner.generate(ORIGIN);
    const who = [["acme", "drift"], ["acme", "fairness"], ["zeta", "drift"]] as const;
    const envs = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        makeEnvelope(i, {
          issuer: who[i % 3][0],
          primitive: who[i % 3][1],
          issuedAt: `2026-01-0${1 + (i % 4)}T00:00:0${i % 10}Z`,
        })),
    );
    let ledger = await openLedger({ store: await PgStore.open(url), logKey: key, origin: ORIGIN });
    for (const e of envs) await ledger.append(e);
    await ledger.close();
    // Take the database back to schema v1: v2 only added the issuer+primitive index.
    await cluster.psql(
      db,
      "DROP TABLE regledger.issuer_primitive_index; UPDATE regledger.schema_version SET version = 1",
    );
    // A reader does not migrate: the v1 database is refused until a writer opens it.
    await assert.rejects(
      () => PgStore.open(url, { migrate: false, requireWritable: false }),
      /at version 1, this regledger needs version 2/,
    );
    const store = await PgStore.open(url);
    try {
      assert.equal(
        (await cluster.psql(db, "SELECT version FROM regledger.schema_version")).trim(),
        "2",
      );
      assert.equal(
        (await cluster.psql(db, "SELECT count(*) FROM regledger.issuer_primitive_index")).trim(),
        "12",
        "every entry has its row",
      );
      const hits = await store.scanIndex({ issuer: "acme", primitive: "drift" }, 100);
      const want = envs.map((_, i) => i).filter((i) => i % 3 === 0)
        .sort((a, b) => (a % 4) - (b % 4) || a - b);
      assert.deepEqual(hits.map((h) => h.index), want);
      // That query reads the new index: without entry 3's row there, entry 3 is not found.
      await cluster.psql(db, "DELETE FROM regledger.issuer_primitive_index WHERE idx = 3");
      assert.deepEqual(
        (await store.scanIndex({ issuer: "acme", primitive: "drift" }, 100)).map((h) => h.index),
        want.filter((i) => i !== 3),
      );
      await cluster.psql(
        db,
        "INSERT INTO regledger.issuer_primitive_index SELECT i.issuer, p.primitive, i.time_key, " +
          "i.idx FROM regledger.issuer_index i JOIN regledger.primitive_index p USING (idx) " +
          "WHERE i.idx = 3",
      );
      // Entries appended after the migration are indexed by the commit.
      ledger = await openLedger({ store, logKey: key, origin: ORIGIN });
      const more = await makeEnvelope(12, {
        issuer: "acme",
        primitive: "drift",
        issuedAt: "2026-01-09T00:00:00Z",
      });
      assert.equal((await ledger.append(more)).index, 12);
      const after = await ledger.store.scanIndex({ issuer: "acme", primitive: "drift" }, 100);
      assert.deepEqual(after.map((h) => h.index), [...want, 12]);
      assert.deepEqual(
        await verifyLog(ledger.store, { verifierKey: key.verifierKey(), origin: ORIGIN }),
        { ok: true, size: 13 },
      );
    } finally {
      await ledger.close();
    }
    // A newer schema than the code is refused, and nothing is changed.
    await cluster.psql(db, "UPDATE regledger.schema_version SET version = 3");
    await assert.rejects(
      () => PgStore.open(url),
      /version 3, newer than this regledger knows \(2\)/,
    );
  },
});

Deno.test({
  name: "a schema newer than the code, and read-only databases, are refused with clear errors",
  sanitizeResources: false,
  fn: async () => {
    const cluster = await sharedCluster();
    const url = await cluster.createDatabase();
    const db = dbName(url);
    const s = await PgStore.open(url);
    s.close();
    await s.closed();
    await cluster.psql(db, "UPDATE regledger.schema_version SET version = 99");
    await assert.rejects(() => PgStore.open(url), (e: Error) => {
      assert.ok(e instanceof LedgerStateError);
      assert.match(
        e.message,
        new RegExp(`version 99, newer than this regledger knows \\(${SCHEMA_VERSION}\\)`),
      );
      assertRedacted(e);
      return true;
    });
    await cluster.psql(db, `UPDATE regledger.schema_version SET version = ${SCHEMA_VERSION}`);
    await cluster.psql("postgres", `ALTER DATABASE ${db} SET default_transaction_read_only = on`);
    await assert.rejects(() => PgStore.open(url), /read-only \(a replica/);
    // Readers (audits, read-only commands) may open a read-only database.
    const reader = await PgStore.open(url, { requireWritable: false });
    assert.equal((await reader.readHead()).head.size, 0);
    reader.close();
    await reader.closed();
    // A fresh read-only database cannot be given its schema.
    const fresh = await cluster.createDatabase();
    await cluster.psql(
      "postgres",
      `ALTER DATABASE ${dbName(fresh)} SET default_transaction_read_only = on`,
    );
    await assert.rejects(
      () => PgStore.open(fresh, { requireWritable: false }),
      /schema is missing.*read-only/,
    );
  },
});

Deno.test({
  name: "verifyLog finds rows changed in PostgreSQL behind the ledger's back",
  sanitizeResources: false,
  fn: async () => {
    const cluster = await sharedCluster();
    const key = await Ed25519NoteSigner.generate(ORIGIN);
    const opts = { verifierKey: key.verifierKey(), origin: ORIGIN };
    const envs = await Promise.all(Array.from({ length: 12 }, (_, i) => makeEnvelope(i)));
    const audit = async (url: string) => {
      const s = await PgStore.open(url, { migrate: false, requireWritable: false });
      try {
        return await verifyLog(s, opts);
      } finally {
        s.close();
        await s.closed();
      }
    };
    const cases: [string, number | undefined][] = [
      // One byte of entry 5's envelope.
      [
        "UPDATE regledger.entries SET envelope = overlay(envelope placing '\\x20' from 40) " +
        "WHERE idx = 5",
        5,
      ],
      // Entry 7 is missing from the issuer index.
      ["DELETE FROM regledger.issuer_index WHERE idx = 7", 7],
      // Entry 6 is missing from the issuer+primitive index (schema v2).
      ["DELETE FROM regledger.issuer_primitive_index WHERE idx = 6", 6],
      // Entry 2's issuer+primitive row names another primitive.
      ["UPDATE regledger.issuer_primitive_index SET primitive = '\\x78' WHERE idx = 2", 2],
      // Entry 4's signed body names entry 3.
      ["UPDATE regledger.body_index SET idx = 3 WHERE idx = 4", 3],
      // A stored hash of entry 9 (its leaf hash): its first byte inverted (setting it to a
      // fixed value changed nothing when the byte already had it, 1 run in 256).
      [
        "UPDATE regledger.entries SET hashes = set_byte(hashes, 0, get_byte(hashes, 0) # 255) " +
        "WHERE idx = 9",
        9,
      ],
      // The head's root.
      [
        "UPDATE regledger.head SET root = decode(repeat('00', 32), 'hex')",
        undefined,
      ],
    ];
    for (const [tamper, index] of cases) {
      const url = await cluster.createDatabase();
      const ledger = await openLedger({
        store: await PgStore.open(url),
        logKey: key,
        origin: ORIGIN,
        maxBatch: 3,
      });
      for (const e of envs) await ledger.append(e);
      await ledger.close();
      assert.deepEqual(await audit(url), { ok: true, size: 12 });
      await cluster.psql(dbName(url), tamper);
      const r = await audit(url);
      assert.equal(r.ok, false, tamper);
      assert.equal(r.first_bad_index, index, `${tamper}: ${r.reason}`);
    }
  },
});

registerClusterTeardown();
