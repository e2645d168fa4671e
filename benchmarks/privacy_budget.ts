/**
 * Privacy-budget benchmark. Goal (issue 15): budget checks add ≤ 5% to
 * append throughput.
 *
 * ONE ledger (one Deno KV file, this process) takes durable appends of
 * differentially private envelopes (each `dp` block names one of 16
 * issuer × dataset pairs) from 64 concurrent appenders, in many short
 * windows of the same size. Budgets are switched on and off between windows
 * with `Ledger.setPrivacyBudgets`, which swaps the budget table in place and
 * keeps the spend already accounted; the budgets are far above what the run
 * spends, so with them on every append is checked, charged and accepted.
 * Before every window (on or off, outside its timing) the keeper is brought
 * up to the log's size (`privacyBudget`), so no window pays for catching up
 * on entries appended while budgets were off, and V8's garbage is collected
 * (the script re-runs itself with `--expose-gc`), so that no window pays for
 * another's: a major collection landing in one short window was most of
 * the windows' spread.
 *
 * Windows come in blocks of eight in Thue–Morse order, ABBABAAB (A: budgets
 * off, B: on; every other block BAABABBA), so each arm holds the same
 * positions' sum and sum of squares: a linear or quadratic drift over a
 * block (the log grows, the machine's load changes) and an effect of a
 * window's place in its block cancel in the block's ratio: throughput with
 * budgets over without = (time of the four off windows) / (time of the four
 * on windows). (Blocks of four, ABBA then BAAB, left a position effect that
 * split the blocks' ratios in two groups: the A/A control's interval missed
 * 0 in one run.)
 * The figure is the median of the blocks' ratios with a percentile
 * bootstrap 95% interval; the cost is 1 − ratio. An A/A control runs in
 * the same process, interleaved block by block with the real one, toggling
 * the same way with budgets off in both arms: its interval shows what the
 * method resolves on this machine, and should hold 0.
 *
 * Verdict (printed and saved): "met" when the interval's upper bound of the
 * cost is ≤ 5%, "missed" when its lower bound is > 5%, else "not resolved".
 *
 * Also: the check's own CPU per entry (`PrivacyBudgetKeeper.admit` +
 * `record`, batches of 25) beside one append's wall time in the same run,
 * and the rate at which a fresh process catches up on the log's entries
 * beside raw `readEntries` of the same entries.
 *
 * Run: deno run -A benchmarks/privacy_budget.ts [--quick] [--blocks B] [--window N]
 * (B blocks of 8 windows per comparison, default 40; N appends per window, default 200).
 * Writes benchmarks/results/privacy_budget.json.
 *
 * @module
 */
import { calibrate, datasetRelease, parsePrivacyBudgets } from "../core/dp/index.ts";
import { buildEnvelope, parseEnvelopeValue } from "../core/envelope.ts";
import type { Envelope, ParsedEnvelope } from "../core/envelope_types.ts";
import type { JsonObject } from "../core/commitments.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { openLedger } from "../ledger/index.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { MemoryStore } from "../ledger/memory_store.ts";
import { LedgerBudgetExceededError, PrivacyBudgetKeeper } from "../ledger/privacy_budget.ts";
import { bootstrapMedianInterval, median, verdict } from "./_paired.ts";
import process from "node:process";

/** Wall and process CPU (user + system) seconds, or their ratios. */
interface Cost {
  wall: number;
  cpu: number;
}

const quick = Deno.args.includes("--quick");
/** V8's collector, exposed by `--v8-flags=--expose-gc` (the script re-runs itself with it). */
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc && !Deno.env.get("REGLEDGER_BENCH_NO_GC")) {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", import.meta.filename!, ...Deno.args],
    env: { REGLEDGER_BENCH_NO_GC: "1" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(code);
}
const arg = (name: string, dflt: number): number => {
  const i = Deno.args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(Deno.args[i + 1]) : dflt;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`--${name} wants a positive integer`);
  return v;
};
/** Blocks of eight windows, per comparison (budgets on/off, and the A/A control). */
const BLOCKS = arg("blocks", quick ? 2 : 40);
const PER_WINDOW = arg("window", quick ? 100 : 200);
const APPENDERS = 64;
const PAIRS = 16;
const GOAL = 0.05;
const tty = Deno.stdout.isTerminal();
const r3 = (x: number) => Number(x.toFixed(3));
const r4 = (x: number) => Number(x.toFixed(4));

const tmp = await Deno.makeTempDir({ prefix: "regledger-bench-budget-" });
try {
  const signer = await InProcessKeyProvider.generate("bench-issuer");
  const field = calibrate({ mechanism: "laplace", epsilon: 1e-3, sensitivity: 0.01 }, 1);
  const template = await buildEnvelope({
    primitive: "drift",
    backend: "plaintext",
    parameterSet: { backend: "plaintext" },
    regulations: ["EU_AI_ACT_ART15"],
    result: { distance: 0.0421, n: 0 },
    inputs: { p: [5, 3, 2], q: [4, 4, 2] },
    depthBudget: { declared: 1, consumed: 1 },
    issuer: "bench-0",
    issuedAt: "2026-12-02T00:00:00.000Z",
    dp: { applied: true, dataset: "ds-0", fields: { distance: field } } as unknown as JsonObject,
  }, signer);
  const pairOf = (i: number) => ({ issuer: `bench-${i % 4}`, dataset: `ds-${(i >> 2) % 4}` });
  const envelope = (i: number): ParsedEnvelope => {
    const e = structuredClone(template) as Envelope & { dp: { dataset: string } };
    e.result = { ...e.result, n: i };
    e.issuer = pairOf(i).issuer;
    e.dp.dataset = pairOf(i).dataset;
    return parseEnvelopeValue(e);
  };
  const windows = 2 * BLOCKS * 8 + 4; // + the warm-up
  const total = windows * PER_WINDOW;
  const budgetList = Array.from({ length: PAIRS }, (_, k) => ({
    ...pairOf(k),
    epsilon: 1e6,
  }));
  const budgets = parsePrivacyBudgets(JSON.stringify({ budgets: budgetList }));

  /** Commits of the current window (group-commit batching, per arm). */
  let commits = 0;
  const ledger: Ledger = await openLedger({
    dataDir: `${tmp}/ledger`,
    onCommit: () => commits++,
  });
  // Keys, meta and the first commit outside the timing.
  await ledger.append(envelope(total + 1));

  let used = 0;
  const batchSizes = { on: [] as number[], off: [] as number[] };
  /** Wall and process CPU seconds of one window of PER_WINDOW appends, budgets on or off. */
  const window = async (budgetsOn: boolean): Promise<Cost> => {
    // The window's envelopes are built before it (not all at once: memory).
    const slice = Array.from({ length: PER_WINDOW }, (_, i) => envelope(used + i));
    used += PER_WINDOW;
    ledger.setPrivacyBudgets(budgetsOn ? budgets : null);
    // Account what earlier windows appended, outside the timing (both arms).
    await ledger.privacyBudget("bench-0", "ds-0");
    // Collect earlier windows' garbage now, so that no window pays for
    // another's (a major GC landing in one window was most of the spread).
    gc?.();
    let next = 0;
    commits = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: APPENDERS }, async () => {
      while (next < slice.length) {
        const r = await ledger.append(slice[next++]);
        if (r.existing) throw new Error(`envelope at ${r.index} was already logged`);
      }
    }));
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    batchSizes[budgetsOn ? "on" : "off"].push(PER_WINDOW / commits);
    return { wall, cpu: (c.user + c.system) / 1e6 };
  };
  /**
   * One block: ABBABAAB (or BAABABBA when `flip`), where B is `second`'s setting.
   * Returns throughput of B over A (time of A windows / time of B windows),
   * in wall time and in process CPU time.
   */
  const block = async (
    first: boolean,
    second: boolean,
    flip: boolean,
    times: { a: number[]; b: number[] },
  ): Promise<Cost> => {
    const tm = ["a", "b", "b", "a", "b", "a", "a", "b"] as const;
    const order = flip ? tm.map((x) => x === "a" ? "b" : "a") : tm;
    const ta = { wall: 0, cpu: 0 }, tb = { wall: 0, cpu: 0 };
    for (const arm of order) {
      const t = await window(arm === "a" ? first : second);
      times[arm].push(t.wall);
      const sum = arm === "a" ? ta : tb;
      sum.wall += t.wall;
      sum.cpu += t.cpu;
    }
    return { wall: ta.wall / tb.wall, cpu: ta.cpu / tb.cpu };
  };

  // Warm-up, untimed: the JIT compiles both paths before the first block.
  for (let i = 0; i < 4; i++) await window(i % 2 === 0);
  batchSizes.on.length = batchSizes.off.length = 0;
  const realTimes = { a: [] as number[], b: [] as number[] };
  const ctlTimes = { a: [] as number[], b: [] as number[] };
  const realRatios: Cost[] = [];
  const ctlRatios: Cost[] = [];
  for (let k = 0; k < BLOCKS; k++) {
    const flip = k % 2 === 1;
    // Alternate which comparison goes first, too.
    if (k % 4 < 2) {
      realRatios.push(await block(false, true, flip, realTimes));
      ctlRatios.push(await block(false, false, flip, ctlTimes));
    } else {
      ctlRatios.push(await block(false, false, flip, ctlTimes));
      realRatios.push(await block(false, true, flip, realTimes));
    }
    if (tty) Deno.stdout.writeSync(new TextEncoder().encode(`\rblock ${k + 1}/${BLOCKS}`));
  }
  if (tty) console.log();

  // Every append was accounted, on every pair.
  let charged = 0;
  for (const b of budgetList) {
    charged += (await ledger.privacyBudget(b.issuer, b.dataset)).entries.length;
  }
  if (charged !== total + 1) throw new Error(`accounted ${charged} releases, not ${total + 1}`);
  // The table the run swapped in is enforced: at a budget equal to the
  // spend, the next release on that pair is refused.
  const last = pairOf(total);
  const s0 = await ledger.privacyBudget(last.issuer, last.dataset);
  ledger.setPrivacyBudgets(parsePrivacyBudgets(JSON.stringify({
    budgets: [{ ...last, epsilon: s0.spent.epsilon }],
  })));
  const refused = await ledger.append(envelope(total)).then(
    () => false,
    (e) => e instanceof LedgerBudgetExceededError,
  );
  if (!refused) throw new Error("a release over the swapped-in budget was accepted");
  await ledger.close();

  /** Median ratio, its 95% interval, the cost (1 − ratio) and its interval. */
  const summarize = (ratios: number[], seed: number) => {
    const [lo, hi] = bootstrapMedianInterval(ratios, { seed });
    const m = median(ratios);
    const costCi: [number, number] = [1 - hi, 1 - lo];
    return {
      ratio: r4(m),
      ratio_ci95: [lo, hi].map(r4),
      cost: r4(1 - m),
      cost_ci95: costCi.map(r4),
      verdict: verdict(costCi, GOAL),
      interval_holds_zero: costCi[0] <= 0 && 0 <= costCi[1],
      per_block_ratios: ratios.map(r3),
    };
  };
  const real = {
    wall: summarize(realRatios.map((r) => r.wall), 1),
    cpu: summarize(realRatios.map((r) => r.cpu), 2),
  };
  const ctl = {
    wall: summarize(ctlRatios.map((r) => r.wall), 3),
    cpu: summarize(ctlRatios.map((r) => r.cpu), 4),
  };
  const realVerdict = real.wall.verdict;

  // The check's own CPU per entry: admit + record of the same releases.
  const charges = Array.from({ length: 20_000 }, (_, i) => {
    const v = envelope(i).value as unknown as { issuer: string };
    return { issuer: v.issuer, release: datasetRelease(v) };
  });
  const checkTimes: number[] = [];
  for (let round = 0; round < 5; round++) {
    const k = new PrivacyBudgetKeeper(new MemoryStore());
    k.setBudgets(budgets);
    const t0 = performance.now();
    for (let i = 0; i < charges.length; i += 25) {
      const batch = charges.slice(i, i + 25);
      k.admit(batch);
      k.record(i, batch);
    }
    checkTimes.push(((performance.now() - t0) * 1000) / charges.length);
  }
  const checkUs = median(checkTimes);
  const offSeconds = [...realTimes.a, ...ctlTimes.a, ...ctlTimes.b];
  const appendUs = (median(offSeconds) * 1e6) / PER_WINDOW;

  // Catch-up of a fresh process on the log vs raw readEntries.
  const catchRates: number[] = [];
  const readRates: number[] = [];
  const size = total + 1;
  for (let round = 0; round < 3; round++) {
    const fresh = await openLedger({ dataDir: `${tmp}/ledger` });
    const t0 = performance.now();
    for (let i = 0; i < size; i += 1000) {
      await fresh.store.readEntries(i, Math.min(size, i + 1000));
    }
    readRates.push(size / ((performance.now() - t0) / 1000));
    const t1 = performance.now();
    await fresh.privacyBudget("bench-1", "ds-1");
    catchRates.push(size / ((performance.now() - t1) / 1000));
    await fresh.close();
  }

  const perSecond = (secs: number[]) => Math.round(PER_WINDOW / median(secs));
  const results = {
    date: new Date().toISOString(),
    quick,
    load_average: Deno.loadavg().map((x) => Number(x.toFixed(2))),
    method: "one ledger (one KV file, one process); budgets toggled between windows " +
      "(setPrivacyBudgets, spend kept, keeper caught up outside the timing); blocks of 8 in Thue–Morse order ABBABAAB/BAABABBA; " +
      "ratio per block = time(off windows) / time(on windows); median over blocks, " +
      "percentile bootstrap 95% interval (10,000 resamples); A/A control interleaved block by block",
    gc_between_windows: gc !== undefined,
    blocks: BLOCKS,
    windows_per_arm: 4 * BLOCKS,
    appends_per_window: PER_WINDOW,
    appenders: APPENDERS,
    budget_pairs: PAIRS,
    goal: "budget checks add ≤ 5% to append throughput (cost = 1 − with/without ≤ 0.05)",
    append: {
      without_budgets_per_s: perSecond(realTimes.a),
      with_budgets_per_s: perSecond(realTimes.b),
      verdict: realVerdict,
      verdict_on: "wall time (throughput); the CPU figures below are the same windows' " +
        "process CPU (user + system), which the load of other processes blurs less",
      wall: real.wall,
      cpu: real.cpu,
      entries_per_commit: {
        with_budgets: r3(median(batchSizes.on)),
        without_budgets: r3(median(batchSizes.off)),
        what: "median over windows of appends / commits (group-commit batching)",
      },
    },
    control_a_a: {
      what: "same toggling and catch-up, budgets off in both arms (its interval should hold 0)",
      wall: ctl.wall,
      cpu: ctl.cpu,
    },
    check_cpu: {
      check_us_per_entry: Number(checkUs.toFixed(2)),
      append_wall_us_per_entry: Number(appendUs.toFixed(1)),
      fraction: r4(checkUs / appendUs),
      what: "admit + record of each release (batches of 25) vs one append's wall time " +
        "(64 appenders, windows without budgets)",
    },
    catch_up: {
      entries: size,
      accounted_per_s: Math.round(median(catchRates)),
      raw_read_entries_per_s: Math.round(median(readRates)),
      ratio: r3(median(catchRates) / median(readRates)),
    },
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  type Summary = ReturnType<typeof summarize>;
  const row = (name: string, x: Summary, last: string) =>
    console.log(
      `| ${name} | ${x.ratio} | [${x.ratio_ci95.join(", ")}] | ${pct(x.cost)} | ` +
        `[${pct(x.cost_ci95[0])}, ${pct(x.cost_ci95[1])}] | ${last} |`,
    );
  const zero = (x: Summary) => x.interval_holds_zero ? "holds 0" : "does NOT hold 0";
  console.log("");
  console.log(
    `| comparison (${BLOCKS} blocks × 8 windows × ${PER_WINDOW} appends, ${APPENDERS} appenders) ` +
      "| throughput ratio B/A (median) | 95% interval | cost 1 − ratio | cost 95% interval | verdict (goal ≤ 5%) |",
  );
  console.log("|---|---|---|---|---|---|");
  row("budgets on (B) vs off (A), wall time", real.wall, `**${real.wall.verdict}**`);
  row("A/A control (off vs off), wall time", ctl.wall, zero(ctl.wall));
  row("budgets on vs off, process CPU time", real.cpu, real.cpu.verdict);
  row("A/A control, process CPU time", ctl.cpu, zero(ctl.cpu));
  console.log("");
  console.log("| figure | value | baseline (same run) | ratio |");
  console.log("|---|---|---|---|");
  console.log(
    `| append throughput (median window) | ${results.append.with_budgets_per_s}/s with budgets | ` +
      `${results.append.without_budgets_per_s}/s without | |`,
  );
  console.log(
    `| entries per commit (median window) | ${results.append.entries_per_commit.with_budgets} ` +
      `with budgets | ${results.append.entries_per_commit.without_budgets} without | |`,
  );
  console.log(
    `| budget check CPU per entry | ${results.check_cpu.check_us_per_entry} µs | ` +
      `${results.check_cpu.append_wall_us_per_entry} µs per append | ${results.check_cpu.fraction} |`,
  );
  console.log(
    `| catch-up of ${size} entries | ${results.catch_up.accounted_per_s}/s | ` +
      `${results.catch_up.raw_read_entries_per_s}/s raw readEntries | ${results.catch_up.ratio} |`,
  );
  console.log(
    `verdict: ${realVerdict} (wall time; process CPU: ${real.cpu.verdict}; ` +
      `load average ${results.load_average.join(" ")})` +
      (ctl.wall.interval_holds_zero
        ? ""
        : " — but the A/A control's interval does not hold 0: this run's method is biased"),
  );
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(
    new URL("./results/privacy_budget.json", import.meta.url),
    JSON.stringify(results, null, 2) + "\n",
  );
  console.log("wrote benchmarks/results/privacy_budget.json");
} finally {
  await Deno.remove(tmp, { recursive: true });
}
