/**
 * The six audit circuits under CKKS: encrypted result vs the plaintext
 * circuit vs the exact statistic, on fixtures and seeded random inputs,
 * within CKKS_TOLERANCES; decisions sampled at their margin (the tolerance;
 * 1e-3 for fairness and top-K gaps) from their thresholds must agree with the exact statistic (flip rate measured).
 * Two keyrings for the whole file (N = 2^13 depth 2, N = 2^14 depth 6).
 */
import { assert, assertEquals, assertThrows } from "./_helpers.ts";
import { type AnyCircuit, PlaintextBackend, type PlainVector } from "../../core/circuits/index.ts";
import type { SlotBackend, SlotVector } from "../../core/circuits/slots.ts";
import { SealBackend } from "../../core/fhe/backend.ts";
import type { SealVector } from "../../core/fhe/vector.ts";
import { canonicalRotationSteps } from "../../core/fhe/keys.ts";
import { DepthBudgetExceededError } from "../../core/errors.ts";
import { CIRCUITS, runCircuitPlaintext } from "../../core/circuits/index.ts";
import { PRIMITIVE_SPECS } from "../../core/primitives/registry.ts";
import type { InputOf, ResultOf } from "../../core/primitives/registry.ts";
import type { PrimitiveName } from "../../core/envelope_types.ts";
import { bucketOf } from "../../core/primitives/provenance.ts";
import { chooseParameters } from "../../core/fhe/params.ts";
import { createKeyring, disposeKeyring, runEncryptedAudit } from "../../core/fhe/run.ts";
import type { CkksKeyring } from "../../core/fhe/run.ts";
import { CKKS_TOLERANCES, DECISION_MARGIN } from "../../core/fhe/tolerances.ts";

const FIXTURES = JSON.parse(
  await Deno.readTextFile(
    new URL("../fixtures/regaudit-fhe/primitives.json", import.meta.url),
  ),
).cases as Record<PrimitiveName, { input: unknown }[]>;

function powersOfTwo(limit: number, signed: boolean): number[] {
  const out: number[] = [];
  for (let s = 1; s < limit; s *= 2) out.push(s, ...(signed ? [-s] : []));
  return out;
}

const small = await createKeyring(chooseParameters({ depth: 2 }), powersOfTwo(4096, true));
const large = await createKeyring(chooseParameters({ depth: 6 }), powersOfTwo(8192, false));
const ring: Record<PrimitiveName, CkksKeyring> = {
  fairness: small,
  provenance: small,
  calibration: small,
  drift: small,
  concordance: large,
  disagreement: large,
};

/** Seeded uniform [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s >>> 13;
    return (s >>> 0) / 2 ** 32;
  };
}

interface Outcome<P extends PrimitiveName> {
  encrypted: ResultOf<P>;
  plain: ResultOf<P>;
  exact: ResultOf<P>;
  consumed: number;
}

async function run<P extends PrimitiveName>(p: P, raw: unknown): Promise<Outcome<P>> {
  const input = PRIMITIVE_SPECS[p].parse(raw) as InputOf<P>;
  const enc = await runEncryptedAudit(p, input, { keyring: ring[p] });
  assert(enc.depth.consumed <= CIRCUITS[p].depth);
  assertEquals(enc.parameterSet.backend, "seal-ckks");
  return {
    encrypted: enc.result,
    plain: runCircuitPlaintext(CIRCUITS[p], input).result as ResultOf<P>,
    exact: PRIMITIVE_SPECS[p].statistic(input) as ResultOf<P>,
    consumed: enc.depth.consumed,
  };
}

function near(a: number, b: number, tol: number, what: string): void {
  assert(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);
}

const flips: Record<string, { decisions: number; flips: number }> = {};
function decide(kind: string, got: boolean, want: boolean): void {
  const f = (flips[kind] ??= { decisions: 0, flips: 0 });
  f.decisions++;
  if (got !== want) f.flips++;
}

// ---- fairness ---------------------------------------------------------------

function fairnessInput(r: () => number, n: number, threshold = 0.1) {
  const a = Array.from({ length: n }, (_, i) => (i < 2 ? i : r() < 0.5 ? 1 : 0));
  return {
    y_true: Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)),
    y_pred: Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)),
    group_a: a,
    group_b: a.map((v) => 1 - v),
    threshold,
  };
}

Deno.test("fairness: encrypted = plaintext circuit = exact; breach bit at the margin", async () => {
  const r = rng(1);
  const inputs: unknown[] = [...FIXTURES.fairness.map((c) => c.input)];
  for (let k = 0; k < 6; k++) inputs.push(fairnessInput(r, 8 + Math.floor(r() * 57)));
  for (const raw of inputs) {
    const o = await run("fairness", raw);
    for (
      const f of [
        "demographic_parity_diff",
        "equal_opportunity_diff",
        "predictive_parity_diff",
      ] as const
    ) {
      near(o.encrypted[f], o.exact[f], CKKS_TOLERANCES.fairness, f);
      near(o.plain[f], o.exact[f], 1e-12, `plain ${f}`);
    }
    assertEquals(o.encrypted.threshold_breached, o.exact.threshold_breached);
    // The same data with the threshold just below / above the largest difference.
    const x = o.exact;
    const m = Math.max(
      Math.abs(x.demographic_parity_diff),
      Math.abs(x.equal_opportunity_diff),
      Math.abs(x.predictive_parity_diff),
    );
    if (m > 2 * DECISION_MARGIN && m + DECISION_MARGIN < 1) {
      for (const t of [m - DECISION_MARGIN, m + DECISION_MARGIN]) {
        const b = await run("fairness", { ...(raw as object), threshold: t });
        decide(
          "fairness.threshold_breached",
          b.encrypted.threshold_breached,
          b.exact.threshold_breached,
        );
      }
    }
  }
  assertEquals(flips["fairness.threshold_breached"].flips, 0);
});

// ---- provenance --------------------------------------------------------------

function provenanceInput(r: () => number, n: number, buckets: number, k: number) {
  return {
    attributions: Array.from({ length: n }, () => Math.round((r() * 4 - 2) * 1e6) / 1e6),
    row_ids: Array.from({ length: n }, (_, i) => i * 7919 + Math.floor(r() * 1000)),
    n_buckets: buckets,
    k,
  };
}

/** Move the K-th largest aggregate to exactly `gap` above the (K+1)-th. */
function nearTie(input: ReturnType<typeof provenanceInput>, gap: number) {
  const agg = new Array<number>(input.n_buckets).fill(0);
  const bucket = input.row_ids.map((id) => bucketOf(id, input.n_buckets));
  input.attributions.forEach((a, i) => (agg[bucket[i]] += a));
  const order = agg.map((v, b) => [v, b]).sort((x, y) => y[0] - x[0] || x[1] - y[1]);
  const [kth, b1] = order[input.k - 1];
  const [next] = order[input.k];
  const row = bucket.indexOf(b1);
  if (row < 0) return null;
  const attributions = [...input.attributions];
  attributions[row] += next + gap - kth;
  return { ...input, attributions };
}

Deno.test("provenance: aggregates within 1e-3 relative; top-K at the margin", async () => {
  const r = rng(2);
  const inputs: unknown[] = [...FIXTURES.provenance.map((c) => c.input)];
  for (let k = 0; k < 6; k++) {
    const input = provenanceInput(r, 16 + Math.floor(r() * 49), 4 + Math.floor(r() * 12), 2);
    inputs.push(input);
    const tie = nearTie(input, DECISION_MARGIN);
    if (tie) inputs.push(tie);
  }
  for (const raw of inputs) {
    const o = await run("provenance", raw);
    o.exact.bucket_aggregates.forEach((want, b) => {
      near(
        o.encrypted.bucket_aggregates[b],
        want,
        CKKS_TOLERANCES.provenance * Math.max(1, Math.abs(want)),
        `bucket ${b}`,
      );
      near(o.plain.bucket_aggregates[b], want, 1e-9, `plain bucket ${b}`);
    });
    // Top-K is decided on the gap between the K-th and (K+1)-th aggregates. Exact ties
    // (e.g. empty buckets at 0) are broken by CKKS noise, not by index: not a decision at
    // the margin, so they are counted apart.
    const sorted = [...o.exact.bucket_aggregates].sort((a, b) => b - a);
    const k = (raw as { k: number }).k;
    const gap = k < sorted.length ? sorted[k - 1] - sorted[k] : Infinity;
    const kind = gap >= DECISION_MARGIN * (1 - 1e-9)
      ? "provenance.topk"
      : "provenance.topk_exact_ties";
    o.exact.topk_indicator.forEach((want, b) =>
      decide(kind, o.encrypted.topk_indicator[b] === 1, want === 1)
    );
  }
  assertEquals(flips["provenance.topk"].flips, 0);
});

// ---- concordance --------------------------------------------------------------

Deno.test("concordance: encrypted C-index equals the exact one (bound 0.01)", async () => {
  const r = rng(3);
  const inputs: unknown[] = FIXTURES.concordance.slice(3).map((c) => c.input);
  const n = 16;
  inputs.push({
    risk: Array.from({ length: n }, () => Math.round(r() * 8) / 8), // ties on purpose
    time: Array.from({ length: n }, () => 1 + Math.floor(r() * 10)),
    event: Array.from({ length: n }, (_, i) => (i === 0 ? 1 : r() < 0.6 ? 1 : 0)),
  });
  for (const raw of inputs) {
    const o = await run("concordance", raw);
    near(o.encrypted.c_index, o.exact.c_index, CKKS_TOLERANCES.concordance, "c_index");
    // The circuit is exact: counts are integers (=== also equates the -0 rounding gives).
    for (const f of ["concordant_pairs", "comparable_pairs", "c_index"] as const) {
      assert(o.encrypted[f] === o.exact[f], `${f}: ${o.encrypted[f]} vs ${o.exact[f]}`);
      assert(o.plain[f] === o.exact[f], `plain ${f}`);
    }
  }
});

// ---- calibration ---------------------------------------------------------------

Deno.test("calibration: membership equals the exact one, quantiles at the margin", async () => {
  const r = rng(4);
  const inputs: unknown[] = [...FIXTURES.calibration.map((c) => c.input)];
  for (let k = 0; k < 4; k++) {
    const n = 4 + Math.floor(r() * 60);
    const scores = Array.from({ length: n }, () => r());
    // Each quantile exactly the tolerance above or below its score.
    const quantiles = scores.map((s) => s + (r() < 0.5 ? -1 : 1) * CKKS_TOLERANCES.calibration);
    inputs.push({ scores, quantiles });
  }
  for (const raw of inputs) {
    const o = await run("calibration", raw);
    assertEquals(o.plain, o.exact);
    o.exact.membership.forEach((want, i) =>
      decide("calibration.membership", o.encrypted.membership[i] === 1, want === 1)
    );
    assertEquals(o.encrypted, o.exact);
  }
  assertEquals(flips["calibration.membership"].flips, 0);
});

// ---- drift -----------------------------------------------------------------------

Deno.test("drift: distance and W1 within 1e-4; drift bit at the margin", async () => {
  const r = rng(5);
  const inputs: { p: number[]; q: number[]; drift_threshold?: number }[] = FIXTURES.drift.map((c) =>
    c.input as { p: number[]; q: number[] }
  );
  for (let k = 0; k < 4; k++) {
    const n = 4 + Math.floor(r() * 60);
    inputs.push({
      p: Array.from({ length: n }, () => 1 + Math.floor(r() * 50)),
      q: Array.from({ length: n }, () => 1 + Math.floor(r() * 50)),
    });
  }
  for (const raw of inputs) {
    const o = await run("drift", raw);
    near(o.encrypted.distance, o.exact.distance, CKKS_TOLERANCES.drift, "distance");
    near(o.encrypted.w1_distance, o.exact.w1_distance, CKKS_TOLERANCES.drift, "w1");
    near(o.plain.distance, o.exact.distance, 1e-12, "plain distance");
    assertEquals(o.encrypted.drift_bit, o.exact.drift_bit);
    const d = o.exact.distance;
    for (const t of [d - CKKS_TOLERANCES.drift, d + CKKS_TOLERANCES.drift].filter((t) => t > 0)) {
      const b = await run("drift", { ...raw, drift_threshold: t });
      decide("drift.drift_bit", b.encrypted.drift_bit, b.exact.drift_bit);
    }
  }
  assertEquals(flips["drift.drift_bit"].flips, 0);
});

// ---- disagreement ------------------------------------------------------------------

Deno.test("disagreement: variance and means within 1e-4; breach bit at the margin", async () => {
  const r = rng(6);
  const inputs: { model_polynomials: number[][]; test_input: number[]; threshold?: number }[] =
    FIXTURES
      .disagreement.slice(4).map((c) =>
        c.input as { model_polynomials: number[][]; test_input: number[] }
      );
  for (let k = 0; k < 2; k++) {
    const m = 3 + Math.floor(r() * 3);
    inputs.push({
      model_polynomials: Array.from(
        { length: m },
        () => Array.from({ length: 4 }, () => r() * 2 - 1),
      ),
      test_input: Array.from({ length: 16 }, () => r() * 2 - 1),
    });
  }
  for (const raw of inputs) {
    const o = await run("disagreement", raw);
    near(
      o.encrypted.pairwise_variance,
      o.exact.pairwise_variance,
      CKKS_TOLERANCES.disagreement,
      "variance",
    );
    near(o.plain.pairwise_variance, o.exact.pairwise_variance, 1e-9, "plain variance");
    o.exact.per_model_outputs.forEach((want, i) =>
      near(o.encrypted.per_model_outputs[i], want, CKKS_TOLERANCES.disagreement, `model ${i}`)
    );
    const v = o.exact.pairwise_variance;
    for (
      const t of [v - CKKS_TOLERANCES.disagreement, v + CKKS_TOLERANCES.disagreement].filter((t) =>
        t > 0
      )
    ) {
      const b = await run("disagreement", { ...raw, threshold: t });
      decide("disagreement.breach", b.encrypted.breach, b.exact.breach);
    }
  }
  assertEquals(flips["disagreement.breach"].flips, 0);
});

// ---- the same circuits, unchanged, on both backends -----------------------------------

const SMALL_INPUTS: { [P in PrimitiveName]: unknown } = {
  fairness: FIXTURES.fairness[4].input,
  provenance: FIXTURES.provenance[5].input,
  concordance: FIXTURES.concordance[4].input,
  calibration: FIXTURES.calibration[5].input,
  drift: FIXTURES.drift[5].input,
  disagreement: FIXTURES.disagreement[5].input,
};

Deno.test("every circuit does the same operations on SEAL as on plaintext, slot for slot", () => {
  for (const p of Object.keys(SMALL_INPUTS) as PrimitiveName[]) {
    const circuit = CIRCUITS[p] as AnyCircuit;
    const input = PRIMITIVE_SPECS[p].parse(SMALL_INPUTS[p]);
    const slots = ring[p].owner.params.slots;
    const { vectors, layout } = circuit.prepare(input, slots);
    const plain = new PlaintextBackend({ slots, depthBudget: circuit.depth });
    const seal = new SealBackend({
      evaluator: ring[p].evaluator,
      owner: ring[p].owner,
      depthBudget: circuit.depth,
    });
    try {
      const pe: Record<string, PlainVector> = {};
      const se: Record<string, SealVector> = {};
      for (const [k, v] of Object.entries(vectors)) {
        pe[k] = plain.encrypt(v);
        se[k] = seal.encrypt(v);
      }
      const po = circuit.evaluate(plain, pe, layout);
      const so = circuit.evaluate(seal, se, layout);
      assertEquals(Object.keys(so).sort(), Object.keys(po).sort());
      for (const k of Object.keys(po)) {
        const want = plain.decrypt(po[k]);
        const got = seal.decrypt(so[k]);
        const scale = Math.max(1, ...Array.from(want, Math.abs));
        let err = 0;
        for (let i = 0; i < slots; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
        assert(err <= 1e-5 * scale, `${p}.${k}: error ${err} (scale ${scale})`);
        assertEquals(so[k].level, po[k].level, `${p}.${k} level`);
      }
      const ps = plain.stats();
      const ss = seal.stats();
      assertEquals(ss.ops, ps.ops, `${p} operation counts`);
      assertEquals(ss.depthConsumed, ps.depthConsumed, `${p} depth`);
      assertEquals(ss.rotationSteps, canonicalRotationSteps(ps.rotationSteps, slots), `${p} steps`);
    } finally {
      seal.dispose();
    }
  }
});

Deno.test("one level short of the declared depth is the same typed error on both backends", () => {
  for (const p of ["fairness", "provenance", "drift", "disagreement"] as PrimitiveName[]) {
    const circuit = CIRCUITS[p] as AnyCircuit;
    const input = PRIMITIVE_SPECS[p].parse(SMALL_INPUTS[p]);
    const slots = ring[p].owner.params.slots;
    const { vectors, layout } = circuit.prepare(input, slots);
    const budget = circuit.depth - 1;
    const plain = new PlaintextBackend({ slots, depthBudget: budget });
    const seal = new SealBackend({
      evaluator: ring[p].evaluator,
      owner: ring[p].owner,
      depthBudget: budget,
    });
    try {
      const run = <V extends SlotVector>(be: SlotBackend<V>) => {
        const enc: Record<string, V> = {};
        for (const [k, v] of Object.entries(vectors)) enc[k] = be.encrypt(v);
        circuit.evaluate(be, enc, layout);
      };
      const e1 = assertThrows(() => run(plain), DepthBudgetExceededError);
      const e2 = assertThrows(() => run(seal), DepthBudgetExceededError);
      assertEquals([e2.declared, e2.attempted], [e1.declared, e1.attempted]);
    } finally {
      seal.dispose();
    }
  }
});

Deno.test("flip rates at the decision margin (reported)", () => {
  const rows = Object.entries(flips).map(([k, f]) => `${k}: ${f.flips}/${f.decisions}`);
  console.log(`flips at the decision margins: ${rows.join(", ")}`);
  for (const [kind, f] of Object.entries(flips)) {
    if (kind.endsWith("exact_ties")) continue;
    assert(f.decisions > 0 && f.flips === 0, kind);
  }
});

globalThis.addEventListener("unload", () => {
  disposeKeyring(small);
  disposeKeyring(large);
});
