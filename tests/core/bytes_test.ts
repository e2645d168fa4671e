import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { concatBytes, sha256, sha256Hex, toHex, utf8, utf8Length } from "../../core/bytes.ts";

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

// sha256 hashes inputs up to 512 bytes in its own JavaScript and longer ones
// natively: both must agree with published vectors and with an independent
// implementation (@noble/hashes) on every length around the block and
// padding edges, however the input is split into parts.
Deno.test("sha256 gives the FIPS 180-4 / NIST example digests", () => {
  const vectors: [string, string][] = [
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    [
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ],
    ["a".repeat(1000), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"],
  ];
  for (const [msg, hex] of vectors) {
    assert.equal(toHex(sha256(utf8(msg))), hex, `${msg.length} bytes`);
    assert.equal(sha256Hex(msg), hex);
    // The same bytes split in two parts.
    const b = utf8(msg);
    const cut = Math.floor(b.length / 3);
    assert.equal(toHex(sha256(b.subarray(0, cut), b.subarray(cut))), hex);
  }
});

Deno.test("sha256 equals @noble/hashes on every length 0–700, whole and in parts", () => {
  const data = new Uint8Array(700);
  let x = 0x9e3779b9;
  for (let i = 0; i < data.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  for (let n = 0; n <= data.length; n++) {
    const m = data.subarray(0, n);
    const want = toHex(nobleSha256(m));
    assert.equal(toHex(sha256(m)), want, `${n} bytes`);
    // A leaf or node input: a prefix byte, then the rest in two parts.
    const a = Math.min(n, 1);
    const b = Math.min(n, a + (n >> 1));
    assert.equal(toHex(sha256(m.subarray(0, a), m.subarray(a, b), m.subarray(b))), want);
  }
});

Deno.test("sha256 equals @noble/hashes on arbitrary inputs split arbitrarily", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }),
      (parts) => {
        const want = toHex(nobleSha256(concatBytes(...parts)));
        assert.equal(toHex(sha256(...parts)), want);
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("sha256 digests are independent arrays: a later call does not change an earlier digest", () => {
  const first = sha256(utf8("abc"));
  const copy = first.slice();
  sha256(utf8("other"));
  sha256(new Uint8Array(600));
  assert.deepEqual(first, copy);
  assert.equal(first.byteLength, 32);
  assert.equal(first.buffer.byteLength >= 32, true);
});
