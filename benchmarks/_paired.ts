/**
 * Paired-window statistics for benchmarks that toggle one setting on a
 * single system: the median of per-block ratios, a bootstrap 95% interval
 * of that median, and a three-way verdict against a cost goal.
 *
 * @module
 */
import { seededRandom } from "../tests/_random.ts";

/** Median of `xs` (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of nothing");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// A small seeded PRNG (mulberry32): the same run gives the same interval.
export { seededRandom };

/** Percentile bootstrap interval (`level`, default 95%) of the median of `xs`. */
export function bootstrapMedianInterval(
  xs: readonly number[],
  { resamples = 10_000, level = 0.95, seed = 1 } = {},
): [number, number] {
  const rand = seededRandom(seed);
  const meds: number[] = [];
  const sample = new Array<number>(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) sample[i] = xs[Math.floor(rand() * xs.length)];
    meds.push(median(sample));
  }
  meds.sort((a, b) => a - b);
  const lo = meds[Math.floor(((1 - level) / 2) * (resamples - 1))];
  const hi = meds[Math.ceil((1 - (1 - level) / 2) * (resamples - 1))];
  return [lo, hi];
}

/** What an interval of a cost says about a goal "cost ≤ goal". */
export type Verdict = "met" | "missed" | "not resolved";

/** "met" when the whole interval is ≤ goal, "missed" when all of it is above, else "not resolved". */
export function verdict(costInterval: readonly [number, number], goal: number): Verdict {
  const [lo, hi] = costInterval;
  if (hi <= goal) return "met";
  if (lo > goal) return "missed";
  return "not resolved";
}
