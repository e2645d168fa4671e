/**
 * `storedSignedBodySha256` (the audit's fast signed-body hash) gives exactly
 * what the full parse gives, for canonical envelopes (ASCII and not), for
 * text the fast path must refuse (not canonical, lone surrogates, deep
 * nesting, wrong shape), and for the regaudit-fhe legacy fixtures; where
 * the full parse throws, it throws the same error.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { toHex } from "../../core/bytes.ts";
import {
  buildEnvelope,
  parseEnvelopeText,
  parseEnvelopeValue,
  signedBodySha256,
} from "../../core/envelope.ts";
import { storedSignedBodySha256 } from "../../core/envelope_stored.ts";
import type { Envelope } from "../../core/envelope_types.ts";
import { signer } from "./_envelope.ts";

const enc = new TextEncoder();

function slow(bytes: Uint8Array): string {
  return toHex(signedBodySha256(parseEnvelopeText(bytes)));
}

/** Same answer, or the same error class and message. */
function assertSame(bytes: Uint8Array, what: string): void {
  let want: string | Error;
  try {
    want = slow(bytes);
  } catch (e) {
    want = e as Error;
  }
  if (typeof want === "string") {
    assert.equal(toHex(storedSignedBodySha256(bytes)), want, what);
  } else {
    assert.throws(() => storedSignedBodySha256(bytes), (e: Error) => {
      assert.equal(e.constructor, (want as Error).constructor, what);
      assert.equal(e.message, (want as Error).message, what);
      return true;
    });
  }
}

const base = await buildEnvelope({
  primitive: "fairness",
  backend: "plaintext",
  parameterSet: { backend: "plaintext", "é": [1.5, "\u0001", 1e21] },
  regulations: ["EU_AI_ACT_ART15", "ü"],
  result: { gap: 0.0421, n: 3, nested: { b: [1, { a: null }], a: true } },
  inputs: { y: [1, 0] },
  depthBudget: { declared: 2, consumed: 2 },
  issuer: "acme",
}, signer);

Deno.test("stored body hash: canonical envelopes, ASCII and not, with and without a timestamp", () => {
  const ascii = structuredClone(base) as Envelope;
  ascii.parameter_set = { backend: "plaintext", z: [1.5, "\u0001"] };
  // All ASCII (base names "ü"): the fast path's byte-range branch.
  ascii.regulations = ["EU_AI_ACT_ART15"];
  assert.ok(parseEnvelopeValue(ascii).canonical.every((b) => b < 0x80));
  for (
    const e of [
      base,
      ascii,
      { ...ascii, timestamp: { token_b64: "AAAA" } },
      { ...base, timestamp: { token_b64: "AAAA" } },
    ]
  ) {
    const parsed = parseEnvelopeValue(e);
    assert.equal(toHex(storedSignedBodySha256(parsed.canonical)), toHex(signedBodySha256(parsed)));
  }
});

Deno.test("stored body hash: text the fast path refuses gets the full parse's answer", () => {
  const canonical = new TextDecoder().decode(parseEnvelopeValue(base).canonical);
  const cases: Record<string, string> = {
    "indented": JSON.stringify(JSON.parse(canonical), null, 2),
    "keys reversed": JSON.stringify(
      Object.fromEntries(Object.entries(JSON.parse(canonical)).reverse()),
    ),
    "number spelled otherwise": canonical.replace('"n":3', '"n":3.0'),
    "escaped slash": canonical.replace('"acme"', '"ac\\/me"'),
    "lone surrogate escape": canonical.replace('"acme"', '"ac\\ud800me"'),
    "duplicate key": canonical.replace('"gap":', '"gap":1,"gap":'),
    "integer-like key": canonical.replace('"nested":{', '"nested":{"7":1,'),
    "wrong shape": canonical.replace('"primitive":"fairness"', '"primitive":"nope"'),
    "no receipt": canonical.replace(/,"receipt":\{[^}]*\}/, ""),
    "not JSON": canonical.slice(0, -1),
    "deep nesting": canonical.replace('"n":3', `"n":${"[".repeat(70)}${"]".repeat(70)}`),
    "BOM": "\ufeff" + canonical,
  };
  for (const [what, text] of Object.entries(cases)) {
    assert.notEqual(text, canonical, what);
    assertSame(enc.encode(text), what);
  }
  assertSame(new Uint8Array([0x7b, 0xff, 0x7d]), "invalid UTF-8");
});

Deno.test("stored body hash: the regaudit-fhe legacy fixtures", async () => {
  const dir = new URL("../fixtures/regaudit-fhe/envelopes/", import.meta.url);
  let n = 0;
  for await (const f of Deno.readDir(dir)) {
    assertSame(await Deno.readFile(new URL(f.name, dir)), f.name);
    n++;
  }
  assert.ok(n > 0);
});

Deno.test("stored body hash: random result values and edits agree with the full parse", () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.nat(),
      fc.string({ maxLength: 3 }),
      (result, at, insert) => {
        const e = structuredClone(base) as Envelope;
        e.result = result as Envelope["result"];
        let text: string;
        try {
          text = new TextDecoder().decode(parseEnvelopeValue(e).canonical);
        } catch {
          return; // not I-JSON (e.g. -0): no canonical bytes to store
        }
        assertSame(enc.encode(text), "canonical");
        const i = at % text.length;
        assertSame(enc.encode(text.slice(0, i) + insert + text.slice(i)), "edited");
      },
    ),
    { numRuns: 300 },
  );
});
