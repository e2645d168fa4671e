/**
 * The canonical form regaudit-fhe 0.0.8 signed legacy envelopes with:
 * Python's `json.dumps(value, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False)`, numbers written as received (`docs/formats.md` §1.2).
 *
 * @module
 */
import type { JsonValue } from "./envelope_types.ts";
import { type LosslessJsonValue, LosslessNumber } from "./json_text.ts";

/**
 * Python's `json.dumps(value, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False)` for a value parsed by {@linkcode parseJsonText}:
 * keys sorted by Unicode code point, no whitespace, non-ASCII kept raw,
 * only `"`, `\\` and control characters escaped, and every number written
 * exactly as its source text. Plain JS numbers are accepted only when they
 * are safe integers (Python would write a float `1.0` where JS has `1`).
 *
 * @example
 * ```ts
 * import { parseJsonText } from "./json_text.ts";
 * import { pythonDumps } from "./python_json.ts";
 * import assert from "node:assert/strict";
 * assert.equal(pythonDumps(parseJsonText('{"b": 1.0, "a": [1e5, "é"]}')), '{"a":[1e5,"é"],"b":1.0}');
 * ```
 *
 * @throws {TypeError} for a plain non-integer number or a non-JSON value.
 */
export function pythonDumps(value: LosslessJsonValue | JsonValue): string {
  switch (typeof value) {
    case "string":
      // ensure_ascii=False escapes exactly what JSON.stringify escapes for
      // well-formed strings (the parser rejects lone surrogates).
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value)) {
        throw new TypeError(
          `pythonDumps: plain number ${value} is ambiguous (int or float); parse losslessly`,
        );
      }
      return String(value);
    case "object": {
      if (value === null) return "null";
      if (value instanceof LosslessNumber) return value.text;
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ",";
          out += pythonDumps(value[i]);
        }
        return out + "]";
      }
      const obj = value as { [key: string]: LosslessJsonValue | JsonValue };
      const keys = Object.keys(obj).sort(compareCodePoints);
      let out = "{";
      for (let i = 0; i < keys.length; i++) {
        if (i > 0) out += ",";
        out += JSON.stringify(keys[i]) + ":" + pythonDumps(obj[keys[i]]);
      }
      return out + "}";
    }
    default:
      throw new TypeError(`pythonDumps: not a JSON value (${typeof value})`);
  }
}

/**
 * Compare two strings by Unicode code point (Python's string order), not by
 * UTF-16 code unit (JavaScript's and RFC 8785's order). The two differ only
 * when a surrogate pair meets a BMP character in U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (astral code points) sort after U+E000..U+FFFF.
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}
