/// <reference lib="dom" />
/**
 * Building DOM nodes without innerHTML: every text the console shows is set
 * as text, so nothing read from the log can become markup or script.
 *
 * @module
 */

/** Attribute values; `false`/`undefined` leave the attribute out. */
export type Attrs = Record<string, string | number | boolean | undefined>;
/** What may be a child: nodes, text, or nothing. */
export type Child = Node | string | number | null | undefined | false | Child[];

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.append(c);
    else el.append(String(c));
  }
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
}

/** An HTML element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and children. */
export function s(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** A link inside the console (navigates without reloading the page). */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href, "data-nav": true }, ...children);
}

/** A definition list from label/value pairs. */
export function facts(rows: [string, Child][]): HTMLDListElement {
  return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/**
 * A table with a caption, header row and body rows, in a labelled region
 * that scrolls sideways on its own when the table is wider than the screen
 * (at 200% zoom), so the page itself never does.
 */
export function table(
  caption: string,
  head: string[],
  rows: Child[][],
  id?: string,
): HTMLDivElement {
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: 0 },
    h(
      "table",
      { id },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
    ),
  );
}

/** A status message for screen readers and sighted users alike. */
export function notice(kind: "error" | "info", text: string): HTMLParagraphElement {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** An ISO time as UTC text, `2026-01-02 03:04:05Z`. */
export function utc(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
