/// <reference lib="dom" />
/**
 * Issuer: for each primitive, each statistic over time as an SVG chart with
 * its threshold line and the breaching entries marked; a point opens its
 * entry. One paged query over the listing feeds every chart.
 *
 * @module
 */
import { getJson, query } from "../api.ts";
import { type ChartPoint, timeChart } from "../chart.ts";
import { h, link, notice, utc } from "../dom.ts";
import { num, PRIMITIVE_MEANING, statisticMeaning } from "../glossary.ts";
import type { EntryPage, EntryRow } from "../types.ts";

/** Most listing pages (of 1000 entries) one issuer view reads. */
const MAX_PAGES = 20;

async function issuerEntries(issuer: string): Promise<{ rows: EntryRow[]; complete: boolean }> {
  const rows: EntryRow[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await getJson<EntryPage>(
      `/v1/log/entries${query({ issuer, limit: 1000, cursor })}`,
    );
    rows.push(...page.entries);
    if (page.next_cursor === null) return { rows, complete: true };
    cursor = page.next_cursor;
  }
  return { rows, complete: false };
}

/** The charts of one primitive's entries. */
export function primitiveCharts(primitive: string, rows: EntryRow[]): HTMLElement {
  const names = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.summary?.statistics ?? {})) names.add(k);
  const breaches = rows.filter((r) => r.summary?.breached).length;
  const charts = [...names].map((name) => {
    const pts: ChartPoint[] = [];
    let threshold: number | undefined;
    for (const r of rows) {
      const v = r.summary?.statistics[name];
      if (typeof v !== "number") continue;
      threshold = r.summary?.thresholds[name] ?? threshold;
      const breached = r.summary?.breached === true;
      pts.push({
        t: Date.parse(r.issued_at),
        y: v,
        breached,
        href: `/console/entries/${r.index}`,
        label: `entry ${r.index}, ${utc(r.issued_at)}: ${name} = ${num(v)}${
          breached ? " (breached)" : ""
        }`,
      });
    }
    const title = `${primitive}: ${name}`;
    return h(
      "figure",
      { class: "stat", "data-statistic": name },
      // Fairness compares each difference's magnitude with the threshold (docs/formats.md §8.1).
      timeChart({ title, points: pts, threshold, symmetric: primitive === "fairness" }),
      h(
        "figcaption",
        {},
        h("strong", {}, name),
        ` — ${statisticMeaning(primitive, name)} `,
        threshold === undefined
          ? "No threshold known."
          : `Threshold ${primitive === "fairness" ? "±" : ""}${num(threshold)}.`,
      ),
    );
  });
  return h(
    "section",
    { class: "primitive", "data-primitive": primitive, "aria-labelledby": `p-${primitive}` },
    h("h2", { id: `p-${primitive}` }, primitive),
    h(
      "p",
      {},
      `${PRIMITIVE_MEANING[primitive] ?? ""} ${rows.length} entries, ${breaches} breached. `,
      link(
        `/console/entries${query({ issuer: rows[0]?.issuer, primitive, breached: "true" })}`,
        "List the breaches",
      ),
      ".",
    ),
    h(
      "p",
      { class: "legend" },
      "● entry within its threshold · ■ entry breached its threshold · dashed line: threshold",
    ),
    charts.length === 0
      ? h("p", {}, "This primitive's results have no scalar statistics.")
      : charts,
  );
}

/** The issuer view. */
export async function issuerView([issuer]: string[]): Promise<Node> {
  const { rows, complete } = await issuerEntries(issuer);
  const byPrimitive = new Map<string, EntryRow[]>();
  for (const r of rows) {
    if (!byPrimitive.has(r.primitive)) byPrimitive.set(r.primitive, []);
    byPrimitive.get(r.primitive)!.push(r);
  }
  const noSummaries = rows.length > 0 && rows.every((r) => r.summary === undefined);
  return h(
    "div",
    {},
    h("h1", {}, `Issuer ${issuer}`),
    h(
      "p",
      {},
      `${rows.length} entries${complete ? "" : ` (the first ${rows.length} by issue time)`}. `,
      "Every point is a signed entry of the log: open it to verify it in this browser.",
    ),
    noSummaries ? notice("error", "This server's listing has no result summaries.") : null,
    [...byPrimitive].sort().map(([p, rs]) => primitiveCharts(p, rs)),
  );
}
