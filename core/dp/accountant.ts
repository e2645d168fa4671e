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

/**
 * Privacy loss accumulated by releases, independent of any budget: the
 * basic-composition sums and the RDP curve over {@linkcode RDP_ORDERS}.
 * {@linkcode composeLoss} turns it into a spent (ε, δ) for a budget. This is
 * the one composition rule: the in-process accountant and the ledger's
 * per-dataset budgets both use it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addLoss, composeLoss, emptyLoss } from "./accountant.ts";
 * import { calibrate } from "./mechanisms.ts";
 * const spec = calibrate({ mechanism: "laplace", epsilon: 0.25, sensitivity: 1 }, 1);
 * const loss = addLoss(addLoss(emptyLoss(), [spec]), [spec]);
 * assert.equal(loss.releases, 2);
 * assert.deepEqual(composeLoss(loss, { epsilon: 1 }, "basic"), { epsilon: 0.5, delta: 0 });
 * ```
 */
export interface PrivacyLoss {
  /** Σε (basic composition). */
  epsilon: number;
  /** Σδ (basic composition). */
  delta: number;
  /** Σ RDP ε(α), one per order of {@linkcode RDP_ORDERS}. */
  rdp: readonly number[];
  /** Number of noised fields charged. */
  releases: number;
}

/** No loss yet. */
export function emptyLoss(): PrivacyLoss {
  return { epsilon: 0, delta: 0, rdp: RDP_ORDERS.map(() => 0), releases: 0 };
}

/** `loss` plus the noised fields `specs` of one release (a new object; `loss` is unchanged). */
export function addLoss(loss: PrivacyLoss, specs: readonly CalibratedSpec[]): PrivacyLoss {
  let eps = loss.epsilon;
  let delta = loss.delta;
  const rdp = loss.rdp.slice();
  for (const s of specs) {
    eps += s.epsilon;
    delta += s.delta;
    for (let i = 0; i < RDP_ORDERS.length; i++) rdp[i] += rdpOf(s, RDP_ORDERS[i]);
  }
  return { epsilon: eps, delta, rdp, releases: loss.releases + specs.length };
}

/**
 * The (ε, δ) that `loss` amounts to under `composition`: `basic` is the
 * sums; `rdp` converts at the budget's δ and keeps the basic sums when they
 * are smaller and their δ fits (see the module documentation).
 */
export function composeLoss(
  loss: PrivacyLoss,
  budget: PrivacyBudget,
  composition: "basic" | "rdp",
): { epsilon: number; delta: number } {
  if (composition === "basic") return { epsilon: loss.epsilon, delta: loss.delta };
  const delta = budget.delta ?? 0;
  let best = Infinity;
  RDP_ORDERS.forEach((alpha, i) => {
    best = Math.min(best, loss.rdp[i] + Math.log(1 / delta) / (alpha - 1));
  });
  // basic composition remains valid when its δ fits the budget
  if (loss.delta <= delta && loss.epsilon < best) {
    return { epsilon: loss.epsilon, delta: loss.delta };
  }
  return { epsilon: best, delta };
}

/** Whether a spent (ε, δ) exceeds `budget` (with a 1e-12 relative tolerance for rounding). */
export function exceedsBudget(
  spent: { epsilon: number; delta: number },
  budget: PrivacyBudget,
): boolean {
  const tol = 1e-12;
  return spent.epsilon > budget.epsilon * (1 + tol) ||
    spent.delta > (budget.delta ?? 0) * (1 + tol);
}

/**
 * The composition the accountant (and the ledger) uses for a budget: `rdp`
 * when the budget has a δ > 0 (never reports more than basic), else `basic`.
 */
export function compositionFor(budget: PrivacyBudget): "basic" | "rdp" {
  return (budget.delta ?? 0) > 0 ? "rdp" : "basic";
}

/** Tracks the privacy spent by releases against a budget. */
export class PrivacyAccountant {
  /** The budget. */
  readonly budget: Readonly<PrivacyBudget>;
  /** The composition theorem used. */
  readonly composition: "basic" | "rdp";
  #loss: PrivacyLoss = emptyLoss();

  /**
   * Create an accountant with nothing spent.
   * @param budget total (ε, δ); δ must be > 0 for `rdp`.
   * @param composition `basic` (default) or `rdp`.
   * @throws {DpParameterError} on an invalid budget.
   */
  constructor(budget: PrivacyBudget, composition: "basic" | "rdp" = "basic") {
    checkBudget(budget);
    const delta = budget.delta ?? 0;
    if (composition === "rdp" && delta === 0) {
      throw new DpParameterError("delta", "RDP accounting needs a budget delta > 0");
    }
    this.budget = { epsilon: budget.epsilon, delta };
    this.composition = composition;
  }

  /** What the accountant has spent so far. */
  spent(): PrivacySpent {
    const t = composeLoss(this.#loss, this.budget, this.composition);
    return { composition: this.composition, ...t, releases: this.#loss.releases };
  }

  /**
   * Charge the noised fields of one release, all or nothing.
   * @throws {PrivacyBudgetExceededError} when the total would exceed the budget (nothing charged).
   */
  charge(specs: readonly CalibratedSpec[]): PrivacySpent {
    const next = addLoss(this.#loss, specs);
    const t = composeLoss(next, this.budget, this.composition);
    if (exceedsBudget(t, this.budget)) {
      throw new PrivacyBudgetExceededError(t.epsilon, t.delta, this.budget);
    }
    this.#loss = next;
    return this.spent();
  }
}

/**
 * Check a budget: ε finite and > 0, δ in [0, 1).
 * @throws {DpParameterError} naming the bad member.
 */
export function checkBudget(budget: PrivacyBudget): void {
  if (!(Number.isFinite(budget.epsilon) && budget.epsilon > 0)) {
    throw new DpParameterError("epsilon", `budget must be finite and > 0, got ${budget.epsilon}`);
  }
  const delta = budget.delta ?? 0;
  if (!(typeof delta === "number" && delta >= 0 && delta < 1)) {
    throw new DpParameterError("delta", `budget must lie in [0, 1), got ${delta}`);
  }
}
