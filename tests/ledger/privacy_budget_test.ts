import assert from "node:assert/strict";
import { parsePrivacyBudgets, RDP_ORDERS, rdpOf } from "../../core/dp/index.ts";
import { openLedger } from "../../ledger/index.ts";
import type { Ledger } from "../../ledger/ledger.ts";
import { LedgerBudgetExceededError } from "../../ledger/privacy_budget.ts";
import { parseEnvelopeValue } from "../../core/envelope.ts";
import { makeEnvelope } from "./_helpers.ts";
import { dpEnvelope } from "./_dp_envelopes.ts";

const budgets = (list: unknown[]) => parsePrivacyBudgets(JSON.stringify({ budgets: list }));

async function withLedger(fn: (l: Ledger, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-budget-" });
  const ledger = await openLedger({ dataDir: dir });
  try {
    await fn(ledger, dir);
  } finally {
    await ledger.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Recompute (Σε, Σδ, RDP) of the entries `indexes` from their stored envelopes alone. */
async function recompute(ledger: Ledger, indexes: number[], budgetDelta: number) {
  let eps = 0, delta = 0;
  const rdp = RDP_ORDERS.map(() => 0);
  for (const i of indexes) {
    const e = await ledger.get(i);
    assert.ok(e);
    const env = JSON.parse(e.envelope) as { dp: { fields: Record<string, never> } };
    for (const f of Object.values(env.dp.fields)) {
      eps += (f as { epsilon: number }).epsilon;
      delta += (f as { delta: number }).delta;
      RDP_ORDERS.forEach((a, k) => rdp[k] += rdpOf(f, a));
    }
  }
  const viaRdp = budgetDelta > 0
    ? Math.min(...RDP_ORDERS.map((a, k) => rdp[k] + Math.log(1 / budgetDelta) / (a - 1)))
    : Infinity;
  return { eps, delta, viaRdp };
}

Deno.test("many racing releases in one process never exceed the budget (basic composition)", async () => {
  await withLedger(async (ledger) => {
    ledger.setPrivacyBudgets(budgets([{ issuer: "acme", dataset: "ds-1", epsilon: 1 }]));
    // 40 releases of ε 0.125 at once: exactly 8 fit; 10 on an unbudgeted dataset mixed in.
    const free = Promise.all(
      Array.from(
        { length: 10 },
        async (_, i) => ledger.append(await dpEnvelope(500 + i, { dataset: "free" })),
      ),
    );
    const outcomes = await Promise.allSettled(
      Array.from(
        { length: 40 },
        async (_, i) => ledger.append(await dpEnvelope(i, { dataset: "ds-1" })),
      ),
    );
    const freeIndexes = (await free).map((r) => r.index).sort((a, b) => a - b);
    assert.deepEqual((await ledger.privacyBudget("acme", "free")).entries, freeIndexes);
    const ok = outcomes.filter((o) => o.status === "fulfilled");
    const refused = outcomes.filter((o) => o.status === "rejected");
    assert.equal(ok.length, 8);
    for (const r of refused) {
      assert.ok(r.reason instanceof LedgerBudgetExceededError, String(r.reason));
      assert.equal(r.reason.reason, "PrivacyBudgetExceeded");
      assert.equal(r.reason.dataset, "ds-1");
    }
    const s = await ledger.privacyBudget("acme", "ds-1");
    assert.equal(s.entries.length, 8);
    assert.equal(s.spent.composition, "basic");
    const re = await recompute(ledger, s.entries, 0);
    assert.equal(s.spent.epsilon, re.eps);
    assert.equal(s.spent.delta, re.delta);
    assert.equal(re.eps, 1);
    assert.deepEqual(s.remaining, { epsilon: 0, delta: 0 });
    assert.equal(s.tree_size, 18);
    // Other datasets, other issuers and non-DP envelopes are not limited by it.
    await ledger.append(await dpEnvelope(100, { dataset: "ds-2" }));
    await ledger.append(await dpEnvelope(101, { dataset: "ds-1", issuer: "other" }));
    await ledger.append(await makeEnvelope(102));
    const unlimited = await ledger.privacyBudget("other", "ds-1");
    assert.equal(unlimited.budget, null);
    assert.equal(unlimited.remaining, null);
    assert.deepEqual(unlimited.entries, [19]);
  });
});

Deno.test("a refused release does not fail the other envelopes of its batch", async () => {
  await withLedger(async (ledger) => {
    ledger.setPrivacyBudgets(budgets([{ issuer: "acme", dataset: "ds", epsilon: 0.25 }]));
    const envs = await Promise.all([
      dpEnvelope(0, { dataset: "ds" }),
      makeEnvelope(1),
      dpEnvelope(2, { dataset: "ds" }),
      dpEnvelope(3, { dataset: "ds" }), // over: 3 × 0.125 > 0.25
      makeEnvelope(4),
    ]);
    const out = await Promise.allSettled(envs.map((e) => ledger.append(e)));
    assert.deepEqual(out.map((o) => o.status), [
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    assert.equal(await ledger.size(), 4);
  });
});

Deno.test("re-submitting a logged release returns its entry and spends nothing, even when exhausted", async () => {
  await withLedger(async (ledger) => {
    ledger.setPrivacyBudgets(budgets([{ issuer: "acme", dataset: "ds", epsilon: 0.25 }]));
    const a = await dpEnvelope(0, { dataset: "ds" });
    const b = await dpEnvelope(1, { dataset: "ds" });
    const ra = await ledger.append(a);
    await ledger.append(b); // budget now exhausted
    const again = await Promise.all([ledger.append(a), ledger.append(b), ledger.append(a)]);
    assert.deepEqual(again.map((r) => [r.index, r.existing]), [[0, true], [1, true], [0, true]]);
    assert.equal(again[0].envelope_sha256, ra.envelope_sha256);
    await assert.rejects(
      ledger.append(await dpEnvelope(2, { dataset: "ds" })),
      LedgerBudgetExceededError,
    );
    const s = await ledger.privacyBudget("acme", "ds");
    assert.deepEqual(s.entries, [0, 1]);
    assert.equal(s.spent.epsilon, 0.25);
  });
});

Deno.test("Gaussian releases compose by RDP under a budget with δ > 0", async () => {
  await withLedger(async (ledger) => {
    ledger.setPrivacyBudgets(budgets([{ issuer: "acme", dataset: "g", epsilon: 2, delta: 1e-5 }]));
    const spec = { mechanism: "gaussian" as const, epsilon: 0.5, delta: 1e-7, sensitivity: 0.01 };
    let accepted = 0;
    for (let i = 0; i < 30; i++) {
      try {
        await ledger.append(await dpEnvelope(i, { dataset: "g", specs: [spec] }));
        accepted++;
      } catch (e) {
        assert.ok(e instanceof LedgerBudgetExceededError);
        break;
      }
    }
    const s = await ledger.privacyBudget("acme", "g");
    assert.equal(s.spent.composition, "rdp");
    assert.equal(s.entries.length, accepted);
    // RDP lets more than the 4 releases basic composition would allow.
    assert.ok(accepted > 4, `accepted ${accepted}`);
    const re = await recompute(ledger, s.entries, 1e-5);
    assert.ok(Math.abs(s.spent.epsilon - Math.min(re.viaRdp, re.eps)) < 1e-12);
    assert.ok(s.spent.epsilon <= 2 * (1 + 1e-12));
  });
});

Deno.test("budgets set after the fact are checked against the whole log; unset means unlimited", async () => {
  await withLedger(async (ledger) => {
    for (let i = 0; i < 6; i++) await ledger.append(await dpEnvelope(i, { dataset: "ds" }));
    ledger.setPrivacyBudgets(budgets([{ issuer: "acme", dataset: "ds", epsilon: 0.5 }]));
    await assert.rejects(
      ledger.append(await dpEnvelope(6, { dataset: "ds" })),
      LedgerBudgetExceededError,
    );
    const s = await ledger.privacyBudget("acme", "ds");
    assert.equal(s.spent.epsilon, 0.75);
    assert.deepEqual(s.remaining, { epsilon: 0, delta: 0 });
    ledger.setPrivacyBudgets(null);
    assert.equal((await ledger.append(await dpEnvelope(6, { dataset: "ds" }))).index, 6);
  });
});

Deno.test("swapping the budget table keeps the spend: toggling off and on, and a swap mid-race, never overspend", async () => {
  await withLedger(async (ledger) => {
    const table = (epsilon: number) => budgets([{ issuer: "acme", dataset: "ds", epsilon }]);
    const race = async (from: number, n: number) => {
      const out = await Promise.allSettled(
        Array.from(
          { length: n },
          async (_, i) => ledger.append(await dpEnvelope(from + i, { dataset: "ds" })),
        ),
      );
      for (const o of out) {
        if (o.status === "rejected") {
          assert.ok(o.reason instanceof LedgerBudgetExceededError, String(o.reason));
        }
      }
      return out.filter((o) => o.status === "fulfilled").length;
    };
    ledger.setPrivacyBudgets(table(1));
    for (let i = 0; i < 4; i++) await ledger.append(await dpEnvelope(i, { dataset: "ds" }));
    // Off: unlimited, but the releases still count once budgets are back.
    ledger.setPrivacyBudgets(null);
    for (let i = 4; i < 8; i++) await ledger.append(await dpEnvelope(i, { dataset: "ds" }));
    ledger.setPrivacyBudgets(table(1.25)); // 8 × 0.125 = 1 spent: 2 more fit
    assert.equal(await race(100, 8), 2);
    // A new table of the same limits swapped in while appends are queued:
    // the spend of the old table's admissions carries over.
    ledger.setPrivacyBudgets(table(1.5)); // 10 × 0.125 spent: 2 more fit
    const racing = race(200, 12);
    ledger.setPrivacyBudgets(table(1.5));
    await Promise.resolve();
    ledger.setPrivacyBudgets(table(1.5));
    assert.equal(await racing, 2);
    const s = await ledger.privacyBudget("acme", "ds");
    assert.equal(s.entries.length, 12);
    assert.equal(s.spent.epsilon, 1.5);
    assert.equal((await recompute(ledger, s.entries, 0)).eps, 1.5);
  });
});

Deno.test("a dp block naming a dataset must be well formed", async () => {
  const env = await dpEnvelope(0, { dataset: "ds" });
  const v = structuredClone(env.value) as unknown as { dp: { fields: { f0: { scale: number } } } };
  v.dp.fields.f0.scale = -1;
  assert.throws(() => parseEnvelopeValue(v as never), /\/dp\/fields\/f0\/scale/);
  await assert.rejects(dpEnvelope(1, { dataset: "has space" }), /\/dp\/dataset/);
  await assert.rejects(dpEnvelope(1, { dataset: "x".repeat(257) }), /\/dp\/dataset/);
});

Deno.test({
  name: "two processes racing on one KV file never spend more than the budget together",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-budget-race-" });
    try {
      await (await openLedger({ dataDir: `${dir}/data` })).close(); // create the log once
      const file = `${dir}/budgets.json`;
      await Deno.writeTextFile(
        file,
        JSON.stringify({ budgets: [{ issuer: "acme", dataset: "ds", epsilon: 1 }] }),
      );
      const storm = new URL("./_budget_storm.ts", import.meta.url).pathname;
      const procs = [0, 1000].map((start) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--quiet", storm, dir, file, String(start), "24"],
          stdout: "piped",
          stderr: "piped",
        }).output()
      );
      for (const start of [0, 1000]) {
        for (;;) {
          try {
            await Deno.stat(`${dir}/ready-${start}`);
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      }
      await Deno.writeTextFile(`${dir}/go`, "");
      const outs = await Promise.all(procs);
      const lines: string[] = [];
      for (const o of outs) {
        assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
        lines.push(...new TextDecoder().decode(o.stdout).trim().split("\n"));
      }
      assert.equal(lines.length, 48);
      const ok = lines.filter((l) => l.startsWith("ok "));
      assert.equal(ok.length, 8, lines.join(", ")); // 8 × ε 0.125 = the budget
      assert.equal(lines.filter((l) => l === "refused PrivacyBudgetExceeded").length, 40);
      const ledger = await openLedger({ dataDir: `${dir}/data` });
      try {
        assert.equal(await ledger.size(), 8);
        const s = await ledger.privacyBudget("acme", "ds");
        assert.deepEqual(s.entries, ok.map((l) => Number(l.slice(3))).sort((a, b) => a - b));
        assert.equal((await recompute(ledger, s.entries, 0)).eps, 1);
      } finally {
        await ledger.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("two ledgers opening one KV path in one process share the budget", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-budget-two-" });
  const a = await openLedger({ dataDir: dir });
  const b = await openLedger({ dataDir: dir });
  try {
    const bs = budgets([{ issuer: "acme", dataset: "ds", epsilon: 1.5 }]);
    a.setPrivacyBudgets(bs);
    b.setPrivacyBudgets(bs);
    const out = await Promise.allSettled(
      Array.from(
        { length: 60 },
        async (_, i) => (i % 2 ? a : b).append(await dpEnvelope(i, { dataset: "ds" })),
      ),
    );
    assert.equal(out.filter((o) => o.status === "fulfilled").length, 12);
    for (const o of out) {
      if (o.status === "rejected") assert.ok(o.reason instanceof LedgerBudgetExceededError);
    }
    const [sa, sb] = await Promise.all([
      a.privacyBudget("acme", "ds"),
      b.privacyBudget("acme", "ds"),
    ]);
    assert.deepEqual(sa.entries, sb.entries);
    assert.equal(sa.spent.epsilon, 1.5);
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});
