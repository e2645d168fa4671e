/**
 * Training-data provenance: per-bucket sums of attributions over hashed row
 * ids, and the top-K buckets (regaudit-fhe's ETK-FPA-HBC oracle).
 *
 * Row id `r` goes to bucket `((a*r + b) mod (2^31 - 1)) mod n_buckets` with
 * regaudit-fhe's constants `a = 713480528`, `b = 1242808857`, computed
 * exactly (`a*r` exceeds 2^53, so the product is reduced in two halves).
 * Top-K orders buckets by aggregate, descending, ties by lower index.
 *
 * @module
 */
import { InputValidationError } from "../errors.ts";
import { finiteArray, integerField, pointer, requireObject, sameLength } from "./input_rules.ts";

/** Input of the provenance audit. */
export interface ProvenanceInput {
  /** Per-row attribution (influence) scores. */
  attributions: number[];
  /** Per-row training-data identifiers: non-negative safe integers. */
  row_ids: number[];
  /** Number of buckets, at least 1. */
  n_buckets: number;
  /** How many top buckets to report, in [1, n_buckets]. */
  k: number;
}

/** Result of the provenance audit. */
export interface ProvenanceResult {
  /** Sum of attributions per bucket. */
  bucket_aggregates: number[];
  /** The K buckets with the largest aggregates, largest first (ties: lower index). */
  topk_indices: number[];
  /** 1 for buckets in the top K, else 0. */
  topk_indicator: number[];
}

/** Hash multiplier used by regaudit-fhe. */
export const BUCKET_HASH_A = 713480528;
/** Hash offset used by regaudit-fhe. */
export const BUCKET_HASH_B = 1242808857;
/** The Mersenne prime 2^31 − 1. */
export const BUCKET_HASH_P = 2147483647;
/** Largest accepted number of buckets (one plaintext aggregate each). */
export const MAX_BUCKETS = 1 << 20;

/**
 * Bucket of row id `r`: `((a*r + b) mod (2^31 - 1)) mod nBuckets`, exact for
 * every safe integer `r`. `r = hi*2^16 + lo` keeps each partial product
 * below 2^53.
 */
export function bucketOf(rowId: number, nBuckets: number): number {
  const r = rowId % BUCKET_HASH_P;
  const hi = Math.floor(r / 65536);
  const lo = r % 65536;
  // a*hi < 2^30 * 2^15 = 2^45; reduce, then shift by 2^16 in two 2^8 steps.
  let x = (BUCKET_HASH_A * hi) % BUCKET_HASH_P;
  x = (x * 256) % BUCKET_HASH_P;
  x = (x * 256) % BUCKET_HASH_P;
  x = (x + BUCKET_HASH_A * lo + BUCKET_HASH_B) % BUCKET_HASH_P;
  return x % nBuckets;
}

const FIELDS = ["attributions", "row_ids", "n_buckets", "k"] as const;

/**
 * Validate an untrusted value as a {@linkcode ProvenanceInput}.
 * @throws {InputValidationError} naming the field and rule.
 */
export function parseProvenanceInput(value: unknown): ProvenanceInput {
  const obj = requireObject(value, FIELDS);
  const attributions = finiteArray(obj, "attributions");
  const row_ids = finiteArray(obj, "row_ids");
  for (let i = 0; i < row_ids.length; i++) {
    const r = row_ids[i];
    if (!Number.isSafeInteger(r)) {
      throw new InputValidationError(
        pointer("row_ids", i),
        "integer",
        `must be an integer no larger than 2^53-1, got ${r}`,
      );
    }
    if (r < 0) {
      throw new InputValidationError(
        pointer("row_ids", i),
        "non-negative",
        `must be >= 0, got ${r}`,
      );
    }
  }
  sameLength([["attributions", attributions], ["row_ids", row_ids]]);
  const n_buckets = integerField(obj, "n_buckets", 1, MAX_BUCKETS);
  const k = integerField(obj, "k", 1, n_buckets);
  return { attributions, row_ids, n_buckets, k };
}

/** Top-K of `aggregates`: descending, ties by lower index; and its indicator. */
export function topK(aggregates: ArrayLike<number>, k: number): {
  indices: number[];
  indicator: number[];
} {
  const order = Array.from({ length: aggregates.length }, (_, i) => i);
  order.sort((i, j) => (aggregates[j] - aggregates[i]) || (i - j));
  const indices = order.slice(0, k);
  const indicator = new Array<number>(aggregates.length).fill(0);
  for (const i of indices) indicator[i] = 1;
  return { indices, indicator };
}

/** The exact provenance statistic of a validated input. O(n + B log B). */
export function provenanceStatistic(input: ProvenanceInput): ProvenanceResult {
  const agg = new Array<number>(input.n_buckets).fill(0);
  for (let i = 0; i < input.row_ids.length; i++) {
    agg[bucketOf(input.row_ids[i], input.n_buckets)] += input.attributions[i];
  }
  const { indices, indicator } = topK(agg, input.k);
  return { bucket_aggregates: agg, topk_indices: indices, topk_indicator: indicator };
}
