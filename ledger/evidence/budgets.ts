/**
 * The privacy-budget statements of an evidence pack (docs/formats.md,
 * "Evidence packs"): for each (issuer, dataset) pair released by an
 * envelope of the pack, `budgets/<n>.json` states the configured budget,
 * the spend at the pack's checkpoint and the entries that spent it.
 *
 * A pack holds every spending envelope of the pairs it covers (those the
 * selection left out are added with their receipts and listed in the
 * manifest's `privacy_budgets.entries`), so `evidence verify` recomputes
 * each spend offline from the envelopes with the ledger's one composition
 * rule (`spendOf`, `core/dp/budgets.ts`) and checks it against the
 * statement and the stated budget.
 *
 * @module
 */
import { utf8 } from "../../core/bytes.ts";
import {
  addLoss,
  budgetKey,
  type CalibratedSpec,
  datasetRelease,
  emptyLoss,
  exceedsBudget,
  type PrivacySpend,
  remainingBudget,
  spendOf,
} from "../../core/dp/index.ts";
import { canonicalBytes } from "../../core/jcs.ts";

/** Format name of every statement. */
export const STATEMENT_FORMAT = "regledger-privacy-budget-statement/v1";

/** A configured budget (ε, δ). */
export interface BudgetFigures {
  /** Total ε. */
  epsilon: number;
  /** Total δ. */
  delta: number;
}

/** What a pack source says of one pair: its budget and the entries that spent it. */
export interface SourceBudget {
  /** The configured budget, null: none. */
  budget: BudgetFigures | null;
  /** Indexes of the spending entries (any log size ≥ the checkpoint's), ascending. */
  entries: number[];
  /** The log size `entries` covers. */
  tree_size: number;
}

/** One statement file (`budgets/<n>.json`). */
export interface BudgetStatement {
  /** {@link STATEMENT_FORMAT}. */
  format: string;
  /** The issuer. */
  issuer: string;
  /** The dataset. */
  dataset: string;
  /** The configured budget, null: none (unlimited). */
  budget: BudgetFigures | null;
  /** What entries [0, tree_size) spent. */
  spent: PrivacySpend;
  /** Budget minus spent (never below 0), null without a budget. */
  remaining: BudgetFigures | null;
  /** The spending entries below tree_size, ascending. */
  entries: number[];
  /** The pack's checkpoint size. */
  tree_size: number;
}

/** The manifest's `privacy_budgets` member (null when the pack releases on no dataset). */
export interface BudgetManifest {
  /** The statement files, in order. */
  statements: string[];
  /** Spending entries the selection left out, added to the pack. */
  entries: number[];
}

interface Release {
  key: string;
  issuer: string;
  dataset: string;
  specs: CalibratedSpec[];
}

const DATASET_MARK = utf8('"dataset"');

function hasMark(b: Uint8Array): boolean {
  const m = DATASET_MARK;
  // Jump between quotes (native indexOf): most envelopes name no dataset.
  for (let i = b.indexOf(m[0]); i >= 0 && i + m.length <= b.length; i = b.indexOf(m[0], i + 1)) {
    let j = 1;
    while (j < m.length && b[i + j] === m[j]) j++;
    if (j === m.length) return true;
  }
  return false;
}

/** The release an envelope's bytes make, null when none (or unreadable: verification says so). */
export function releaseOfEnvelope(envelope: Uint8Array): Release | null {
  if (!hasMark(envelope)) return null;
  try {
    const v = JSON.parse(new TextDecoder().decode(envelope)) as Record<string, unknown>;
    const r = datasetRelease(v);
    if (r === null || typeof v.issuer !== "string") return null;
    return {
      key: budgetKey(v.issuer, r.dataset),
      issuer: v.issuer,
      dataset: r.dataset,
      specs: r.specs,
    };
  } catch {
    return null;
  }
}

/** Collects the releases of the envelopes written to a pack. */
export class BudgetCollector {
  readonly #releases = new Map<number, Release>();
  /** Note entry `index` written with `envelope`. */
  note(index: number, envelope: Uint8Array): void {
    const r = releaseOfEnvelope(envelope);
    if (r) this.#releases.set(index, r);
  }
  /** The pairs released so far, sorted by issuer then dataset. */
  pairs(): { issuer: string; dataset: string; key: string }[] {
    const m = new Map<string, Release>();
    for (const r of this.#releases.values()) m.set(r.key, r);
    return [...m.values()].map(({ issuer, dataset, key }) => ({ issuer, dataset, key }))
      .sort((a, b) =>
        a.issuer < b.issuer
          ? -1
          : a.issuer > b.issuer
          ? 1
          : a.dataset < b.dataset
          ? -1
          : a.dataset > b.dataset
          ? 1
          : 0
      );
  }
  /** The release of a written entry. */
  release(index: number): Release | undefined {
    return this.#releases.get(index);
  }
  /** Indexes of written entries releasing on `key`. */
  indexesOf(key: string): number[] {
    return [...this.#releases].filter(([, r]) => r.key === key).map(([i]) => i);
  }
}

/** The spend of `indexes` (ascending) of `releases`, and the statement over it. */
function statementOf(
  issuer: string,
  dataset: string,
  budget: BudgetFigures | null,
  indexes: number[],
  release: (i: number) => Release | undefined,
  treeSize: number,
): BudgetStatement {
  let loss = emptyLoss();
  for (const i of indexes) loss = addLoss(loss, release(i)?.specs ?? []);
  const spent = spendOf(loss, budget);
  return {
    format: STATEMENT_FORMAT,
    issuer,
    dataset,
    budget,
    spent,
    remaining: remainingBudget(budget, spent),
    entries: indexes,
    tree_size: treeSize,
  };
}

/** What {@link buildBudgetStatements} gives the pack writer. */
export interface BuiltStatements {
  /** Files to add (`budgets/<n>.json`, JCS). */
  files: { path: string; data: Uint8Array }[];
  /** The manifest member. */
  manifest: BudgetManifest | null;
  /** The statements, for the report. */
  statements: BudgetStatement[];
}

/**
 * Build the statements of the pairs `collector` saw: asks `lookup` for each
 * pair's budget and spending entries, writes the spending entries the pack
 * lacks with `writeEntry` (which must note them in `collector`), and
 * recomputes each spend from the envelopes.
 *
 * @throws {Error} when the source's accounting does not match its envelopes.
 */
export async function buildBudgetStatements(
  collector: BudgetCollector,
  treeSize: number,
  lookup: ((issuer: string, dataset: string) => Promise<SourceBudget>) | undefined,
  writeEntry: (index: number) => Promise<void>,
): Promise<BuiltStatements> {
  const pairs = collector.pairs();
  if (pairs.length === 0) return { files: [], manifest: null, statements: [] };
  if (lookup === undefined) {
    throw new Error("the log's source keeps no privacy-budget accounting");
  }
  const extra: number[] = [];
  const statements: BudgetStatement[] = [];
  for (const p of pairs) {
    const src = await lookup(p.issuer, p.dataset);
    if (src.tree_size < treeSize) {
      throw new Error(
        `the log's budget accounting covers ${src.tree_size} entries, fewer than the checkpoint's ${treeSize}`,
      );
    }
    const indexes = [...new Set(src.entries.filter((i) => i < treeSize))].sort((a, b) => a - b);
    const listed = new Set(indexes);
    for (const i of collector.indexesOf(p.key)) {
      if (!listed.has(i)) {
        throw new Error(`entry ${i} releases on ${p.dataset} but the log's accounting omits it`);
      }
    }
    for (const i of indexes) {
      if (collector.release(i) === undefined) {
        await writeEntry(i);
        extra.push(i);
      }
      if (collector.release(i)?.key !== p.key) {
        throw new Error(
          `entry ${i} is in the log's accounting of ${p.dataset} but releases on no such pair`,
        );
      }
    }
    statements.push(
      statementOf(p.issuer, p.dataset, src.budget, indexes, (i) => collector.release(i), treeSize),
    );
  }
  const files = statements.map((s, n) => ({
    path: `budgets/${n}.json`,
    data: utf8(new TextDecoder().decode(canonicalBytes(s)) + "\n"),
  }));
  return {
    files,
    manifest: { statements: files.map((f) => f.path), entries: extra.sort((a, b) => a - b) },
    statements,
  };
}

/** A problem found by {@link checkBudgetStatements}. */
export interface BudgetProblem {
  /** The statement file (or `manifest.json`). */
  file: string;
  /** `budget-malformed`, `budget-missing`, `budget-entries`, `budget-spend`, `budget-exceeded`. */
  reason: string;
  /** What failed. */
  message: string;
}

/** Read the manifest member; a string is what is wrong with it. */
export function readBudgetManifest(v: unknown, treeSize: number): BudgetManifest | null | string {
  if (v === null || v === undefined) return null;
  const o = v as Record<string, unknown>;
  if (
    typeof v !== "object" || !Array.isArray(o.statements) || !Array.isArray(o.entries) ||
    !o.statements.every((s) =>
      typeof s === "string" && /^budgets\/(0|[1-9][0-9]{0,5})\.json$/.test(s)
    ) ||
    !o.entries.every((i) => Number.isSafeInteger(i) && i >= 0 && i < treeSize) ||
    new Set(o.entries).size !== o.entries.length
  ) return "privacy_budgets is not in the documented shape";
  return { statements: o.statements as string[], entries: o.entries as number[] };
}

/**
 * Check every statement of a pack against its envelopes: each pair released
 * in the pack has a statement; a statement's entries are exactly the pack's
 * envelopes releasing on its pair; its spend is what they compose to; it
 * does not exceed its budget.
 */
export function checkBudgetStatements(
  m: BudgetManifest | null,
  envelopes: ReadonlyMap<number, Uint8Array>,
  file: (path: string) => Uint8Array | undefined,
  treeSize: number,
): BudgetProblem[] {
  const problems: BudgetProblem[] = [];
  const collector = new BudgetCollector();
  for (const [i, e] of envelopes) collector.note(i, e);
  const covered = new Set<string>();
  for (const path of m?.statements ?? []) {
    const bad = (reason: string, message: string) => problems.push({ file: path, reason, message });
    let s: BudgetStatement;
    try {
      s = JSON.parse(new TextDecoder().decode(file(path) ?? new Uint8Array()));
    } catch (e) {
      bad("budget-malformed", `${path} is not JSON: ${(e as Error).message}`);
      continue;
    }
    const fig = (b: unknown) =>
      b === null ||
      (typeof b === "object" && Number.isFinite((b as BudgetFigures).epsilon) &&
        Number.isFinite((b as BudgetFigures).delta));
    if (
      !s || s.format !== STATEMENT_FORMAT || typeof s.issuer !== "string" ||
      typeof s.dataset !== "string" || !fig(s.budget) || !Array.isArray(s.entries) ||
      !s.entries.every((i) => Number.isSafeInteger(i)) || typeof s.spent !== "object" || !s.spent
    ) {
      bad("budget-malformed", `${path} is not a ${STATEMENT_FORMAT} statement`);
      continue;
    }
    const key = budgetKey(s.issuer, s.dataset);
    if (covered.has(key)) {
      bad("budget-malformed", `a second statement for ${s.issuer} on ${s.dataset}`);
      continue;
    }
    covered.add(key);
    if (s.tree_size !== treeSize) {
      bad(
        "budget-spend",
        `${path} is for tree size ${s.tree_size}, not the checkpoint's ${treeSize}`,
      );
      continue;
    }
    const inPack = collector.indexesOf(key).sort((a, b) => a - b);
    const listed = [...s.entries];
    if (JSON.stringify(listed) !== JSON.stringify(inPack)) {
      const missing = inPack.filter((i) => !listed.includes(i));
      const foreign = listed.filter((i) => !inPack.includes(i));
      bad(
        "budget-entries",
        `${path} lists entries [${listed.join(", ")}] but the pack's envelopes releasing on ` +
          `${s.dataset} for ${s.issuer} are [${inPack.join(", ")}]` +
          (missing.length ? ` (omitted: ${missing.join(", ")})` : "") +
          (foreign.length ? ` (not such releases: ${foreign.join(", ")})` : ""),
      );
      continue;
    }
    const want = statementOf(
      s.issuer,
      s.dataset,
      s.budget,
      inPack,
      (i) => collector.release(i),
      treeSize,
    );
    // Compared as JCS: key order is not part of a statement's meaning.
    const jcs = (v: unknown) => new TextDecoder().decode(canonicalBytes(v));
    const same = (a: unknown, b: unknown) => jcs(a ?? null) === jcs(b ?? null);
    if (!same(want.spent, s.spent) || !same(want.remaining, s.remaining)) {
      bad(
        "budget-spend",
        `${path} states spent ${JSON.stringify(s.spent)} and remaining ${
          JSON.stringify(s.remaining)
        }; ` +
          `its entries compose to ${JSON.stringify(want.spent)} and ${
            JSON.stringify(want.remaining)
          }`,
      );
      continue;
    }
    if (s.budget && exceedsBudget(want.spent, s.budget)) {
      bad(
        "budget-exceeded",
        `${path}: spent (ε=${want.spent.epsilon}, δ=${want.spent.delta}) exceeds the budget ` +
          `(ε=${s.budget.epsilon}, δ=${s.budget.delta})`,
      );
    }
  }
  for (const p of collector.pairs()) {
    if (!covered.has(p.key)) {
      problems.push({
        file: "manifest.json",
        reason: "budget-missing",
        message: `no privacy-budget statement for ${p.issuer} on ${p.dataset}`,
      });
    }
  }
  return problems;
}

const n = (v: number) => String(Number(v.toPrecision(4)));
const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/** The report's "Privacy budgets" section: one table per issuer (empty without statements). */
export function renderBudgetSection(
  statements: readonly BudgetStatement[],
  paths: readonly string[],
): string {
  if (statements.length === 0) return "";
  const out = [`<h2>Privacy budgets</h2>`];
  const issuers = [...new Set(statements.map((s) => s.issuer))];
  for (const issuer of issuers) {
    out.push(
      `<h3>${esc(issuer)}</h3>`,
      `<table><tr><th>dataset</th><th>budget ε / δ</th><th>spent ε / δ</th><th>remaining ε / δ</th><th>spending entries</th><th>statement</th></tr>`,
    );
    statements.forEach((s, k) => {
      if (s.issuer !== issuer) return;
      const pair = (b: BudgetFigures | null) => b ? `${n(b.epsilon)} / ${n(b.delta)}` : "none";
      const links = s.entries.map((i) => `<a href="envelopes/${i}.json">${i}</a>`).join(" ");
      out.push(
        `<tr><td>${esc(s.dataset)}</td><td>${pair(s.budget)}</td>` +
          `<td>${pair(s.spent)} (${s.spent.composition})</td><td>${pair(s.remaining)}</td>` +
          `<td>${s.entries.length}: ${links}</td><td><a href="${paths[k]}">${
            paths[k]
          }</a></td></tr>`,
      );
    });
    out.push(`</table>`);
  }
  return out.join("\n");
}
