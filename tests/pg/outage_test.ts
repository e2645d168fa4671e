/**
 * The PostgreSQL store when its database goes away (`ledger/pg/pool.ts`):
 *
 * 1. a database that stops answering without closing anything (a TCP proxy
 *    turned into a black hole): an append fails — it never waits forever —
 *    and once the database answers again, appends resume on their own; the
 *    outage is reported once when it starts (its cause, no password) and
 *    once when it ends;
 * 2. the same through `regledger serve`: 503 with `Retry-After` during the
 *    outage, 201 after, and the two lines in the server's log (stderr);
 * 3. postgres.js's uncaught `TypeError` from writing to a closed socket
 *    (porsager/postgres#1154) does not end the process: it is stopped and
 *    the pool is replaced; any other uncaught error is left alone.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LedgerStateError } from "../../ledger/errors.ts";
import { type Ledger, openLedger } from "../../ledger/ledger.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { isTransientPgError, parsePgUrl } from "../../ledger/pg/connection.ts";
import { PgCommitter } from "../../ledger/pg/commit.ts";
import type { Sql as PgSql } from "postgres";
import { isDriverWriteRace, PgPool } from "../../ledger/pg/pool.ts";
import { PgStore } from "../../ledger/pg/store.ts";
import { verifyLog } from "../../ledger/verify_log.ts";
import { makeEnvelope } from "../ledger/_helpers.ts";
import { signedEnvelope, TOKENS, writeTrustFile } from "../server/_helpers.ts";
import { PG_PASSWORD, registerClusterTeardown, sharedCluster } from "./_cluster.ts";
import { PgProxy } from "./_proxy.ts";
import { sha256 } from "../../core/bytes.ts";
import { storedHashIndex } from "../../ledger/merkle/mod.ts";
import { killServe, startServe, submitOnce, submitUntilAcked } from "./_serve.ts";

const ORIGIN = "regledger.local/log";

/** A new log (a fresh key) on `store`. */
async function newLedger(store: PgStore): Promise<Ledger> {
  return await openLedger({
    store,
    logKey: await Ed25519NoteSigner.generate(ORIGIN),
    origin: ORIGIN,
  });
}

/** Whether `line` is one of the two a new database's schema creation logs. */
function schemaLine(line: string): boolean {
  return / (creating the ledger schema \(version \d+\) \.\.\.|ledger schema at version \d+ \(\d+\.\d s\))$/
    .test(line);
}

/** postgres.js 3.4.9's uncaught error from its write timer (porsager/postgres#1154). */
function driverWriteRace(): TypeError {
  const race = new TypeError("Cannot read properties of null (reading 'write')");
  race.stack = `TypeError: Cannot read properties of null (reading 'write')
    at Immediate.nextWrite (file:///root/.cache/deno/npm/registry.npmjs.org/postgres/3.4.9/src/connection.js:255:22)
    at Immediate.callback (ext:deno_node/internal/timers.mjs:4:3069)`;
  return race;
}

/**
 * Raise that error as the runtime would (uncaught): the store's guard stops it and
 * retires every open pool, as after a connection failure. Whether it was stopped.
 */
function raiseDriverWriteRace(): boolean {
  const ev = new ErrorEvent("error", { error: driverWriteRace(), cancelable: true });
  globalThis.dispatchEvent(ev);
  return ev.defaultPrevented;
}

/** `p`'s outcome, or `"pending"` if it has not settled within `ms` (a hang, not a speed). */
async function outcome<T>(p: Promise<T>, ms: number): Promise<T | Error | "pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p.catch((e: Error) => e),
      new Promise<"pending">((r) => timer = setTimeout(() => r("pending"), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name:
    "a database that stops answering: appends fail instead of hanging, then resume by themselves",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const cluster = await sharedCluster();
    const url = await cluster.createDatabase();
    const proxy = PgProxy.start(cluster.port);
    const lines: string[] = [];
    const store = await PgStore.open(`${proxy.url(url)}?timeout=2`, {
      onStatus: (l) => lines.push(l),
    });
    const ledger = await newLedger(store);
    try {
      const envs = await Promise.all([0, 1, 2].map((i) => makeEnvelope(i)));
      assert.equal((await ledger.append(envs[0])).index, 0);
      assert.deepEqual(lines.splice(0).map(schemaLine), [true, true], "no outage yet");
      proxy.blackhole();
      // Nothing comes back: the commit, then the look-up of what landed, time out.
      const r = await outcome(ledger.append(envs[1]), 120_000);
      assert.notEqual(r, "pending", "an append on a silent database never settled");
      assert.ok(r instanceof LedgerStateError, `a store error (503), got ${r}`);
      assert.ok(store.isTransient(r), "worth retrying");
      assert.ok(!r.message.includes(PG_PASSWORD));
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(
        lines[0],
        /PostgreSQL postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+\?timeout=2 is unavailable \(.*(no answer within 2 s|CONNECT_TIMEOUT|timeout)/,
      );
      proxy.restore();
      // No restart, no call to the store: the next append goes through a fresh pool.
      const a = await outcome(ledger.append(envs[2]), 120_000);
      assert.ok(!(a instanceof Error) && a !== "pending", `appends resumed: ${a}`);
      assert.equal(a.index, 1, "the timed-out append did not land");
      assert.equal((await ledger.append(envs[1])).index, 2, "the failed append, retried");
      assert.equal(lines.length, 2, lines.join("\n"));
      assert.match(
        lines[1],
        /PostgreSQL postgres:\/\/postgres:\*\*\*@.* is back \(after \d+\.\d s\)/,
      );
      assert.ok(!lines.join("\n").includes(PG_PASSWORD));
      assert.deepEqual(
        await verifyLog(store, { verifierKey: ledger.verifierKey, origin: ORIGIN }),
        { ok: true, size: 3 },
      );
    } finally {
      proxy.restore();
      // Bounded too: a close behind a hung append would hang the test instead of failing it.
      await outcome(ledger.close(), 30_000);
      await proxy.close();
    }
  },
});

Deno.test({
  name:
    "serve on PostgreSQL: an outage is 503 with Retry-After, logged once when it starts and ends",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const cluster = await sharedCluster();
    const url = await cluster.createDatabase();
    const proxy = PgProxy.start(cluster.port);
    const dir = await Deno.makeTempDir({ prefix: "regledger-pg-outage-" });
    const trust = `${dir}/trust.json`;
    await writeTrustFile(trust);
    const server = await startServe(`${dir}/data`, `${proxy.url(url)}?timeout=2`, trust);
    try {
      const texts = await Promise.all(
        [0, 1].map(async (i) => JSON.stringify(await signedEnvelope(i))),
      );
      assert.equal((await submitOnce(server.base, texts[0])).status, 201);
      proxy.blackhole();
      const r = await fetch(`${server.base}/v1/envelopes`, {
        method: "POST",
        body: texts[1],
        headers: {
          authorization: `Bearer ${TOKENS["ledger:append"]}`,
          "content-type": "application/json",
        },
      });
      await r.body?.cancel();
      assert.equal(r.status, 503);
      assert.ok(r.headers.get("retry-after"), "Retry-After");
      proxy.restore();
      const a = await submitUntilAcked(() => [server.base], 0, texts[1], Date.now() + 60_000);
      assert.equal(a.status, 201);
      // The server's log: one line when the outage started, one when it ended.
      const deadline = Date.now() + 30_000;
      const log = () => server.stderr.join("\n");
      while (!/ is back /.test(log()) && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 50));
      }
      const down = server.stderr.filter((l) => / is unavailable \(/.test(l));
      const back = server.stderr.filter((l) => / is back \(after /.test(l));
      assert.equal(down.length, 1, log());
      assert.equal(back.length, 1, log());
      assert.match(down[0], /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/);
      assert.ok(server.stderr.indexOf(down[0]) < server.stderr.indexOf(back[0]));
      assert.ok(!log().includes(PG_PASSWORD));
    } finally {
      await killServe(server, "SIGTERM");
      await proxy.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("postgres.js's write to a closed socket is stopped and replaces the pool; other errors are not", async () => {
  const cluster = await sharedCluster();
  const url = await cluster.createDatabase();
  const lines: string[] = [];
  const store = await PgStore.open(url, { onStatus: (l) => lines.push(l) });
  assert.deepEqual(lines.splice(0).map(schemaLine), [true, true]);
  try {
    assert.ok(isDriverWriteRace(driverWriteRace()));
    assert.ok(raiseDriverWriteRace(), "the driver's race does not end the process");
    assert.equal(lines.length, 1);
    assert.match(lines[0], /is unavailable \(the driver wrote to a closed connection\)/);
    assert.equal((await store.readHead()).version, null, "the fresh pool answers");
    assert.match(lines[1], / is back /);
    // Anything else is not ours to stop.
    const other = new TypeError("Cannot read properties of null (reading 'write')");
    other.stack = `TypeError: x\n    at nextWrite (file:///app/mine.js:1:1)`;
    assert.ok(!isDriverWriteRace(other));
    assert.ok(!isDriverWriteRace(new Error("reading 'write'")));
    const ev2 = new ErrorEvent("error", { error: other, cancelable: true });
    globalThis.dispatchEvent(ev2);
    assert.ok(!ev2.defaultPrevented);
  } finally {
    store.close();
    await store.closed();
  }
});

Deno.test({
  name:
    "a server frozen mid-commit does not stop the others: PostgreSQL ends its idle transaction and frees the head row",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const cluster = await sharedCluster();
    const url = await cluster.createDatabase();
    const key = await Ed25519NoteSigner.generate(ORIGIN);
    const b = await openLedger({
      store: await PgStore.open(`${url}?timeout=4`),
      logKey: key,
      origin: ORIGIN,
    });
    // "Server A": the store's own committer, on a pool whose transaction stops after the
    // commit's statements (the head row updated, so locked) and before COMMIT — a process
    // frozen (SIGSTOP, a long pause) or cut off there. Its batch: an identity and a
    // checkpoint for size 1, no entries (enough to take the head row).
    const target = parsePgUrl(`${url}?timeout=4`);
    const a = new PgPool(target);
    const frozen = Promise.withResolvers<void>();
    const locked = Promise.withResolvers<void>();
    const stalling = {
      begin: (fn: (tx: unknown) => Promise<unknown>) =>
        a.sql.begin(async (tx) => {
          const v = await fn(tx);
          locked.resolve();
          await frozen.promise;
          return v;
        }),
    } as unknown as PgSql;
    const held = new PgCommitter(target).commit(stalling, null, {
      entries: [],
      head: { size: 1, root: new Uint8Array(32), lastLeafHash: new Uint8Array(32) },
      checkpoint: `${ORIGIN}\n1\nAAAA\n`,
      meta: { origin: ORIGIN, verifierKey: key.verifierKey() },
    }).then((r) => r, (e: Error) => e);
    try {
      await locked.promise;
      const envs = await Promise.all([0, 1].map((i) => makeEnvelope(i)));
      // B's commit waits for the head row until PostgreSQL ends A's transaction
      // (idle_in_transaction_session_timeout: 2 s with ?timeout=4), then goes through.
      const r = await outcome(b.append(envs[0]), 60_000);
      assert.ok(!(r instanceof Error) && r !== "pending", `B's append went through: ${r}`);
      assert.equal(r.index, 0);
      frozen.resolve();
      // A's COMMIT finds its session closed by the server (FATAL 25P03, which postgres.js
      // reports as a closed connection): the commit fails, transient (503), nothing landed.
      const e = await held;
      assert.ok(e instanceof Error, `A's commit failed, got ${JSON.stringify(e)}`);
      assert.match(e.message, /CONNECTION_CLOSED|25P03/);
      assert.ok(isTransientPgError(e));
      assert.equal((await b.append(envs[1])).index, 1);
      assert.deepEqual(
        await verifyLog(b.store, { verifierKey: key.verifierKey(), origin: ORIGIN }),
        { ok: true, size: 2 },
      );
    } finally {
      frozen.resolve();
      await a.end();
      await b.close();
    }
  },
});

Deno.test("a replaced pool's first query may be a look-up by a list (envelope hashes, stored hashes)", async () => {
  const cluster = await sharedCluster();
  const url = await cluster.createDatabase();
  const ledger = await newLedger(await PgStore.open(url));
  // A second store of the same log, with nothing cached.
  const store = await PgStore.open(url);
  try {
    for (let i = 0; i < 3; i++) await ledger.append(await makeEnvelope(i));
    const shas = (await store.readEntries(0, 3)).map((e) => sha256(e.envelope));
    // Right after a replacement, before any connection of the fresh pool has connected:
    // what an append asks after a commit whose outcome is unknown ...
    assert.ok(raiseDriverWriteRace());
    assert.deepEqual(
      await store.findEnvelopes([...shas, new Uint8Array(32)]),
      [0, 1, 2, null],
    );
    // ... and what a proof reads.
    assert.ok(raiseDriverWriteRace());
    const want = [storedHashIndex(0, 0), storedHashIndex(0, 2), storedHashIndex(1, 0)];
    assert.deepEqual(await store.readHashes(want), await ledger.store.readHashes(want));
  } finally {
    store.close();
    await store.closed();
    await ledger.close();
  }
});

Deno.test("an audit outlives the pool replaced under it: each page of scanDerived runs on the current pool", async () => {
  const cluster = await sharedCluster();
  const url = await cluster.createDatabase();
  const store = await PgStore.open(url);
  const ledger = await newLedger(store);
  try {
    for (let i = 0; i < 3; i++) await ledger.append(await makeEnvelope(i));
    const kinds: string[] = [];
    let replaced = false;
    for await (const r of store.scanDerived(3)) {
      kinds.push(r.kind);
      if (!replaced) {
        // Mid-audit, the pool is retired (as after a connection failure elsewhere in the
        // process) and its connections are ended: the next table is read on the fresh one.
        replaced = true;
        assert.ok(raiseDriverWriteRace());
      }
    }
    const count = (k: string) => kinds.filter((x) => x === k).length;
    assert.deepEqual(
      ["envelope", "body", "issuer", "primitive", "unaccounted"].map(count),
      [3, 3, 3, 3, 0],
      kinds.join(" "),
    );
    assert.deepEqual(
      await verifyLog(store, { verifierKey: ledger.verifierKey, origin: ORIGIN }),
      { ok: true, size: 3 },
    );
  } finally {
    await ledger.close();
  }
});

registerClusterTeardown();
