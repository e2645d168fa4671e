/**
 * RFC 8785 (JCS) against the RFC's own examples, plus fast-check properties;
 * and the lossless parser / Python canonical form against vectors generated
 * by CPython (tests/core/fixtures/gen_python_dumps.py) and hostile input.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalBytes, canonicalize } from "../../core/jcs.ts";
import { LosslessNumber, parseJson, parseJsonText } from "../../core/json_text.ts";
import { compareCodePoints, pythonDumps } from "../../core/python_json.ts";
import { InputValidationError, JsonParseError } from "../../core/errors.ts";
import { fromHex } from "../../core/bytes.ts";

function f64(hex: string): number {
  return new DataView(fromHex(hex).buffer).getFloat64(0);
}

// RFC 8785 Appendix B: IEEE-754 bit patterns and their required serialization.
const APPENDIX_B: [string, string][] = [
  ["0000000000000000", "0"],
  ["8000000000000000", "0"],
  ["0000000000000001", "5e-324"],
  ["8000000000000001", "-5e-324"],
  ["7fefffffffffffff", "1.7976931348623157e+308"],
  ["ffefffffffffffff", "-1.7976931348623157e+308"],
  ["4340000000000000", "9007199254740992"],
  ["c340000000000000", "-9007199254740992"],
  ["4430000000000000", "295147905179352830000"],
  ["44b52d02c7e14af5", "9.999999999999997e+22"],
  ["44b52d02c7e14af6", "1e+23"],
  ["44b52d02c7e14af7", "1.0000000000000001e+23"],
  ["444b1ae4d6e2ef4e", "999999999999999700000"],
  ["444b1ae4d6e2ef4f", "999999999999999900000"],
  ["444b1ae4d6e2ef50", "1e+21"],
  ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
  ["3eb0c6f7a0b5ed8d", "0.000001"],
  ["41b3de4355555553", "333333333.3333332"],
  ["41b3de4355555554", "333333333.33333325"],
  ["41b3de4355555555", "333333333.3333333"],
  ["41b3de4355555556", "333333333.3333334"],
  ["41b3de4355555557", "333333333.33333343"],
  ["becbf647612f3696", "-0.0000033333333333333333"],
  ["43143ff3c1cb0959", "1424953923781206.2"],
];

Deno.test("jcs: RFC 8785 Appendix B number serialization", () => {
  for (const [hex, want] of APPENDIX_B) assert.equal(canonicalize(f64(hex)), want, hex);
});

Deno.test("jcs: RFC 8785 Appendix B NaN and Infinity are errors", () => {
  for (const hex of ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"]) {
    assert.throws(() => canonicalize([1, f64(hex)]), (e: unknown) => {
      assert.ok(e instanceof InputValidationError);
      assert.equal(e.rule, "finite");
      assert.equal(e.pointer, "/1");
      return true;
    });
  }
});

Deno.test("jcs: RFC 8785 §3.2.2 example (numbers, string escapes, literals)", () => {
  const input = String.raw`{
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  }`;
  const want = String
    .raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
  assert.equal(canonicalize(JSON.parse(input)), want);
  assert.equal(canonicalize(parseJsonText(input)), want);
  assert.deepEqual(
    canonicalBytes(JSON.parse(input)),
    new TextEncoder().encode(want),
  );
});

Deno.test("jcs: RFC 8785 §3.2.3 sorting example (UTF-16 code units)", () => {
  const input = String.raw`{
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  }`;
  const out = canonicalize(JSON.parse(input));
  const values = [...out.matchAll(/":"([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(values, [
    "Carriage Return",
    "One",
    "Control",
    "Latin Small Letter O With Diaeresis",
    "Euro Sign",
    "Emoji: Grinning Face",
    "Hebrew Letter Dalet With Dagesh",
  ]);
  // The RFC's Appendix (UTF-8 of this output) starts with {"\r":"Carriage Return","1":...
  assert.ok(out.startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"'));
});

Deno.test("jcs: every control character escapes as RFC 8785 requires", () => {
  const named: Record<number, string> = { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r" };
  for (let c = 0; c < 0x20; c++) {
    const want = named[c] ?? "\\u" + c.toString(16).padStart(4, "0");
    assert.equal(canonicalize(String.fromCharCode(c)), `"${want}"`);
  }
  assert.equal(canonicalize('"\\/\u007f\u2028'), '"\\"\\\\/\u007f\u2028"');
});

Deno.test("jcs: lone surrogates and non-JSON values are rejected with a pointer", () => {
  const cases: [unknown, string, string][] = [
    [{ a: ["ok", "\ud800"] }, "/a/1", "well-formed-string"],
    [{ ["\udc00"]: 1 }, "/\udc00", "well-formed-string"],
    [{ a: { "b/c": undefined } }, "/a/b~1c", "json-type"],
    [[1n], "/0", "json-type"],
    [{ d: new Date(0) }, "/d", "json-type"],
    [{ f: () => 1 }, "/f", "json-type"],
    [{ x: -Infinity }, "/x", "finite"],
  ];
  for (const [value, pointer, rule] of cases) {
    assert.throws(() => canonicalize(value), (e: unknown) => {
      assert.ok(e instanceof InputValidationError, String(e));
      assert.equal(e.pointer, pointer);
      assert.equal(e.rule, rule);
      return true;
    });
  }
  assert.equal(canonicalize("\ud83d\ude00"), '"😀"');
  assert.equal(canonicalize(-0), "0");
  assert.equal(canonicalize(new LosslessNumber("1.50")), "1.5");
});

// Arbitrary JSON values made of doubles and any strings fast-check builds.
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: "binary" }).filter((s) => s.isWellFormed()),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: "binary" }).filter((s) => s.isWellFormed()), tie("value"), {
      maxKeys: 5,
    }),
  ),
})).value;

function shuffleKeys(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, seed + 1));
  if (v === null || typeof v !== "object") return v;
  const entries = Object.entries(v);
  // Deterministic rotation + reversal by seed.
  const r = entries.length ? seed % entries.length : 0;
  const rotated = [...entries.slice(r), ...entries.slice(0, r)];
  if (seed % 2) rotated.reverse();
  const out: Record<string, unknown> = {};
  for (const [k, x] of rotated) {
    Object.defineProperty(out, k, {
      value: shuffleKeys(x, seed + 3),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

Deno.test("jcs property: parse → canonicalize is stable and idempotent", () => {
  fc.assert(
    fc.property(jsonValue, (v) => {
      const c = canonicalize(v);
      assert.equal(canonicalize(JSON.parse(c)), c);
      assert.equal(canonicalize(parseJsonText(c)), c);
      // JCS output is valid JSON that round-trips the data.
      assert.deepEqual(JSON.parse(c), JSON.parse(JSON.stringify(v)));
    }),
    { numRuns: 300 },
  );
});

Deno.test("jcs property: key order and whitespace never change the bytes", () => {
  fc.assert(
    fc.property(jsonValue, fc.nat(), fc.constantFrom(0, 1, 2, "\t", " \n "), (v, seed, indent) => {
      const text = JSON.stringify(shuffleKeys(v, seed), null, indent);
      assert.equal(canonicalize(parseJson(text)), canonicalize(v));
    }),
    { numRuns: 300 },
  );
});

Deno.test("jcs property: member order is UTF-16 code-unit order of the names", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.string({ unit: "binary" }).filter((s) => s.isWellFormed()), {
        maxLength: 8,
      }),
      (keys) => {
        const obj: Record<string, number> = {};
        keys.forEach((k, i) => Object.defineProperty(obj, k, { value: i, enumerable: true }));
        const order = Object.keys(JSON.parse(canonicalize(obj)));
        const byUnits = [...keys].sort((a, b) => {
          for (let i = 0; i < Math.min(a.length, b.length); i++) {
            const d = a.charCodeAt(i) - b.charCodeAt(i);
            if (d) return d;
          }
          return a.length - b.length;
        });
        // JSON.parse reorders integer-like keys; compare as sets of positions instead.
        if (keys.some((k) => /^(0|[1-9][0-9]*)$/.test(k))) return;
        assert.deepEqual(order, byUnits);
      },
    ),
    { numRuns: 300 },
  );
});

// ---- lossless parser and Python canonical form ----

const PY = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/python_dumps.json", import.meta.url)),
) as { cases: { text: string; dumps: string }[] };

Deno.test("python form: 302 CPython vectors reproduce json.dumps(sort_keys, compact, ensure_ascii=False)", () => {
  assert.ok(PY.cases.length >= 300);
  for (const { text, dumps } of PY.cases) {
    const v = parseJsonText(text, { allowNonFinite: true });
    assert.equal(pythonDumps(v), dumps, text);
    // And from UTF-8 bytes.
    assert.equal(
      pythonDumps(parseJsonText(new TextEncoder().encode(text), { allowNonFinite: true })),
      dumps,
    );
  }
});

Deno.test("python form: numbers are written exactly as received", () => {
  const text = '{"a": 1.0, "b": 1E5, "c": -0.0, "d": 12345678901234567890123, "e": 1.50}';
  assert.equal(
    pythonDumps(parseJsonText(text)),
    '{"a":1.0,"b":1E5,"c":-0.0,"d":12345678901234567890123,"e":1.50}',
  );
  assert.equal(
    canonicalize(parseJsonText(text)),
    '{"a":1,"b":100000,"c":0,"d":1.2345678901234568e+22,"e":1.5}',
  );
  assert.throws(() => pythonDumps({ x: 0.5 }), TypeError);
  assert.equal(pythonDumps({ x: 5 }), '{"x":5}');
});

Deno.test("python form: code-point order differs from UTF-16 order exactly where it should", () => {
  assert.ok(compareCodePoints("\uffff", "\u{10000}") < 0); // code points
  assert.ok("\uffff" > "\u{10000}"); // UTF-16 units
  assert.ok(compareCodePoints("\ue000", "\ud7ff") > 0);
  assert.ok(compareCodePoints("a", "ab") < 0);
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
      const ca = [...a].map((c) => c.codePointAt(0)!);
      const cb = [...b].map((c) => c.codePointAt(0)!);
      let want = 0;
      for (let i = 0; i < Math.min(ca.length, cb.length) && !want; i++) want = ca[i] - cb[i];
      if (!want) want = ca.length - cb.length;
      assert.equal(Math.sign(compareCodePoints(a, b)), Math.sign(want));
    }),
    { numRuns: 500 },
  );
});

function parseError(input: string | Uint8Array, rule: string, opts = {}): JsonParseError {
  let err: unknown;
  try {
    parseJsonText(input, opts);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof JsonParseError, `expected JsonParseError(${rule}), got ${err}`);
  assert.equal(err.rule, rule, err.message);
  return err;
}

Deno.test("parser: syntax errors name the offset", () => {
  assert.equal(parseError('{"a": 1,}', "syntax").offset, 8);
  assert.equal(parseError("[1 2]", "syntax").offset, 3);
  parseError("", "syntax");
  parseError("01", "syntax");
  parseError("1.", "syntax");
  parseError("+1", "syntax");
  parseError('"\\x"', "syntax");
  parseError('"\\u12G4"', "syntax");
  parseError('"a\nb"', "syntax");
  parseError("[1] x", "syntax");
  parseError("tru", "syntax");
  parseError('{"a" 1}', "syntax");
  parseError("{1: 2}", "syntax");
  parseError('"abc', "syntax");
  parseError("\ufeff{}", "syntax");
  parseError("NaN", "finite");
  parseError("[-Infinity]", "finite");
});

Deno.test("parser: accepts what RFC 8259 allows, like JSON.parse", () => {
  const text =
    ' {"a" : [ 1 , -2.5e-3 , "x\\u00e9\\ud83d\\ude00\\/" , true , false , null , {} , [] ] }\n';
  assert.deepEqual(parseJson(text), JSON.parse(text));
  const proto = parseJson('{"__proto__": {"x": 1}}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(Object.keys(proto), ["__proto__"]);
  assert.deepEqual(parseJson("[NaN, Infinity, -Infinity]", { allowNonFinite: true }), [
    NaN,
    Infinity,
    -Infinity,
  ]);
});

Deno.test("parser: hostile-input limits", () => {
  parseError('{"a": 1, "a": 2}', "duplicate-key");
  parseError("[".repeat(65) + "]".repeat(65), "max-depth");
  assert.deepEqual(parseJson("[".repeat(64) + "]".repeat(64)) !== null, true);
  parseError("[".repeat(1_000_000), "max-depth");
  parseError("1".repeat(1_000_000), "max-number-length");
  parseError("1e400", "number-range");
  parseError("-1e400", "number-range");
  parseError('"\\ud800"', "well-formed-string");
  parseError('{"\\udc00x": 1}', "well-formed-string");
  parseError("[1]", "max-bytes", { maxBytes: 2 });
  parseError(new Uint8Array(3 * 1024 * 1024), "max-bytes", { maxBytes: 1024 * 1024 });
  // Truncated at every position: always a typed error, never something else.
  const whole = '{"a": [1.5, "x\\n", {"b": null}], "c": true}';
  for (let i = 0; i < whole.length; i++) {
    assert.throws(() => parseJsonText(whole.slice(0, i)), JsonParseError);
  }
});

Deno.test("parser: invalid UTF-8 is rejected with its byte offset", () => {
  const cases: [number[], number][] = [
    [[0x22, 0xff, 0x22], 1],
    [[0x22, 0x61, 0xc3, 0x28, 0x22], 2], // bad continuation
    [[0x22, 0xed, 0xa0, 0x80, 0x22], 1], // encoded surrogate
    [[0x22, 0xc0, 0xaf, 0x22], 1], // overlong
    [[0x22, 0x61, 0xe2, 0x82], 2], // truncated sequence
  ];
  for (const [bytes, at] of cases) {
    assert.equal(parseError(new Uint8Array(bytes), "utf-8").offset, at);
  }
  parseError(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), "utf-8");
  assert.equal(parseJsonText(new TextEncoder().encode('"é😀"')), "é😀");
});

Deno.test("parser property: agrees with JSON.parse on every JSON.stringify output", () => {
  fc.assert(
    fc.property(jsonValue, fc.constantFrom(undefined, 2), (v, indent) => {
      const text = JSON.stringify(v, null, indent);
      assert.deepEqual(parseJson(text), JSON.parse(text));
    }),
    { numRuns: 300 },
  );
});

/** A direct transcription of RFC 8785 §3.2, independent of core/jcs.ts's fast paths. */
function referenceJcs(v: unknown): string {
  if (v === null || typeof v === "boolean") return String(v);
  if (typeof v === "number") return Object.is(v, -0) ? "0" : String(v);
  if (typeof v === "string") {
    let out = '"';
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      const named: Record<number, string> = {
        8: "b",
        9: "t",
        10: "n",
        12: "f",
        13: "r",
        34: '"',
        92: "\\",
      };
      if (named[c]) out += "\\" + named[c];
      else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
      else out += v[i];
    }
    return out + '"';
  }
  if (Array.isArray(v)) return "[" + v.map(referenceJcs).join(",") + "]";
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort((a, b) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.charCodeAt(i) - b.charCodeAt(i);
    }
    return a.length - b.length;
  });
  return "{" + keys.map((k) => referenceJcs(k) + ":" + referenceJcs(o[k])).join(",") + "}";
}

const trickyKey = fc.constantFrom(
  "1",
  "10",
  "2",
  "a",
  "B",
  "",
  "\u0080",
  "\ufb33",
  "\u{1f600}",
  "\ue000",
  "__proto__",
  "a\u0000",
);
const trickyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ unit: "binary" }).filter((s) => s.isWellFormed()),
    fc.constantFrom(null, true, false, -0, 1e21, 1e-7, 5e-324),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(trickyKey, tie("value"), { maxKeys: 6 }),
  ),
})).value;

Deno.test("jcs property: agrees with an independent transcription of RFC 8785 §3.2", () => {
  fc.assert(
    fc.property(fc.oneof(jsonValue, trickyValue), (v) => {
      assert.equal(canonicalize(v), referenceJcs(v));
    }),
    { numRuns: 1000 },
  );
});
