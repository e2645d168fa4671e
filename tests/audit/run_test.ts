/** runAudit / runAuditWith: the API the CLI and server use. */
import assert from "node:assert/strict";
import { PRIMITIVES } from "../../core/envelope_types.ts";
import { InputValidationError } from "../../core/errors.ts";
import { PlaintextBackend, runCircuit } from "../../core/circuits/index.ts";
import {
  PrivacyAccountant,
  PrivacyBudgetExceededError,
  seededUniformForTestsOnly,
} from "../../core/dp/index.ts";
import { exactStatistic, parseInput, REGULATIONS } from "../../core/primitives/index.ts";
import {
  type AuditBackend,
  PLAINTEXT_PARAMETER_SET,
  runAudit,
  runAuditWith,
} from "../../core/audit/index.ts";

const fixtures = JSON.parse(
  await Deno.readTextFile(
    new URL("../fixtures/regaudit-fhe/primitives.json", import.meta.url),
  ),
) as { cases: Record<string, { input: unknown; result: unknown }[]> };

const DECLARED = {
  fairness: 2,
  provenance: 1,
  concordance: 6,
  calibration: 0,
  drift: 1,
  disagreement: 3,
};

Deno.test("runAudit: every fixture gives the exact statistic, the circuit agrees, depth within budget", () => {
  for (const p of PRIMITIVES) {
    for (const c of fixtures.cases[p]) {
      const run = runAudit(p, c.input);
      assert.deepEqual(run.result, exactStatistic(p, parseInput(p, c.input)));
      assert.equal(run.backend, "plaintext");
      assert.equal(run.depth.declared, DECLARED[p]);
      assert(run.stats !== null && run.depth.consumed === run.stats.depthConsumed);
      assert(run.depth.consumed <= run.depth.declared);
      assert.equal(run.circuit.decisionsAgree, true, p);
      assert(run.circuit.maxAbsDeviation! < 1e-9, `${p}: ${run.circuit.maxAbsDeviation}`);
      assert.deepEqual(run.regulations, [...REGULATIONS[p]]);
      assert.deepEqual(run.parameterSet, PLAINTEXT_PARAMETER_SET);
      assert.equal(run.dp, undefined);
    }
  }
});

Deno.test("runAudit: regulation tags are regaudit-fhe's", () => {
  assert.deepEqual(runAudit("fairness", fixtures.cases.fairness[0].input).regulations, [
    "NYC_LL144",
    "EU_AI_ACT_ART10",
    "EU_AI_ACT_ART15",
    "COLORADO_AI_ACT",
    "CFPB_ALG_DISCRIM",
  ]);
  assert.deepEqual(REGULATIONS.provenance, [
    "EU_AI_ACT_ART10",
    "21_CFR_PART_11",
    "GDPR_ART22",
    "HIPAA",
  ]);
  assert.deepEqual(REGULATIONS.concordance, [
    "FDA_SAMD_PCCP",
    "EU_AI_ACT_ART15",
    "EMA_AI_GUIDANCE",
  ]);
  assert.deepEqual(REGULATIONS.calibration, [
    "FDA_SAMD_UQ",
    "EU_AI_ACT_ART15",
    "ISO_IEC_23053",
    "UNECE_WP29",
  ]);
  assert.deepEqual(REGULATIONS.drift, ["EU_AI_ACT_ART15", "FDA_SAMD_PCCP", "BASEL_III"]);
  assert.deepEqual(REGULATIONS.disagreement, ["OCC_SR_11_7", "EU_AI_ACT_ART15", "FDA_SAMD_PCCP"]);
});

Deno.test("runAudit: invalid input is refused before computing", () => {
  assert.throws(
    () => runAudit("fairness", { y_true: [1], y_pred: [1], group_a: [2], group_b: [1] }),
    (e: unknown) =>
      e instanceof InputValidationError && e.pointer === "/group_a/0" && e.rule === "binary",
  );
  assert.throws(
    () => runAudit("drift", { p: [1], q: [1] }, { backend: "ckks" as "plaintext" }),
    RangeError,
  );
});

Deno.test("runAudit: inputs too large for one layout skip the circuit, exact result still returned", () => {
  const n = 300;
  const input = {
    risk: Array.from({ length: n }, (_, i) => i % 17),
    time: Array.from({ length: n }, (_, i) => i),
    event: Array.from({ length: n }, (_, i) => i % 2),
  };
  const run = runAudit("concordance", input);
  assert.equal(run.stats, null);
  assert.deepEqual(run.depth, { declared: 6, consumed: 0 });
  assert.equal(run.circuit.slots, null);
  assert.deepEqual(run.result, exactStatistic("concordance", input));
});

Deno.test("runAudit: DP noises the named fields, recomputes derived decisions, records the block", () => {
  const input = fixtures.cases.fairness[5].input;
  const run = runAudit("fairness", input, {
    dp: {
      specs: { demographic_parity_diff: { mechanism: "laplace", epsilon: 1, sensitivity: 0.5 } },
      random: seededUniformForTestsOnly(4),
    },
  });
  const exact = exactStatistic("fairness", parseInput("fairness", input));
  assert.notEqual(run.result.demographic_parity_diff, exact.demographic_parity_diff);
  assert.equal(run.result.equal_opportunity_diff, exact.equal_opportunity_diff);
  const worst = Math.max(
    Math.abs(run.result.demographic_parity_diff),
    Math.abs(run.result.equal_opportunity_diff),
    Math.abs(run.result.predictive_parity_diff),
  );
  assert.equal(run.result.threshold_breached, worst > 0.052);
  const field = run.dp!.fields.demographic_parity_diff;
  assert.deepEqual([field.mechanism, field.epsilon, field.delta, field.sensitivity], [
    "laplace",
    1,
    0,
    0.5,
  ]);
  assert(field.scale >= 0.5 && field.scale < 0.5 * (1 + 1e-5));

  const prov = runAudit("provenance", {
    attributions: [1, 2, 3, 4],
    row_ids: [1, 2, 3, 4],
    n_buckets: 4,
    k: 2,
  }, {
    dp: {
      specs: {
        bucket_aggregates: { mechanism: "gaussian", epsilon: 1, delta: 1e-5, sensitivity: 1 },
      },
      random: seededUniformForTestsOnly(5),
    },
  });
  const agg = prov.result.bucket_aggregates;
  const order = agg.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map((x) =>
    x[1]
  );
  assert.deepEqual(
    prov.result.topk_indices,
    order.slice(0, 2),
    "top-K follows the noised aggregates",
  );

  const acc = new PrivacyAccountant({ epsilon: 1 });
  const spec = {
    specs: { distance: { mechanism: "laplace" as const, epsilon: 0.6, sensitivity: 0.01 } },
    accountant: acc,
  };
  runAudit("drift", { p: [1, 2], q: [2, 1] }, { dp: spec });
  assert.throws(
    () => runAudit("drift", { p: [1, 2], q: [2, 1] }, { dp: spec }),
    PrivacyBudgetExceededError,
  );
});

Deno.test("runAuditWith: a pluggable backend's result, depth and parameters are recorded", async () => {
  const noisy: AuditBackend = {
    name: "test-noisy",
    run(_primitive, circuit, input) {
      const be = new PlaintextBackend({
        slots: circuit.minSlots(input),
        depthBudget: circuit.depth,
        noise: 1e-9,
        random: seededUniformForTestsOnly(1).next,
      });
      const r = runCircuit(circuit, input, be);
      return Promise.resolve({
        result: r.result,
        stats: r.stats,
        depth: { declared: circuit.depth, consumed: r.stats.depthConsumed },
        parameterSet: { backend: "test-noisy", noise: 1e-9 },
      });
    },
  };
  const run = await runAuditWith("drift", fixtures.cases.drift[4].input, noisy);
  assert.equal(run.backend, "test-noisy");
  assert.deepEqual(run.parameterSet, { backend: "test-noisy", noise: 1e-9 });
  assert(run.circuit.maxAbsDeviation! > 0 && run.circuit.maxAbsDeviation! < 1e-7);
  assert.equal(run.circuit.decisionsAgree, true);
  await assert.rejects(() => runAuditWith("drift", { p: [] }, noisy), InputValidationError);
});
