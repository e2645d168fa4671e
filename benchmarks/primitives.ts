/**
 * Exact-statistic throughput of the six primitives at n = 10^3, 10^4, 10^5,
 * each beside a baseline measured in the same run:
 *
 * - concordance: the naive O(n²) Harrell oracle (regaudit-fhe's), capped at
 *   n = 10^4 (10^5 would take ~10^10 pair visits);
 * - the others: a straight transcription of regaudit-fhe's numpy oracle
 *   (one full masked pass per count / per bucket, intermediate arrays).
 *
 * Also times `runAudit` (validation + exact statistic + the plaintext
 * circuit check where the layout fits 2^16 slots).
 *
 * Run: deno run --allow-read --allow-write=benchmarks/results benchmarks/primitives.ts
 * Writes benchmarks/results/primitives.json. Numbers are medians of
 * repeated runs on a shared machine: compare the ratios.
 *
 * @module
 */
import {
  calibrationStatistic,
  concordanceStatistic,
  disagreementStatistic,
  driftStatistic,
  fairnessStatistic,
  provenanceStatistic,
} from "../core/primitives/index.ts";
import { runAudit } from "../core/audit/index.ts";
import { type AnyCircuit, CIRCUITS, runCircuitPlaintext } from "../core/circuits/index.ts";
import type { PrimitiveName } from "../core/envelope_types.ts";

const SIZES = [1_000, 10_000, 100_000];
const NAIVE_CONCORDANCE_CAP = 10_000;

let seed = 20261121;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const bits = (n: number, p = 0.5) => Array.from({ length: n }, () => (rnd() < p ? 1 : 0));
const reals = (n: number, scale = 1) => Array.from({ length: n }, () => rnd() * scale);

function median(f: () => unknown, minMs = 150, minReps = 3): number {
  f(); // warm-up (JIT), not timed
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minReps || performance.now() - start < minMs) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
    if (times.length >= 50) break;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

// --- baselines: regaudit-fhe's oracles transcribed (array passes, as numpy does) ---
const sum = (a: number[]) => a.reduce((s, x) => s + x, 0);
const mulv = (a: number[], b: number[]) => a.map((x, i) => x * b[i]);
const oneMinus = (a: number[]) => a.map((x) => 1 - x);

function fairnessBaseline(
  i: { y_true: number[]; y_pred: number[]; group_a: number[]; group_b: number[] },
) {
  const conf = (mask: number[]) => ({
    tp: sum(mulv(mulv(i.y_pred, i.y_true), mask)),
    fp: sum(mulv(mulv(i.y_pred, oneMinus(i.y_true)), mask)),
  });
  const a = conf(i.group_a), b = conf(i.group_b);
  const na = Math.max(sum(i.group_a), 1), nb = Math.max(sum(i.group_b), 1);
  const pa = Math.max(sum(mulv(i.y_true, i.group_a)), 1),
    pb = Math.max(sum(mulv(i.y_true, i.group_b)), 1);
  return [(a.tp + a.fp) / na - (b.tp + b.fp) / nb, a.tp / pa - b.tp / pb];
}

function provenanceBaseline(
  i: { attributions: number[]; row_ids: number[]; n_buckets: number; k: number },
) {
  const ids = i.row_ids.map((r) =>
    Number((713480528n * BigInt(r) + 1242808857n) % 2147483647n) % i.n_buckets
  );
  const agg = Array.from(
    { length: i.n_buckets },
    (_, b) => sum(i.attributions.filter((_, j) => ids[j] === b)),
  );
  const order = agg.map((_, b) => b).sort((x, y) => agg[y] - agg[x]);
  return order.slice(0, i.k);
}

function concordanceNaive(i: { risk: number[]; time: number[]; event: number[] }) {
  let conc = 0, comp = 0;
  const n = i.risk.length;
  for (let a = 0; a < n; a++) {
    if (i.event[a] !== 1) continue;
    for (let b = 0; b < n; b++) {
      if (a === b || i.time[b] <= i.time[a]) continue;
      comp++;
      if (i.risk[a] > i.risk[b]) conc++;
      else if (i.risk[a] === i.risk[b]) conc += 0.5;
    }
  }
  return conc / comp;
}

function calibrationBaseline(i: { scores: number[]; quantiles: number[] }) {
  const m = i.scores.map((s, k) => (s <= i.quantiles[k] ? 1.0 : 0.0));
  return sum(m);
}

function disagreementBaseline(i: { model_polynomials: number[][]; test_input: number[] }) {
  const x = i.test_input, x2 = mulv(x, x), x3 = mulv(x2, x);
  const P = i.model_polynomials.map((c) =>
    x.map((_, t) => c[1] * x[t] + c[2] * x2[t] + c[3] * x3[t] + c[0])
  );
  let acc = 0;
  for (let a = 0; a < P.length; a++) {
    for (let b = a + 1; b < P.length; b++) {
      acc += sum(P[a].map((v, t) => (v - P[b][t]) ** 2)) / x.length;
    }
  }
  return acc;
}

function driftBaselineLinear(i: { p: number[]; q: number[] }) {
  const ps = Math.max(sum(i.p), 1e-12), qs = Math.max(sum(i.q), 1e-12);
  const pn = i.p.map((x) => x / ps), qn = i.q.map((x) => x / qs);
  const cum = (a: number[]) => {
    let s = 0;
    return a.map((x) => (s += x));
  };
  const cp = cum(pn), cq = cum(qn);
  const d = cp.map((x, k) => x - cq[k]);
  return [sum(d.map((x) => x * x)), sum(d.map(Math.abs))];
}

interface Row {
  primitive: PrimitiveName;
  n: number;
  exact_ms: number;
  baseline: string;
  baseline_ms: number | null;
  speedup: number | null;
  run_audit_ms: number;
  circuit_checked: boolean;
}

const rows: Row[] = [];
for (const n of SIZES) {
  const inputs: { [P in PrimitiveName]: Record<string, unknown> } = {
    fairness: (() => {
      const a = bits(n);
      return {
        y_true: bits(n),
        y_pred: bits(n),
        group_a: a,
        group_b: a.map((x) => 1 - x),
        threshold: 0.1,
      };
    })(),
    provenance: {
      attributions: reals(n, 2).map((x) => x - 1),
      row_ids: Array.from({ length: n }, () => Math.floor(rnd() * 2 ** 31)),
      n_buckets: 16,
      k: 4,
    },
    concordance: {
      risk: reals(n),
      time: reals(n, 100).map((t) => Math.round(t * 10) / 10),
      event: bits(n, 0.7),
    },
    calibration: { scores: reals(n), quantiles: reals(n) },
    drift: { p: reals(n, 5), q: reals(n, 5), drift_threshold: 0.005 },
    disagreement: {
      model_polynomials: Array.from({ length: 5 }, () => reals(4, 2).map((c) => c - 1)),
      test_input: reals(n, 2).map((x) => x - 1),
      threshold: 0.05,
    },
  };
  const table: [PrimitiveName, () => unknown, string, (() => unknown) | null][] = [
    [
      "fairness",
      () => fairnessStatistic(inputs.fairness as never),
      "regaudit oracle (array passes)",
      () => fairnessBaseline(inputs.fairness as never),
    ],
    [
      "provenance",
      () => provenanceStatistic(inputs.provenance as never),
      "regaudit oracle (BigInt hash, mask per bucket)",
      () => provenanceBaseline(inputs.provenance as never),
    ],
    [
      "concordance",
      () => concordanceStatistic(inputs.concordance as never),
      "naive O(n^2) oracle",
      n <= NAIVE_CONCORDANCE_CAP ? () => concordanceNaive(inputs.concordance as never) : null,
    ],
    [
      "calibration",
      () => calibrationStatistic(inputs.calibration as never),
      "regaudit oracle",
      () => calibrationBaseline(inputs.calibration as never),
    ],
    [
      "drift",
      () => driftStatistic(inputs.drift as never),
      "regaudit oracle (array passes)",
      () => driftBaselineLinear(inputs.drift as never),
    ],
    [
      "disagreement",
      () => disagreementStatistic(inputs.disagreement as never),
      "regaudit oracle (array passes, M=5)",
      () => disagreementBaseline(inputs.disagreement as never),
    ],
  ];
  for (const [primitive, ours, baselineName, baseline] of table) {
    const exact = median(ours);
    const base = baseline
      ? median(baseline, 150, n >= 10_000 && primitive === "concordance" ? 1 : 3)
      : null;
    let checked = false;
    const audit = median(
      () => {
        checked = runAudit(primitive, inputs[primitive]).stats !== null;
      },
      100,
      1,
    );
    rows.push({
      primitive,
      n,
      exact_ms: round(exact),
      baseline: baseline
        ? baselineName
        : `${baselineName}: skipped above n=${NAIVE_CONCORDANCE_CAP}`,
      baseline_ms: base === null ? null : round(base),
      speedup: base === null ? null : round(base / exact),
      run_audit_ms: round(audit),
      circuit_checked: checked,
    });
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

console.log("primitive     n        exact ms   baseline ms   speedup   runAudit ms  circuit");
for (const r of rows) {
  console.log(
    `${r.primitive.padEnd(13)} ${String(r.n).padEnd(8)} ${String(r.exact_ms).padStart(9)}   ${
      String(r.baseline_ms ?? "-").padStart(11)
    }   ${String(r.speedup ?? "-").padStart(7)}   ${String(r.run_audit_ms).padStart(11)}  ${
      r.circuit_checked ? "yes" : "no"
    }`,
  );
}

// --- circuits at regaudit-fhe's batch sizes: depth beside regaudit's documented depth ---
const BATCH: { [P in PrimitiveName]: number } = {
  fairness: 64,
  provenance: 64,
  concordance: 16,
  calibration: 16,
  drift: 16,
  disagreement: 16,
};
/** Depth regaudit-fhe's circuits document (docstrings of its *_circuit_d6 functions). */
const REGAUDIT_DEPTH: { [P in PrimitiveName]: number } = {
  fairness: 4,
  provenance: 3,
  concordance: 4,
  calibration: 2,
  drift: 1,
  disagreement: 5,
};
interface CircuitRow {
  primitive: PrimitiveName;
  n: number;
  slots: number;
  ciphertexts_in: number;
  depth_declared: number;
  depth_consumed: number;
  regaudit_depth: number;
  mul: number;
  mul_plain: number;
  rotate: number;
  galois_keys: number;
  max_abs_deviation: number;
}
const circuitRows: CircuitRow[] = [];
for (
  const [primitive, n] of [...Object.entries(BATCH), ["concordance", 64]] as [
    PrimitiveName,
    number,
  ][]
) {
  const a = bits(n);
  const input: Record<PrimitiveName, unknown> = {
    fairness: {
      y_true: bits(n),
      y_pred: bits(n),
      group_a: a,
      group_b: a.map((x) => 1 - x),
      threshold: 0.1,
    },
    provenance: {
      attributions: reals(n),
      row_ids: Array.from({ length: n }, () => Math.floor(rnd() * 2 ** 31)),
      n_buckets: 16,
      k: 4,
    },
    concordance: { risk: reals(n), time: reals(n, 100), event: bits(n, 0.7) },
    calibration: { scores: reals(n), quantiles: reals(n) },
    drift: { p: reals(n, 5), q: reals(n, 5), drift_threshold: 0.005 },
    disagreement: {
      model_polynomials: Array.from({ length: 5 }, () => reals(4, 2).map((c) => c - 1)),
      test_input: reals(n, 2).map((x) => x - 1),
      threshold: 0.05,
    },
  };
  const circuit = CIRCUITS[primitive] as AnyCircuit;
  const valid = input[primitive] as never;
  const slots = circuit.minSlots(valid);
  const { stats } = runCircuitPlaintext(circuit, valid);
  const audit = runAudit(primitive, valid);
  circuitRows.push({
    primitive,
    n,
    slots,
    ciphertexts_in: circuit.inputNames(circuit.prepare(valid, slots).layout).length,
    depth_declared: circuit.depth,
    depth_consumed: stats.depthConsumed,
    regaudit_depth: REGAUDIT_DEPTH[primitive],
    mul: stats.ops.mul,
    mul_plain: stats.ops.mulPlain,
    rotate: stats.ops.rotate,
    galois_keys: stats.rotationSteps.length,
    max_abs_deviation: audit.circuit.maxAbsDeviation ?? NaN,
  });
}
console.log(
  "\ncircuit       n    slots  ct in  depth (regaudit)  mul  mulPlain  rot  keys  max |dev|",
);
for (const r of circuitRows) {
  console.log(
    `${r.primitive.padEnd(13)} ${String(r.n).padEnd(4)} ${String(r.slots).padStart(6)}  ${
      String(r.ciphertexts_in).padStart(5)
    }  ${String(r.depth_consumed).padStart(5)} (${r.regaudit_depth})       ${
      String(r.mul).padStart(4)
    }  ${String(r.mul_plain).padStart(8)}  ${String(r.rotate).padStart(3)}  ${
      String(r.galois_keys).padStart(4)
    }  ${r.max_abs_deviation.toExponential(1)}`,
  );
}
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/primitives.json", import.meta.url),
  JSON.stringify(
    {
      benchmark: "primitives",
      generated_at: new Date().toISOString(),
      deno: Deno.version.deno,
      note: "medians on a shared 2-core machine; compare speedup (baseline_ms / exact_ms)",
      naive_concordance_cap: NAIVE_CONCORDANCE_CAP,
      rows,
      circuits: circuitRows,
    },
    null,
    2,
  ) + "\n",
);
