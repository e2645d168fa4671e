/**
 * Privacy budgets per issuer and dataset: the dataset identifier an
 * envelope's signed `dp` block names, the release (noised fields) it
 * charges, and the budget file `serve --privacy-budgets FILE` reads
 * (`schemas/privacy-budgets.json`).
 *
 * The ledger composes these releases with {@linkcode addLoss} and
 * {@linkcode composeLoss} (`accountant.ts`): one composition rule.
 *
 * @module
 */
import { RegledgerError } from "../errors.ts";
import { composeLoss, compositionFor, type PrivacyBudget, type PrivacyLoss } from "./accountant.ts";
import type { CalibratedSpec } from "./mechanisms.ts";

/** A dataset identifier: 1–256 characters, a letter or digit first, then `A-Za-z0-9._:/+=@-`. */
export const DATASET_ID_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,255}$/;

/**
 * Why `id` is not a dataset identifier, or null when it is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { datasetIdProblem } from "./budgets.ts";
 * assert.equal(datasetIdProblem("sha256:9f2c0a"), null);
 * assert.match(datasetIdProblem("two words") ?? "", /dataset/);
 * ```
 */
export function datasetIdProblem(id: unknown): string | null {
  if (typeof id !== "string") return "the dataset must be a string";
  if (!DATASET_ID_PATTERN.test(id)) {
    return `the dataset ${JSON.stringify(id.slice(0, 80))} is not an identifier ` +
      "(1-256 characters: a letter or digit, then letters, digits or ._:/+=@-)";
  }
  return null;
}

/** One release as the ledger charges it: the dataset and the noised fields. */
export interface DatasetRelease {
  /** The dataset named in the signed `dp` block. */
  dataset: string;
  /** The noised fields, in the block's key order. */
  specs: CalibratedSpec[];
}

/** A problem in an envelope's `dp` block: where (JSON pointer) and what. */
export interface DpBlockProblem {
  /** JSON pointer inside the envelope. */
  pointer: string;
  /** What is wrong. */
  message: string;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Check the `dp` block of an envelope that names a dataset: the dataset is an
 * identifier and every field records what the ledger needs to compose it
 * (mechanism, ε > 0, δ in [0, 1) — 0 for Laplace, sensitivity, scale and
 * grid > 0, dimension a positive integer). A block without `dataset` is not
 * charged to any budget and is not checked here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dpBlockProblem } from "./budgets.ts";
 * assert.equal(dpBlockProblem(undefined), null);
 * assert.equal(dpBlockProblem({ applied: true, fields: {} }), null); // no dataset: not charged
 * assert.equal(dpBlockProblem({ dataset: "d", fields: {} })?.pointer, "/dp/fields");
 * ```
 */
export function dpBlockProblem(dp: unknown): DpBlockProblem | null {
  if (!isObj(dp) || dp.dataset === undefined) return null;
  const bad = datasetIdProblem(dp.dataset);
  if (bad) return { pointer: "/dp/dataset", message: bad };
  if (!isObj(dp.fields) || Object.keys(dp.fields).length === 0) {
    return { pointer: "/dp/fields", message: "a dp block naming a dataset needs noised fields" };
  }
  for (const [name, f] of Object.entries(dp.fields)) {
    const base = `/dp/fields/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    const fail = (m: string, message: string) => ({ pointer: base + m, message });
    if (!isObj(f)) return fail("", "must be an object");
    if (f.mechanism !== "laplace" && f.mechanism !== "gaussian") {
      return fail("/mechanism", "must be laplace or gaussian");
    }
    for (const k of ["epsilon", "sensitivity", "scale", "grid"]) {
      if (!finite(f[k]) || (f[k] as number) <= 0) return fail(`/${k}`, "must be a number > 0");
    }
    const d = f.delta;
    if (!finite(d) || d < 0 || d >= 1) return fail("/delta", "must be a number in [0, 1)");
    if (f.mechanism === "laplace" && d !== 0) return fail("/delta", "must be 0 for laplace");
    if (f.mechanism === "gaussian" && d === 0) return fail("/delta", "must be > 0 for gaussian");
    if (!Number.isSafeInteger(f.dimension) || (f.dimension as number) < 1) {
      return fail("/dimension", "must be a positive integer");
    }
  }
  return null;
}

/**
 * The release an envelope (its parsed JSON value) charges, or null when its
 * `dp` block names no dataset (no budget applies).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { datasetRelease } from "./budgets.ts";
 * import { calibrate } from "./mechanisms.ts";
 * const c = calibrate({ mechanism: "laplace", epsilon: 0.5, sensitivity: 0.1 }, 1);
 * const r = datasetRelease({ dp: { applied: true, dataset: "ds-1", fields: { c } } });
 * assert.equal(r?.dataset, "ds-1");
 * assert.equal(r?.specs[0].epsilon, 0.5);
 * assert.equal(datasetRelease({ result: {} }), null);
 * ```
 *
 * @throws {DpBlockError} when the block names a dataset but is malformed.
 */
export function datasetRelease(envelope: unknown): DatasetRelease | null {
  const dp = isObj(envelope) ? envelope.dp : undefined;
  if (!isObj(dp) || dp.dataset === undefined) return null;
  const bad = dpBlockProblem(dp);
  if (bad) throw new DpBlockError(bad.pointer, bad.message);
  const specs = Object.values(dp.fields as Record<string, Record<string, unknown>>).map((f) => ({
    mechanism: f.mechanism as CalibratedSpec["mechanism"],
    epsilon: f.epsilon as number,
    delta: f.delta as number,
    sensitivity: f.sensitivity as number,
    scale: f.scale as number,
    grid: f.grid as number,
    dimension: f.dimension as number,
  }));
  return { dataset: dp.dataset as string, specs };
}

/** An envelope's `dp` block names a dataset but cannot be charged. */
export class DpBlockError extends RegledgerError {
  /** JSON pointer of the problem. */
  readonly pointer: string;
  /** Build the error. */
  constructor(pointer: string, message: string) {
    super(`${pointer}: ${message}`);
    this.pointer = pointer;
  }
}

/** One configured budget. */
export interface DatasetBudget extends PrivacyBudget {
  /** The issuer (the envelope's `issuer`). */
  issuer: string;
  /** The dataset identifier. */
  dataset: string;
  /** Total δ (0 when the file omits it). */
  delta: number;
}

/** The privacy-budget file is malformed; `pointer` names where. */
export class PrivacyBudgetFileError extends RegledgerError {
  /** JSON pointer into the file. */
  readonly pointer: string;
  /** The file, when known. */
  readonly file: string | undefined;
  /** What is wrong there. */
  readonly detail: string;
  /** Build the error: `[file: ]pointer: detail`. */
  constructor(pointer: string, detail: string, file?: string) {
    super(`${file === undefined ? "" : `${file}: `}${pointer || "/"}: ${detail}`);
    this.pointer = pointer;
    this.file = file;
    this.detail = detail;
  }
}

/**
 * Key of an (issuer, dataset) pair in maps: unambiguous, since a dataset
 * identifier never contains NUL.
 */
export function budgetKey(issuer: string, dataset: string): string {
  return `${issuer}\u0000${dataset}`;
}

/**
 * Parse and strictly check a privacy-budget file
 * (`{"budgets": [{"issuer", "dataset", "epsilon", "delta"?}]}`, no other
 * members, one budget per issuer and dataset). Returns the budgets by
 * {@linkcode budgetKey}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { budgetKey, parsePrivacyBudgets, PrivacyBudgetFileError } from "./budgets.ts";
 * const b = parsePrivacyBudgets('{"budgets":[{"issuer":"acme","dataset":"ds","epsilon":1}]}');
 * assert.equal(b.get(budgetKey("acme", "ds"))?.delta, 0);
 * assert.throws(() => parsePrivacyBudgets('{"budgets":[{"issuer":"acme"}]}'), PrivacyBudgetFileError);
 * ```
 *
 * @throws {PrivacyBudgetFileError} naming the first problem.
 */
export function parsePrivacyBudgets(text: string): Map<string, DatasetBudget> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new PrivacyBudgetFileError("", `not JSON: ${(e as Error).message}`);
  }
  if (!isObj(v)) throw new PrivacyBudgetFileError("", 'must be an object {"budgets": [...]}');
  for (const k of Object.keys(v)) {
    if (k !== "budgets") throw new PrivacyBudgetFileError(`/${k}`, "unknown member");
  }
  if (!Array.isArray(v.budgets)) throw new PrivacyBudgetFileError("/budgets", "must be an array");
  const out = new Map<string, DatasetBudget>();
  v.budgets.forEach((b: unknown, i: number) => {
    const at = `/budgets/${i}`;
    if (!isObj(b)) throw new PrivacyBudgetFileError(at, "must be an object");
    for (const k of Object.keys(b)) {
      if (!["issuer", "dataset", "epsilon", "delta"].includes(k)) {
        throw new PrivacyBudgetFileError(`${at}/${k}`, "unknown member");
      }
    }
    if (typeof b.issuer !== "string" || b.issuer.length === 0 || b.issuer.length > 512) {
      throw new PrivacyBudgetFileError(`${at}/issuer`, "must be a string of 1-512 characters");
    }
    const bad = datasetIdProblem(b.dataset);
    if (bad) throw new PrivacyBudgetFileError(`${at}/dataset`, bad);
    if (!finite(b.epsilon) || b.epsilon <= 0) {
      throw new PrivacyBudgetFileError(`${at}/epsilon`, "must be a finite number > 0");
    }
    const delta = b.delta ?? 0;
    if (!finite(delta) || delta < 0 || delta >= 1) {
      throw new PrivacyBudgetFileError(`${at}/delta`, "must be a number in [0, 1)");
    }
    const key = budgetKey(b.issuer, b.dataset as string);
    if (out.has(key)) {
      throw new PrivacyBudgetFileError(
        at,
        `a second budget for issuer ${JSON.stringify(b.issuer)} and dataset ${
          JSON.stringify(b.dataset)
        }`,
      );
    }
    out.set(key, { issuer: b.issuer, dataset: b.dataset as string, epsilon: b.epsilon, delta });
  });
  return out;
}

/** What a pair's releases spent, as the ledger and evidence packs report it. */
export interface PrivacySpend {
  /** Composed ε. */
  epsilon: number;
  /** Composed δ. */
  delta: number;
  /** The composition used ({@linkcode compositionFor} the budget; `basic` without one). */
  composition: "basic" | "rdp";
  /** Noised fields charged. */
  releases: number;
}

/**
 * The spend of `loss` against `budget` (null: none configured, basic
 * composition): the one rule `GET /v1/privacy/budget` and `evidence verify`
 * both report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addLoss, calibrate, emptyLoss, spendOf } from "./index.ts";
 * const c = calibrate({ mechanism: "laplace", epsilon: 0.5, sensitivity: 0.1 }, 1);
 * const loss = addLoss(addLoss(emptyLoss(), [c]), [c]);
 * assert.deepEqual(spendOf(loss, null), { epsilon: 1, delta: 0, composition: "basic", releases: 2 });
 * assert.equal(spendOf(loss, { epsilon: 2, delta: 1e-6 }).composition, "rdp");
 * ```
 */
export function spendOf(
  loss: PrivacyLoss,
  budget: { epsilon: number; delta: number } | null,
): PrivacySpend {
  const composition = budget ? compositionFor(budget) : "basic";
  const spent = composeLoss(loss, budget ?? { epsilon: 1 }, composition);
  return { epsilon: spent.epsilon, delta: spent.delta, composition, releases: loss.releases };
}

/**
 * What remains of `budget` after `spent`: budget minus spent for ε and δ,
 * never below 0, and null without a budget (unlimited). With
 * {@linkcode spendOf}, what `GET /v1/privacy/budget` and an evidence pack's
 * budget statement both state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { remainingBudget } from "./index.ts";
 * assert.deepEqual(remainingBudget({ epsilon: 1, delta: 1e-6 }, { epsilon: 0.25, delta: 2e-6 }), {
 *   epsilon: 0.75,
 *   delta: 0,
 * });
 * assert.equal(remainingBudget(null, { epsilon: 3, delta: 0 }), null);
 * ```
 */
export function remainingBudget(
  budget: { epsilon: number; delta: number } | null,
  spent: { epsilon: number; delta: number },
): { epsilon: number; delta: number } | null {
  return budget
    ? {
      epsilon: Math.max(0, budget.epsilon - spent.epsilon),
      delta: Math.max(0, budget.delta - spent.delta),
    }
    : null;
}
