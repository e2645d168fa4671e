/**
 * Validation of documents against the bundled JSON Schemas
 * (`core/schemas.ts`) with ajv's Draft 2020-12 build, in strict mode.
 *
 * Choices, and why:
 * - **First error only** (`allErrors: false`): validation stops at the first
 *   violation, so a hostile megabyte of wrong values costs one error, and
 *   the answer names one field precisely. {@linkcode check} returns that
 *   violation (occasionally a few, when alternatives of a `oneOf` all fail).
 * - **No mutation**: defaults are not applied and nothing is coerced or
 *   removed; {@linkcode withDefaults} returns a copy with the schema's
 *   top-level defaults filled in, so a default lives in one place (the schema).
 * - **Strict**: unknown keywords, non-finite numbers (`NaN`, `Infinity`) and
 *   ambiguous types are errors. Formats are checked; `date-time` is RFC 3339 under the
 *   one rule of `core/rfc3339.ts` (the builder, index keys and HTTP time
 *   parameters use the same).
 * - **Lazy**: each schema is compiled on first use and cached for the life of
 *   the process (a cache, not state: results never depend on it).
 *
 * A violation names the JSON pointer (RFC 6901) of the offending field (for a
 * missing property, the pointer of that property) and a stable rule name:
 * `type`, `finite`, `integer`, `required`, `unknown-field`, `binary`, `enum`,
 * `const`, `non-empty`, `min-items`, `max-items`, `non-negative`, `range`,
 * `pattern`, `format`, `min-length`, `min-properties`, `unique`,
 * `property-name`, `variant` (the envelope `schema` names no known variant),
 * `not-allowed`, or `schema` (anything else). Messages never quote the offending value, only its type,
 * so audit payloads do not reach logs through them.
 *
 * @example Validate a primitive input
 * ```ts
 * import assert from "node:assert/strict";
 * import { validate, withDefaults } from "./validate.ts";
 *
 * interface DriftInput { p: number[]; q: number[]; drift_threshold?: number }
 * const input = withDefaults<DriftInput>(
 *   "drift.input",
 *   validate<DriftInput>("drift.input", { p: [1, 2], q: [2, 1] }),
 * );
 * assert.equal(input.drift_threshold, 0.005);
 * ```
 *
 * @module
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import { InputValidationError } from "./errors.ts";
import { dateTimeProblem, isDateTime } from "./rfc3339.ts";
import {
  getSchema,
  type JsonSchema,
  SCHEMA_BASE_URI,
  SCHEMA_NAMES,
  type SchemaName,
} from "./schemas.ts";

/**
 * One schema violation: where, which rule, and a message that names it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { check, type SchemaViolation } from "./validate.ts";
 *
 * const r = check("drift.input", { p: [1, "2"], q: [1, 1] });
 * assert.ok(!r.ok);
 * const v: SchemaViolation = r.errors[0];
 * assert.deepEqual([v.pointer, v.rule], ["/p/1", "type"]);
 * assert.ok(!v.message.includes('"2"'), "messages never quote the value");
 * ```
 */
export interface SchemaViolation {
  /** JSON pointer (RFC 6901) of the offending field; `""` is the document itself. */
  readonly pointer: string;
  /** Stable rule name, e.g. `type`, `required`, `unknown-field` (see the module doc). */
  readonly rule: string;
  /** What is wrong, without the offending value. */
  readonly message: string;
}

/**
 * The outcome of {@linkcode check}: the value, typed, or why it does not conform.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { check, type CheckResult } from "./validate.ts";
 *
 * const r: CheckResult<{ p: number[]; q: number[] }> = check("drift.input", { p: [1], q: [1] });
 * if (!r.ok) throw new Error(r.errors[0].message);
 * assert.deepEqual(r.value.q, [1]);
 * ```
 */
export type CheckResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: readonly SchemaViolation[] };

/**
 * Check `value` against the schema `name` and return it typed as `T`.
 * `value` is neither changed nor copied.
 *
 * @throws {InputValidationError} for the first violation, with its `pointer`
 * and `rule`; the message names the schema too.
 * @throws {RangeError} if `name` is not a bundled schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validate } from "./validate.ts";
 * import { InputValidationError } from "./errors.ts";
 *
 * assert.throws(
 *   () => validate("fairness.input", { y_true: [1, 0], y_pred: [1, 1], group_a: [0, 1] }),
 *   (e) => e instanceof InputValidationError && e.pointer === "/group_b" && e.rule === "required",
 * );
 * const ok = validate<{ p: number[] }>("drift.input", { p: [1, 2], q: [2, 1] });
 * assert.deepEqual(ok.p, [1, 2]);
 * ```
 */
export function validate<T>(name: SchemaName, value: unknown): T {
  const result = check<T>(name, value);
  if (result.ok) return result.value;
  const first = result.errors[0];
  throw new InputValidationError(first.pointer, first.rule, `${first.message} (${name})`);
}

/**
 * Check `value` against the schema `name` without throwing for bad input.
 * `value` is neither changed nor copied.
 *
 * @throws {RangeError} if `name` is not a bundled schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { check } from "./validate.ts";
 *
 * const r = check("leaf", { v: "regledger.leaf.v1" });
 * assert.ok(!r.ok);
 * assert.equal(r.errors[0].pointer, "/envelope_sha256");
 * assert.equal(r.errors[0].rule, "required");
 * ```
 */
export function check<T>(name: SchemaName, value: unknown): CheckResult<T> {
  const fn = validator(name);
  if (fn(value)) return { ok: true, value: value as T };
  return { ok: false, errors: violations(fn.errors ?? []) };
}

/**
 * A shallow copy of the object `value` with every top-level property that
 * the schema `name` gives a `default` (e.g. `threshold` 0.1 of
 * `fairness.input`) and `value` lacks filled in. Anything that is not a plain
 * object is returned unchanged; `value` itself is never changed. Validate
 * first: this does not check anything.
 *
 * @throws {RangeError} if `name` is not a bundled schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withDefaults } from "./validate.ts";
 *
 * const input = withDefaults<{ threshold: number }>("disagreement.input", {});
 * assert.equal(input.threshold, 0.05);
 * ```
 */
export function withDefaults<T>(name: SchemaName, value: unknown): T {
  const properties = getSchema(name).properties;
  if (!isPlainObject(value) || !isPlainObject(properties)) return value as T;
  let out: Record<string, unknown> | undefined;
  for (const [key, sub] of Object.entries(properties)) {
    if (isPlainObject(sub) && "default" in sub && !Object.hasOwn(value, key)) {
      out ??= { ...value };
      out[key] = structuredClone(sub.default);
    }
  }
  return (out ?? value) as T;
}

// ---------------------------------------------------------------------------
// ajv instance and compiled-validator cache

let ajv: Ajv2020 | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

function instance(): Ajv2020 {
  if (ajv === undefined) {
    const a = new Ajv2020({
      strict: true,
      allErrors: false,
      allowUnionTypes: true,
      discriminator: true,
      useDefaults: false,
      coerceTypes: false,
      removeAdditional: false,
      validateFormats: true,
      // Errors carry the failing subschema and value: used to word messages
      // (allowed property names, the value's type), never quoted in them.
      verbose: true,
    });
    a.addFormat("date-time", { type: "string", validate: isDateTime });
    for (const name of SCHEMA_NAMES) a.addSchema(getSchema(name) as Record<string, unknown>);
    ajv = a;
  }
  return ajv;
}

function validator(name: SchemaName): ValidateFunction {
  let fn = compiled.get(name);
  if (fn === undefined) {
    const id = getSchema(name).$id; // throws RangeError for an unknown name
    fn = instance().getSchema(id);
    if (fn === undefined) throw new Error(`schema ${name} (${id}) did not compile`);
    compiled.set(name, fn);
  }
  return fn;
}

// ---------------------------------------------------------------------------
// ajv errors → violations

const COMBINATORS = new Set(["oneOf", "anyOf", "allOf", "if", "not", "propertyNames"]);

function violations(errors: readonly ErrorObject[]): SchemaViolation[] {
  const specific = errors.filter((e) => !COMBINATORS.has(e.keyword));
  const chosen = specific.length > 0 ? specific : errors;
  const out: SchemaViolation[] = [];
  const seen = new Set<string>();
  for (const e of chosen) {
    const v = describe(e);
    const key = `${v.pointer}\u0000${v.rule}\u0000${v.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(v);
    }
  }
  if (out.length === 0) out.push({ pointer: "", rule: "schema", message: "does not conform" });
  return out;
}

function describe(e: ErrorObject): SchemaViolation {
  const propertyName = (e as { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    // An error about a property's name (propertyNames): ajv reports the object's path.
    return {
      pointer: child(e.instancePath, propertyName),
      rule: "property-name",
      message: `property name ${describeKeyword(e).message}`,
    };
  }
  return describeKeyword(e);
}

function describeKeyword(e: ErrorObject): SchemaViolation {
  const at = e.instancePath;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return {
        pointer: child(at, String(p.missingProperty)),
        rule: "required",
        message: "required property is missing",
      };
    case "additionalProperties":
      return {
        pointer: child(at, String(p.additionalProperty)),
        rule: "unknown-field",
        message: `unknown property${allowedHint(e.parentSchema)}`,
      };
    case "false schema":
      return { pointer: at, rule: "not-allowed", message: "must not be present here" };
    case "type": {
      const actual = typeOfValue(e.data);
      const want = String(p.type).split(",");
      if (actual === "non-finite number" && want.includes("number")) {
        return { pointer: at, rule: "finite", message: "must be a finite number" };
      }
      if (want.includes("integer") && (actual === "number" || actual === "non-finite number")) {
        return { pointer: at, rule: "integer", message: "must be an integer" };
      }
      return {
        pointer: at,
        rule: "type",
        message: `must be ${want.map(article).join(" or ")}, got ${article(actual)}`,
      };
    }
    case "enum": {
      const allowed = (p.allowedValues as unknown[]) ?? [];
      const binary = allowed.length === 2 && allowed.includes(0) && allowed.includes(1);
      return {
        pointer: at,
        rule: binary ? "binary" : "enum",
        message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`,
      };
    }
    case "const":
      return { pointer: at, rule: "const", message: `must be ${JSON.stringify(p.allowedValue)}` };
    case "discriminator": {
      const tag = String(p.tag);
      const known = variantTags(e.parentSchema, tag);
      return {
        pointer: child(at, tag),
        rule: p.error === "mapping" ? "variant" : "type",
        message: p.error === "mapping"
          ? `must be one of ${known.map((v) => JSON.stringify(v)).join(", ")}`
          : "must be a string naming the variant",
      };
    }
    case "minItems":
      return Number(p.limit) === 1
        ? { pointer: at, rule: "non-empty", message: "must have at least 1 item" }
        : { pointer: at, rule: "min-items", message: `must have at least ${p.limit} items` };
    case "maxItems":
      return { pointer: at, rule: "max-items", message: `must have at most ${p.limit} items` };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return {
        pointer: at,
        rule: e.keyword === "minimum" && Number(p.limit) === 0 ? "non-negative" : "range",
        message: `must be ${p.comparison} ${p.limit}`,
      };
    case "pattern":
      return { pointer: at, rule: "pattern", message: patternMessage(String(p.pattern)) };
    case "format":
      return {
        pointer: at,
        rule: "format",
        message: p.format === "date-time"
          ? `must be an RFC 3339 date-time, e.g. 2026-04-01T12:00:00Z (${
            dateTimeProblem(String(e.data))
          })`
          : `must be a valid ${p.format}`,
      };
    case "minLength":
      return Number(p.limit) === 1
        ? { pointer: at, rule: "min-length", message: "must not be empty" }
        : { pointer: at, rule: "min-length", message: `must be at least ${p.limit} characters` };
    case "minProperties":
      return {
        pointer: at,
        rule: "min-properties",
        message: `must have at least ${p.limit} ${Number(p.limit) === 1 ? "entry" : "entries"}`,
      };
    case "uniqueItems":
      return {
        pointer: child(at, String(Math.max(Number(p.i), Number(p.j)))),
        rule: "unique",
        message: `duplicates item ${Math.min(Number(p.i), Number(p.j))}`,
      };
    default:
      return { pointer: at, rule: "schema", message: e.message ?? `fails ${e.keyword}` };
  }
}

const PATTERN_MESSAGES: Record<string, string> = {
  "^[0-9a-f]{64}$": "must be a SHA-256 digest in lowercase hex (64 characters 0-9a-f)",
  "^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$":
    "must be a 32-byte hash in standard base64 (44 characters ending in =)",
  "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$":
    "must be standard base64 (RFC 4648 §4, with padding)",
  "^(?:/(?:[^~/]|~[01])*)*$": "must be a JSON pointer (RFC 6901)",
};

function patternMessage(pattern: string): string {
  if (pattern in PATTERN_MESSAGES) return PATTERN_MESSAGES[pattern];
  if (pattern.startsWith("^-----BEGIN PUBLIC KEY-----")) {
    return "must be a PEM public key (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----)";
  }
  if (pattern.startsWith("^c2sp\\.org/tlog-proof@v1")) return "must be a C2SP tlog-proof@v1 text";
  if (pattern.startsWith("^[^\\n]+\\n(?:0|[1-9]")) {
    return "must be a C2SP tlog-checkpoint signed note";
  }
  return `must match the pattern ${pattern}`;
}

/** The property names a closed object allows, as a hint for unknown-field errors. */
function allowedHint(parentSchema: unknown): string {
  if (!isPlainObject(parentSchema) || !isPlainObject(parentSchema.properties)) return "";
  const keys = Object.keys(parentSchema.properties);
  return keys.length > 0 ? ` (allowed: ${keys.join(", ")})` : "";
}

/** The tag values of a discriminated `oneOf` (the schema that holds the `discriminator`). */
function variantTags(parentSchema: unknown, tag: string): string[] {
  if (!isPlainObject(parentSchema) || !Array.isArray(parentSchema.oneOf)) return [];
  const out: string[] = [];
  for (const branch of parentSchema.oneOf) {
    const b = isPlainObject(branch) && typeof branch.$ref === "string"
      ? resolveRef(parentSchema, branch.$ref)
      : branch;
    const props = isPlainObject(b) ? b.properties : undefined;
    const t = isPlainObject(props) ? props[tag] : undefined;
    if (isPlainObject(t) && typeof t.const === "string") out.push(t.const);
  }
  return out;
}

/** Resolve `$ref` (`#/…` or `<name>.json#/…`) as written inside the bundled subschema `from`. */
function resolveRef(from: object, ref: string): unknown {
  const hash = ref.indexOf("#");
  const file = hash === -1 ? ref : ref.slice(0, hash);
  const fragment = hash === -1 ? "" : ref.slice(hash + 1);
  let root: JsonSchema | undefined;
  if (file === "") {
    const owner = ownerOf(from);
    root = owner === undefined ? undefined : getSchema(owner);
  } else {
    const name = SCHEMA_NAMES.find((n) => `${n}.json` === file.replace(SCHEMA_BASE_URI, ""));
    root = name === undefined ? undefined : getSchema(name);
  }
  return root === undefined ? undefined : resolvePointer(root, fragment);
}

let owners: WeakMap<object, SchemaName> | undefined;

/** Which bundled schema a subschema object belongs to (schemas are frozen and shared with ajv). */
function ownerOf(node: object): SchemaName | undefined {
  if (owners === undefined) {
    const map = new WeakMap<object, SchemaName>();
    const walk = (v: unknown, name: SchemaName): void => {
      if (v === null || typeof v !== "object" || map.has(v)) return;
      map.set(v, name);
      for (const x of Object.values(v)) walk(x, name);
    };
    for (const name of SCHEMA_NAMES) walk(getSchema(name), name);
    owners = map;
  }
  return owners.get(node);
}

function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === "") return doc;
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isPlainObject(cur) && Object.hasOwn(cur, key)) cur = cur[key];
    else return undefined;
  }
  return cur;
}

function child(pointer: string, key: string): string {
  return `${pointer}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

function typeOfValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isFinite(v) ? "number" : "non-finite number";
  return typeof v;
}

function article(type: string): string {
  if (type === "null") return "null";
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
