/**
 * The split encrypted flow end to end through the product: `regledger audit
 * --backend ckks --evaluator URL` against a real server on loopback
 * (`POST /v1/ckks/evaluate`, evaluation keys only), the client signs, submits
 * with `ledger append --server`, and the receipt verifies offline. Plus the
 * route's refusals: not offered without REGLEDGER_CKKS, auth, body limit,
 * malformed requests (400 naming the field).
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG, parseApiKeys, type ServerConfig } from "../../server/config.ts";
import { type RunningServer, startServer } from "../../server/serve.ts";
import { runCli } from "../cli/_capture.ts";

const TOKEN = "ckks-evaluate-test-token";

async function withServer(
  config: Partial<ServerConfig>,
  f: (url: string, server: RunningServer, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const k = await runCli(
    "keygen",
    "--issuer",
    "Clinic",
    "--key-id",
    "clinic-1",
    "-o",
    `${dir}/issuer.pem`,
  );
  assert.equal(k.code, 0, k.stderr);
  await Deno.writeTextFile(`${dir}/trust.json`, k.stdout);
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: `${dir}/server`,
    trustedKeys: `${dir}/trust.json`,
    config: {
      ...DEFAULT_CONFIG,
      apiKeys: parseApiKeys(
        `${TOKEN}:audit:run,ledger:append,ledger:read;reader-token-0123456789:ledger:read`,
      ),
      verifyWorkers: 0,
      ...config,
    },
    signals: false,
    status: () => {},
  });
  try {
    await f(`http://127.0.0.1:${server.addr.port}`, server, dir);
  } finally {
    await server.shutdown();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
}

const post = (url: string, body: string, token = TOKEN) =>
  fetch(`${url}/v1/ckks/evaluate`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body,
  });

Deno.test({
  name:
    "split flow through the server: CLI encrypts, server evaluates, CLI signs, log receipts verify",
  sanitizeResources: false,
  fn: () =>
    withServer({ ckks: true }, async (url, server, dir) => {
      const input = `${dir}/fairness.json`;
      await Deno.writeTextFile(
        input,
        await Deno.readTextFile(new URL("../../examples/data/fairness.json", import.meta.url)),
      );
      const env = `${dir}/env.json`;
      const a = await runCli(
        "audit",
        "fairness",
        "-i",
        input,
        "--key",
        `${dir}/issuer.pem`,
        "--key-id",
        "clinic-1",
        "--issuer",
        "Clinic",
        "--backend",
        "ckks",
        "--evaluator",
        url,
        "--token",
        TOKEN,
        "-o",
        env,
      );
      assert.equal(a.code, 0, a.stderr);
      const envelope = JSON.parse(await Deno.readTextFile(env));
      assert.equal(envelope.backend, "seal-ckks");
      const exact = JSON.parse(
        (await runCli(
          "audit",
          "fairness",
          "-i",
          input,
          "--key",
          `${dir}/issuer.pem`,
          "--key-id",
          "clinic-1",
        )).stdout,
      ).result;
      for (
        const k of ["demographic_parity_diff", "equal_opportunity_diff", "predictive_parity_diff"]
      ) {
        assert.ok(Math.abs(envelope.result[k] - exact[k]) < 1e-4, k);
      }
      assert.equal(envelope.result.threshold_breached, exact.threshold_breached);
      // Evaluating appended nothing; the client's submission does.
      assert.equal((await (await fetch(`${url}/readyz`)).json()).tree_size, 0);
      const receipt = `${dir}/receipt.tlog-proof`;
      const s = await runCli(
        "ledger",
        "append",
        "--server",
        url,
        "--token",
        TOKEN,
        "-i",
        env,
        "--receipt",
        receipt,
      );
      assert.equal(s.code, 0, s.stdout + s.stderr);
      await Deno.writeTextFile(`${dir}/log.vkey`, server.verifierKey + "\n");
      const v = await runCli(
        "proof",
        "verify",
        "--proof",
        receipt,
        "--key",
        `${dir}/log.vkey`,
        "--envelope",
        env,
        "--trusted-keys",
        `${dir}/trust.json`,
      );
      assert.equal(v.code, 0, v.stdout + v.stderr);
    }),
});

Deno.test({
  name:
    "POST /v1/ckks/evaluate: not offered without REGLEDGER_CKKS; auth; body limit; malformed requests",
  sanitizeResources: false,
  fn: async () => {
    await withServer({}, async (url) => {
      const r = await post(url, "{}");
      assert.equal(r.status, 404);
      assert.match((await r.json()).hint, /REGLEDGER_CKKS=1/);
    });
    await withServer({ ckks: true, ckksBodyLimit: 4096 }, async (url) => {
      const noAuth = await fetch(`${url}/v1/ckks/evaluate`, { method: "POST", body: "{}" });
      assert.equal(noAuth.status, 401);
      await noAuth.body?.cancel();
      const wrongScope = await post(url, "{}", "reader-token-0123456789");
      assert.equal(wrongScope.status, 403);
      await wrongScope.body?.cancel();
      const big = await post(url, JSON.stringify({ pad: "x".repeat(5000) }));
      assert.equal(big.status, 413);
      assert.equal((await big.json()).limit, 4096);
      const notJson = await post(url, "{");
      assert.equal(notJson.status, 400);
      await notJson.body?.cancel();
      const badVersion = await post(url, JSON.stringify({ v: "something-else" }));
      assert.equal(badVersion.status, 400);
      assert.equal((await badVersion.json()).pointer, "/v");
    });
  },
});
