/**
 * Audit inputs as tables: CSV (RFC 4180) and NDJSON, turned into the JSON
 * object a primitive's input schema describes.
 *
 * The table layout is derived from the input schema, not written beside it
 * ({@linkcode tabularLayout}): every array-of-numbers field is a column named
 * after the field; an array of fixed-length number arrays (disagreement's
 * `model_polynomials`) is one column per position, `NAME.0` … `NAME.(n-1)`,
 * one row per element; every number field (thresholds, `k`, …) is a
 * parameter, given apart from the table (the CLI's `--threshold`, `--k`, …).
 *
 * A table has a header naming its columns (CSV: the first record; NDJSON: the
 * keys of the first line, every line an object with the same keys). A column
 * ends at its first empty cell (CSV: an empty field; NDJSON: `null`), so
 * vectors of different lengths share one table; below that, its cells must
 * stay empty. Rows are numbered from 1, the first data row after the header.
 *
 * Pure: no I/O; the caller reads the file.
 *
 * @module
 */
import { RegledgerError } from "./errors.ts";

/** A table format the audits accept besides JSON. */
export type TabularFormat = "csv" | "ndjson";

/** One column of a primitive's table. */
export interface TabularColumn {
  /** Header name: the field, or `field.N` for position N of a fixed-length element. */
  name: string;
  /** The input field the column fills. */
  field: string;
  /** Position in each element, for an array of fixed-length arrays. */
  position?: number;
  /** Whether the field is required. */
  required: boolean;
  /** The schema's description of the field. */
  description?: string;
}

/** A scalar input field, given apart from the table. */
export interface TabularParameter {
  /** The input field. */
  field: string;
  /** `number` or `integer`. */
  type: "number" | "integer";
  /** Whether the field is required. */
  required: boolean;
  /** The schema's default, when it has one. */
  default?: number;
  /** The schema's description of the field. */
  description?: string;
}

/** How a primitive's input reads as a table. */
export interface TabularLayout {
  /** The columns, in the schema's field order. */
  columns: TabularColumn[];
  /** The scalar parameters. */
  parameters: TabularParameter[];
}

/** A table that cannot become the input: what is wrong and where. */
export class TabularInputError extends RegledgerError {
  /** Line of the file (1-based) where the problem is, when it is on one line. */
  readonly line?: number;
  /** Build the error; the message names the row, line and column. */
  constructor(message: string, line?: number, options?: ErrorOptions) {
    super(message, options);
    this.line = line;
  }
}

/** A JSON Schema object (an input schema: `properties`, `required`, `$defs`). */
export type TabularSchema = { [k: string]: unknown };

function resolve(root: TabularSchema, s: TabularSchema): TabularSchema {
  const ref = s.$ref;
  if (typeof ref !== "string") return s;
  const m = /^#\/\$defs\/(.+)$/.exec(ref);
  const target = m ? (root.$defs as Record<string, TabularSchema> | undefined)?.[m[1]] : undefined;
  if (!target) throw new TypeError(`unsupported $ref ${ref}`);
  return { ...target, ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== "$ref")) };
}

const isNumberType = (t: unknown) => t === "number" || t === "integer";

/**
 * The table layout of an input schema (see the module documentation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tabularLayout } from "./tabular.ts";
 * import { getSchema } from "./schemas.ts";
 * const layout = tabularLayout(getSchema("provenance.input"));
 * assert.deepEqual(layout.columns.map((c) => c.name), ["attributions", "row_ids"]);
 * assert.deepEqual(layout.parameters.map((p) => p.field), ["n_buckets", "k"]);
 * ```
 *
 * @throws {TypeError} for a field that is neither a number, an array of numbers nor an array of fixed-length number arrays.
 */
export function tabularLayout(schema: TabularSchema): TabularLayout {
  const props = (schema.properties ?? {}) as Record<string, TabularSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const out: TabularLayout = { columns: [], parameters: [] };
  for (const [field, raw] of Object.entries(props)) {
    const s = resolve(schema, raw);
    const description = typeof raw.description === "string" ? raw.description : undefined;
    const base = { field, required: required.has(field), description };
    if (isNumberType(s.type)) {
      out.parameters.push({
        ...base,
        type: s.type as "number" | "integer",
        ...(typeof s.default === "number" ? { default: s.default } : {}),
      });
      continue;
    }
    const items = s.type === "array" && s.items
      ? resolve(schema, s.items as TabularSchema)
      : undefined;
    if (items && isNumberType(items.type)) {
      out.columns.push({ name: field, ...base });
      continue;
    }
    const inner = items?.type === "array" && items.items
      ? resolve(schema, items.items as TabularSchema)
      : undefined;
    const n = items?.minItems;
    if (inner && isNumberType(inner.type) && typeof n === "number" && items!.maxItems === n) {
      for (let i = 0; i < n; i++) out.columns.push({ name: `${field}.${i}`, ...base, position: i });
      continue;
    }
    throw new TypeError(`field ${field} has no table form`);
  }
  return out;
}

/** A parsed table: its header and, per data row, its line and cells (`null` = empty). */
export interface Table {
  /** Column names, in file order. */
  header: string[];
  /** Data rows in order. */
  rows: { line: number; cells: (number | null)[] }[];
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function cellNumber(text: string, where: () => string, line: number): number | null {
  const t = text.trim();
  if (t === "") return null;
  const x = Number(t);
  if (!NUMBER.test(t) || !Number.isFinite(x)) {
    throw new TabularInputError(`${where()}: ${JSON.stringify(text)} is not a number`, line);
  }
  return x;
}

/** RFC 4180 records of `text`, each with the line it starts on. */
function csvRecords(text: string): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) {
            throw new TabularInputError(`line ${start}: a quoted field is not closed`, start);
          }
          const c = text[i++];
          if (c === '"') {
            if (text[i] === '"') {
              field += '"';
              i++;
            } else break;
          } else {
            if (c === "\n") line++;
            field += c;
          }
        }
        if (i < text.length && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
          throw new TabularInputError(`line ${line}: text after a closing quote`, line);
        }
      } else {
        while (i < text.length && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
          if (text[i] === '"') {
            throw new TabularInputError(
              `line ${line}: a quote inside an unquoted field (quote the whole field, doubling inner quotes)`,
              line,
            );
          }
          field += text[i++];
        }
      }
      fields.push(field);
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "\r") i++;
      if (text[i] === "\n") i++;
      line++;
      break;
    }
    // Blank lines carry no record.
    if (!(fields.length === 1 && fields[0].trim() === "")) records.push({ line: start, fields });
  }
  return records;
}

/**
 * Parse CSV text (RFC 4180: comma-separated, `"`-quoted fields with `""`
 * for a quote, CRLF or LF line ends) whose first record is the header.
 *
 * @throws {TabularInputError} for broken quoting, a missing header, a row with more or fewer fields than the header, or a cell that is not a number.
 */
export function parseCsv(text: string): Table {
  const records = csvRecords(text);
  if (records.length === 0) {
    throw new TabularInputError("the CSV is empty (a header row is required)");
  }
  const header = records[0].fields.map((f) => f.trim());
  if (header.every((h) => NUMBER.test(h))) {
    throw new TabularInputError(
      "line 1: the first row must be a header naming the columns, not data",
      records[0].line,
    );
  }
  const rows = records.slice(1).map((r, k) => {
    if (r.fields.length !== header.length) {
      throw new TabularInputError(
        `row ${
          k + 1
        } (line ${r.line}) has ${r.fields.length} fields; the header has ${header.length}`,
        r.line,
      );
    }
    return {
      line: r.line,
      cells: r.fields.map((f, c) =>
        cellNumber(f, () => `row ${k + 1} (line ${r.line}), column ${header[c]}`, r.line)
      ),
    };
  });
  return { header, rows };
}

/**
 * Parse NDJSON text: one JSON object a line, all with the first line's keys,
 * each value a number or `null` (an empty cell). Blank lines are skipped.
 *
 * @throws {TabularInputError} for a line that is not a JSON object, keys that differ from the first line's, or a value that is not a number or null.
 */
export function parseNdjson(text: string): Table {
  let header: string[] | undefined;
  const rows: Table["rows"] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (const [k, raw] of lines.entries()) {
    const line = k + 1;
    const t = raw.replace(/\r$/, "");
    if (t.trim() === "") continue;
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new TabularInputError(`line ${line} is not JSON: ${(e as Error).message}`, line);
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      throw new TabularInputError(`line ${line} is not a JSON object`, line);
    }
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (header === undefined) header = keys;
    const missing = header.filter((h) => !(h in obj));
    const extra = keys.filter((h) => !header!.includes(h));
    if (missing.length > 0 || extra.length > 0) {
      throw new TabularInputError(
        `row ${rows.length + 1} (line ${line}) ` +
          (missing.length > 0 ? `lacks ${missing.join(", ")}` : `has extra ${extra.join(", ")}`) +
          " (every line needs the first line's keys; null is an empty cell)",
        line,
      );
    }
    const cells = header.map((h) => {
      const x = obj[h];
      if (x === null || (typeof x === "number" && Number.isFinite(x))) return x;
      throw new TabularInputError(
        `row ${rows.length + 1} (line ${line}), column ${h}: ${
          JSON.stringify(x)
        } is not a number or null`,
        line,
      );
    });
    rows.push({ line, cells });
  }
  if (header === undefined) throw new TabularInputError("the NDJSON has no lines");
  return { header, rows };
}

/** What {@linkcode tableToInput} made: the input object and where its elements came from. */
export interface TabularInput {
  /** The input, ready for the primitive's schema. */
  value: Record<string, unknown>;
  /**
   * Where in the table a JSON pointer into `value` points (`/y_true/3` →
   * `row 4 (line 5), column y_true`), for error messages; undefined for parameters.
   */
  locate(pointer: string): string | undefined;
}

/**
 * Fill the input object of `layout` from `table` and `parameters` (field →
 * value, e.g. from command-line flags).
 *
 * @throws {TabularInputError} for a header with an unknown, repeated or missing required column, a value after a column's end, columns of one field ending at different rows, or a missing required parameter.
 */
export function tableToInput(
  layout: TabularLayout,
  table: Table,
  parameters: Record<string, number> = {},
): TabularInput {
  const known = new Map(layout.columns.map((c) => [c.name, c]));
  const names = layout.columns.map((c) => c.name).join(", ");
  const seen = new Set<string>();
  for (const h of table.header) {
    if (!known.has(h)) {
      throw new TabularInputError(`unknown column ${JSON.stringify(h)} (columns: ${names})`, 1);
    }
    if (seen.has(h)) throw new TabularInputError(`column ${h} appears twice in the header`, 1);
    seen.add(h);
  }
  const missing = layout.columns.filter((c) => c.required && !seen.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw new TabularInputError(
      `missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (columns: ${names})`,
      1,
    );
  }
  const column = (name: string): number[] => {
    const c = table.header.indexOf(name);
    const out: number[] = [];
    for (const [k, r] of table.rows.entries()) {
      const x = r.cells[c];
      if (x === null) continue;
      if (out.length !== k) {
        throw new TabularInputError(
          `row ${k + 1} (line ${r.line}), column ${name}: a value after the column ended at row ${
            out.length + 1
          } (an empty cell ends a column)`,
          r.line,
        );
      }
      out.push(x);
    }
    return out;
  };
  const value: Record<string, unknown> = {};
  for (const c of layout.columns) {
    if (!seen.has(c.name) || c.field in value) continue;
    if (c.position === undefined) {
      value[c.field] = column(c.name);
      continue;
    }
    const group = layout.columns.filter((g) => g.field === c.field);
    const cols = group.map((g) => column(g.name));
    if (cols.some((x) => x.length !== cols[0].length)) {
      throw new TabularInputError(
        `columns ${group.map((g) => g.name).join(", ")} must end at the same row (lengths ${
          cols.map((x) => x.length).join(", ")
        })`,
      );
    }
    value[c.field] = cols[0].map((_, i) => cols.map((x) => x[i]));
  }
  for (const p of layout.parameters) {
    if (p.field in parameters) value[p.field] = parameters[p.field];
    else if (p.required) throw new TabularInputError(`parameter ${p.field} is required`);
  }
  return {
    value,
    locate(pointer: string): string | undefined {
      const m = /^\/([^/]+)(?:\/(\d+)(?:\/(\d+))?)?/.exec(pointer);
      if (!m || !layout.columns.some((c) => c.field === m[1])) return undefined;
      const name = m[3] !== undefined ? `${m[1]}.${m[3]}` : m[1];
      if (m[2] === undefined) return `column ${m[3] === undefined ? name : m[1]}`;
      const row = Number(m[2]);
      const line = table.rows[row]?.line;
      return `row ${row + 1}${line === undefined ? "" : ` (line ${line})`}, column ${name}`;
    },
  };
}
