/**
 * The scaffolding the micro-benchmarks share: interleaved timing (every
 * round times a few calls of every op in turn, alternating the order, so a
 * figure and its baseline share the machine's load), the printed table of
 * figures with their baselines and goals, and the JSON written to
 * `benchmarks/results/`.
 *
 * @module
 */

/** One figure of a table: a rate, what it is compared with, and the ratio. */
export interface Figure {
  figure: string;
  per_s: number;
  baseline: string;
  ratio: number;
  goal?: number;
}

/** Options of {@linkcode interleave}. */
export interface InterleaveOptions {
  rounds: number;
  /** Calls of each op per round. */
  calls: number;
  /** Operations one call of an op performs (16 for a "16 in flight" op); 1 when absent. */
  batch?: Record<string, number>;
  /** Print "round i/n" to stderr every `progressEvery` rounds on a terminal. */
  progressEvery?: number;
}

/** Time `ops` interleaved; operations per second of each. */
export async function interleave(
  ops: Record<string, () => unknown>,
  opts: InterleaveOptions,
): Promise<Record<string, number>> {
  const time: Record<string, number> = Object.fromEntries(Object.keys(ops).map((k) => [k, 0]));
  const count: Record<string, number> = Object.fromEntries(Object.keys(ops).map((k) => [k, 0]));
  const order = Object.entries(ops);
  for (let r = 0; r < opts.rounds; r++) {
    // Alternate the order so that no op always follows the same neighbour.
    for (const [name, f] of r % 2 ? [...order].reverse() : order) {
      const start = performance.now();
      for (let i = 0; i < opts.calls; i++) await f();
      time[name] += performance.now() - start;
      count[name] += opts.calls * (opts.batch?.[name] ?? 1);
    }
    const every = opts.progressEvery;
    if (every && Deno.stderr.isTerminal() && r % every === every - 1) {
      console.error(`round ${r + 1}/${opts.rounds}`);
    }
  }
  return Object.fromEntries(Object.keys(ops).map((k) => [k, count[k] / (time[k] / 1000)]));
}

/** Print the figures as a table (`width`: the figure column's width). */
export function printFigures(rows: Figure[], width: number): void {
  console.log(
    `${"figure".padEnd(width)} ${"ops/s".padStart(9)}  ${"vs".padEnd(10)} ${
      "ratio".padStart(6)
    }  goal`,
  );
  for (const r of rows) {
    const goal = r.goal === undefined
      ? ""
      : `≥ ${r.goal.toFixed(2)} ${r.ratio >= r.goal ? "met" : "NOT met"}`;
    console.log(
      `${r.figure.padEnd(width)} ${Math.round(r.per_s).toString().padStart(9)}  ${
        r.baseline.padEnd(10)
      } ${r.ratio.toFixed(2).padStart(6)}  ${goal}`,
    );
  }
}

/** The figures as they are saved: rounded rates and ratios, goals with their verdict. */
export function figuresJson(rows: Figure[]): unknown[] {
  return rows.map((r) => ({
    figure: r.figure,
    per_s: Math.round(r.per_s),
    baseline: r.baseline,
    ratio: Number(r.ratio.toFixed(3)),
    ...(r.goal === undefined ? {} : { goal: r.goal, met: r.ratio >= r.goal }),
  }));
}

/** The run's context every result file starts with. */
export function runContext(benchmark: string): Record<string, unknown> {
  return {
    benchmark,
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: Deno.build.os,
    arch: Deno.build.arch,
  };
}

/** Write `benchmarks/results/<name>.json` and say so. */
export async function writeResult(name: string, result: unknown): Promise<void> {
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(
    new URL(`./results/${name}.json`, import.meta.url),
    JSON.stringify(result, null, 2) + "\n",
  );
  console.log(`\nwrote benchmarks/results/${name}.json`);
}
