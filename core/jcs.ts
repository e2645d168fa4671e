/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Numbers are written with ECMAScript's `Number.prototype.toString` (which is
 * exactly the serialization RFC 8785 §3.2.2.3 prescribes), strings with the
 * escapes of RFC 8785 §3.2.2.2 (which are those of `JSON.stringify` for
 * well-formed strings), and object members sorted by their names as arrays
 * of UTF-16 code units (RFC 8785 §3.2.3). Values outside I-JSON (RFC 7493):
 * non-finite numbers, strings with lone surrogates, and anything that is not
 * a JSON value, are rejected with an {@linkcode InputValidationError} that
 * names the JSON pointer of the offending value.
 *
 * @module
 */
import { utf8 } from "./bytes.ts";
import { InputValidationError } from "./errors.ts";
import { LosslessNumber } from "./json_text.ts";

/**
 * The RFC 8785 canonical text of `value`.
 *
 * `value` must be a JSON value: `null`, a boolean, a finite number, a
 * well-formed string, an array or a plain object of JSON values
 * ({@linkcode LosslessNumber}s are accepted and written by their numeric value).
 *
 * @example
 * ```ts
 * import { canonicalize } from "./jcs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(canonicalize({ b: [1.0, "\u20ac"], a: 1e21 }), '{"a":1e+21,"b":[1,"€"]}');
 * ```
 *
 * @throws {InputValidationError} when `value` is not I-JSON (rule `finite`,
 * `well-formed-string` or `json-type`), naming the JSON pointer of the value.
 */
export function canonicalize(value: unknown): string {
  const manual = new Set<object>();
  let ok = false;
  try {
    scan(value, manual);
    ok = true;
  } catch (e) {
    if (e !== NOT_IJSON) throw e;
  }
  // The slow writer names the JSON pointer of the first bad value.
  if (!ok) return write(value);
  if (manual.size === 0) return JSON.stringify(value);
  // One JSON.stringify over a re-ordered copy is faster than writing member by member.
  const copy = sortedCopy(value, manual);
  return copy === undefined ? writeFast(value, manual) : JSON.stringify(copy);
}

/**
 * UTF-8 bytes of {@linkcode canonicalize}`(value)`: what every hash and
 * signature over JSON in regledger covers (`docs/formats.md` §1.1).
 *
 * @throws {InputValidationError} as {@linkcode canonicalize} does.
 */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalize(value));
}

// Fast path. For I-JSON values JSON.stringify already writes RFC 8785 numbers
// (Number::toString) and string escapes; only member order can differ. One
// scan validates the value and collects the containers that hold a member
// out of order (or have such a descendant): those are written by hand, every
// other subtree by JSON.stringify.
const NOT_IJSON = Symbol("not I-JSON");

function scan(v: unknown, manual: Set<object>): boolean {
  switch (typeof v) {
    case "string":
      if (!v.isWellFormed()) throw NOT_IJSON;
      return false;
    case "number":
      if (!Number.isFinite(v)) throw NOT_IJSON;
      return false;
    case "boolean":
      return false;
    case "object":
      return v === null ? false : scanContainer(v, manual);
    default:
      throw NOT_IJSON;
  }
}

function scanContainer(v: object, manual: Set<object>): boolean {
  let needs = false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      // Leaves inline: arrays of numbers are the common bulk.
      if (typeof x === "number") {
        if (!Number.isFinite(x)) throw NOT_IJSON;
      } else if (scan(x, manual)) needs = true;
    }
  } else if (v instanceof LosslessNumber) {
    if (!Number.isFinite(v.value)) throw NOT_IJSON;
    return false;
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw NOT_IJSON;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    let prev = "";
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (!k.isWellFormed()) throw NOT_IJSON;
      // String < compares UTF-16 code units, the RFC 8785 order.
      if (i > 0 && !(prev < k)) needs = true;
      prev = k;
      const x = o[k];
      if (typeof x === "string") {
        if (!x.isWellFormed()) throw NOT_IJSON;
      } else if (typeof x === "number") {
        if (!Number.isFinite(x)) throw NOT_IJSON;
      } else if (scan(x, manual)) needs = true;
    }
  }
  if (needs) manual.add(v);
  return needs;
}

/**
 * A copy of `v` whose objects list their members in JCS order, sharing every
 * subtree already in order; `undefined` when an object has an array-index
 * name ("0", "17"), which JS objects always enumerate first.
 */
function sortedCopy(v: unknown, manual: Set<object>): unknown {
  if (typeof v !== "object" || v === null || !manual.has(v)) return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = sortedCopy(v[i], manual);
      if (x === undefined) return undefined;
      out[i] = x;
    }
    return out;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (INDEX_NAME.test(k) || k === "__proto__") return undefined;
    const x = sortedCopy(o[k], manual);
    if (x === undefined) return undefined;
    out[k] = x;
  }
  return out;
}

const INDEX_NAME = /^(?:0|[1-9][0-9]*)$/;

function writeFast(v: unknown, manual: Set<object>): string {
  if (typeof v !== "object" || v === null || !manual.has(v)) return JSON.stringify(v);
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) out += (i > 0 ? "," : "") + writeFast(v[i], manual);
    return out + "]";
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    out += (i > 0 ? "," : "") + JSON.stringify(keys[i]) + ":" + writeFast(o[keys[i]], manual);
  }
  return out + "}";
}

/** Escape one reference token of a JSON pointer (RFC 6901 §3). */
export function pointerToken(token: string | number): string {
  return String(token).replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * Run `f`; an {@linkcode InputValidationError} it throws is thrown again
 * with `prefix` (a JSON pointer) put in front of its pointer, so an error
 * found inside a member names its place in the whole document.
 */
export function withPointerPrefix<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InputValidationError && prefix) {
      const message = e.message.slice(e.message.indexOf(": ") + 2);
      throw new InputValidationError(prefix + e.pointer, e.rule, message, { cause: e.cause });
    }
    throw e;
  }
}

/** Prefix the pointer of an error thrown below `token`. */
function rethrowUnder(e: unknown, token: string | number): never {
  if (e instanceof InputValidationError) {
    const pointer = "/" + pointerToken(token) + e.pointer;
    const message = e.message.slice(e.message.indexOf(": ") + 2);
    throw new InputValidationError(pointer, e.rule, message, { cause: e.cause });
  }
  throw e;
}

function write(value: unknown): string {
  switch (typeof value) {
    case "string":
      return writeString(value);
    case "number":
      return writeNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return writeArray(value);
      if (value instanceof LosslessNumber) return writeNumber(value.value);
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new InputValidationError(
          "",
          "json-type",
          `not a JSON value (object of class ${proto?.constructor?.name ?? "unknown"})`,
        );
      }
      return writeObject(value as Record<string, unknown>);
    }
    default:
      throw new InputValidationError("", "json-type", `not a JSON value (${typeof value})`);
  }
}

function writeString(s: string): string {
  if (!s.isWellFormed()) {
    throw new InputValidationError(
      "",
      "well-formed-string",
      "string contains a lone surrogate (not I-JSON, RFC 8785 §3.2.2.2)",
    );
  }
  // For well-formed strings JSON.stringify emits exactly the RFC 8785 escapes:
  // \b \t \n \f \r \" \\, other controls as lowercase \u00xx, nothing else.
  return JSON.stringify(s);
}

function writeNumber(n: number): string {
  if (!Number.isFinite(n)) {
    throw new InputValidationError("", "finite", `number ${n} is not finite (RFC 8785 §3.2.2.3)`);
  }
  // ECMAScript Number::toString is the RFC 8785 number serialization; -0 → "0".
  return String(n);
}

function writeArray(a: unknown[]): string {
  let out = "[";
  for (let i = 0; i < a.length; i++) {
    if (i > 0) out += ",";
    try {
      out += write(a[i]);
    } catch (e) {
      rethrowUnder(e, i);
    }
  }
  return out + "]";
}

function writeObject(o: Record<string, unknown>): string {
  // Default sort compares strings as sequences of UTF-16 code units (RFC 8785 §3.2.3).
  const keys = Object.keys(o).sort();
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (i > 0) out += ",";
    try {
      out += writeString(k) + ":" + write(o[k]);
    } catch (e) {
      rethrowUnder(e, k);
    }
  }
  return out + "}";
}
