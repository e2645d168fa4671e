/**
 * The PostgreSQL store behind PgBouncer (Debian's `pgbouncer`, session
 * pooling), as `docs/deployment.md` offers: the store's connections carry
 * no startup parameter PgBouncer refuses (it rejects any it does not know
 * with FATAL "unsupported startup parameter"), and a log written through it
 * opens, appends, proves and verifies (the commit's own limits are set
 * inside its transaction, `ledger/pg/commit.ts`, not at connect).
 *
 * PgBouncer refuses to run as root: as root it runs as `postgres`, like the
 * cluster. `REGLEDGER_PGBOUNCER` names another binary.
 *
 * @module
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { openLedger } from "../../ledger/ledger.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { PgStore } from "../../ledger/pg/store.ts";
import { verifyLog } from "../../ledger/verify_log.ts";
import { makeEnvelope } from "../ledger/_helpers.ts";
import {
  freePort,
  isRoot,
  PG_PASSWORD,
  registerClusterTeardown,
  sharedCluster,
  USER,
} from "./_cluster.ts";

const ORIGIN = "pgbouncer.example/log";
const BIN = Deno.env.get("REGLEDGER_PGBOUNCER") ?? "/usr/sbin/pgbouncer";

interface Bouncer {
  port: number;
  stop(): Promise<void>;
}

/** PgBouncer on a free loopback port in front of the cluster on `pgPort`, session pooling. */
async function startBouncer(pgPort: number): Promise<Bouncer> {
  const root = await isRoot();
  const dir = await Deno.makeTempDir({ prefix: "regledger-pgbouncer-" });
  const port = freePort();
  await Deno.writeTextFile(`${dir}/users.txt`, `"postgres" "${PG_PASSWORD}"\n`);
  await Deno.writeTextFile(
    `${dir}/pgbouncer.ini`,
    [
      "[databases]",
      `* = host=127.0.0.1 port=${pgPort}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = plain",
      `auth_file = ${dir}/users.txt`,
      "pool_mode = session",
      "max_client_conn = 200",
      "default_pool_size = 40",
      `logfile = ${dir}/pgbouncer.log`,
      "",
    ].join("\n"),
  );
  await Deno.chmod(`${dir}/users.txt`, 0o600);
  if (root) {
    const c = await new Deno.Command("chown", { args: ["-R", `${USER}:${USER}`, dir] }).output();
    if (!c.success) throw new Error(`cannot give ${dir} to ${USER}`);
  }
  const args = [`${dir}/pgbouncer.ini`];
  const child = new Deno.Command(root ? "runuser" : BIN, {
    args: root ? ["-u", USER, "--", BIN, ...args] : args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  };
  const end = Date.now() + 15_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { port, stop };
    } catch {
      if (Date.now() > end) {
        const log = await Deno.readTextFile(`${dir}/pgbouncer.log`).catch(() => "");
        await stop();
        throw new Error(`PgBouncer (${BIN}) did not listen on ${port}:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

Deno.test({
  name:
    "through PgBouncer (session pooling): the store opens, appends, proves and verifies; an unknown startup parameter would be refused",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const cluster = await sharedCluster();
    const direct = await cluster.createDatabase();
    const bouncer = await startBouncer(cluster.port);
    const u = new URL(direct);
    u.port = String(bouncer.port);
    const url = u.toString();
    try {
      // What PgBouncer does with a startup parameter it does not know (e.g. a
      // statement_timeout sent at connect): the connection is refused.
      const raw = postgres({
        host: "127.0.0.1",
        port: bouncer.port,
        database: u.pathname.slice(1),
        username: "postgres",
        password: PG_PASSWORD,
        connection: { statement_timeout: 1000 },
        max: 1,
        onnotice: () => {},
      });
      await assert.rejects(() => raw`SELECT 1`, /unsupported startup parameter/);
      await raw.end({ timeout: 0 });
      // The store's connections pass.
      const key = await Ed25519NoteSigner.generate(ORIGIN);
      const ledger = await openLedger({
        store: await PgStore.open(url),
        logKey: key,
        origin: ORIGIN,
      });
      try {
        const rs = await Promise.all(
          Array.from({ length: 12 }, async (_, i) => ledger.append(await makeEnvelope(i))),
        );
        assert.deepEqual(rs.map((r) => r.index).sort((a, b) => a - b), [...Array(12).keys()]);
        const proof = await ledger.proveInclusion(5, 12);
        assert.equal(proof.tree_size, 12);
        assert.deepEqual(
          await verifyLog(ledger.store, { verifierKey: key.verifierKey(), origin: ORIGIN }),
          { ok: true, size: 12 },
        );
      } finally {
        await ledger.close();
      }
      // The same log, read directly: what went through PgBouncer is the log.
      const reader = await PgStore.open(direct, { migrate: false, requireWritable: false });
      try {
        assert.equal((await reader.readHead()).head.size, 12);
      } finally {
        reader.close();
        await reader.closed();
      }
    } finally {
      await bouncer.stop();
    }
  },
});

registerClusterTeardown();
