/**
 * A privacy accountant that refuses a release exceeding its budget.
 *
 * - `basic` composition: ε and δ add up.
 * - `rdp` composition: additionally tracks Rényi DP over a grid of orders
 *   α (see {@linkcode rdpOf}) and converts
 *   with `ε = min_α RDP(α) + ln(1/δ)/(α − 1)` at the budget's δ (Mironov
 *   2017, Prop. 3). The spent ε reported is the smaller of the two valid
 *   bounds, so RDP never reports more than basic composition.
 *
 * @module
 */
import { RegledgerError } from "../errors.ts";
import { type CalibratedSpec, DpParameterError, gridSensitivity } from "./mechanisms.ts";

/** A release would exceed the accountant's budget; nothing was charged. */
export class PrivacyBudgetExceededError extends RegledgerError {
  /** ε that would have been spent. */
  readonly epsilon: number;
  /** δ that would have been spent. */
  readonly delta: number;
  /** Build the error. */
  constructor(epsilon: number, delta: number, budget: PrivacyBudget) {
    super(
      `privacy budget exceeded: release would spend (ε=${epsilon.toPrecision(6)}, ` +
        `δ=${delta.toPrecision(3)}) against a budget of (ε=${budget.epsilon}, δ=${
          budget.delta ?? 0
        })`,
    );
    this.epsilon = epsilon;
    this.delta = delta;
  }
}

/** A total privacy budget. */
export interface PrivacyBudget {
  /** Total ε. */
  epsilon: number;
  /** Total δ (0 or absent: pure ε-DP only). */
  delta?: number;
}

/** The accountant's running totals. */
export interface PrivacySpent {
  /** Composition used. */
  composition: "basic" | "rdp";
  /** ε spent so far. */
  epsilon: number;
  /** δ spent so far. */
  delta: number;
  /** Number of noised fields charged. */
  releases: number;
}

/** Rényi orders tracked by the RDP accountant. */
export const RDP_ORDERS: readonly number[] = [
  1.25,
  1.5,
  1.75,
  2,
  2.5,
  3,
  4,
  5,
  6,
  8,
  10,
  12,
  16,
  20,
  24,
  32,
  48,
  64,
  96,
  128,
  256,
  512,
  1024,
];

/**
 * RDP ε(α) of one calibrated (discrete, grid) mechanism, with the grid
 * sensitivity `Δ_g·g`: discrete Gaussian `α Δ²/(2σ²)` (ρ-zCDP, CKS 2020);
 * discrete Laplace, being ε-DP, `min(ε, α ε²/2)` (Bun–Steinke 2016).
 */
export function rdpOf(spec: CalibratedSpec, alpha: number): number {
  const sensitivity = gridSensitivity(spec.sensitivity, spec.grid, spec.dimension, spec.mechanism) *
    spec.grid;
  if (spec.mechanism === "gaussian") {
    return (alpha * sensitivity ** 2) / (2 * spec.scale ** 2);
  }
  const eps = sensitivity / spec.scale;
  return Math.min(eps, (alpha * eps * eps) / 2);
}

/** Tracks the privacy spent by releases against a budget. */
export class PrivacyAccountant {
  /** The budget. */
  readonly budget: Readonly<PrivacyBudget>;
  /** The composition theorem used. */
  readonly composition: "basic" | "rdp";
  #basicEpsilon = 0;
  #basicDelta = 0;
  #rdp: number[] = RDP_ORDERS.map(() => 0);
  #releases = 0;

  /**
   * Create an accountant with nothing spent.
   * @param budget total (ε, δ); δ must be > 0 for `rdp`.
   * @param composition `basic` (default) or `rdp`.
   * @throws {DpParameterError} on an invalid budget.
   */
  constructor(budget: PrivacyBudget, composition: "basic" | "rdp" = "basic") {
    if (!(Number.isFinite(budget.epsilon) && budget.epsilon > 0)) {
      throw new DpParameterError("epsilon", `budget must be finite and > 0, got ${budget.epsilon}`);
    }
    const delta = budget.delta ?? 0;
    if (!(delta >= 0 && delta < 1)) {
      throw new DpParameterError("delta", `budget must lie in [0, 1), got ${delta}`);
    }
    if (composition === "rdp" && delta === 0) {
      throw new DpParameterError("delta", "RDP accounting needs a budget delta > 0");
    }
    this.budget = { epsilon: budget.epsilon, delta };
    this.composition = composition;
  }

  #totals(basicEps: number, basicDelta: number, rdp: number[]): { epsilon: number; delta: number } {
    if (this.composition === "basic") return { epsilon: basicEps, delta: basicDelta };
    const delta = this.budget.delta ?? 0;
    let best = Infinity;
    RDP_ORDERS.forEach((alpha, i) => {
      best = Math.min(best, rdp[i] + Math.log(1 / delta) / (alpha - 1));
    });
    // basic composition remains valid when its δ fits the budget
    if (basicDelta <= delta && basicEps < best) return { epsilon: basicEps, delta: basicDelta };
    return { epsilon: best, delta };
  }

  /** What the accountant has spent so far. */
  spent(): PrivacySpent {
    const t = this.#totals(this.#basicEpsilon, this.#basicDelta, this.#rdp);
    return { composition: this.composition, ...t, releases: this.#releases };
  }

  /**
   * Charge the noised fields of one release, all or nothing.
   * @throws {PrivacyBudgetExceededError} when the total would exceed the budget (nothing charged).
   */
  charge(specs: readonly CalibratedSpec[]): PrivacySpent {
    let eps = this.#basicEpsilon;
    let delta = this.#basicDelta;
    const rdp = [...this.#rdp];
    for (const s of specs) {
      eps += s.epsilon;
      delta += s.delta;
      RDP_ORDERS.forEach((alpha, i) => {
        rdp[i] += rdpOf(s, alpha);
      });
    }
    const t = this.#totals(eps, delta, rdp);
    const tol = 1e-12;
    if (
      t.epsilon > this.budget.epsilon * (1 + tol) || t.delta > (this.budget.delta ?? 0) * (1 + tol)
    ) {
      throw new PrivacyBudgetExceededError(t.epsilon, t.delta, this.budget);
    }
    this.#basicEpsilon = eps;
    this.#basicDelta = delta;
    this.#rdp = rdp;
    this.#releases += specs.length;
    return this.spent();
  }
}
