/**
 * `regledger audit --backend ckks --evaluator URL`: the split flow from the
 * command line against an HTTP evaluator on loopback. The evaluator receives
 * evaluation keys and ciphertexts only (no secret key, no input values), and
 * the signed envelope verifies --strict. Refusals are exit 2 naming why.
 */
import assert from "node:assert/strict";
import { evaluateEncryptedAudit } from "../../core/fhe/split.ts";
import { runCli } from "./_capture.ts";

const TOKEN = "split-test-token";

Deno.test({
  name:
    "audit --evaluator: the split flow over HTTP; the evaluator never sees a secret or the rows",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const bodies: string[] = [];
    const auths: (string | null)[] = [];
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const url = new URL(req.url);
        if (req.method !== "POST" || url.pathname !== "/v1/ckks/evaluate") {
          return Response.json({ error: "not found" }, { status: 404 });
        }
        auths.push(req.headers.get("authorization"));
        const text = await req.text();
        bodies.push(text);
        if (req.headers.get("authorization") !== `Bearer ${TOKEN}`) {
          return Response.json({ error: "unknown token" }, { status: 401 });
        }
        return Response.json(await evaluateEncryptedAudit(JSON.parse(text)));
      },
    );
    const base = `http://127.0.0.1:${server.addr.port}`;
    try {
      const key = `${dir}/issuer.pem`;
      const trust = `${dir}/trust.json`;
      const k = await runCli("keygen", "--issuer", "Acme", "--key-id", "acme-1", "-o", key);
      assert.equal(k.code, 0, k.stderr);
      await Deno.writeTextFile(trust, k.stdout);
      const p = [3, 7, 11, 13, 5, 2, 1, 1];
      const q = [2, 5, 9, 14, 8, 4, 2, 1];
      const input = `${dir}/drift.json`;
      await Deno.writeTextFile(input, JSON.stringify({ p, q }));
      const args = [
        "audit",
        "drift",
        "-i",
        input,
        "--key",
        key,
        "--key-id",
        "acme-1",
        "--backend",
        "ckks",
      ];

      const r = await runCli(
        ...args,
        "--evaluator",
        base,
        "--token",
        TOKEN,
        "-o",
        `${dir}/env.json`,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(bodies.length, 1);
      assert.equal(auths[0], `Bearer ${TOKEN}`);
      const request = JSON.parse(bodies[0]);
      assert.equal(request.v, "regledger.ckks-request.v1");
      assert.ok(!/secret/i.test(bodies[0]));
      assert.ok(!bodies[0].includes(JSON.stringify(p)) && !bodies[0].includes(JSON.stringify(q)));

      const env = JSON.parse(await Deno.readTextFile(`${dir}/env.json`));
      assert.equal(env.backend, "seal-ckks");
      assert.equal(env.depth_budget.consumed, 1);
      const plain = await runCli("audit", "drift", "-i", input, "--key", key, "--key-id", "acme-1");
      const exact = JSON.parse(plain.stdout).result;
      assert.ok(Math.abs(env.result.distance - exact.distance) < 1e-4);
      assert.equal(env.result.drift_bit, exact.drift_bit);
      const v = await runCli(
        "verify",
        "-i",
        `${dir}/env.json`,
        "--trusted-keys",
        trust,
        "--strict",
      );
      assert.equal(v.code, 0, v.stdout + v.stderr);

      // Refusals: bad token, no server, wrong backend, token without evaluator.
      const bad = await runCli(...args, "--evaluator", base, "--token", "wrong");
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /evaluator answered 401: unknown token/);
      const gone = await runCli(...args, "--evaluator", "http://127.0.0.1:9", "--token", TOKEN);
      assert.equal(gone.code, 2);
      assert.match(gone.stderr, /cannot reach/);
      const plainEval = await runCli(
        "audit",
        "drift",
        "-i",
        input,
        "--key",
        key,
        "--key-id",
        "acme-1",
        "--evaluator",
        base,
      );
      assert.equal(plainEval.code, 2);
      assert.match(plainEval.stderr, /--evaluator applies to --backend ckks only/);
      const tokenOnly = await runCli(...args, "--token", TOKEN);
      assert.equal(tokenOnly.code, 2);
      assert.match(tokenOnly.stderr, /--token applies with --evaluator only/);
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
