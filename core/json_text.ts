/**
 * A strict, lossless JSON text parser for untrusted input. (The Python
 * `json.dumps` form written from its output is in `python_json.ts`.)
 *
 * `JSON.parse` loses each number's source text (`1.0` becomes `1`), accepts
 * duplicate keys and has no depth or size limit. Legacy envelopes are signed
 * over Python's `json.dumps(body, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False)` with every number written as it was received
 * (`docs/formats.md` §1.2), so this parser keeps each number as a
 * {@linkcode LosslessNumber} and enforces limits that make hostile input
 * fail fast with a {@linkcode JsonParseError}: total size, nesting depth,
 * number length, duplicate keys, invalid UTF-8, lone surrogates.
 *
 * @module
 */
import { JsonParseError } from "./errors.ts";
import type { JsonValue } from "./envelope_types.ts";

/** A JSON number that keeps its exact source text. */
export class LosslessNumber {
  /** The number exactly as written in the JSON text, e.g. `1.0` or `-0.6319980000000001`. */
  readonly text: string;
  /** Build from a JSON number literal (not validated here; the parser validates). */
  constructor(text: string) {
    this.text = text;
  }
  /** The IEEE-754 double nearest to `text` (NaN/±Infinity for Python's non-finite literals). */
  get value(): number {
    return this.text === "NaN"
      ? NaN
      : this.text === "Infinity"
      ? Infinity
      : this.text === "-Infinity"
      ? -Infinity
      : Number(this.text);
  }
  /** The numeric value, so `JSON.stringify` writes a number. */
  toJSON(): number {
    return this.value;
  }
}

/** A JSON value whose numbers keep their source text. */
export type LosslessJsonValue =
  | null
  | boolean
  | string
  | LosslessNumber
  | LosslessJsonValue[]
  | { [key: string]: LosslessJsonValue };

/**
 * Limits applied while parsing untrusted JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { JsonLimits } from "./json_text.ts";
 * import { parseEnvelopeText } from "./envelope.ts";
 * import { JsonParseError } from "./errors.ts";
 *
 * const limits: JsonLimits = { maxDepth: 2 };
 * assert.throws(
 *   () => parseEnvelopeText('{"a":{"b":{"c":1}}}', limits),
 *   (e) => e instanceof JsonParseError && e.rule === "max-depth",
 * );
 * ```
 */
export interface JsonLimits {
  /**
   * Largest accepted input: UTF-8 bytes for byte input, UTF-16 code units for string input.
   * @default {16777216} (16 MiB)
   */
  maxBytes?: number;
  /**
   * Deepest accepted nesting of arrays and objects (the top-level value is depth 1).
   * @default {64}
   */
  maxDepth?: number;
  /**
   * Longest accepted number literal, in characters.
   * @default {512}
   */
  maxNumberLength?: number;
  /**
   * Accept Python's `NaN`, `Infinity` and `-Infinity` literals (which Python's
   * `json.dumps` writes by default). Numbers that overflow a double are
   * always rejected.
   * @default {false}
   */
  allowNonFinite?: boolean;
}

/** Default limits: 16 MiB, depth 64, 512-character numbers, no non-finite literals. */
export const DEFAULT_JSON_LIMITS: Readonly<Required<JsonLimits>> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  maxNumberLength: 512,
  allowNonFinite: false,
});

const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parse a JSON text (RFC 8259) keeping every number's source text.
 *
 * Byte input must be UTF-8 without a byte-order mark. Duplicate object keys,
 * lone surrogates (raw or escaped), numbers that overflow a double and any
 * limit in `limits` are errors.
 *
 * @example
 * ```ts
 * import { LosslessNumber, parseJsonText } from "./json_text.ts";
 * import assert from "node:assert/strict";
 * const v = parseJsonText('{"b": 1.0, "a": [1e5]}') as Record<string, unknown>;
 * assert.equal((v.b as LosslessNumber).text, "1.0");
 * ```
 *
 * @throws {JsonParseError} naming the rule broken and the offset.
 */
export function parseJsonText(input: string | Uint8Array, limits?: JsonLimits): LosslessJsonValue {
  const lim = { ...DEFAULT_JSON_LIMITS, ...limits };
  return new Parser(decodeText(input, lim), lim, true).parseDocument() as LosslessJsonValue;
}

/**
 * Parse a JSON text with the same rules and limits as
 * {@linkcode parseJsonText}, but with plain numbers (each number's source
 * text is dropped; `NaN`/`Infinity` literals, when allowed, become the
 * non-finite numbers).
 *
 * @throws {JsonParseError} naming the rule broken and the offset.
 */
export function parseJson(input: string | Uint8Array, limits?: JsonLimits): JsonValue {
  const lim = { ...DEFAULT_JSON_LIMITS, ...limits };
  return new Parser(decodeText(input, lim), lim, false).parseDocument() as JsonValue;
}

function decodeText(input: string | Uint8Array, lim: Required<JsonLimits>): string {
  let text: string;
  if (typeof input === "string") {
    if (input.length > lim.maxBytes) {
      throw new JsonParseError(
        "max-bytes",
        lim.maxBytes,
        `input exceeds ${lim.maxBytes} characters`,
      );
    }
    text = input;
  } else {
    if (input.length > lim.maxBytes) {
      throw new JsonParseError("max-bytes", lim.maxBytes, `input exceeds ${lim.maxBytes} bytes`);
    }
    if (input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) {
      throw new JsonParseError("utf-8", 0, "UTF-8 byte-order mark is not allowed");
    }
    try {
      text = fatalDecoder.decode(input);
    } catch (e) {
      const at = firstInvalidUtf8(input);
      throw new JsonParseError("utf-8", at, `invalid UTF-8 at byte ${at}`, { cause: e });
    }
  }
  if (text.charCodeAt(0) === 0xfeff) {
    throw new JsonParseError("syntax", 0, "byte-order mark is not allowed");
  }
  return text;
}

/** Replace every {@linkcode LosslessNumber} in `value` by its numeric value. */
export function toPlainJson(value: LosslessJsonValue): JsonValue {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof LosslessNumber) return value.value;
  if (Array.isArray(value)) return value.map(toPlainJson);
  const out: { [key: string]: JsonValue } = {};
  for (const k of Object.keys(value)) defineMember(out, k, toPlainJson(value[k]));
  return out;
}

/** Set a member without invoking the `__proto__` setter (as JSON.parse does). */
function defineMember<T>(obj: { [key: string]: T }, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

/** Byte offset of the first invalid UTF-8 sequence (WHATWG decoder rules). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return b.length;
}

// A backslash or a control character (which JSON strings must escape).
// deno-lint-ignore no-control-regex
const NEEDS_SLOW_SCAN = /[\\\x00-\x1f]/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** What the parser builds: numbers lossless or plain. */
type Node = null | boolean | string | number | LosslessNumber | Node[] | { [key: string]: Node };

class Parser {
  readonly s: string;
  i = 0;
  depth = 0;
  readonly lim: Required<JsonLimits>;
  readonly lossless: boolean;

  constructor(s: string, lim: Required<JsonLimits>, lossless: boolean) {
    this.s = s;
    this.lim = lim;
    this.lossless = lossless;
  }

  fail(rule: string, message: string, at = this.i): never {
    throw new JsonParseError(rule, at, message);
  }

  parseDocument(): Node {
    this.ws();
    if (this.i >= this.s.length) this.fail("syntax", "empty input");
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail("syntax", "unexpected text after the JSON value");
    return v;
  }

  ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  value(): Node {
    const c = this.s.charCodeAt(this.i);
    switch (c) {
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x22: // "
        return this.string();
      case 0x74: // t
        return this.literal("true", true);
      case 0x66: // f
        return this.literal("false", false);
      case 0x6e: // n
        return this.literal("null", null);
      case 0x4e: // N
        return this.nonFinite("NaN");
      case 0x49: // I
        return this.nonFinite("Infinity");
      default:
        if (c === 0x2d && this.s.startsWith("-Infinity", this.i)) {
          return this.nonFinite("-Infinity");
        }
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        if (Number.isNaN(c)) this.fail("syntax", "unexpected end of input");
        return this.fail("syntax", `unexpected character ${JSON.stringify(this.s[this.i])}`);
    }
  }

  literal<T extends Node>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail("syntax", `invalid literal (expected ${word})`);
    this.i += word.length;
    return v;
  }

  nonFinite(word: string): LosslessNumber | number {
    if (!this.s.startsWith(word, this.i)) this.fail("syntax", `invalid literal (expected ${word})`);
    if (!this.lim.allowNonFinite) this.fail("finite", `non-finite number ${word} is not allowed`);
    this.i += word.length;
    const n = new LosslessNumber(word);
    return this.lossless ? n : n.value;
  }

  number(): LosslessNumber | number {
    const start = this.i;
    NUMBER.lastIndex = start;
    // Bound the regex's work: a 1 MB digit run is rejected by length first.
    const max = this.lim.maxNumberLength;
    let end = start;
    const s = this.s;
    while (end < s.length && end - start <= max) {
      const c = s.charCodeAt(end);
      if (
        (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 ||
        c === 0x45
      ) end++;
      else break;
    }
    if (end - start > max) {
      this.fail("max-number-length", `number longer than ${max} characters`, start);
    }
    const m = NUMBER.exec(s);
    if (m === null || m.index !== start) this.fail("syntax", "invalid number", start);
    const text = m[0];
    this.i = start + text.length;
    const value = Number(text);
    if (!Number.isFinite(value)) {
      this.fail("number-range", `number ${text} overflows a double`, start);
    }
    return this.lossless ? new LosslessNumber(text) : value;
  }

  string(): string {
    const s = this.s;
    const start = ++this.i;
    // Fast path: no escape and no control character before the closing quote.
    const close = s.indexOf('"', start);
    if (close !== -1) {
      const raw = s.slice(start, close);
      if (!NEEDS_SLOW_SCAN.test(raw)) {
        this.i = close + 1;
        if (!raw.isWellFormed()) {
          this.fail("well-formed-string", "string contains a lone surrogate", start - 1);
        }
        return raw;
      }
    }
    let i = start;
    let out = "";
    let chunk = start;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (Number.isNaN(c)) this.fail("syntax", "unterminated string", start - 1);
      if (c < 0x20) this.fail("syntax", "unescaped control character in string", i);
      if (c === 0x5c) {
        out += s.slice(chunk, i);
        const e = s[i + 1];
        if (e === "u") {
          const hex = s.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("syntax", "invalid \\u escape", i);
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else {
          const r = e === undefined ? undefined : ESCAPES[e];
          if (r === undefined) this.fail("syntax", "invalid escape in string", i);
          out += r;
          i += 2;
        }
        chunk = i;
        continue;
      }
      i++;
    }
    out += s.slice(chunk, i);
    this.i = i + 1;
    if (!out.isWellFormed()) {
      this.fail("well-formed-string", "string contains a lone surrogate", start - 1);
    }
    return out;
  }

  enter(): void {
    if (++this.depth > this.lim.maxDepth) {
      this.fail("max-depth", `nesting deeper than ${this.lim.maxDepth}`);
    }
    this.i++;
    this.ws();
  }

  array(): Node[] {
    this.enter();
    const out: Node[] = [];
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      this.depth--;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        this.ws();
      } else if (c === 0x5d) {
        this.i++;
        this.depth--;
        return out;
      } else this.fail("syntax", "expected ',' or ']' in array");
    }
  }

  object(): { [key: string]: Node } {
    this.enter();
    const out: { [key: string]: Node } = {};
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      this.depth--;
      return out;
    }
    for (;;) {
      if (this.s.charCodeAt(this.i) !== 0x22) {
        this.fail("syntax", "expected a string key in object");
      }
      const keyAt = this.i;
      const key = this.string();
      if (Object.hasOwn(out, key)) {
        this.fail("duplicate-key", `duplicate key ${JSON.stringify(key)}`, keyAt);
      }
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a) this.fail("syntax", "expected ':' after object key");
      this.i++;
      this.ws();
      defineMember(out, key, this.value());
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        this.ws();
      } else if (c === 0x7d) {
        this.i++;
        this.depth--;
        return out;
      } else this.fail("syntax", "expected ',' or '}' in object");
    }
  }
}
