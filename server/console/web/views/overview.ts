/// <reference lib="dom" />
/**
 * Overview: log size, the latest checkpoint with its signatures and
 * cosignatures, submissions per day, issuers and primitives.
 *
 * @module
 */
import { getJson, getText, query } from "../api.ts";
import { dayBars } from "../chart.ts";
import { facts, h, link, table, utc } from "../dom.ts";
import type { EntryPage, EntryRow } from "../types.ts";

/** How many entries the overview reads at most (one listing page, to keep the first load light). */
const SAMPLE = 400;
/** The default window of the overview's activity figures, in days. */
const DEFAULT_DAYS = 90;

/** A parsed checkpoint note. */
export interface CheckpointView {
  origin: string;
  size: number;
  root: string;
  signatures: { name: string; keyId: string; bytes: number; cosignedAt?: string }[];
}

/** Parse a C2SP checkpoint note (text, blank line, signature lines). */
export function parseCheckpoint(text: string): CheckpointView {
  const [body, sigs = ""] = text.split("\n\n");
  const [origin = "", size = "0", root = ""] = body.split("\n");
  const signatures = sigs.split("\n").filter((l) => l.startsWith("— ")).map((l) => {
    const [, name = "", sig = ""] = l.split(" ");
    const raw = atob(sig);
    const keyId = Array.from(raw.slice(0, 4), (c) => c.charCodeAt(0).toString(16).padStart(2, "0"))
      .join("");
    const bytes = raw.length - 4;
    // C2SP tlog-cosignature: an 8-byte big-endian POSIX time, then the Ed25519 signature.
    let cosignedAt: string | undefined;
    if (name !== origin && bytes === 72) {
      let t = 0;
      for (let i = 4; i < 12; i++) t = t * 256 + raw.charCodeAt(i);
      cosignedAt = new Date(t * 1000).toISOString().replace(".000", "");
    }
    return { name, keyId, bytes, cosignedAt };
  });
  return { origin, size: Number(size), root, signatures };
}

/** The entries issued in the last `days` days (at most {@linkcode SAMPLE}). */
async function recentEntries(days: number): Promise<{ rows: EntryRow[]; complete: boolean }> {
  const from = new Date(Date.now() - days * 86_400_000).toISOString();
  const page = await getJson<EntryPage>(`/v1/log/entries${query({ from, limit: SAMPLE })}`);
  return { rows: page.entries, complete: page.next_cursor === null };
}

function windowLinks(days: number): HTMLElement {
  return h(
    "p",
    { class: "window" },
    "Window: ",
    [30, 90, 365, 3650].map((d) => [
      d === days
        ? h("strong", { "aria-current": "true" }, `${d} days`)
        : link(`/console${query({ days: d === DEFAULT_DAYS ? undefined : d })}`, `${d} days`),
      " ",
    ]),
  );
}

function countBy<T>(xs: T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

/** The overview view. */
export async function overviewView(_: string[], url: URL): Promise<Node> {
  const asked = Number(url.searchParams.get("days"));
  const days = Number.isInteger(asked) && asked > 0 && asked <= 36500 ? asked : DEFAULT_DAYS;
  const [cpText, sample] = await Promise.all([getText("/v1/log/checkpoint"), recentEntries(days)]);
  const cp = parseCheckpoint(cpText);
  const sigRows = cp.signatures.map((s) => [
    s.name,
    h("code", {}, s.keyId),
    s.name === cp.origin
      ? "log signature"
      : s.cosignedAt
      ? `cosignature (witness), ${utc(s.cosignedAt)}`
      : "cosignature (witness)",
    s.bytes === 64
      ? "Ed25519"
      : s.cosignedAt
      ? "Ed25519 (cosignature/v1)"
      : s.bytes > 1000
      ? "ML-DSA-44"
      : `${s.bytes}-byte signature`,
  ]);
  const cosigned = cp.signatures.filter((s) => s.name !== cp.origin).length;
  const perDay = [...countBy(sample.rows, (r) => r.issued_at.slice(0, 10))].sort();
  const issuers = new Map<string, Set<string>>();
  for (const r of sample.rows) {
    if (!issuers.has(r.issuer)) issuers.set(r.issuer, new Set());
    issuers.get(r.issuer)!.add(r.primitive);
  }
  const perIssuer = countBy(sample.rows, (r) => r.issuer);
  const perPrimitive = countBy(sample.rows, (r) => r.primitive);
  const scope = sample.complete
    ? `the ${sample.rows.length} entries of the last ${days} days`
    : `the first ${sample.rows.length} entries of the last ${days} days`;
  return h(
    "div",
    {},
    h("h1", {}, "Overview"),
    h(
      "section",
      { "aria-labelledby": "cp-h" },
      h("h2", { id: "cp-h" }, "Latest checkpoint"),
      facts([
        ["Log", cp.origin],
        ["Log size", h("span", { id: "log-size" }, String(cp.size))],
        ["Root hash", h("code", { class: "hash" }, cp.root)],
        ["Cosignatures", cosigned === 0 ? "none yet (no witness has cosigned)" : String(cosigned)],
      ]),
      table("Signatures on the checkpoint", ["Name", "Key ID", "Role", "Algorithm"], sigRows),
    ),
    h(
      "section",
      { "aria-labelledby": "sub-h" },
      h("h2", { id: "sub-h" }, "Submissions over time"),
      windowLinks(days),
      h("p", {}, `Entries per day (UTC) over ${scope}.`),
      dayBars("Entries per day", perDay),
      h(
        "details",
        {},
        h("summary", {}, "The same as a table"),
        table("Entries per day", ["Day", "Entries"], perDay.map(([d, n]) => [d, n])),
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "iss-h" },
      h("h2", { id: "iss-h" }, "Issuers"),
      table(
        `Issuers in ${scope}`,
        ["Issuer", "Entries", "Primitives"],
        [...issuers].sort().map(([iss, prims]) => [
          link(`/console/issuers/${encodeURIComponent(iss)}`, iss),
          perIssuer.get(iss) ?? 0,
          [...prims].sort().join(", "),
        ]),
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "prim-h" },
      h("h2", { id: "prim-h" }, "Primitives"),
      table(
        `Primitives in ${scope}`,
        ["Primitive", "Entries"],
        [...perPrimitive].sort().map(([p, n]) => [
          link(`/console/entries${query({ primitive: p })}`, p),
          n,
        ]),
      ),
    ),
  );
}
