/**
 * The PostgreSQL store over TLS: a throwaway cluster with `ssl=on` and a
 * certificate for 127.0.0.1 signed by a throwaway CA (`openssl`, in the
 * cluster's temporary directory).
 *
 * - `?sslmode=require`: appends work and every connection of the store is
 *   encrypted (PostgreSQL's `pg_stat_ssl` says so);
 * - `?sslmode=verify-full&sslrootcert=ca.pem`: the same, the certificate
 *   verified — and without the CA the connection is refused;
 * - `regledger serve --store …?sslmode=verify-full&sslrootcert=…` takes
 *   appends; the password appears in no message and no log line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LedgerStateError } from "../../ledger/errors.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { PgStore } from "../../ledger/pg/store.ts";
import { makeEnvelope } from "../ledger/_helpers.ts";
import { signedEnvelope, writeTrustFile } from "../server/_helpers.ts";
import { PG_PASSWORD, type PgCluster, startCluster } from "./_cluster.ts";
import { killServe, startServe, submitOnce } from "./_serve.ts";

const ORIGIN = "regledger.local/log";

let cluster: Promise<PgCluster> | null = null;
const tlsCluster = () => cluster ??= startCluster({ tls: true });

/** Whether every open connection named `regledger` to `db` is encrypted; how many there are. */
async function encrypted(c: PgCluster, db: string): Promise<{ all: boolean; n: number }> {
  const out = await c.psql(
    "postgres",
    `SELECT coalesce(bool_and(s.ssl), false)::text || ' ' || count(*)
     FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
     WHERE a.application_name = 'regledger' AND a.datname = '${db}'`,
  );
  const [all, n] = out.trim().split(" ");
  return { all: all === "true", n: Number(n) };
}

for (const mode of ["require", "verify-full"] as const) {
  Deno.test({
    name: `appends over TLS with sslmode=${mode}: every connection encrypted`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const c = await tlsCluster();
      const url = await c.createDatabase();
      const db = new URL(url).pathname.slice(1);
      const query = mode === "require"
        ? "?sslmode=require"
        : `?sslmode=verify-full&sslrootcert=${encodeURIComponent(`${c.dir}/ca.pem`)}`;
      const lines: string[] = [];
      const ledger = await openLedger({
        store: await PgStore.open(url + query, { onStatus: (l) => lines.push(l) }),
        logKey: await Ed25519NoteSigner.generate(ORIGIN),
        origin: ORIGIN,
      });
      try {
        for (let i = 0; i < 3; i++) {
          assert.equal((await ledger.append(await makeEnvelope(i))).index, i);
        }
        const { all, n } = await encrypted(c, db);
        assert.ok(n > 0, "the store is connected");
        assert.ok(all, "every connection of the store uses TLS");
        // The schema's creation, nothing else (no outage).
        assert.equal(lines.length, 2, lines.join("\n"));
        assert.match(lines[0], /creating the ledger schema/);
      } finally {
        await ledger.close();
      }
      const reader = await PgStore.open(url + query, { migrate: false, requireWritable: false });
      try {
        const { version } = await reader.readHead();
        assert.ok(version !== null);
      } finally {
        reader.close();
        await reader.closed();
      }
    },
  });
}

Deno.test({
  name: "sslmode=verify-full refuses a certificate from a CA it does not trust; no password shown",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const c = await tlsCluster();
    const url = await c.createDatabase();
    // The system's CAs do not know the throwaway CA.
    await assert.rejects(
      () => PgStore.open(`${url}?sslmode=verify-full&timeout=5`),
      (e: Error) => {
        assert.ok(e instanceof LedgerStateError, String(e));
        assert.match(e.message, /opening the ledger failed/);
        assert.ok(!e.message.includes(PG_PASSWORD), e.message);
        return true;
      },
    );
    // A CA file that is not there is named.
    await assert.rejects(
      () => PgStore.open(`${url}?sslmode=verify-full&sslrootcert=${c.dir}/nope.pem`),
      /cannot read sslrootcert/,
    );
    // sslrootcert alone would verify nothing: refused.
    await assert.rejects(
      () => PgStore.open(`${url}?sslmode=require&sslrootcert=${c.dir}/ca.pem`),
      /sslrootcert needs sslmode=verify-full/,
    );
  },
});

Deno.test({
  name:
    "serve --store postgres://…?sslmode=verify-full: appends work, the password is never logged",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const c = await tlsCluster();
    const url = await c.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const dir = await Deno.makeTempDir({ prefix: "regledger-pg-tls-" });
    const trust = `${dir}/trust.json`;
    await writeTrustFile(trust);
    const server = await startServe(
      `${dir}/data`,
      `${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(`${c.dir}/ca.pem`)}`,
      trust,
    );
    try {
      for (let i = 0; i < 3; i++) {
        const a = await submitOnce(server.base, JSON.stringify(await signedEnvelope(i)));
        assert.equal(a.status, 201, JSON.stringify(a.receipt));
        assert.equal(a.receipt.index, i);
      }
      const { all, n } = await encrypted(c, db);
      assert.ok(n > 0 && all, "the server's connections use TLS");
      assert.ok(
        server.stderr.some((l) =>
          /the log is in postgres:\/\/postgres:\*\*\*@.*sslmode=verify-full/.test(l)
        ),
        server.stderr.join("\n"),
      );
      assert.ok(!server.stderr.join("\n").includes(PG_PASSWORD));
    } finally {
      await killServe(server, "SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
    const store = await PgStore.open(url, { migrate: false, requireWritable: false });
    try {
      assert.equal((await store.readHead()).head.size, 3, "the three appends are in the database");
    } finally {
      store.close();
      await store.closed();
    }
  },
});

Deno.test({
  name: "stop the TLS test cluster",
  fn: async () => {
    if (cluster) await (await cluster).destroy();
    cluster = null;
  },
});
