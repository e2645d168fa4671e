/**
 * `regledger ledger list`: one page of entry summaries, filtered by issuer,
 * primitive, issue time and breach, locally (`Ledger.query`) or from a
 * server (the log client's `query`) with the same {@linkcode QueryOptions}.
 *
 * @module
 */
import { type CliIO, printJson, UsageError } from "../../io.ts";
import type { QueryOptions, QueryResult } from "../../../ledger/index.ts";
import { intOption } from "./common.ts";

/** What `ledger list` asks for and how it prints it, checked before the log is opened. */
export interface ListRequest {
  /** The query, the same for a local log and a server. */
  query: QueryOptions;
  /** How to print the page. */
  format: ListFormat;
}

/** The `--format` values of `ledger list`. */
export type ListFormat = "json" | "table";

/**
 * The query `ledger list`'s options ask for.
 * @throws {UsageError} for a bad `--limit`, or `--breached` with `--not-breached`.
 */
export function listQuery(values: Record<string, string>, flags: Set<string>): QueryOptions {
  const opts: QueryOptions = {};
  for (const k of ["issuer", "primitive", "cursor"] as const) {
    if (values[k] !== undefined) opts[k] = values[k];
  }
  // A full date means its midnight UTC, for a local log and a server alike.
  for (const k of ["from", "to"] as const) {
    const v = values[k];
    if (v !== undefined) opts[k] = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v;
  }
  const limit = intOption(values, "limit", false);
  if (limit !== undefined) {
    if (limit < 1 || limit > 1000) {
      throw new UsageError(`--limit must be between 1 and 1000, got ${limit}`);
    }
    opts.limit = limit;
  }
  if (flags.has("breached") && flags.has("not-breached")) {
    throw new UsageError("--breached and --not-breached exclude each other");
  }
  if (flags.has("breached")) opts.breached = true;
  if (flags.has("not-breached")) opts.breached = false;
  return opts;
}

/**
 * The output format: `--format`, else a table on a terminal and JSON otherwise.
 * @throws {UsageError} for a `--format` other than json or table.
 */
export function listFormat(values: Record<string, string>, io: CliIO): ListFormat {
  const f = values.format;
  if (f === undefined) return io.stdoutIsTerminal ? "table" : "json";
  if (f !== "json" && f !== "table") {
    throw new UsageError(`--format must be json or table, got ${JSON.stringify(f)}`);
  }
  return f;
}

/** Print one page: `{entries, next_cursor}` as JSON, or a table with the next page's option. */
export function printPage(io: CliIO, page: QueryResult, format: ListFormat): void {
  if (format === "json") {
    printJson(io, { entries: page.entries, next_cursor: page.next_cursor });
    return;
  }
  const head = ["INDEX", "ISSUED_AT", "ISSUER", "PRIMITIVE", "KEY_ID"];
  const rows = page.entries.map((e) =>
    [
      String(e.index),
      e.issued_at,
      e.issuer,
      e.primitive,
      e.key_id,
    ].map(printable)
  );
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((x, c) => x.padEnd(widths[c])).join("  ").trimEnd();
  const lines = page.entries.length === 0 ? ["no entries"] : [line(head), ...rows.map(line)];
  if (page.next_cursor !== null) lines.push(`next page: --cursor ${page.next_cursor}`);
  io.stdout(lines.join("\n") + "\n");
}

/** Issuer names are the issuers' own text: control characters must not drive a terminal. */
function printable(s: string): string {
  return s.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
