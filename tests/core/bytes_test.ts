import assert from "node:assert/strict";
import fc from "fast-check";
import { utf8Length } from "../../core/bytes.ts";

const enc = new TextEncoder();

Deno.test("utf8Length equals TextEncoder's byte count on known edges", () => {
  const cases = [
    "",
    "a",
    "\u007f",
    "\u0080",
    "\u07ff",
    "\u0800",
    "\uffff",
    "é",
    "😀", // surrogate pair: 4 bytes
    "\ud83d", // lone high surrogate at the end: U+FFFD, 3 bytes
    "\ude00", // lone low surrogate: 3 bytes
    "\ud83da", // lone high surrogate before an ASCII letter
    "\ud83d\ud83d\ude00", // lone high, then a pair
    "\ude00\ud83d", // reversed pair: two lone surrogates
    "issuer-ü-😀-\u0800",
  ];
  for (const s of cases) assert.equal(utf8Length(s), enc.encode(s).length, JSON.stringify(s));
});

Deno.test("utf8Length equals TextEncoder's byte count on arbitrary UTF-16 strings", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 64 }), (s) => {
      assert.equal(utf8Length(s), enc.encode(s).length);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 64 }),
      (units) => {
        const s = String.fromCharCode(...units);
        assert.equal(utf8Length(s), enc.encode(s).length);
      },
    ),
    { numRuns: 2000 },
  );
});
