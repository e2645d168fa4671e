/**
 * The six primitives by name: input parser, exact statistic and regulation
 * tags, typed per primitive through {@linkcode PrimitiveTypes}.
 *
 * @module
 */
import type { PrimitiveName } from "../envelope_types.ts";
import {
  type CalibrationInput,
  type CalibrationResult,
  calibrationStatistic,
  parseCalibrationInput,
} from "./calibration.ts";
import {
  type ConcordanceInput,
  type ConcordanceResult,
  concordanceStatistic,
  parseConcordanceInput,
} from "./concordance.ts";
import {
  type DisagreementInput,
  type DisagreementResult,
  disagreementStatistic,
  parseDisagreementInput,
} from "./disagreement.ts";
import { type DriftInput, type DriftResult, driftStatistic, parseDriftInput } from "./drift.ts";
import {
  type FairnessInput,
  type FairnessResult,
  fairnessStatistic,
  parseFairnessInput,
} from "./fairness.ts";
import {
  parseProvenanceInput,
  type ProvenanceInput,
  type ProvenanceResult,
  provenanceStatistic,
} from "./provenance.ts";
import { REGULATIONS } from "./regulations.ts";
import { InputValidationError } from "../errors.ts";

/** Input and result types of each primitive. */
export interface PrimitiveTypes {
  /** Group fairness. */
  fairness: { input: FairnessInput; result: FairnessResult };
  /** Training-data provenance. */
  provenance: { input: ProvenanceInput; result: ProvenanceResult };
  /** Survival concordance (C-index). */
  concordance: { input: ConcordanceInput; result: ConcordanceResult };
  /** Conformal calibration. */
  calibration: { input: CalibrationInput; result: CalibrationResult };
  /** Distribution drift. */
  drift: { input: DriftInput; result: DriftResult };
  /** Cross-model disagreement. */
  disagreement: { input: DisagreementInput; result: DisagreementResult };
}

/** Input type of primitive `P`. */
export type InputOf<P extends PrimitiveName> = PrimitiveTypes[P]["input"];
/** Result type of primitive `P`. */
export type ResultOf<P extends PrimitiveName> = PrimitiveTypes[P]["result"];

/** What the registry knows about one primitive. */
export interface PrimitiveSpec<P extends PrimitiveName> {
  /** The primitive's name. */
  readonly name: P;
  /**
   * Validate an untrusted JSON value; defaults are filled in.
   * @throws {InputValidationError} naming the field and rule.
   */
  parse(value: unknown): InputOf<P>;
  /** The exact statistic of a validated input. */
  statistic(input: InputOf<P>): ResultOf<P>;
  /** Regulation tags for envelopes. */
  readonly regulations: readonly string[];
}

/** Whether every number in `v` (deeply) is finite. */
function allFinite(v: unknown): boolean {
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(allFinite);
  if (typeof v === "object" && v !== null) return Object.values(v).every(allFinite);
  return true;
}

/**
 * Wrap a statistic so that a result overflowing float64 (finite inputs of
 * extreme magnitude, e.g. a cube of 1e300) is an input error, not an
 * Infinity or NaN in a signed envelope.
 */
function finiteOr<I, O>(pointer: string, statistic: (input: I) => O): (input: I) => O {
  return (input) => {
    const out = statistic(input);
    if (!allFinite(out)) {
      throw new InputValidationError(
        pointer,
        "overflow",
        "values are too large: the statistic overflows double precision",
      );
    }
    return out;
  };
}

/** The registry of the six primitives. */
export const PRIMITIVE_SPECS: { readonly [P in PrimitiveName]: PrimitiveSpec<P> } = {
  fairness: {
    name: "fairness",
    parse: parseFairnessInput,
    statistic: finiteOr("/y_true", fairnessStatistic),
    regulations: REGULATIONS.fairness,
  },
  provenance: {
    name: "provenance",
    parse: parseProvenanceInput,
    statistic: finiteOr("/attributions", provenanceStatistic),
    regulations: REGULATIONS.provenance,
  },
  concordance: {
    name: "concordance",
    parse: parseConcordanceInput,
    statistic: finiteOr("/risk", concordanceStatistic),
    regulations: REGULATIONS.concordance,
  },
  calibration: {
    name: "calibration",
    parse: parseCalibrationInput,
    statistic: finiteOr("/scores", calibrationStatistic),
    regulations: REGULATIONS.calibration,
  },
  drift: {
    name: "drift",
    parse: parseDriftInput,
    statistic: finiteOr("/p", driftStatistic),
    regulations: REGULATIONS.drift,
  },
  disagreement: {
    name: "disagreement",
    parse: parseDisagreementInput,
    statistic: finiteOr("/test_input", disagreementStatistic),
    regulations: REGULATIONS.disagreement,
  },
};

/**
 * Validate `value` as the input of `primitive` (defaults filled in).
 * @throws {InputValidationError} naming the field and rule.
 */
export function parseInput<P extends PrimitiveName>(primitive: P, value: unknown): InputOf<P> {
  return (PRIMITIVE_SPECS[primitive] as PrimitiveSpec<P>).parse(value);
}

/** The exact statistic of a validated input of `primitive`. */
export function exactStatistic<P extends PrimitiveName>(
  primitive: P,
  input: InputOf<P>,
): ResultOf<P> {
  return (PRIMITIVE_SPECS[primitive] as PrimitiveSpec<P>).statistic(input);
}

/**
 * A lower bound on the length of `primitive`'s result as JSON text, known
 * before computing it, and the input field that makes it grow: every array
 * element takes at least two bytes (a digit and a comma). Results of a fixed
 * shape give 0. A caller with a size limit (the ledger's envelope limit)
 * refuses inputs whose floor is over it instead of computing a result it
 * cannot keep.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultBytesFloor } from "./registry.ts";
 * const f = resultBytesFloor("provenance", { attributions: [1], row_ids: [1], n_buckets: 1 << 20, k: 1 });
 * assert.equal(f.pointer, "/n_buckets");
 * assert.ok(f.bytes > 4_000_000);
 * assert.equal(resultBytesFloor("drift", { p: [1], q: [1] }).bytes, 0);
 * ```
 */
export function resultBytesFloor<P extends PrimitiveName>(
  primitive: P,
  input: InputOf<P>,
): { bytes: number; pointer: string } {
  switch (primitive) {
    case "provenance": {
      // bucket_aggregates and topk_indicator: one element per bucket each; topk_indices: k.
      const v = input as ProvenanceInput;
      return { bytes: 4 * v.n_buckets + 2 * v.k, pointer: "/n_buckets" };
    }
    case "calibration":
      return { bytes: 2 * (input as CalibrationInput).scores.length, pointer: "/scores" };
    case "disagreement":
      return {
        bytes: 2 * (input as DisagreementInput).model_polynomials.length,
        pointer: "/model_polynomials",
      };
    default:
      return { bytes: 0, pointer: "" };
  }
}
