// deno-lint-ignore-file no-explicit-any -- the test inspects untyped JSON answers
/**
 * Privacy budgets through the real server: `startServer` with a budget file
 * over a KV ledger on disk, HTTP on 127.0.0.1 port 0. Racing submissions
 * never overspend; the 422 body names the reason; `GET /v1/privacy/budget`
 * is recomputed from the entries it names; re-submission spends nothing;
 * the admin reload changes the budget and a malformed file changes nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { check } from "../../core/validate.ts";
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { type RunningServer, startServer } from "../../server/serve.ts";
import { testKeys, TOKENS, writeTrustFile } from "./_helpers.ts";
import { signedDpEnvelope } from "./_dp_signed.ts";

const budgetFile = (epsilon: number, delta?: number) =>
  JSON.stringify({
    budgets: [{ issuer: "acme", dataset: "sha256:ab12", epsilon, ...(delta ? { delta } : {}) }],
  });

async function withServer(
  fn: (s: RunningServer, dir: string, lines: string[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-budget-srv-" });
  await writeTrustFile(`${dir}/trust.json`);
  await Deno.writeTextFile(`${dir}/budgets.json`, budgetFile(0.5));
  const lines: string[] = [];
  const server = await startServer({
    dataDir: `${dir}/data`,
    port: 0,
    trustedKeys: `${dir}/trust.json`,
    privacyBudgets: `${dir}/budgets.json`,
    signals: false,
    config: { ...DEFAULT_CONFIG, apiKeys: testKeys(), rateLimit: null, accessLog: null },
    status: (l) => lines.push(l),
  });
  try {
    await fn(server, dir, lines);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

const base = (s: RunningServer) => `http://127.0.0.1:${s.addr.port}`;

async function submit(s: RunningServer, env: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`${base(s)}/v1/envelopes`, {
    method: "POST",
    body: JSON.stringify(env),
    headers: {
      authorization: `Bearer ${TOKENS["ledger:append"]}`,
      "content-type": "application/json",
    },
  });
  return { status: r.status, json: await r.json() };
}

async function get(s: RunningServer, path: string, scope = "ledger:read" as keyof typeof TOKENS) {
  const r = await fetch(`${base(s)}${path}`, {
    headers: { authorization: `Bearer ${TOKENS[scope]}` },
  });
  return { status: r.status, json: await r.json() as any };
}

const budgetPath = "/v1/privacy/budget?issuer=acme&dataset=sha256:ab12";

Deno.test("server: racing releases stop at the budget, 422 names it, and GET is recomputable", async () => {
  await withServer(async (s, _dir, lines) => {
    assert.ok(lines.some((l) => /1 privacy budget\(s\) in force/.test(l)), lines.join("\n"));
    const envs = await Promise.all(
      Array.from({ length: 24 }, (_, i) => signedDpEnvelope(i, "sha256:ab12")),
    );
    const out = await Promise.all(envs.map((e) => submit(s, e)));
    const ok = out.filter((o) => o.status === 201);
    const refused = out.filter((o) => o.status === 422);
    assert.equal(ok.length, 4); // 4 × ε 0.125 = 0.5
    assert.equal(refused.length, 20);
    for (const r of refused) {
      assert.equal(r.json.reason, "PrivacyBudgetExceeded");
      assert.equal(r.json.issuer, "acme");
      assert.equal(r.json.dataset, "sha256:ab12");
      assert.deepEqual(r.json.budget, { epsilon: 0.5, delta: 0 });
      assert.equal(r.json.would_spend.epsilon, 0.625);
      assert.ok(check("error", r.json).ok);
    }

    const b = await get(s, budgetPath);
    assert.equal(b.status, 200);
    assert.ok(check("privacy-budget", b.json).ok, JSON.stringify(b.json));
    assert.deepEqual(b.json.budget, { epsilon: 0.5, delta: 0 });
    assert.deepEqual(b.json.remaining, { epsilon: 0, delta: 0 });
    assert.deepEqual(
      [...b.json.entries].sort((x: number, y: number) => x - y),
      ok.map((o) => o.json.index).sort((x, y) => x - y),
    );
    // Recompute from the entries it names alone.
    let eps = 0, delta = 0, releases = 0;
    for (const i of b.json.entries) {
      const e = await get(s, `/v1/log/entries/${i}`);
      const env = typeof e.json.envelope === "string"
        ? JSON.parse(e.json.envelope)
        : e.json.envelope;
      assert.equal(env.issuer, "acme");
      assert.equal(env.dp.dataset, "sha256:ab12");
      for (const f of Object.values(env.dp.fields) as any[]) {
        eps += f.epsilon;
        delta += f.delta;
        releases++;
      }
    }
    assert.deepEqual(b.json.spent, { epsilon: eps, delta, composition: "basic", releases });

    // Re-submitting an accepted envelope returns its entry; nothing more is spent.
    const again = await submit(s, envs[out.indexOf(ok[0])]);
    assert.equal(again.status, 200);
    assert.equal(again.json.index, ok[0].json.index);
    assert.deepEqual((await get(s, budgetPath)).json.entries, b.json.entries);

    // Scope, and bad parameters.
    assert.equal((await get(s, budgetPath, "ledger:append")).status, 403);
    assert.equal(
      await fetch(`${base(s)}${budgetPath}`).then(async (r) => (await r.body?.cancel(), r.status)),
      401,
    );
    const bad = await get(s, "/v1/privacy/budget?issuer=acme&dataset=two%20words");
    assert.equal(bad.status, 400);
    assert.equal(bad.json.parameter, "dataset");
    assert.equal((await get(s, "/v1/privacy/budget?dataset=ds")).status, 400);
    assert.equal((await get(s, "/v1/privacy/budget?issuer=a&dataset=d&x=1")).status, 400);
    // No budget configured: unlimited, still accounted.
    const other = await submit(s, await signedDpEnvelope(100, "other-ds"));
    assert.equal(other.status, 201);
    const ob = await get(s, "/v1/privacy/budget?issuer=acme&dataset=other-ds");
    assert.equal(ob.json.budget, null);
    assert.equal(ob.json.remaining, null);
    assert.deepEqual(ob.json.entries, [other.json.index]);
  });
});

Deno.test("server: the trust-store reload reloads the budgets; a malformed file changes nothing", async () => {
  await withServer(async (s, dir) => {
    const reload = () =>
      fetch(`${base(s)}/v1/admin/reload-trust-store`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKENS.admin}` },
      }).then(async (r) => ({ status: r.status, json: await r.json() as any }));
    for (let i = 0; i < 4; i++) {
      assert.equal((await submit(s, await signedDpEnvelope(i, "sha256:ab12"))).status, 201);
    }
    assert.equal((await submit(s, await signedDpEnvelope(4, "sha256:ab12"))).status, 422);

    await Deno.writeTextFile(`${dir}/budgets.json`, budgetFile(0.75));
    const r = await reload();
    assert.equal(r.status, 200);
    assert.equal(r.json.privacy_budgets, 1);
    assert.equal((await submit(s, await signedDpEnvelope(4, "sha256:ab12"))).status, 201);
    assert.equal((await submit(s, await signedDpEnvelope(5, "sha256:ab12"))).status, 201);
    assert.equal((await submit(s, await signedDpEnvelope(6, "sha256:ab12"))).status, 422);

    for (
      const [text, pointer] of [
        ["{", ""],
        ['{"budgets":[{"issuer":"acme","dataset":"d","epsilon":-1}]}', "/budgets/0/epsilon"],
        ['{"budgets":[{"issuer":"acme","dataset":"d","epsilon":1,"eps":2}]}', "/budgets/0/eps"],
        ['{"budgets":[{"issuer":"acme","dataset":"d d","epsilon":1}]}', "/budgets/0/dataset"],
        [
          budgetFile(9).replace(
            "]}",
            `,${JSON.stringify({ issuer: "acme", dataset: "sha256:ab12", epsilon: 1 })}]}`,
          ),
          "/budgets/1",
        ],
      ]
    ) {
      await Deno.writeTextFile(`${dir}/budgets.json`, text);
      const bad = await reload();
      assert.equal(bad.status, 422, text);
      assert.equal(bad.json.reason, "PrivacyBudgetFileError");
      assert.ok(bad.json.error.includes(`${pointer || "/"}:`), bad.json.error);
      assert.ok(bad.json.error.includes("budgets.json"), bad.json.error);
    }
    // The previous budget (0.75) is still in force.
    assert.equal((await submit(s, await signedDpEnvelope(7, "sha256:ab12"))).status, 422);
    assert.deepEqual((await get(s, budgetPath)).json.budget, { epsilon: 0.75, delta: 0 });
  });
});

Deno.test("server: a malformed budget file stops the start, naming the problem", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-budget-bad-" });
  try {
    await Deno.writeTextFile(`${dir}/budgets.json`, '{"budgets":[{"issuer":"acme","epsilon":1}]}');
    await assert.rejects(
      startServer({
        dataDir: `${dir}/data`,
        port: 0,
        privacyBudgets: `${dir}/budgets.json`,
        signals: false,
        config: { ...DEFAULT_CONFIG, apiKeys: testKeys(), rateLimit: null },
        status: () => {},
      }),
      (e: Error) => e.name === "PrivacyBudgetFileError" && /\/budgets\/0\/dataset/.test(e.message),
    );
    await assert.rejects(
      startServer({
        dataDir: `${dir}/data`,
        port: 0,
        privacyBudgets: `${dir}/missing.json`,
        signals: false,
        config: { ...DEFAULT_CONFIG, apiKeys: testKeys(), rateLimit: null },
        status: () => {},
      }),
      /missing\.json: \/: cannot read/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
