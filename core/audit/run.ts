/**
 * The high-level audit API used by the CLI and the server:
 * {@linkcode runAudit} validates an untrusted input, computes the exact
 * statistic, checks it against the primitive's circuit on the plaintext
 * slot backend (depth and operation counts recorded), optionally applies
 * differential privacy, and returns everything an envelope needs.
 *
 * Seam for encrypted backends: {@linkcode runAuditWith} takes an
 * {@linkcode AuditBackend}, an object that runs a primitive's circuit
 * (e.g. `core/fhe`'s CKKS runner) and reports its result, stats and live
 * parameter set; validation, regulations and DP stay here.
 *
 * @module
 */
import type { PrimitiveName } from "../envelope_types.ts";
import type { JsonObject } from "../envelope.ts";
import { CIRCUITS } from "../circuits/index.ts";
import type { BaseLayout, Circuit } from "../circuits/circuit.ts";
import { runCircuitPlaintext } from "../circuits/circuit.ts";
import type { EvaluationStats } from "../circuits/slots.ts";
import type { DpSpec } from "../dp/mechanisms.ts";
import type { PrivacyAccountant } from "../dp/accountant.ts";
import type { UniformSource } from "../dp/random.ts";
import { type DpBlock, privatizeResult } from "../dp/release.ts";
import {
  type InputOf,
  parseInput,
  PRIMITIVE_SPECS,
  resultBytesFloor,
  type ResultOf,
} from "../primitives/registry.ts";
import { InputValidationError } from "../errors.ts";
import { topK } from "../primitives/provenance.ts";

/**
 * The parameter set of the plaintext backend: no encryption. The same for
 * every primitive and every release, so a trust store can pin its hash:
 * `backend_version` names the version of the exact-statistics semantics
 * (bumped only when a statistic's definition changes), not the package.
 */
export const PLAINTEXT_PARAMETER_SET: Readonly<JsonObject> = Object.freeze({
  backend: "plaintext",
  backend_version: "regledger-exact/1",
  library: "regledger exact statistics",
  scheme: "none",
  poly_modulus_degree: 0,
  coeff_mod_bit_sizes: [],
  scaling_factor_bits: 0,
  security_bits: 0,
  multiplicative_depth: 0,
  slots: 0,
});

/** Largest layout the plaintext circuit check runs on (bigger inputs skip it). */
export const DEFAULT_MAX_CIRCUIT_SLOTS = 1 << 16;

/** Numeric fields noised by default when DP is requested for a primitive. */
export const DP_DEFAULT_FIELDS: { readonly [P in PrimitiveName]: readonly string[] } = {
  fairness: ["demographic_parity_diff", "equal_opportunity_diff", "predictive_parity_diff"],
  provenance: ["bucket_aggregates"],
  concordance: ["c_index"],
  calibration: ["set_size"],
  drift: ["distance", "w1_distance"],
  disagreement: ["pairwise_variance", "per_model_outputs"],
};

/**
 * Differential privacy for one audit.
 *
 * @example Noise the drift distance, charged to an accountant
 * ```ts
 * import assert from "node:assert/strict";
 * import { PrivacyAccountant } from "../dp/accountant.ts";
 * import { type AuditDpOptions, runAudit } from "./run.ts";
 * const accountant = new PrivacyAccountant({ epsilon: 1 });
 * const dp: AuditDpOptions = {
 *   specs: { distance: { mechanism: "laplace", epsilon: 0.5, sensitivity: 0.1 } },
 *   accountant,
 * };
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] }, { dp });
 * assert.deepEqual(Object.keys(run.dp?.fields ?? {}), ["distance"]);
 * assert.equal(run.dp?.fields.distance.mechanism, "laplace");
 * assert.equal(run.dp?.accounting?.epsilon, 0.5); // half the budget is spent
 * ```
 */
export interface AuditDpOptions {
  /** Per result field: mechanism, ε, δ, sensitivity. */
  specs: Record<string, DpSpec>;
  /** Randomness. @default CSPRNG */
  random?: UniformSource;
  /** Charged before noise is drawn; refuses over-budget releases. */
  accountant?: PrivacyAccountant;
  /** The dataset recorded in the signed `dp` block (the ledger charges its budget). */
  dataset?: string;
}

/**
 * Options of {@linkcode runAudit}.
 *
 * @example Skip the circuit check for inputs wider than a slot limit
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AuditOptions, runAudit } from "./run.ts";
 * const options: AuditOptions = { maxCircuitSlots: 1 };
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] }, options);
 * assert.equal(run.circuit.slots, null); // not run: the layout needs more than one slot
 * assert.equal(run.stats, null);
 * assert.equal(typeof run.result.drift_bit, "boolean"); // the exact statistic is still released
 * ```
 */
export interface AuditOptions {
  /** Only `plaintext` here; encrypted backends go through {@linkcode runAuditWith}. @default {"plaintext"} */
  backend?: "plaintext";
  /** Apply differential privacy to the released result. */
  dp?: AuditDpOptions;
  /** Skip the circuit check when its layout needs more slots. @default {65536} */
  maxCircuitSlots?: number;
  /**
   * Refuse, before computing, an input whose result cannot take fewer bytes
   * of JSON than this (the ledger's envelope limit, for a caller that will
   * log the envelope). @default {Infinity}
   */
  maxResultBytes?: number;
}

/**
 * Refuse `valid` when its result cannot fit in `max` bytes of JSON.
 * @throws {InputValidationError} rule `result-size`, naming the field that makes it grow.
 */
function checkResultFits<P extends PrimitiveName>(
  primitive: P,
  valid: InputOf<P>,
  max: number | undefined,
): void {
  if (max === undefined) return;
  const floor = resultBytesFloor(primitive, valid);
  if (floor.bytes > max) {
    throw new InputValidationError(
      floor.pointer,
      "result-size",
      `the ${primitive} result would take at least ${floor.bytes} bytes, more than the ` +
        `${max} bytes an envelope may hold; not computed`,
    );
  }
}

/**
 * How the circuit compared with the exact statistic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CircuitCheck, runAudit } from "./run.ts";
 * const check: CircuitCheck = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] }).circuit;
 * assert.ok(check.slots !== null && check.slots > 0); // the circuit ran
 * assert.equal(check.decisionsAgree, true);
 * assert.ok(check.maxAbsDeviation !== null && check.maxAbsDeviation < 1e-9); // plaintext is exact
 * assert.equal(typeof check.errorBound, "string");
 * ```
 */
export interface CircuitCheck {
  /** Slots the circuit ran with, or null when the input was too large to run it. */
  slots: number | null;
  /** The circuit's stated error bound. */
  errorBound: string;
  /** Max |circuit − exact| over the numeric result fields (null when not run). */
  maxAbsDeviation: number | null;
  /** Whether every boolean, integer-list and top-K field agreed (null when not run). */
  decisionsAgree: boolean | null;
}

/**
 * Everything one audit produced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AuditRun, runAudit } from "./run.ts";
 * const run: AuditRun<"drift"> = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * assert.equal(run.primitive, "drift");
 * assert.equal(run.backend, "plaintext");
 * assert.deepEqual(run.input.p, [5, 3, 2]); // the validated input the envelope commits to
 * assert.equal(run.parameterSet.backend, "plaintext");
 * assert.equal(run.depth.consumed, run.stats?.depthConsumed);
 * assert.equal(run.dp, undefined); // no DP requested
 * ```
 */
export interface AuditRun<P extends PrimitiveName> {
  /** The primitive. */
  primitive: P;
  /** Envelope `backend`: `plaintext` or the encrypted backend's name. */
  backend: string;
  /** The validated input, defaults filled in (what the envelope commits to). */
  input: InputOf<P>;
  /** The released result (exact statistic on plaintext; noised when DP applies). */
  result: ResultOf<P>;
  /** Declared depth of the circuit and depth the evaluation consumed (0 when not run). */
  depth: { declared: number; consumed: number };
  /** Operation counts of the circuit evaluation (null when not run). */
  stats: EvaluationStats | null;
  /** Circuit versus exact statistic. */
  circuit: CircuitCheck;
  /** Regulation tags. */
  regulations: string[];
  /** The backend's parameter set (envelope `parameter_set`). */
  parameterSet: JsonObject;
  /** The `dp` block when DP was applied. */
  dp?: DpBlock;
}

/** An encrypted (or other) backend that runs a primitive's circuit. */
export interface AuditBackend {
  /** Envelope `backend` name, e.g. `seal-ckks`. */
  readonly name: string;
  /** Run `circuit` on the validated `input`; report the finished result, stats and parameters. */
  run<P extends PrimitiveName>(
    primitive: P,
    circuit: Circuit<InputOf<P>, ResultOf<P>, BaseLayout>,
    input: InputOf<P>,
  ): Promise<{
    result: ResultOf<P>;
    stats: EvaluationStats;
    depth: { declared: number; consumed: number };
    parameterSet: JsonObject;
  }>;
}

/**
 * Run `primitive` on an untrusted `input` with the plaintext backend.
 *
 * @example
 * ```ts
 * import { runAudit } from "./run.ts";
 * import assert from "node:assert/strict";
 * const run = runAudit("drift", { p: [1, 2, 3], q: [3, 2, 1] });
 * assert.equal(run.result.drift_bit, true);
 * assert.deepEqual(run.depth, { declared: 1, consumed: 1 });
 * ```
 * @throws {InputValidationError} naming the field and rule, before computing.
 * @throws {DpParameterError} on invalid DP options.
 * @throws {PrivacyBudgetExceededError} when the accountant refuses the release.
 */
export function runAudit<P extends PrimitiveName>(
  primitive: P,
  input: unknown,
  options: AuditOptions = {},
): AuditRun<P> {
  if ((options.backend ?? "plaintext") !== "plaintext") {
    throw new RangeError(
      `runAudit runs the plaintext backend; use runAuditWith for ${options.backend}`,
    );
  }
  const spec = PRIMITIVE_SPECS[primitive];
  if (!spec) throw new RangeError(`unknown primitive ${primitive}`);
  const valid = parseInput(primitive, input);
  checkResultFits(primitive, valid, options.maxResultBytes);
  const exact = spec.statistic(valid as never) as ResultOf<P>;
  const circuit = CIRCUITS[primitive] as unknown as Circuit<InputOf<P>, ResultOf<P>, BaseLayout>;
  const slots = circuit.minSlots(valid);
  let stats: EvaluationStats | null = null;
  const check: CircuitCheck = {
    slots: null,
    errorBound: circuit.errorBound,
    maxAbsDeviation: null,
    decisionsAgree: null,
  };
  if (slots <= (options.maxCircuitSlots ?? DEFAULT_MAX_CIRCUIT_SLOTS)) {
    const run = runCircuitPlaintext(circuit, valid, { slots });
    stats = run.stats;
    check.slots = slots;
    const d = compareResults(exact, run.result);
    check.maxAbsDeviation = d.maxAbsDeviation;
    check.decisionsAgree = d.decisionsAgree;
  }
  return finalize(primitive, valid, exact, {
    backend: "plaintext",
    depth: { declared: circuit.depth, consumed: stats?.depthConsumed ?? 0 },
    stats,
    check,
    parameterSet: structuredClone(PLAINTEXT_PARAMETER_SET) as JsonObject,
  }, options.dp);
}

/**
 * Run `primitive` on an untrusted `input` through `backend` (e.g. CKKS).
 * The released result is the backend's finished circuit output; it is also
 * compared with the exact statistic (`circuit.maxAbsDeviation`).
 * @throws {InputValidationError} naming the field and rule, before computing.
 */
export async function runAuditWith<P extends PrimitiveName>(
  primitive: P,
  input: unknown,
  backend: AuditBackend,
  options: {
    dp?: AuditDpOptions;
    circuit?: Circuit<InputOf<P>, ResultOf<P>, BaseLayout>;
    maxResultBytes?: number;
  } = {},
): Promise<AuditRun<P>> {
  const valid = parseInput(primitive, input);
  checkResultFits(primitive, valid, options.maxResultBytes);
  const circuit = options.circuit ??
    (CIRCUITS[primitive] as unknown as Circuit<InputOf<P>, ResultOf<P>, BaseLayout>);
  const run = await backend.run(primitive, circuit, valid);
  const exact = PRIMITIVE_SPECS[primitive].statistic(valid as never) as ResultOf<P>;
  const d = compareResults(exact, run.result);
  return finalize(primitive, valid, run.result, {
    backend: backend.name,
    depth: run.depth,
    stats: run.stats,
    check: {
      slots: circuit.minSlots(valid),
      errorBound: circuit.errorBound,
      maxAbsDeviation: d.maxAbsDeviation,
      decisionsAgree: d.decisionsAgree,
    },
    parameterSet: run.parameterSet,
  }, options.dp);
}

function finalize<P extends PrimitiveName>(
  primitive: P,
  input: InputOf<P>,
  result: ResultOf<P>,
  run: {
    backend: string;
    depth: { declared: number; consumed: number };
    stats: EvaluationStats | null;
    check: CircuitCheck;
    parameterSet: JsonObject;
  },
  dpOptions: AuditDpOptions | undefined,
): AuditRun<P> {
  let released = result;
  let dp: DpBlock | undefined;
  if (dpOptions) {
    const noised = privatizeResult(result, dpOptions.specs, {
      random: dpOptions.random,
      accountant: dpOptions.accountant,
      ...(dpOptions.dataset !== undefined ? { dataset: dpOptions.dataset } : {}),
    });
    released = recomputeDerived(primitive, input, noised.result, Object.keys(dpOptions.specs));
    dp = noised.dp;
  }
  const out: AuditRun<P> = {
    primitive,
    backend: run.backend,
    input,
    result: released,
    depth: run.depth,
    stats: run.stats,
    circuit: run.check,
    regulations: [...PRIMITIVE_SPECS[primitive].regulations],
    parameterSet: run.parameterSet,
  };
  if (dp) out.dp = dp;
  return out;
}

/**
 * Recompute the fields derived from noised ones (post-processing keeps the
 * DP guarantee; leaving them exact would leak the un-noised values).
 */
export function recomputeDerived<P extends PrimitiveName>(
  primitive: P,
  input: InputOf<P>,
  result: ResultOf<P>,
  noised: readonly string[],
): ResultOf<P> {
  const r = { ...result } as Record<string, unknown>;
  const inp = input as unknown as Record<string, unknown>;
  const num = (k: string) => r[k] as number;
  switch (primitive) {
    case "fairness":
      r.threshold_breached = Math.max(
        Math.abs(num("demographic_parity_diff")),
        Math.abs(num("equal_opportunity_diff")),
        Math.abs(num("predictive_parity_diff")),
      ) > (inp.threshold as number);
      break;
    case "provenance": {
      const t = topK(r.bucket_aggregates as number[], inp.k as number);
      r.topk_indices = t.indices;
      r.topk_indicator = t.indicator;
      break;
    }
    case "concordance":
      if (!noised.includes("c_index") && num("comparable_pairs") > 0) {
        r.c_index = num("concordant_pairs") / num("comparable_pairs");
      }
      break;
    case "drift":
      r.drift_bit = num("distance") > (inp.drift_threshold as number);
      break;
    case "disagreement":
      r.breach = num("pairwise_variance") > (inp.threshold as number);
      break;
  }
  return r as unknown as ResultOf<P>;
}

/** Max numeric deviation and agreement of discrete fields between two results. */
export function compareResults(
  exact: object,
  other: object,
): { maxAbsDeviation: number; decisionsAgree: boolean } {
  let maxAbs = 0;
  let agree = true;
  const walk = (a: unknown, b: unknown, discrete: boolean) => {
    if (typeof a === "number" && typeof b === "number") {
      if (discrete) agree &&= a === b;
      else maxAbs = Math.max(maxAbs, Math.abs(a - b));
    } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((x, i) => walk(x, b[i], discrete));
    } else if (typeof a === "boolean" || a !== b) {
      agree &&= a === b;
    }
  };
  const e = exact as Record<string, unknown>;
  const o = other as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    walk(e[key], o[key], DISCRETE_FIELDS.has(key));
  }
  return { maxAbsDeviation: maxAbs, decisionsAgree: agree };
}

const DISCRETE_FIELDS = new Set([
  "topk_indices",
  "topk_indicator",
  "membership",
  "set_size",
  "concordant_pairs",
  "comparable_pairs",
]);
