/**
 * The privacy-budget file of `serve --privacy-budgets FILE`
 * (`schemas/privacy-budgets.json`): read and checked as a whole before it
 * replaces the budgets in force, at start-up and with every trust-store
 * reload (SIGHUP, `POST /v1/admin/reload-trust-store`). A bad file changes
 * nothing and names the problem.
 *
 * @module
 */
import {
  type DatasetBudget,
  parsePrivacyBudgets,
  PrivacyBudgetFileError,
} from "../core/dp/budgets.ts";

/** Where the budgets in force go (the ledger's `setPrivacyBudgets`). */
export interface BudgetTarget {
  /** Replace the budgets in force. */
  setPrivacyBudgets(budgets: ReadonlyMap<string, DatasetBudget> | null): void;
}

/**
 * Read and check `path`; resolves to the function that puts the budgets in
 * force on `target` (returning how many there are), so a caller reloading
 * several files together applies none of them unless all are good.
 *
 * @throws {PrivacyBudgetFileError} naming the file and the first problem, or that it is unreadable.
 */
export async function loadPrivacyBudgets(
  path: string,
  target: () => BudgetTarget,
): Promise<() => number> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new PrivacyBudgetFileError("", `cannot read: ${(e as Error).message}`, path);
  }
  let budgets: Map<string, DatasetBudget>;
  try {
    budgets = parsePrivacyBudgets(text);
  } catch (e) {
    if (e instanceof PrivacyBudgetFileError) {
      throw new PrivacyBudgetFileError(e.pointer, e.detail, path);
    }
    throw e;
  }
  return () => {
    target().setPrivacyBudgets(budgets);
    return budgets.size;
  };
}
