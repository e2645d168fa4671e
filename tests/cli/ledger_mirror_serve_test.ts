/**
 * Serving a mirror creates no secrets, and an empty log is never mirrored:
 *
 * - `startServer` (what `regledger serve --data DIR` runs) on a mirror
 *   directory writes no `issuer-key.pem` and no `admin-token`, with or
 *   without API keys; without them only the public routes answer.
 * - `ledger mirror` of a server whose log is empty exits 1 with rule
 *   `empty` and creates nothing; a mirror directory left without entries
 *   (an interrupted first run) is refused by `serve` with a reason instead
 *   of a server whose `/checkpoint` fails.
 */
import assert from "node:assert/strict";
import { LogClient } from "../../ledger/client.ts";
import { KvStore } from "../../ledger/kv_store.ts";
import { mirrorLog, MirrorRefusedError } from "../../ledger/mirror.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { ConfigError, DEFAULT_CONFIG, parseApiKeys } from "../../server/config.ts";
import { ADMIN_TOKEN_FILE, startServer } from "../../server/serve.ts";
import { makeEnvelope } from "../ledger/_helpers.ts";
import { runCli } from "./_capture.ts";

const TRUST = new URL("../fixtures/regaudit-fhe/trust_store.json", import.meta.url).pathname;
const TOKEN = "mirror-serve-test-token";

async function serving<T>(
  dir: string,
  apiKeys: string,
  f: (url: string, status: string[]) => Promise<T>,
): Promise<T> {
  const status: string[] = [];
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: dir,
    trustedKeys: TRUST,
    config: { ...DEFAULT_CONFIG, apiKeys: parseApiKeys(apiKeys), verifyWorkers: 0 },
    signals: false,
    status: (l) => status.push(l),
  });
  try {
    return await f(`http://127.0.0.1:${server.addr.port}`, status);
  } finally {
    await server.shutdown();
    await server.finished;
  }
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

Deno.test({
  name: "serve on a mirror directory creates no issuer key and no admin token",
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "regledger-mirror-serve-" });
    try {
      const src = `${tmp}/source`;
      const m = `${tmp}/mirror`;
      const ledger = await openLedger({ dataDir: src, maxBatch: 10, pqLogKey: false });
      try {
        for (let i = 0; i < 5; i++) await ledger.append(await makeEnvelope(i));
      } finally {
        await ledger.close();
      }
      const cp = await serving(src, `${TOKEN}:admin`, async (url) => {
        const r = await runCli("ledger", "mirror", "--server", url, "--data", m, "--token", TOKEN);
        assert.equal(r.code, 0, r.stderr);
        return await new LogClient(url).tileCheckpoint();
      });
      const before = (await files(m)).filter((f) => !/^ledger\.kv-/.test(f));
      assert.deepEqual(before, ["ledger.kv", "mirror.json"]);

      // No API keys: no admin token is made; public reads answer, the rest is 401.
      await serving(m, "", async (url, status) => {
        assert.ok(status.some((l) => /read-only mirror with no REGLEDGER_API_KEYS/.test(l)));
        assert.ok(!status.some((l) => /created issuer key|admin bearer token/.test(l)));
        const res = await fetch(`${url}/checkpoint`);
        assert.equal(await res.text(), cp, "the copied checkpoint");
        const entry = await fetch(`${url}/tile/entries/000.p/5`);
        await entry.body?.cancel();
        assert.equal(entry.status, 401);
      });
      // With API keys: still no issuer key; token routes answer.
      await serving(m, `${TOKEN}:ledger:read`, async (url) => {
        const c = new LogClient(url, { token: TOKEN });
        assert.equal(await c.tileCheckpoint(), cp);
        assert.equal((await c.tile("tile/entries/000.p/5")).length > 0, true);
      });
      const after = (await files(m)).filter((f) => !/^ledger\.kv-/.test(f));
      assert.deepEqual(after, before, "serving created no files");
      assert.equal(await exists(`${m}/issuer-key.pem`), false);
      assert.equal(await exists(`${m}/${ADMIN_TOKEN_FILE}`), false);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "an empty log is not mirrored (exit 1, rule empty, nothing created); serve refuses an empty mirror",
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "regledger-mirror-empty-" });
    try {
      const src = `${tmp}/source`;
      const m = `${tmp}/mirror`;
      const key = await serving(src, `${TOKEN}:admin`, async (url) => {
        const client = new LogClient(url, { token: TOKEN });
        assert.match(await client.tileCheckpoint(), /^[^\n]+\n0\n/, "the source log is empty");
        const r = await runCli("ledger", "mirror", "--server", url, "--data", m, "--token", TOKEN);
        assert.equal(r.code, 1, r.stderr);
        const out = JSON.parse(r.stdout);
        assert.equal(out.ok, false);
        assert.equal(out.rule, "empty");
        assert.match(out.reason, /log is empty: nothing to mirror yet/);
        assert.match(r.stderr, /^regledger: nothing to mirror: /m);
        assert.equal(await exists(m), false, "no directory, no mirror.json, no ledger.kv");

        // A mirror directory whose first run never completed (record, no entries):
        // the library and the CLI refuse the same way.
        const key = await client.key();
        await Deno.mkdir(m);
        await Deno.writeTextFile(
          `${m}/mirror.json`,
          JSON.stringify({ server: url, verifier_key: key, pinned_by: "first-use" }),
        );
        const again = await runCli("ledger", "mirror", "--server", url, "--data", m);
        assert.equal(again.code, 1);
        assert.equal(JSON.parse(again.stdout).rule, "empty");
        const store = await KvStore.open(`${tmp}/lib.kv`, { migrate: false });
        try {
          await assert.rejects(
            mirrorLog(
              { checkpoint: () => client.tileCheckpoint(), tile: (p) => client.tile(p) },
              store,
              { verifierKey: key },
            ),
            (e) => e instanceof MirrorRefusedError && e.rule === "empty",
          );
        } finally {
          store.close();
        }
        return key;
      });
      assert.ok(key.length > 0);
      const before = await files(m);
      await assert.rejects(
        serving(m, "", () => Promise.resolve()),
        (e) => e instanceof ConfigError && /a mirror that holds no entries yet/.test(e.message),
      );
      const after = (await files(m)).filter((f) => !/^ledger\.kv/.test(f));
      assert.deepEqual(after, before.filter((f) => !/^ledger\.kv/.test(f)));
      assert.equal(await exists(`${m}/issuer-key.pem`), false);
      assert.equal(await exists(`${m}/${ADMIN_TOKEN_FILE}`), false);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
