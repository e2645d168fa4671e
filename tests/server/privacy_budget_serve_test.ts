// deno-lint-ignore-file no-explicit-any -- the test inspects untyped JSON answers
/**
 * Two `regledger serve` child processes sharing one data directory (one KV
 * file) and one budget file: releases racing through both never spend more
 * than the budget together; SIGHUP reloads one server's budgets.
 *
 * @module
 */
import assert from "node:assert/strict";
import { openLedger } from "../../ledger/ledger.ts";
import { TOKENS, writeTrustFile } from "./_helpers.ts";
import { signedDpEnvelope } from "./_dp_signed.ts";
import { type ServeChild, startServeChild } from "./_serve_child.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

type Child = ServeChild;

function startServe(dir: string): Promise<Child> {
  return startServeChild(`${dir}/data`, [
    "--trusted-keys",
    `${dir}/trust.json`,
    "--privacy-budgets",
    `${dir}/budgets.json`,
  ]);
}

async function submit(base: string, env: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`${base}/v1/envelopes`, {
    method: "POST",
    body: JSON.stringify(env),
    headers: {
      authorization: `Bearer ${TOKENS["ledger:append"]}`,
      "content-type": "application/json",
    },
  });
  return { status: r.status, json: await r.json() };
}

async function waitFor(child: Child, re: RegExp): Promise<void> {
  for (let i = 0; i < 2000 && !child.stderr.some((l) => re.test(l)); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(child.stderr.some((l) => re.test(l)), child.stderr.join("\n"));
}

Deno.test({
  name: "two serve processes on one KV file never overspend together; SIGHUP reloads the budgets",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-budget-2srv-" });
    await writeTrustFile(`${dir}/trust.json`);
    const file = (epsilon: number) =>
      JSON.stringify({ budgets: [{ issuer: "acme", dataset: "ds", epsilon }] });
    await Deno.writeTextFile(`${dir}/budgets.json`, file(1));
    // Create the log once, then start both servers on it.
    await (await openLedger({ dataDir: `${dir}/data` })).close();
    const children: Child[] = [];
    try {
      children.push(await startServe(dir), await startServe(dir));
      const [a, b] = children;
      const envs = await Promise.all(
        Array.from({ length: 40 }, (_, i) => signedDpEnvelope(i, "ds")),
      );
      const out = await Promise.all(envs.map((e, i) => submit(i % 2 ? a.base : b.base, e)));
      const ok = out.filter((o) => o.status === 201);
      assert.equal(ok.length, 8, JSON.stringify(out.map((o) => o.status))); // 8 × 0.125 = 1
      assert.ok(out.every((o) => o.status === 201 || o.json.reason === "PrivacyBudgetExceeded"));
      for (const c of children) {
        const r = await fetch(`${c.base}/v1/privacy/budget?issuer=acme&dataset=ds`, {
          headers: { authorization: `Bearer ${TOKENS["ledger:read"]}` },
        });
        const j = await r.json();
        assert.equal(j.spent.epsilon, 1);
        assert.deepEqual(j.entries, ok.map((o) => o.json.index).sort((x, y) => x - y));
      }

      // SIGHUP on A only: A now allows 1.25, B still 1.
      await Deno.writeTextFile(`${dir}/budgets.json`, file(1.25));
      a.proc.kill("SIGHUP");
      await waitFor(a, /trust store reloaded .*1 privacy budgets/);
      assert.equal((await submit(b.base, await signedDpEnvelope(100, "ds"))).status, 422);
      assert.equal((await submit(a.base, await signedDpEnvelope(101, "ds"))).status, 201);
      assert.equal((await submit(a.base, await signedDpEnvelope(102, "ds"))).status, 201);
      assert.equal((await submit(a.base, await signedDpEnvelope(103, "ds"))).status, 422);
    } finally {
      for (const c of children) {
        c.proc.kill("SIGTERM");
        await c.proc.status;
      }
    }
    const ledger = await openLedger({ dataDir: `${dir}/data` });
    try {
      const s = await ledger.privacyBudget("acme", "ds");
      assert.equal(s.entries.length, 10);
      assert.equal(await ledger.size(), 10);
    } finally {
      await ledger.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("serve --privacy-budgets with a malformed file exits 2 naming the file and the member", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-budget-badsrv-" });
  try {
    await Deno.writeTextFile(
      `${dir}/budgets.json`,
      '{"budgets":[{"issuer":"acme","dataset":"ds","epsilon":1,"delta":2}]}',
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-net=127.0.0.1,localhost",
        "--allow-sys=hostname",
        MAIN,
        "serve",
        "--port",
        "0",
        "--data",
        `${dir}/data`,
        "--privacy-budgets",
        `${dir}/budgets.json`,
      ],
      cwd: ROOT,
      env: { REGLEDGER_API_KEYS: `${TOKENS.admin}:admin`, NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, err);
    assert.match(err, /budgets\.json: \/budgets\/0\/delta: must be a number in \[0, 1\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
