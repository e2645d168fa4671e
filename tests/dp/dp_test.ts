/**
 * Differential privacy: noise scales against theory (variance confidence
 * intervals and Kolmogorov–Smirnov with a fixed seed), parameter
 * validation, calibration formulas, the accountant's refusals, RDP
 * conversion against its closed form, and the envelope `dp` block.
 */
import assert from "node:assert/strict";
import {
  calibrate,
  cryptoUniform,
  DpParameterError,
  gaussianSigma,
  laplaceScale,
  PrivacyAccountant,
  PrivacyBudgetExceededError,
  privatizeResult,
  rdpOf,
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

Deno.test("dp: Laplace RDP matches Mironov's formula and tends to ε", () => {
  const l = calibrate({ mechanism: "laplace", epsilon: 0.7, sensitivity: 2 });
  const lambda = l.scale / l.sensitivity;
  const at2 = Math.log((2 / 3) * Math.exp(1 / lambda) + (1 / 3) * Math.exp(-2 / lambda));
  assert(Math.abs(rdpOf(l, 2) - at2) < 1e-12);
  assert(rdpOf(l, 1024) <= 0.7 && rdpOf(l, 1024) > 0.69);
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
  assert.deepEqual(dp.fields.distance, {
    mechanism: "laplace",
    epsilon: 0.5,
    delta: 0,
    sensitivity: 0.01,
    scale: 0.02,
  });
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
