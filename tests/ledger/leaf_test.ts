/**
 * The leaf's fast paths agree with the generic definitions: `encodeLeaf`
 * writes exactly `canonicalBytes` (RFC 8785) of the fields, or refuses what
 * it refuses, and the 32-byte base64 check accepts exactly what `fromBase64`
 * decodes to 32 bytes.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fromBase64, toBase64 } from "../../core/bytes.ts";
import { canonicalBytes } from "../../core/jcs.ts";
import { BASE64_HASH } from "../../ledger/leaf.ts";
import { decodeLeaf, encodeLeaf, LEAF_VERSION, type LeafFields } from "../../ledger/leaf.ts";

function outcome(f: () => Uint8Array): string {
  try {
    return toBase64(f());
  } catch (e) {
    return `error ${(e as Error).constructor.name}`;
  }
}

Deno.test("encodeLeaf writes exactly the JCS bytes of the fields (any strings)", () => {
  const text = fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }));
  fc.assert(
    fc.property(text, text, text, text, fc.nat(), (a, b, c, d, index) => {
      const f: LeafFields = {
        envelope_sha256: toBase64(new Uint8Array(32).fill(7)),
        index,
        issued_at: a,
        issuer: b,
        key_id: c,
        prev: toBase64(new Uint8Array(32).fill(9)),
        primitive: d,
        v: LEAF_VERSION,
      };
      const generic = outcome(() => canonicalBytes(f));
      const fast = outcome(() => encodeLeaf(f));
      if (generic.startsWith("error")) assert.ok(fast.startsWith("error"));
      else {
        assert.equal(fast, generic);
        assert.deepEqual(decodeLeaf(encodeLeaf(f)), f);
      }
    }),
    { numRuns: 3000 },
  );
});

Deno.test("BASE64_HASH accepts exactly the canonical base64 of 32 bytes", () => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n";
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 30, maxLength: 34 }),
      fc.nat(47),
      fc.nat(alphabet.length - 1),
      fc.boolean(),
      (bytes, pos, ch, mutate) => {
        let s = toBase64(bytes);
        if (mutate && pos < s.length) s = s.slice(0, pos) + alphabet[ch] + s.slice(pos + 1);
        let decodes32: boolean;
        try {
          decodes32 = fromBase64(s).length === 32;
        } catch {
          decodes32 = false;
        }
        assert.equal(BASE64_HASH.test(s), decodes32, s);
      },
    ),
    { numRuns: 20000 },
  );
});
