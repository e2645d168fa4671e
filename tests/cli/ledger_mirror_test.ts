/**
 * `regledger ledger mirror` against real servers on loopback: a first copy
 * (trust on first use, recorded), a catch-up after more appends that reads
 * only the new bundles, an audit of the mirror with `ledger verify --data`,
 * a fork (a second server with the same key and diverged data) and a
 * rollback (a server on an older copy) refused with exit 1 naming sizes,
 * an interrupted copy resumed where it stopped, and a pinned key that is
 * not the server's refused.
 */
import assert from "node:assert/strict";
import { openLedger } from "../../ledger/ledger.ts";
import { LogClient } from "../../ledger/client.ts";
import { KvStore } from "../../ledger/kv_store.ts";
import { IP_MARK_KEY, KIND } from "../../ledger/kv_layout.ts";
import { mirrorLog, MirrorRefusedError, type MirrorSource } from "../../ledger/mirror.ts";
import { verifyLog } from "../../ledger/verify_log.ts";
import { DEFAULT_CONFIG, parseApiKeys } from "../../server/config.ts";
import { startServer } from "../../server/serve.ts";
import { makeEnvelope } from "../ledger/_helpers.ts";
import { runCli } from "./_capture.ts";

const TRUST = new URL("../fixtures/regaudit-fhe/trust_store.json", import.meta.url).pathname;
const TOKEN = "mirror-test-token";

/** Append envelopes `ids` to the log in `dir` (no server running on it). */
async function append(dir: string, ids: number[]): Promise<void> {
  const ledger = await openLedger({ dataDir: dir, maxBatch: 50, pqLogKey: false });
  try {
    const envs = await Promise.all(ids.map((i) => makeEnvelope(i)));
    await Promise.all(envs.map((e) => ledger.append(e)));
  } finally {
    await ledger.close();
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

/** Serve the log in `dir` while `f` runs. */
async function serving<T>(dir: string, f: (url: string) => Promise<T>): Promise<T> {
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: dir,
    trustedKeys: TRUST,
    config: { ...DEFAULT_CONFIG, apiKeys: parseApiKeys(`${TOKEN}:admin`), verifyWorkers: 0 },
    signals: false,
    status: () => {},
  });
  try {
    return await f(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
    await server.finished;
  }
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

const mirror = (url: string, dir: string, ...more: string[]) =>
  runCli("ledger", "mirror", "--server", url, "--data", dir, "--token", TOKEN, ...more);

Deno.test({
  name: "ledger mirror: copy, catch up, audit; a fork and a rollback are refused",
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "regledger-mirror-test-" });
    try {
      const a = `${tmp}/a`;
      const m = `${tmp}/mirror`;
      await append(a, range(0, 300));
      await copyDir(a, `${tmp}/a-at-300`);
      // First copy: the key is trusted on first use and recorded.
      const first = await serving(a, (url) => mirror(url, m));
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /trusting the log key on first use/);
      assert.deepEqual(JSON.parse(first.stdout), {
        ok: true,
        from: 0,
        size: 300,
        resumed: 0,
        bundles: 2,
      });
      const record = JSON.parse(await Deno.readTextFile(`${m}/mirror.json`));
      assert.equal(record.pinned_by, "first-use");
      let v = await runCli("ledger", "verify", "--data", m);
      assert.deepEqual([v.code, JSON.parse(v.stdout)], [0, { ok: true, size: 300 }]);

      // As a mirror written before the issuer+primitive index: no "ip" rows, no mark.
      // It audits clean; the catch-up below builds the index (the audit at 350 checks it).
      {
        const kv = await Deno.openKv(`${m}/ledger.kv`);
        for await (const e of kv.list({ prefix: [KIND.issuerPrimitive] })) await kv.delete(e.key);
        await kv.delete(IP_MARK_KEY);
        kv.close();
      }
      v = await runCli("ledger", "verify", "--data", m);
      assert.deepEqual([v.code, JSON.parse(v.stdout)], [0, { ok: true, size: 300 }]);

      // The server grows; the mirror catches up from the bundle it stopped in.
      await copyDir(a, `${tmp}/b`); // same key, will diverge
      await append(a, range(300, 350));
      await Deno.writeTextFile(`${tmp}/log.vkey`, record.verifier_key + "\n");
      const again = await serving(a, (url) => mirror(url, m, "--key", `${tmp}/log.vkey`));
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(JSON.parse(again.stdout), {
        ok: true,
        from: 300,
        size: 350,
        resumed: 0,
        bundles: 1,
      });
      const still = await serving(a, (url) => mirror(url, m));
      assert.deepEqual(JSON.parse(still.stdout).size, 350);
      v = await runCli("ledger", "verify", "--data", m);
      assert.deepEqual([v.code, JSON.parse(v.stdout)], [0, { ok: true, size: 350 }]);

      // The mirror serves what it copied, read-only: same checkpoint and tiles;
      // a remote audit of the mirror passes; an append is refused.
      const [cpA, tileA] = await serving(a, async (url) => {
        const c = new LogClient(url, { token: TOKEN });
        return [await c.tileCheckpoint(), await c.tile("tile/entries/001.p/94")];
      });
      await serving(m, async (url) => {
        const c = new LogClient(url, { token: TOKEN });
        assert.equal(await c.tileCheckpoint(), cpA);
        assert.deepEqual(await c.tile("tile/entries/001.p/94"), tileA);
        const remote = await runCli(
          "ledger",
          "verify",
          "--server",
          url,
          "--token",
          TOKEN,
          "--key",
          `${tmp}/log.vkey`,
        );
        assert.deepEqual(JSON.parse(remote.stdout), { ok: true, size: 350 });
        const got = await runCli("ledger", "get", "--data", m, "--index", "7");
        assert.equal(JSON.parse(got.stdout).index, 7);
        // A trusted envelope passes verification; the mirror's ledger refuses it.
        const trusted = await Deno.readFile(
          new URL("../fixtures/regaudit-fhe/envelopes/calibration-valid.json", import.meta.url),
        );
        await assert.rejects(c.append(trusted), /read-only mirror/);
      });
      v = await runCli("ledger", "verify", "--data", m);
      assert.deepEqual(JSON.parse(v.stdout), { ok: true, size: 350 });

      // A fork: same key, other entries after 300.
      await append(`${tmp}/b`, range(1000, 1060));
      const fork = await serving(`${tmp}/b`, (url) => mirror(url, m));
      assert.equal(fork.code, 1);
      const forkOut = JSON.parse(fork.stdout);
      assert.equal(forkOut.rule, "fork");
      assert.match(forkOut.reason, /360 entries .* 350 entries/);
      // A rollback: a server on the copy taken at 300.
      const back = await serving(`${tmp}/a-at-300`, (url) => mirror(url, m));
      assert.equal(back.code, 1);
      const backOut = JSON.parse(back.stdout);
      assert.equal(backOut.rule, "rollback");
      assert.match(backOut.reason, /300 entries .* 350 entries/);
      // Refusals stored nothing: the mirror still audits clean at 350.
      v = await runCli("ledger", "verify", "--data", m);
      assert.deepEqual(JSON.parse(v.stdout), { ok: true, size: 350 });

      // A key file that is not the pinned key is refused.
      const other = await runCli("ledger", "key", "--data", `${tmp}/a`);
      assert.equal(other.code, 0);
      await Deno.writeTextFile(
        `${tmp}/wrong.vkey`,
        other.stdout.replace(/\+[0-9a-f]{8}\+/, "+00000000+"),
      );
      const wrong = await serving(
        a,
        (url) => mirror(url, `${tmp}/fresh`, "--key", `${tmp}/wrong.vkey`),
      );
      assert.notEqual(wrong.code, 0);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "ledger mirror: an interrupted copy resumes where it stopped",
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "regledger-mirror-test-" });
    try {
      const a = `${tmp}/a`;
      await append(a, range(0, 1100));
      await serving(a, async (url) => {
        const client = new LogClient(url, { token: TOKEN });
        const key = await client.key();
        const bundlesFetched: string[] = [];
        const source = (failAfter: number): MirrorSource => ({
          checkpoint: () => client.tileCheckpoint(),
          tile: async (path) => {
            if (path.startsWith("tile/entries/")) {
              if (bundlesFetched.length >= failAfter) throw new Error("connection reset");
              bundlesFetched.push(path);
            }
            return await client.tile(path);
          },
        });
        const store = await KvStore.open(`${tmp}/m.kv`, {
          migrate: false,
        });
        try {
          await assert.rejects(
            mirrorLog(source(3), store, { verifierKey: key, window: 1 }),
            /connection reset/,
          );
          assert.equal((await store.readHead()).head.size, 0); // nothing committed
          const before = bundlesFetched.length;
          const r = await mirrorLog(source(Infinity), store, { verifierKey: key, window: 1 });
          assert.equal(r.size, 1100);
          assert.ok(r.resumed >= 512, `resumed ${r.resumed}`);
          // Only the bundles not staged before are fetched again.
          assert.equal(bundlesFetched.length - before, 5 - Math.floor(r.resumed / 256));
          assert.deepEqual(
            await verifyLog(store, { verifierKey: key, origin: key.split("+")[0] }),
            { ok: true, size: 1100 },
          );
        } finally {
          store.close();
        }
      });
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("ledger mirror: a checkpoint that does not verify under the pinned key is refused", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "regledger-mirror-test-" });
  try {
    await append(`${tmp}/a`, range(0, 3));
    await append(`${tmp}/other`, range(0, 3));
    const otherKey = (await runCli("ledger", "key", "--data", `${tmp}/other`)).stdout.trim();
    const store = await KvStore.open(`${tmp}/m.kv`, { migrate: false });
    try {
      await serving(`${tmp}/a`, async (url) => {
        const client = new LogClient(url, { token: TOKEN });
        await assert.rejects(
          mirrorLog(
            { checkpoint: () => client.tileCheckpoint(), tile: (p) => client.tile(p) },
            store,
            { verifierKey: otherKey },
          ),
          (e) => e instanceof MirrorRefusedError && e.rule === "signature",
        );
      });
      assert.equal((await store.readHead()).version, null);
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
