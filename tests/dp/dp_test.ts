/**
 * Differential privacy: noise scales against theory (variance confidence
 * intervals and Kolmogorov–Smirnov with a fixed seed), parameter
 * validation, calibration formulas, the accountant's refusals, RDP
 * conversion against its closed form, and the envelope `dp` block.
 */
import assert from "node:assert/strict";
import {
  bernoulliExp,
  calibrate,
  cryptoUniform,
  DpParameterError,
  gaussianSigma,
  gridSensitivity,
  isqrt,
  laplaceScale,
  PrivacyAccountant,
  PrivacyBudgetExceededError,
  privatizeResult,
  rdpOf,
  releaseValue,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
  sampleGaussian,
  sampleLaplace,
  seededUniformForTestsOnly,
} from "../../core/dp/index.ts";

const N = 20000;

function ksStatistic(samples: number[], cdf: (x: number) => number): number {
  const s = [...samples].sort((a, b) => a - b);
  let d = 0;
  s.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs((i + 1) / s.length - f));
  });
  return d;
}

function erf(x: number): number { // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7)
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t * Math.exp(-x * x);
  return Math.sign(x) * y;
}

const KS_CRITICAL_001 = 1.63 / Math.sqrt(N); // α = 0.01

Deno.test("dp: Laplace noise has variance 2b² and the Laplace CDF (fixed seed)", () => {
  const b = laplaceScale(2, 0.5);
  assert.equal(b, 4);
  const rnd = seededUniformForTestsOnly(2026);
  const xs = Array.from({ length: N }, () => sampleLaplace(b, rnd));
  const mean = xs.reduce((a, x) => a + x, 0) / N;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (N - 1);
  // Var of the sample variance for Laplace: (μ4 − σ⁴)/N with μ4 = 24b⁴, σ² = 2b²
  const se = Math.sqrt((24 * b ** 4 - 4 * b ** 4) / N);
  assert(Math.abs(variance - 2 * b * b) < 4 * se, `variance ${variance} vs ${2 * b * b}`);
  assert(Math.abs(mean) < 4 * Math.sqrt(2 * b * b / N));
  const cdf = (x: number) => (x < 0 ? 0.5 * Math.exp(x / b) : 1 - 0.5 * Math.exp(-x / b));
  assert(ksStatistic(xs, cdf) < KS_CRITICAL_001);
  // a wrong scale is detected by the same test
  const wrong = (
    x: number,
  ) => (x < 0 ? 0.5 * Math.exp(x / (1.1 * b)) : 1 - 0.5 * Math.exp(-x / (1.1 * b)));
  assert(ksStatistic(xs, wrong) > KS_CRITICAL_001);
});

Deno.test("dp: Gaussian noise has variance σ² and the normal CDF (fixed seed)", () => {
  const sigma = gaussianSigma(1, 0.5, 1e-5);
  const rnd = seededUniformForTestsOnly(7);
  const xs = Array.from({ length: N }, () => sampleGaussian(sigma, rnd));
  const variance = xs.reduce((a, x) => a + x * x, 0) / N;
  const se = sigma * sigma * Math.sqrt(2 / N);
  assert(Math.abs(variance - sigma * sigma) < 4 * se);
  const cdf = (x: number) => 0.5 * (1 + erf(x / (sigma * Math.SQRT2)));
  assert(ksStatistic(xs, cdf) < KS_CRITICAL_001);
  const wrong = (x: number) => 0.5 * (1 + erf(x / (1.1 * sigma * Math.SQRT2)));
  assert(ksStatistic(xs, wrong) > KS_CRITICAL_001);
});

Deno.test("dp: Gaussian σ is the smaller valid calibration", () => {
  const classic = (s: number, e: number, d: number) => (s * Math.sqrt(2 * Math.log(1.25 / d))) / e;
  const zcdp = (s: number, e: number, d: number) => {
    const l = Math.log(1 / d);
    const rho = (Math.sqrt(l + e) - Math.sqrt(l)) ** 2;
    // check the root: ρ + 2√(ρ l) = ε
    assert(Math.abs(rho + 2 * Math.sqrt(rho * l) - e) < 1e-12 * Math.max(1, e));
    return s / Math.sqrt(2 * rho);
  };
  for (const [s, e, d] of [[1, 0.1, 1e-5], [2, 0.9, 1e-6], [1, 1, 1e-5], [0.5, 4, 1e-9]]) {
    const expected = e < 1 ? Math.min(classic(s, e, d), zcdp(s, e, d)) : zcdp(s, e, d);
    assert(Math.abs(gaussianSigma(s, e, d) - expected) <= 1e-12 * expected);
  }
});

Deno.test("dp: invalid ε, δ, sensitivity and mechanism are refused", () => {
  const bad: [Parameters<typeof calibrate>[0], string][] = [
    [{ mechanism: "laplace", epsilon: 0, sensitivity: 1 }, "epsilon"],
    [{ mechanism: "laplace", epsilon: -1, sensitivity: 1 }, "epsilon"],
    [{ mechanism: "laplace", epsilon: NaN, sensitivity: 1 }, "epsilon"],
    [{ mechanism: "laplace", epsilon: Infinity, sensitivity: 1 }, "epsilon"],
    [{ mechanism: "laplace", epsilon: 1, sensitivity: 0 }, "sensitivity"],
    [{ mechanism: "laplace", epsilon: 1, sensitivity: 1, delta: 1e-5 }, "delta"],
    [{ mechanism: "gaussian", epsilon: 1, sensitivity: 1 }, "delta"],
    [{ mechanism: "gaussian", epsilon: 1, sensitivity: 1, delta: 0 }, "delta"],
    [{ mechanism: "gaussian", epsilon: 1, sensitivity: 1, delta: 1 }, "delta"],
    [{ mechanism: "gaussian", epsilon: 1, sensitivity: -2, delta: 0.1 }, "sensitivity"],
    [{ mechanism: "cauchy" as "laplace", epsilon: 1, sensitivity: 1 }, "mechanism"],
    [{ mechanism: "laplace", epsilon: 1e-10, sensitivity: 1e308 }, "sensitivity"],
  ];
  for (const [spec, parameter] of bad) {
    assert.throws(
      () => calibrate(spec),
      (e: unknown) => e instanceof DpParameterError && e.parameter === parameter,
      JSON.stringify(spec),
    );
  }
});

Deno.test("dp: basic accountant refuses the release that exceeds the budget, all or nothing", () => {
  const acc = new PrivacyAccountant({ epsilon: 1 });
  const spec = calibrate({ mechanism: "laplace", epsilon: 0.4, sensitivity: 1 });
  acc.charge([spec]);
  acc.charge([spec]);
  assert.throws(() => acc.charge([spec]), PrivacyBudgetExceededError);
  assert.deepEqual(acc.spent(), { composition: "basic", epsilon: 0.8, delta: 0, releases: 2 });
  acc.charge([calibrate({ mechanism: "laplace", epsilon: 0.2, sensitivity: 1 })]); // exactly the budget
  const g = calibrate({ mechanism: "gaussian", epsilon: 1e-9, sensitivity: 1, delta: 1e-6 });
  assert.throws(() => acc.charge([g]), PrivacyBudgetExceededError); // δ budget is 0
  assert.throws(() => new PrivacyAccountant({ epsilon: 0 }), DpParameterError);
  assert.throws(() => new PrivacyAccountant({ epsilon: 1 }, "rdp"), DpParameterError);
});

Deno.test("dp: RDP accountant allows many Gaussian releases basic composition refuses", () => {
  const g = calibrate({ mechanism: "gaussian", epsilon: 0.5, sensitivity: 1, delta: 1e-7 });
  const basic = new PrivacyAccountant({ epsilon: 5, delta: 1e-5 });
  const rdp = new PrivacyAccountant({ epsilon: 5, delta: 1e-5 }, "rdp");
  let basicCount = 0, rdpCount = 0;
  try {
    for (;;) (basic.charge([g]), basicCount++);
  } catch (e) {
    assert(e instanceof PrivacyBudgetExceededError);
  }
  try {
    for (;;) (rdp.charge([g]), rdpCount++);
  } catch (e) {
    assert(e instanceof PrivacyBudgetExceededError);
  }
  assert.equal(basicCount, 10);
  assert(rdpCount > 3 * basicCount, `rdp ${rdpCount} vs basic ${basicCount}`);
  // the grid conversion is never below the continuous optimum of kα/(2σ²) + ln(1/δ)/(α−1)
  const k = rdpCount, L = Math.log(1e5), r = 1 / (2 * g.scale ** 2);
  const continuous = k * r + 2 * Math.sqrt(k * r * L);
  const spent = rdp.spent();
  assert(spent.epsilon >= continuous - 1e-12 && spent.epsilon <= 1.05 * continuous);
  assert(spent.epsilon <= 5);
});

Deno.test("dp: RDP of the discrete Laplace is min(ε, αε²/2), never above ε", () => {
  const l = calibrate({ mechanism: "laplace", epsilon: 0.7, sensitivity: 2 });
  const eps = (gridSensitivity(2, l.grid, 1, "laplace") * l.grid) / l.scale;
  assert(eps <= 0.7 && eps > 0.7 * (1 - 1e-5));
  assert(Math.abs(rdpOf(l, 2) - eps * eps) < 1e-15);
  assert.equal(rdpOf(l, 1024), eps);
});

Deno.test("dp: privatizeResult noises named fields and records the dp block", () => {
  const result = { distance: 0.2, w1_distance: 0.5, drift_bit: true, agg: [1, 2, 3] };
  const acc = new PrivacyAccountant({ epsilon: 2, delta: 1e-5 });
  const { result: noisy, dp } = privatizeResult(result, {
    distance: { mechanism: "laplace", epsilon: 0.5, sensitivity: 0.01 },
    agg: { mechanism: "gaussian", epsilon: 0.5, delta: 1e-6, sensitivity: 1 },
  }, { random: seededUniformForTestsOnly(1), accountant: acc });
  assert.notEqual(noisy.distance, 0.2);
  assert.equal(noisy.w1_distance, 0.5);
  assert.equal(noisy.drift_bit, true);
  assert.equal(noisy.agg.length, 3);
  assert.equal(result.distance, 0.2, "input untouched");
  const f = dp.fields.distance;
  assert.deepEqual({ ...f, scale: 0, grid: 0 }, {
    mechanism: "laplace",
    epsilon: 0.5,
    delta: 0,
    sensitivity: 0.01,
    scale: 0,
    grid: 0,
    dimension: 1,
  });
  assert(f.scale >= 0.02 && f.scale < 0.02 * (1 + 1e-5), `scale ${f.scale}`);
  assert(Number.isInteger(Math.log2(f.grid)), "grid is a power of two");
  assert(Number.isInteger(noisy.distance / f.grid), "released value lies on the grid");
  assert(noisy.agg.every((x) => Number.isInteger(x / dp.fields.agg.grid)));
  assert.equal(dp.fields.agg.mechanism, "gaussian");
  assert.equal(dp.accounting?.epsilon, 1);
  assert.throws(
    () =>
      privatizeResult(result, { drift_bit: { mechanism: "laplace", epsilon: 1, sensitivity: 1 } }),
    DpParameterError,
  );
  assert.throws(
    () => privatizeResult(result, { nope: { mechanism: "laplace", epsilon: 1, sensitivity: 1 } }),
    DpParameterError,
  );
  // refused by the accountant: throws before drawing, nothing charged
  assert.throws(
    () =>
      privatizeResult(
        result,
        { distance: { mechanism: "laplace", epsilon: 1.5, sensitivity: 1 } },
        { accountant: acc },
      ),
    PrivacyBudgetExceededError,
  );
  assert.equal(acc.spent().epsilon, 1);
});

Deno.test("dp: the CSPRNG source gives distinct uniforms in [0, 1); the test source is reproducible", () => {
  const u = cryptoUniform();
  const xs = Array.from({ length: 2000 }, () => u.next());
  assert(xs.every((x) => x >= 0 && x < 1));
  assert.equal(new Set(xs).size, xs.length);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  assert(Math.abs(mean - 0.5) < 0.05);
  const a = seededUniformForTestsOnly(9),
    b = seededUniformForTestsOnly(9),
    c = seededUniformForTestsOnly(10);
  const sa = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(sa, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(sa, Array.from({ length: 5 }, () => c.next()));
});

/** Pearson χ² of observed counts over `support` against pmf `p`, with the tail pooled. */
function chiSquare(
  samples: number[],
  support: number[],
  p: (z: number) => number,
): { chi2: number; df: number } {
  const counts = new Map<number, number>();
  for (const x of samples) counts.set(x, (counts.get(x) ?? 0) + 1);
  let chi2 = 0, mass = 0, seen = 0;
  for (const z of support) {
    const e = p(z) * samples.length;
    const o = counts.get(z) ?? 0;
    chi2 += (o - e) ** 2 / e;
    mass += p(z);
    seen += o;
  }
  const eTail = (1 - mass) * samples.length;
  chi2 += (samples.length - seen - eTail) ** 2 / Math.max(eTail, 1e-9);
  return { chi2, df: support.length };
}
/** Upper 0.1% point of χ² with df degrees of freedom (Wilson–Hilferty). */
function chi2Critical(df: number): number {
  const z = 3.09;
  return df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
}

Deno.test("dp exact samplers: Bernoulli(exp(−γ)) frequencies", () => {
  const rnd = seededUniformForTestsOnly(31);
  for (const [num, den] of [[0n, 1n], [3n, 10n], [1n, 1n], [5n, 2n], [7n, 3n]]) {
    const p = Math.exp(-Number(num) / Number(den));
    const n = 20000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (bernoulliExp({ num, den }, rnd)) hits++;
    assert(
      Math.abs(hits / n - p) <= 4 * Math.sqrt((p * (1 - p)) / n) + 1e-12,
      `γ=${num}/${den}: ${hits / n} vs ${p}`,
    );
  }
});

Deno.test("dp exact samplers: discrete Laplace has pmf ∝ exp(−|z|/τ) (χ², fixed seed)", () => {
  const rnd = seededUniformForTestsOnly(32);
  for (const [num, den] of [[3n, 1n], [5n, 2n]]) {
    const tau = Number(num) / Number(den);
    const xs = Array.from(
      { length: 20000 },
      () => Number(sampleDiscreteLaplace({ num, den }, rnd)),
    );
    const c = Math.tanh(1 / (2 * tau)); // (1 − e^{−1/τ}) / (1 + e^{−1/τ})
    const pmf = (z: number) => c * Math.exp(-Math.abs(z) / tau);
    const support = Array.from({ length: 21 }, (_, i) => i - 10);
    const { chi2, df } = chiSquare(xs, support, pmf);
    assert(chi2 < chi2Critical(df), `τ=${tau}: χ²=${chi2}`);
    // a 10% wrong scale is rejected by the same test
    const wrong = (z: number) => Math.tanh(1 / (2.2 * tau)) * Math.exp(-Math.abs(z) / (1.1 * tau));
    assert(chiSquare(xs, support, wrong).chi2 > chi2Critical(df));
  }
});

Deno.test("dp exact samplers: discrete Gaussian has pmf ∝ exp(−z²/2σ²) (χ², fixed seed)", () => {
  const rnd = seededUniformForTestsOnly(33);
  const sigma2 = 9 / 4;
  const xs = Array.from(
    { length: 20000 },
    () => Number(sampleDiscreteGaussian({ num: 9n, den: 4n }, rnd)),
  );
  let norm = 0;
  for (let z = -60; z <= 60; z++) norm += Math.exp(-(z * z) / (2 * sigma2));
  const pmf = (z: number) => Math.exp(-(z * z) / (2 * sigma2)) / norm;
  const support = Array.from({ length: 13 }, (_, i) => i - 6);
  const { chi2, df } = chiSquare(xs, support, pmf);
  assert(chi2 < chi2Critical(df), `χ²=${chi2}`);
  const wrongNorm = support.reduce((a, z) => a + Math.exp(-(z * z) / (2 * 1.21 * sigma2)), 0);
  assert(
    chiSquare(xs, support, (z) => Math.exp(-(z * z) / (2 * 1.21 * sigma2)) / wrongNorm).chi2 >
      chi2Critical(df),
  );
});

Deno.test("dp release: values land on the grid with the calibrated variance", () => {
  const rnd = seededUniformForTestsOnly(34);
  for (
    const spec of [
      calibrate({ mechanism: "laplace", epsilon: 0.8, sensitivity: 0.3 }),
      calibrate({ mechanism: "gaussian", epsilon: 0.8, delta: 1e-6, sensitivity: 0.3 }),
    ]
  ) {
    const value = 0.123456789;
    const n = 4000;
    const xs = Array.from({ length: n }, () => releaseValue(value, spec, rnd));
    assert(xs.every((x) => Number.isInteger(x / spec.grid)));
    const mean = xs.reduce((a, x) => a + x, 0) / n;
    const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
    const theory = spec.mechanism === "laplace" ? 2 * spec.scale ** 2 : spec.scale ** 2;
    const kurtosis = spec.mechanism === "laplace" ? 6 : 3; // μ4/σ⁴
    assert(
      Math.abs(variance - theory) < 4 * theory * Math.sqrt((kurtosis - 1) / n),
      `${spec.mechanism}: ${variance} vs ${theory}`,
    );
    assert(Math.abs(mean - value) < 4 * Math.sqrt(theory / n));
  }
  const l = calibrate({ mechanism: "laplace", epsilon: 1, sensitivity: 1 });
  assert.throws(() => releaseValue(l.grid * 2 ** 52, l, rnd), DpParameterError);
});

Deno.test("dp: vector fields pay one grid step per value for rounding, on a finer grid", () => {
  const one = calibrate({ mechanism: "laplace", epsilon: 1, sensitivity: 1 });
  const many = calibrate({ mechanism: "laplace", epsilon: 1, sensitivity: 1 }, 1000);
  assert.equal(one.grid / many.grid, 1024);
  assert(many.scale >= one.scale * (1 - 1e-6) && many.scale < one.scale * (1 + 1e-5));
  // the scale covers ⌈Δ/g⌉ + d steps at ε
  assert(many.scale / many.grid >= (Math.ceil(1 / many.grid) + 1000) / 1);
  const g1 = calibrate({ mechanism: "gaussian", epsilon: 1, delta: 1e-6, sensitivity: 1 });
  assert.equal(gridSensitivity(1, g1.grid, 100, "gaussian"), Math.ceil(1 / g1.grid + 10));
  const { dp } = privatizeResult({ agg: [1, 2, 3] }, {
    agg: { mechanism: "laplace", epsilon: 1, sensitivity: 1 },
  }, { random: seededUniformForTestsOnly(8) });
  assert.equal(dp.fields.agg.dimension, 3);
  assert.throws(
    () => calibrate({ mechanism: "laplace", epsilon: 1, sensitivity: 1 }, 0),
    DpParameterError,
  );
});

Deno.test("dp exact samplers: isqrt", () => {
  for (
    const n of [
      0n,
      1n,
      2n,
      3n,
      4n,
      15n,
      16n,
      17n,
      10n ** 30n,
      (10n ** 20n + 7n) ** 2n,
      (10n ** 20n + 7n) ** 2n - 1n,
    ]
  ) {
    const r = isqrt(n);
    assert(r * r <= n && (r + 1n) * (r + 1n) > n, `${n}`);
  }
});
