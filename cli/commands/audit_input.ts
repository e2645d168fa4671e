/**
 * Reading `regledger audit`'s input: JSON, or a CSV/NDJSON table (format from
 * `--format` or the file's extension) with the scalar parameters from flags
 * named after the schema's fields (`--threshold`, `--n-buckets`, `--k`, …).
 * The table layout comes from the primitive's input schema (core/tabular.ts).
 *
 * @module
 */
import { UsageError } from "../io.ts";
import { type PrimitiveName, PRIMITIVES } from "../../core/envelope_types.ts";
import { getSchema, type SchemaName } from "../../core/schemas.ts";
import {
  parseCsv,
  parseNdjson,
  tableToInput,
  type TabularFormat,
  TabularInputError,
  type TabularLayout,
  tabularLayout,
} from "../../core/tabular.ts";

const MAX_INPUT = 256 * 1024 * 1024;

/** The input formats `audit` reads. */
export type InputFormat = "json" | TabularFormat;

/** The table layout of primitive `p`'s input. */
export function layoutOf(p: PrimitiveName): TabularLayout {
  return tabularLayout(getSchema(`${p}.input` as SchemaName));
}

/** The flag that gives parameter `field`: `n_buckets` → `n-buckets`. */
export const parameterFlag = (field: string): string => field.replaceAll("_", "-");

/** Every primitive's parameter flags (without dashes), for the option parser. */
export function parameterFlags(): string[] {
  return [
    ...new Set(
      PRIMITIVES.flatMap((p) => layoutOf(p).parameters.map((x) => parameterFlag(x.field))),
    ),
  ];
}

/**
 * The input format: `--format`, else by extension (`.csv`; `.ndjson`, `.jsonl`), else JSON.
 * @throws {UsageError} for an unknown `--format`.
 */
export function inputFormat(path: string, given: string | undefined): InputFormat {
  if (given !== undefined) {
    if (given === "json" || given === "csv" || given === "ndjson") return given;
    throw new UsageError(`--format must be json, csv or ndjson, got ${JSON.stringify(given)}`);
  }
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.(ndjson|jsonl)$/i.test(path)) return "ndjson";
  return "json";
}

/** What `--schema` prints: the JSON Schema and, beside it, the table form derived from it. */
export function schemaDescription(p: PrimitiveName): unknown {
  const layout = layoutOf(p);
  return {
    json_schema: getSchema(`${p}.input` as SchemaName),
    table: {
      formats: ["csv", "ndjson"],
      columns: layout.columns.map((c) => ({
        name: c.name,
        required: c.required,
        ...(c.description ? { description: c.description } : {}),
      })),
      parameters: layout.parameters.map((x) => ({
        flag: `--${parameterFlag(x.field)}`,
        field: x.field,
        type: x.type,
        required: x.required,
        ...(x.default !== undefined ? { default: x.default } : {}),
      })),
    },
  };
}

/** The input read, and for a table where a JSON pointer into it lies in the file. */
export interface AuditInput {
  /** The input object for the primitive. */
  value: unknown;
  /** For a table: `/y_true/3` → `row 4 (line 5), column y_true`; a parameter → its flag. */
  locate(pointer: string): string | undefined;
}

/**
 * Read primitive `p`'s input from `path` in `format`; `values` are the parsed
 * options (the parameter flags among them).
 *
 * @throws {UsageError} for an unreadable file, bad JSON or table, parameter flags with JSON input, a parameter flag of another primitive, or a parameter that is not a number.
 */
export async function readAuditInput(
  p: PrimitiveName,
  path: string,
  format: InputFormat,
  values: Record<string, string>,
): Promise<AuditInput> {
  const layout = layoutOf(p);
  const mine = new Map(layout.parameters.map((x) => [parameterFlag(x.field), x]));
  const given = parameterFlags().filter((f) => f in values);
  for (const f of given) {
    if (format === "json") {
      throw new UsageError(
        `--${f} applies to CSV and NDJSON input; in JSON give the field in the input`,
      );
    }
    if (!mine.has(f)) {
      const own = [...mine.keys()].map((x) => `--${x}`).join(", ") || "none";
      throw new UsageError(`--${f} does not apply to ${p} (its parameters: ${own})`);
    }
  }
  const label = path === "-" ? "standard input" : path;
  const text = await readText(path, label);
  if (format === "json") {
    try {
      return { value: JSON.parse(text), locate: () => undefined };
    } catch (e) {
      throw new UsageError(`${label} is not JSON: ${describe(e)}`, { cause: e });
    }
  }
  const parameters: Record<string, number> = {};
  for (const [flag, x] of mine) {
    const v = values[flag];
    if (v === undefined) continue;
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) {
      throw new UsageError(`--${flag} must be a number, got ${JSON.stringify(v)}`);
    }
    parameters[x.field] = n;
  }
  try {
    const table = format === "csv" ? parseCsv(text) : parseNdjson(text);
    const input = tableToInput(layout, table, parameters);
    return {
      value: input.value,
      locate: (pointer) => {
        const param = layout.parameters.find((x) => pointer === `/${x.field}`);
        return param ? `--${parameterFlag(param.field)}` : input.locate(pointer);
      },
    };
  } catch (e) {
    if (!(e instanceof TabularInputError)) throw e;
    const needs = layout.parameters.filter((x) => x.required).map((x) =>
      `--${parameterFlag(x.field)}`
    );
    const hint = /^parameter /.test(e.message) ? ` (${p} needs ${needs.join(", ")})` : "";
    throw new UsageError(
      `${label} (${format.toUpperCase()}): ${
        e.message.replace(/^parameter (\S+) is required/, (_, f) =>
          `--${parameterFlag(f)} is required`)
      }${hint}; see \`regledger audit ${p} --schema\``,
      { cause: e },
    );
  }
}

async function readText(path: string, label: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = path === "-" ? await readAll(Deno.stdin.readable) : await Deno.readFile(path);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${label}: ${describe(e)}`, { cause: e });
  }
  if (bytes.length > MAX_INPUT) throw new UsageError(`input exceeds ${MAX_INPUT} bytes`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    throw new UsageError(`${label} is not valid UTF-8`, { cause: e });
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of stream) {
    n += c.length;
    if (n > MAX_INPUT) throw new UsageError(`input exceeds ${MAX_INPUT} bytes`);
    chunks.push(c);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) (out.set(c, o), o += c.length);
  return out;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
