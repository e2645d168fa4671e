/**
 * Child process of the privacy-budget race test: opens the ledger in DIR
 * with the budget file BUDGETS, waits for DIR/go (so that the processes
 * start together), then appends COUNT releases (envelopes START…) at once,
 * printing one line per append: `ok <index>` or `refused <reason>`.
 *
 * usage: deno run -A tests/ledger/_budget_storm.ts DIR BUDGETS START COUNT
 *
 * @module
 */
import { parsePrivacyBudgets } from "../../core/dp/index.ts";
import { openLedger } from "../../ledger/index.ts";
import { LedgerBudgetExceededError } from "../../ledger/privacy_budget.ts";
import { dpEnvelope } from "./_dp_envelopes.ts";

const [dir, budgetsPath, startText, countText] = Deno.args;
const start = Number(startText);
const ledger = await openLedger({ dataDir: `${dir}/data` });
ledger.setPrivacyBudgets(parsePrivacyBudgets(await Deno.readTextFile(budgetsPath)));
const envs = await Promise.all(
  Array.from({ length: Number(countText) }, (_, i) => dpEnvelope(start + i, { dataset: "ds" })),
);
await Deno.writeTextFile(`${dir}/ready-${start}`, "");
for (;;) {
  try {
    await Deno.stat(`${dir}/go`);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 2));
  }
}
const lines = await Promise.all(envs.map(async (e) => {
  try {
    return `ok ${(await ledger.append(e)).index}`;
  } catch (err) {
    if (err instanceof LedgerBudgetExceededError) return `refused ${err.reason}`;
    throw err;
  }
}));
await ledger.close();
console.log(lines.join("\n"));
