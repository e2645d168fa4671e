/**
 * The privacy-budget step of the group commit (`group_commit.ts`; why it is
 * race-free: `privacy_budget.ts`): which of a batch's appends the budgets
 * admit on the head the commit is conditioned on, and how the refused ones
 * are answered.
 *
 * @module
 */
import type { LedgerBudgetExceededError, PrivacyBudgetKeeper } from "./privacy_budget.ts";
import type { Pending } from "./group_commit_input.ts";
import type { LedgerStore } from "./store.ts";

/** The budgets' decision on a batch. */
export interface BudgetStep {
  /** The keeper that decided, or null: no budgets configured (all admitted). */
  keeper: PrivacyBudgetKeeper | null;
  /** Per append of the batch: null when admitted, else the refusal. */
  refusals: (LedgerBudgetExceededError | null)[];
  /** The admitted appends, in order. */
  admitted: Pending[];
}

/**
 * Decide `todo` against `budgets` (when active) on top of the `size`
 * entries of the head the commit is conditioned on.
 */
export async function checkBudgets(
  budgets: PrivacyBudgetKeeper | null,
  size: number,
  todo: Pending[],
): Promise<BudgetStep> {
  const keeper = budgets?.active ? budgets : null;
  const refusals = keeper
    ? (await keeper.catchUp(size), keeper.admit(todo.map((p) => p.charge)))
    : [];
  const admitted = keeper ? todo.filter((_, i) => refusals[i] === null) : todo;
  return { keeper, refusals, admitted };
}

/**
 * Answer the appends of `todo` that `refusals` refused: an envelope already
 * in the log is that entry (`settleExisting`, no new spend), any other fails
 * with its refusal (`fail`); when the lookup fails, all fail with its error.
 */
export async function answerRefusals(
  store: LedgerStore,
  todo: Pending[],
  refusals: readonly (LedgerBudgetExceededError | null)[],
  fail: (p: Pending, e: unknown) => void,
  settleExisting: (p: Pending, index: number) => Promise<void>,
): Promise<void> {
  const refused = todo.filter((_, i) => refusals[i]);
  const errors = refusals.filter((r) => r !== null);
  try {
    // A refused envelope already in the log is that entry (no new spend).
    const found = refused.length ? await store.findBodies(refused.map((p) => p.body)) : [];
    for (let i = 0; i < refused.length; i++) {
      const idx = found[i];
      if (idx === null) fail(refused[i], errors[i]);
      else await settleExisting(refused[i], idx);
    }
  } catch (e) {
    refused.forEach((p) => fail(p, e)); // settling twice is a no-op
  }
}
