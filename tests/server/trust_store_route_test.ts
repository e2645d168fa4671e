/**
 * The console's view of the server's trust decisions and of its own token:
 * `GET /v1/trust-store` (the store in force, public material only, following
 * a reload) and `GET /v1/whoami` (the token's scopes, dev mode), on real
 * servers.
 */
import assert from "node:assert/strict";
import { TrustStore } from "../../core/trust_store.ts";
import { DEFAULT_CONFIG, SCOPES } from "../../server/config.ts";
import { loadOrCreateIssuerKey } from "../../server/keys.ts";
import { startServer } from "../../server/serve.ts";
import { testIssuer, testKeys, TOKENS, writeTrustFile } from "./_helpers.ts";

async function withServer(
  config: Partial<typeof DEFAULT_CONFIG>,
  fn: (base: string, ctx: { dir: string; trust: string; reload(): Promise<void> }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "regledger-trust-route-" });
  const trust = `${dir}/trust.json`;
  await writeTrustFile(trust);
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: `${dir}/data`,
    trustedKeys: trust,
    config: { ...DEFAULT_CONFIG, rateLimit: null, verifyWorkers: 0, ...config },
    signals: false,
    status: () => {},
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, {
      dir,
      trust,
      reload: () => server.reloadTrustStore(),
    });
  } finally {
    await server.shutdown();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
}

const get = async (url: string, token?: string) => {
  const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.status, headers: r.headers, body: await r.json() };
};

Deno.test({
  name:
    "GET /v1/trust-store answers the store in force: the file plus the server's key, after reloads",
  sanitizeResources: false,
  fn: () =>
    withServer({ apiKeys: testKeys() }, async (base, ctx) => {
      const r = await get(`${base}/v1/trust-store`, TOKENS["ledger:read"]);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("cache-control"), "no-store");
      const file = JSON.parse(await Deno.readTextFile(ctx.trust));
      // The file's keys (canonical PEM), its revocations and pins, and one more: the server's.
      const fromFile = TrustStore.fromObject(file).toJSON();
      for (const [id, pem] of Object.entries(fromFile.keys)) assert.equal(r.body.keys[id], pem);
      assert.deepEqual(r.body.revoked, fromFile.revoked);
      assert.deepEqual(r.body.parameter_set_pins, fromFile.parameter_set_pins);
      const own = Object.keys(r.body.keys).filter((id) => !(id in fromFile.keys));
      assert.equal(own.length, 1);
      const serverKey = (await loadOrCreateIssuerKey(`${ctx.dir}/data`)).provider;
      assert.deepEqual(own, [serverKey.keyId], "the extra key is the server's issuer key");
      assert.equal(r.body.keys[serverKey.keyId], serverKey.publicKeyPem);
      // Only public keys: every value parses as a trust store, nothing private is served.
      assert.doesNotThrow(() => TrustStore.fromObject(r.body));
      assert.ok(!JSON.stringify(r.body).includes("PRIVATE"));
      assert.equal(r.body.keys["test-issuer-2026"], (await testIssuer()).publicKeyPem);
      // Any token may read it; none is a 401.
      for (const scope of SCOPES) {
        assert.equal((await get(`${base}/v1/trust-store`, TOKENS[scope])).status, 200, scope);
      }
      assert.equal((await get(`${base}/v1/trust-store`)).status, 401);
      assert.equal((await get(`${base}/v1/trust-store?x=1`, TOKENS.admin)).status, 400);
      // A reload that revokes the test issuer shows at once.
      await writeTrustFile(ctx.trust, (s) => s.revoked.push("test-issuer-2026"));
      await ctx.reload();
      const after = await get(`${base}/v1/trust-store`, TOKENS["ledger:read"]);
      assert.ok(after.body.revoked.includes("test-issuer-2026"));
    }),
});

Deno.test({
  name: "GET /v1/whoami names the token's scopes and what they allow; dev mode says so",
  sanitizeResources: false,
  fn: async () => {
    await withServer({ apiKeys: testKeys() }, async (base) => {
      for (const scope of SCOPES) {
        const r = await get(`${base}/v1/whoami`, TOKENS[scope]);
        assert.equal(r.status, 200);
        assert.deepEqual(r.body, {
          dev_mode: false,
          scopes: [scope],
          allows: scope === "admin" ? [...SCOPES] : [scope],
        });
      }
      const none = await get(`${base}/v1/whoami`);
      assert.equal(none.status, 401);
      assert.equal((await get(`${base}/v1/whoami`, "not-a-token-0123456789")).status, 401);
    });
    await withServer({ devMode: true }, async (base) => {
      const r = await get(`${base}/v1/whoami`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { dev_mode: true, scopes: ["admin"], allows: [...SCOPES] });
      assert.equal((await get(`${base}/v1/trust-store`)).status, 200);
    });
  },
});
