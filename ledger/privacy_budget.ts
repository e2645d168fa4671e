/**
 * Privacy budgets kept by the log (CONTRACT §12): each issuer's privacy loss
 * per dataset, computed from the log's own entries, and the check that
 * refuses an append that would exceed the configured budget.
 *
 * ## Why two racing releases are never both accepted
 *
 * The check runs inside the group commit (`group_commit.ts`) against the
 * head the commit is conditioned on: before a batch is committed on head
 * version V of size n, {@linkcode PrivacyBudgetKeeper.catchUp} reads the
 * entries in [seen, n) (only those: the per-(issuer, dataset) loss is kept in
 * memory and extended), and {@linkcode PrivacyBudgetKeeper.admit} charges the
 * batch's releases in order on top of it. The commit then succeeds only if
 * the head is still V, so every admitted release was checked against every
 * entry before it in the log. When another writer (this process or another
 * one sharing the store) committed first, the head changed, the commit fails
 * and the retry checks again with the new entries. A release refused in a
 * batch is answered only after the rest of the batch committed (or when
 * nothing of the batch was admitted), so a refusal is always justified by
 * entries that are in the log; the other envelopes of the batch are
 * unaffected.
 *
 * Composition is `accountant.ts`'s: basic (Σε, Σδ) for a budget with δ = 0,
 * RDP (with the basic sums when smaller) for a budget with δ > 0. Releases
 * whose issuer and dataset have no configured budget are unlimited (still
 * accounted, and reported by {@linkcode PrivacyBudgetKeeper.status}).
 * Envelopes whose `dp` block names no dataset are charged to nothing.
 *
 * @module
 */
import { RegledgerError } from "../core/errors.ts";
import {
  addLoss,
  budgetKey,
  composeLoss,
  compositionFor,
  type DatasetBudget,
  type DatasetRelease,
  datasetRelease,
  emptyLoss,
  exceedsBudget,
  type PrivacyLoss,
  remainingBudget,
  spendOf,
} from "../core/dp/index.ts";
import { LedgerCorruptionError } from "./errors.ts";
import type { LedgerStore } from "./store.ts";

/**
 * An append would exceed the issuer's privacy budget for the dataset;
 * nothing was appended. The HTTP API answers 422 `{reason: "PrivacyBudgetExceeded"}`.
 * @example A second release of ε 0.5 on a dataset with a budget of ε 0.75 is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parsePrivacyBudgets } from "../core/dp/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { LedgerBudgetExceededError } from "./privacy_budget.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * ledger.setPrivacyBudgets(parsePrivacyBudgets(
 *   '{"budgets": [{"issuer": "acme", "dataset": "cohort-7", "epsilon": 0.75}]}',
 * ));
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const release = async () => {
 *   const dp = {
 *     specs: { distance: { mechanism: "laplace" as const, epsilon: 0.5, sensitivity: 0.1 } },
 *     dataset: "cohort-7",
 *   };
 *   const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] }, { dp });
 *   return parseEnvelopeValue(await signAuditRun(run, key, { issuer: "acme" }));
 * };
 * assert.equal((await ledger.append(await release())).index, 0);
 * await assert.rejects(ledger.append(await release()), (e) =>
 *   e instanceof LedgerBudgetExceededError && e.reason === "PrivacyBudgetExceeded");
 * const status = await ledger.privacyBudget("acme", "cohort-7");
 * assert.deepEqual(status.entries, [0]);
 * assert.equal(status.spent.epsilon, 0.5);
 * await ledger.close();
 * ```
 */
export class LedgerBudgetExceededError extends RegledgerError {
  /** The reason reported by the CLI and HTTP API. */
  readonly reason = "PrivacyBudgetExceeded";
  /** The issuer. */
  readonly issuer: string;
  /** The dataset. */
  readonly dataset: string;
  /** The configured budget. */
  readonly budget: { epsilon: number; delta: number };
  /** What the log would have spent with this release. */
  readonly wouldSpend: { epsilon: number; delta: number };
  /** Build the error. */
  constructor(
    issuer: string,
    dataset: string,
    budget: { epsilon: number; delta: number },
    wouldSpend: { epsilon: number; delta: number },
  ) {
    super(
      `privacy budget exceeded: issuer ${JSON.stringify(issuer)} on dataset ${
        JSON.stringify(dataset)
      } would spend (ε=${wouldSpend.epsilon.toPrecision(6)}, δ=${
        wouldSpend.delta.toPrecision(3)
      }) against a budget of (ε=${budget.epsilon}, δ=${budget.delta})`,
    );
    this.issuer = issuer;
    this.dataset = dataset;
    this.budget = budget;
    this.wouldSpend = wouldSpend;
  }
}

/** A charge to decide: the envelope's issuer and the release it makes (null: none). */
export interface BudgetCharge {
  /** The envelope's `issuer`. */
  issuer: string;
  /** Its release, or null when its `dp` block names no dataset. */
  release: DatasetRelease | null;
}

/**
 * What `GET /v1/privacy/budget` and `Ledger.privacyBudget` return
 * (`schemas/privacy-budget.json`).
 *
 * @example Nothing spent, no budget configured: unlimited
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import type { PrivacyBudgetStatus } from "./privacy_budget.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const s: PrivacyBudgetStatus = await ledger.privacyBudget("acme", "cohort-7");
 * assert.equal(s.budget, null);
 * assert.deepEqual(s.entries, []);
 * assert.equal(s.spent.epsilon, 0);
 * await ledger.close();
 * ```
 */
export interface PrivacyBudgetStatus {
  /** The issuer asked about. */
  issuer: string;
  /** The dataset asked about. */
  dataset: string;
  /** The configured budget, or null: none configured (unlimited). */
  budget: { epsilon: number; delta: number } | null;
  /** What the log's entries spent, composed as `composition` says. */
  spent: { epsilon: number; delta: number; composition: "basic" | "rdp"; releases: number };
  /** Budget minus spent (never below 0), or null without a budget. */
  remaining: { epsilon: number; delta: number } | null;
  /** Indexes of the entries that spent it, ascending. */
  entries: number[];
  /** The log size the figures cover (entries [0, tree_size)). */
  tree_size: number;
}

interface PairLoss {
  loss: PrivacyLoss;
  entries: number[];
}

const ENTRY_CHUNK = 256;

/** Per-process privacy-budget state of one ledger (see the module documentation). */
export class PrivacyBudgetKeeper {
  readonly #store: LedgerStore;
  #budgets: ReadonlyMap<string, DatasetBudget> | null = null;
  readonly #pairs = new Map<string, PairLoss>();
  /** Entries [0, seen) are accounted in `#pairs`. */
  #seen = 0;
  /** The losses the last {@linkcode admit} computed, on top of `#seen` then. */
  #admitted: { base: number; losses: Map<string, PrivacyLoss> } | null = null;

  /** Keep budgets for the log in `store`. */
  constructor(store: LedgerStore) {
    this.#store = store;
  }

  /** Whether budgets are configured (appends are checked). */
  get active(): boolean {
    return this.#budgets !== null;
  }

  /** Replace the budgets in force (null: none, appends are not checked). */
  setBudgets(budgets: ReadonlyMap<string, DatasetBudget> | null): void {
    this.#budgets = budgets;
  }

  /** Account the entries in [seen, size) read from the store. */
  async catchUp(size: number): Promise<void> {
    while (this.#seen < size) {
      const start = this.#seen;
      const got = await this.#store.readEntries(start, Math.min(size, start + ENTRY_CHUNK));
      if (got.length === 0) {
        throw new LedgerCorruptionError(`entry ${start} is missing from the store`, start);
      }
      for (const e of got) {
        // A commit of this process may have accounted these meanwhile (record()).
        if (e.index !== this.#seen) continue;
        this.#apply(e.index, chargeOfStored(e.index, e.envelope));
      }
    }
  }

  #apply(index: number, c: BudgetCharge | null): void {
    if (c?.release) {
      const key = budgetKey(c.issuer, c.release.dataset);
      const p = this.#pairs.get(key) ?? { loss: emptyLoss(), entries: [] };
      p.loss = addLoss(p.loss, c.release.specs);
      p.entries.push(index);
      this.#pairs.set(key, p);
    }
    this.#seen = index + 1;
  }

  /**
   * Decide `charges` in order on top of what is accounted (call
   * {@linkcode catchUp} with the commit's base size first): for each, null
   * when admitted (and tentatively charged for the ones after it), else the
   * refusal. Changes nothing.
   */
  admit(charges: readonly BudgetCharge[]): (LedgerBudgetExceededError | null)[] {
    const budgets = this.#budgets;
    const tentative = new Map<string, PrivacyLoss>();
    this.#admitted = { base: this.#seen, losses: tentative };
    return charges.map((c) => {
      if (!c.release || !budgets) return null;
      const key = budgetKey(c.issuer, c.release.dataset);
      const budget = budgets.get(key);
      if (!budget) return null; // no budget configured: unlimited
      const base = tentative.get(key) ?? this.#pairs.get(key)?.loss ?? emptyLoss();
      const next = addLoss(base, c.release.specs);
      const spent = composeLoss(next, budget, compositionFor(budget));
      if (exceedsBudget(spent, budget)) {
        return new LedgerBudgetExceededError(c.issuer, c.release.dataset, {
          epsilon: budget.epsilon,
          delta: budget.delta,
        }, spent);
      }
      tentative.set(key, next);
      return null;
    });
  }

  /**
   * Account the entries a successful commit appended at `start` (their
   * charges in order), when the keeper has seen exactly the entries before them.
   */
  record(start: number, charges: readonly BudgetCharge[]): void {
    const admitted = this.#admitted;
    this.#admitted = null;
    if (this.#seen !== start) return; // catchUp() will read them
    if (admitted === null || admitted.base !== start || this.#budgets === null) {
      charges.forEach((c, i) => this.#apply(start + i, c));
      return;
    }
    // The charges admit() accepted: their losses are already composed.
    charges.forEach((c, i) => {
      if (!c.release) return;
      const key = budgetKey(c.issuer, c.release.dataset);
      const loss = admitted.losses.get(key);
      if (loss === undefined) return this.#apply(start + i, c); // unbudgeted pair
      const p = this.#pairs.get(key) ?? { loss, entries: [] };
      p.loss = loss;
      p.entries.push(start + i);
      this.#pairs.set(key, p);
    });
    this.#seen = start + charges.length;
  }

  /** The budget, spend and spending entries of (`issuer`, `dataset`) over entries [0, size). */
  async status(issuer: string, dataset: string, size: number): Promise<PrivacyBudgetStatus> {
    await this.catchUp(size);
    const key = budgetKey(issuer, dataset);
    const b = this.#budgets?.get(key);
    const budget = b ? { epsilon: b.epsilon, delta: b.delta } : null;
    const p = this.#pairs.get(key) ?? { loss: emptyLoss(), entries: [] };
    const spent = spendOf(p.loss, budget);
    return {
      issuer,
      dataset,
      budget,
      spent,
      remaining: remainingBudget(budget, spent),
      entries: [...p.entries],
      tree_size: this.#seen,
    };
  }
}

const DATASET_MARK = '"dataset"';
const decoder = new TextDecoder();

/** The charge of a stored entry, from its canonical envelope bytes. */
function chargeOfStored(index: number, envelope: Uint8Array): BudgetCharge | null {
  const text = decoder.decode(envelope);
  if (!text.includes(DATASET_MARK)) return null; // fast path: no dp dataset
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const release = datasetRelease(v);
    return release ? { issuer: String(v.issuer), release } : null;
  } catch (e) {
    throw new LedgerCorruptionError(
      `entry ${index}: cannot account its dp block: ${(e as Error).message}`,
      index,
      { cause: e },
    );
  }
}
