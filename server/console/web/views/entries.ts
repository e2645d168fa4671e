/// <reference lib="dom" />
/**
 * Entries: the listing filtered by issuer, primitive, time range and breach,
 * paged with the API's cursors. Every filter and the cursor are in the URL.
 *
 * @module
 */
import { getJson, query } from "../api.ts";
import { type Child, h, link, table, utc } from "../dom.ts";
import { num } from "../glossary.ts";
import { navigate } from "../nav.ts";
import type { EntryPage, EntryRow } from "../types.ts";

const PRIMITIVES = [
  "fairness",
  "drift",
  "calibration",
  "disagreement",
  "concordance",
  "provenance",
];
const FILTERS = ["issuer", "primitive", "from", "to", "breached", "limit"] as const;
const PAGE = 50;

/** A date (`YYYY-MM-DD`) as the RFC 3339 start of that UTC day. */
function dayStart(d: string | null): string | undefined {
  return d && /^\d{4}-\d{2}-\d{2}$/.test(d) ? `${d}T00:00:00Z` : undefined;
}

/** `to` is exclusive in the API: the day after the chosen last day. */
function dayAfter(d: string | null): string | undefined {
  if (!d || !/^\d{4}-\d{2}-\d{2}$/.test(d)) return undefined;
  return new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().replace(".000", "");
}

function field(label: string, control: HTMLElement): HTMLElement {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

function filterForm(p: URLSearchParams): HTMLFormElement {
  const issuer = h("input", { id: "f-issuer", name: "issuer", value: p.get("issuer") ?? "" });
  const primitive = h(
    "select",
    { id: "f-primitive", name: "primitive" },
    h("option", { value: "" }, "any"),
    PRIMITIVES.map((x) => h("option", { value: x, selected: p.get("primitive") === x }, x)),
  );
  const from = h("input", { id: "f-from", name: "from", type: "date", value: p.get("from") ?? "" });
  const to = h("input", { id: "f-to", name: "to", type: "date", value: p.get("to") ?? "" });
  const breached = h(
    "select",
    { id: "f-breached", name: "breached" },
    h("option", { value: "" }, "any"),
    h("option", { value: "true", selected: p.get("breached") === "true" }, "breached"),
    h("option", { value: "false", selected: p.get("breached") === "false" }, "not breached"),
  );
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter entries" },
    field("Issuer", issuer),
    field("Primitive", primitive),
    field("From (UTC day)", from),
    field("To (UTC day, inclusive)", to),
    field("Threshold", breached),
    h("button", { type: "submit", id: "f-apply" }, "Apply filters"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const q: Record<string, string> = {};
    for (const k of FILTERS) q[k] = String(data.get(k) ?? p.get(k) ?? "");
    navigate(`/console/entries${query(q)}`);
  });
  return form;
}

function breachText(r: EntryRow): Child {
  if (r.summary === undefined || r.summary.breached === null) return "no threshold";
  return r.summary.breached ? h("strong", {}, "breached") : "no";
}

function statText(r: EntryRow): string {
  const st = r.summary?.statistics ?? {};
  return Object.entries(st).map(([k, v]) => `${k} ${v === null ? "n/a" : num(v)}`).join(", ");
}

function nextLink(href: string): HTMLAnchorElement {
  const a = link(href, "Next page");
  a.id = "next-page";
  a.rel = "next";
  return a;
}

/** The entries view. */
export async function entriesView(_: string[], url: URL): Promise<Node> {
  const p = url.searchParams;
  const apiQuery = {
    issuer: p.get("issuer") ?? undefined,
    primitive: p.get("primitive") ?? undefined,
    from: dayStart(p.get("from")),
    to: dayAfter(p.get("to")),
    breached: p.get("breached") ?? undefined,
    cursor: p.get("cursor") ?? undefined,
    limit: /^[1-9][0-9]{0,2}$/.test(p.get("limit") ?? "") ? Number(p.get("limit")) : PAGE,
  };
  const page = await getJson<EntryPage>(`/v1/log/entries${query(apiQuery)}`);
  const keep: Record<string, string> = {};
  for (const k of FILTERS) if (p.get(k)) keep[k] = p.get(k)!;
  const rows = page.entries.map((r) => [
    link(`/console/entries/${r.index}`, String(r.index)),
    utc(r.issued_at),
    link(`/console/issuers/${encodeURIComponent(r.issuer)}`, r.issuer),
    r.primitive,
    breachText(r),
    statText(r),
  ]);
  const results = table(
    `Entries${p.get("cursor") ? " (continued)" : ""}: ${page.entries.length} shown`,
    ["Index", "Issued (UTC)", "Issuer", "Primitive", "Breach", "Statistics"],
    rows,
    "entries-table",
  );
  return h(
    "div",
    {},
    h("h1", {}, "Entries"),
    filterForm(p),
    page.entries.length === 0 ? h("p", { role: "status" }, "No entries match.") : results,
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      p.get("cursor") ? link(`/console/entries${query(keep)}`, "First page") : null,
      page.next_cursor
        ? nextLink(`/console/entries${query({ ...keep, cursor: page.next_cursor })}`)
        : null,
    ),
  );
}
