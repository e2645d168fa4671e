/**
 * `report.html` of an evidence pack: one self-contained page (inline CSS
 * and SVG, no scripts, no external references) that reads offline — a
 * summary per issuer and primitive, each statistic's history as a chart
 * with its threshold and breaches, a table per regulation named in the
 * envelopes, and every number linking to its envelope and receipt inside
 * the pack (`envelopes/<index>.json`, `envelopes/<index>.receipt`).
 *
 * What the page says is read from the envelopes by the rules of
 * `core/primitives/breach.ts` (statistics, breach bit, committed
 * threshold); the page itself is not evidence: `evidence verify` checks
 * the files it links to.
 *
 * @module
 */
import { THRESHOLD_RULES } from "../../core/primitives/thresholds.ts";

/** What the report shows of one entry. */
export interface EntryFacts {
  /** Log index. */
  index: number;
  /** `issuer`. */
  issuer: string;
  /** `primitive`. */
  primitive: string;
  /** `issued_at`. */
  issued_at: string;
  /** `regulations`. */
  regulations: string[];
  /** The breach bit, null without a threshold. */
  breached: boolean | null;
  /** The primitive's statistics. */
  statistics: Record<string, number | null>;
  /** Thresholds by statistic, when committed. */
  thresholds: Record<string, number>;
}

/** The inputs of {@link renderReport}. */
export interface ReportInput {
  /** The pack's selection. */
  selection: { issuer?: string; primitive?: string; from?: string; to?: string };
  /** The checkpoint every receipt is against. */
  checkpoint: { origin: string; size: number };
  /** The entries, in pack order. */
  entries: readonly EntryFacts[];
  /** The "Privacy budgets" section, rendered (`budgets.ts`); omitted when empty. */
  budgets?: string;
}

/** Most points a chart draws (evenly spaced, every breach kept). */
export const MAX_CHART_POINTS = 400;

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

const num = (v: number | null) =>
  v === null ? "—" : Number.isInteger(v) ? String(v) : v.toPrecision(4);

const envLink = (i: number, text: string) => `<a href="envelopes/${i}.json">${text}</a>`;
const receiptLink = (i: number) => `<a class="r" href="envelopes/${i}.receipt">receipt</a>`;

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1a1a1a;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc}
h3{font-size:15px;margin:18px 0 6px}table{border-collapse:collapse;margin:6px 0 12px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;font-variant-numeric:tabular-nums}
th{background:#f3f3f3}.b{color:#b00020;font-weight:600}.ok{color:#1b5e20}.muted{color:#666}
a{color:#0b57d0;text-decoration:none}a.r{font-size:12px;color:#555}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #ddd;padding:6px}
.chart .t{font-size:12px;font-weight:600}`;

function breachCell(b: boolean | null): string {
  return b === null
    ? `<td class="muted">n/a</td>`
    : b
    ? `<td class="b">breach</td>`
    : `<td class="ok">ok</td>`;
}

function sample(points: readonly EntryFacts[]): EntryFacts[] {
  if (points.length <= MAX_CHART_POINTS) return [...points];
  const step = points.length / MAX_CHART_POINTS;
  const keep = new Set<number>();
  for (let k = 0; k < MAX_CHART_POINTS; k++) keep.add(Math.floor(k * step));
  keep.add(points.length - 1);
  return points.filter((p, i) => keep.has(i) || p.breached === true);
}

/** One statistic's history as an inline SVG line chart: threshold dashed, breaches red. */
function chart(primitive: string, stat: string, entries: readonly EntryFacts[]): string {
  const W = 520, H = 190, L = 52, R = 10, T = 10, B = 28;
  const pts = sample(entries).filter((e) =>
    e.statistics[stat] !== null && e.statistics[stat] !== undefined
  );
  if (pts.length === 0) return "";
  const rule = THRESHOLD_RULES[primitive];
  const ts = rule?.statistics.includes(stat)
    ? pts.map((e) => e.thresholds[stat]).filter((t) => t !== undefined)
    : [];
  const vals = pts.map((e) => e.statistics[stat]!);
  const bounds = [...vals, ...ts, ...(rule?.absolute ? ts.map((t) => -t) : [])];
  let lo = Math.min(...bounds), hi = Math.max(...bounds);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  const x = (i: number) =>
    L + (pts.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (pts.length - 1));
  const y = (v: number) => T + ((hi - v) * (H - T - B)) / (hi - lo);
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [
    `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(stat)}">`,
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${
      H - T - B
    }" fill="#fafafa" stroke="#ccc"/>`,
  ];
  for (const v of [lo + pad, (lo + hi) / 2, hi - pad]) {
    parts.push(
      `<text x="${L - 4}" y="${f(y(v) + 4)}" font-size="10" text-anchor="end" fill="#555">${
        esc(num(v))
      }</text>`,
      `<line x1="${L}" x2="${W - R}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#eee"/>`,
    );
  }
  parts.push(
    `<text x="${L}" y="${H - 8}" font-size="10" fill="#555">${esc(pts[0].issued_at)}</text>`,
    `<text x="${W - R}" y="${H - 8}" font-size="10" text-anchor="end" fill="#555">${
      esc(pts[pts.length - 1].issued_at)
    }</text>`,
  );
  // The threshold each entry was compared with, as a dashed step line (± for magnitudes).
  if (ts.length > 0) {
    for (const sign of rule!.absolute ? [1, -1] : [1]) {
      const d = pts.map((e, i) => {
        const t = e.thresholds[stat];
        return t === undefined ? "" : `${i === 0 ? "M" : "L"}${f(x(i))},${f(y(sign * t))}`;
      }).join("");
      parts.push(
        `<path d="${
          d.replace(/^L/, "M")
        }" fill="none" stroke="#b00020" stroke-dasharray="5 4" stroke-width="1.2"/>`,
      );
    }
    parts.push(
      `<text x="${W - R - 2}" y="${
        f(y(ts[ts.length - 1]) - 4)
      }" font-size="10" text-anchor="end" fill="#b00020">threshold ${
        esc(num(ts[ts.length - 1]))
      }</text>`,
    );
  }
  parts.push(
    `<polyline fill="none" stroke="#0b57d0" stroke-width="1.5" points="${
      pts.map((e, i) => `${f(x(i))},${f(y(e.statistics[stat]!))}`).join(" ")
    }"/>`,
  );
  // A breach is marked on the statistics compared with a threshold (the entry's breach bit).
  const judged = rule?.statistics.includes(stat) ?? false;
  for (const [i, e] of pts.entries()) {
    const b = judged && e.breached === true;
    parts.push(
      `<a href="envelopes/${e.index}.json"><circle cx="${f(x(i))}" cy="${
        f(y(e.statistics[stat]!))
      }" r="${b ? 4.5 : 2.5}" fill="${b ? "#b00020" : "#0b57d0"}"><title>entry ${e.index} · ${
        esc(e.issued_at)
      } · ${esc(stat)} = ${esc(num(e.statistics[stat]))}${
        b ? " · BREACH" : ""
      }</title></circle></a>`,
    );
  }
  parts.push("</svg>");
  return `<div class="chart"><div class="t">${esc(stat)}</div>${parts.join("")}</div>`;
}

function entryRow(e: EntryFacts, stats: readonly string[]): string {
  const cells = stats.map((s) => {
    const v = e.statistics[s];
    return `<td>${v === null || v === undefined ? "—" : envLink(e.index, esc(num(v)))}</td>`;
  });
  return `<tr><td>${envLink(e.index, String(e.index))} ${receiptLink(e.index)}</td><td>${
    esc(e.issued_at)
  }</td>` +
    `<td>${esc(e.issuer)}</td><td>${esc(e.primitive)}</td>${breachCell(e.breached)}${
      cells.join("")
    }</tr>`;
}

function entryTable(entries: readonly EntryFacts[]): string {
  const stats = [...new Set(entries.flatMap((e) => Object.keys(e.statistics)))];
  return `<table><tr><th>entry</th><th>issued at</th><th>issuer</th><th>primitive</th><th>threshold</th>${
    stats.map((s) => `<th>${esc(s)}</th>`).join("")
  }</tr>${entries.map((e) => entryRow(e, stats)).join("\n")}</table>`;
}

/**
 * The report page for a pack's entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderReport } from "./report.ts";
 * const html = renderReport({
 *   selection: {},
 *   checkpoint: { origin: "example.org/log", size: 1 },
 *   entries: [{
 *     index: 0, issuer: "acme", primitive: "drift", issued_at: "2026-01-01T00:00:00Z",
 *     regulations: ["EU-AI-Act-Art-72"], breached: true,
 *     statistics: { distance: 0.3, w1_distance: 0.1 }, thresholds: { distance: 0.1 },
 *   }],
 * });
 * assert.ok(html.includes('href="envelopes/0.receipt"'));
 * assert.ok(html.includes("<svg"));
 * assert.ok(!html.includes("<script"));
 * ```
 */
export function renderReport(input: ReportInput): string {
  const { entries } = input;
  const groups = new Map<string, EntryFacts[]>();
  for (const e of entries) {
    const k = JSON.stringify([e.issuer, e.primitive]);
    let g = groups.get(k);
    if (!g) groups.set(k, g = []);
    g.push(e);
  }
  const keys = [...groups.keys()].sort();
  const sel = Object.entries(input.selection).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${esc(k)} = ${esc(String(v))}`).join(", ") || "the whole log";
  const out: string[] = [
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>Evidence pack — ${
      esc(input.checkpoint.origin)
    }</title><style>${CSS}</style></head><body>`,
    `<h1>Evidence pack</h1>`,
    `<p>Log <b>${
      esc(input.checkpoint.origin)
    }</b>, checkpoint of tree size <b>${input.checkpoint.size}</b> ` +
    `(<a href="checkpoint.txt">checkpoint.txt</a>, <a href="log-keys.txt">log keys</a>, ` +
    `<a href="trust-store.json">trust store</a>, <a href="manifest.json">manifest</a>). ` +
    `Selection: ${sel}. <b>${entries.length}</b> entries.</p>`,
    `<p class="muted">Every number links to its envelope; each entry's receipt proves its inclusion under the checkpoint. ` +
    `This page is a reading aid: run <code>regledger evidence verify</code> on the pack to check every file it links to.</p>`,
    `<h2>Summary per issuer and primitive</h2>`,
    `<table><tr><th>issuer</th><th>primitive</th><th>entries</th><th>breaches</th><th>first</th><th>last</th><th>latest values</th></tr>`,
  ];
  for (const k of keys) {
    const g = groups.get(k)!;
    const last = g[g.length - 1];
    const breaches = g.filter((e) => e.breached === true).length;
    const latest = Object.entries(last.statistics).map(([s, v]) =>
      `${esc(s)} ${v === null ? "—" : envLink(last.index, esc(num(v)))}`
    ).join(", ");
    out.push(
      `<tr><td>${esc(last.issuer)}</td><td>${esc(last.primitive)}</td><td>${g.length}</td>` +
        `<td class="${breaches ? "b" : ""}">${last.breached === null ? "n/a" : breaches}</td>` +
        `<td>${envLink(g[0].index, esc(g[0].issued_at))}</td><td>${
          envLink(last.index, esc(last.issued_at))
        }</td>` +
        `<td>${latest} ${receiptLink(last.index)}</td></tr>`,
    );
  }
  out.push(`</table>`);
  if (input.budgets) out.push(input.budgets);
  out.push(`<h2>History of each statistic</h2>`);
  for (const k of keys) {
    const g = groups.get(k)!;
    const stats = Object.keys(g[g.length - 1].statistics);
    out.push(
      `<h3>${esc(g[0].issuer)} · ${esc(g[0].primitive)}</h3>`,
      `<div class="charts">${stats.map((s) => chart(g[0].primitive, s, g)).join("")}</div>`,
    );
  }
  const regs = [...new Set(entries.flatMap((e) => e.regulations))].sort();
  out.push(`<h2>Entries per regulation</h2>`);
  if (regs.length === 0) out.push(`<p class="muted">No envelope names a regulation.</p>`);
  for (const r of regs) {
    const rs = entries.filter((e) => e.regulations.includes(r));
    out.push(
      `<h3>${esc(r)} <span class="muted">(${rs.length} entries)</span></h3>`,
      entryTable(rs),
    );
  }
  out.push(`<h2>All entries</h2>`, entryTable(entries), `</body></html>\n`);
  return out.join("\n");
}
