/**
 * Every regaudit-fhe 0.0.8 fixture envelope gets the verdict in expected.json
 * when verified against the fixtures' trust store (docs/formats.md §2).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseEnvelopeText, signedBodyBytes } from "../../core/envelope.ts";
import { readTrustStoreFile } from "../../core/trust_store_file.ts";
import { checkEnvelope, verifySelfSignedOnly } from "../../core/verify.ts";
import { toHex } from "../../core/bytes.ts";
import { type LosslessJsonValue, LosslessNumber, parseJsonText } from "../../core/json_text.ts";
import { pythonDumps } from "../../core/python_json.ts";
import fc from "fast-check";

const FIXTURES = new URL("../fixtures/regaudit-fhe/", import.meta.url);
const expected: Record<string, string> = JSON.parse(
  await Deno.readTextFile(new URL("expected.json", FIXTURES)),
);
const store = await readTrustStoreFile(new URL("trust_store.json", FIXTURES).pathname);

async function load(name: string) {
  return parseEnvelopeText(await Deno.readFile(new URL(`envelopes/${name}.json`, FIXTURES)));
}

Deno.test("fixtures: the directory holds exactly the envelopes expected.json lists", async () => {
  const names: string[] = [];
  for await (const e of Deno.readDir(new URL("envelopes/", FIXTURES))) {
    names.push(e.name.replace(/\.json$/, ""));
  }
  assert.deepEqual(names.sort(), Object.keys(expected).sort());
  assert.deepEqual(names.length, 22);
});

for (const [name, verdict] of Object.entries(expected)) {
  Deno.test(`fixtures: ${name} → ${verdict}`, async () => {
    const parsed = await load(name);
    assert.equal(parsed.kind, "legacy");
    const r = await checkEnvelope(parsed, store);
    assert.deepEqual(r.valid ? "valid" : r.reason, verdict);
    assert.deepEqual(r.trust, "trust-store");
  });
}

Deno.test("fixtures: the signed body is Python's json.dumps(sort_keys, compact, ensure_ascii=False)", async () => {
  // Independent reference: the bytes Python itself produces for each body.
  const cmd = new Deno.Command("python3", {
    args: ["-c", PY_BODIES, new URL("envelopes/", FIXTURES).pathname],
    stdout: "piped",
  });
  const out = JSON.parse(new TextDecoder().decode((await cmd.output()).stdout));
  for (const name of Object.keys(expected)) {
    const parsed = await load(name);
    const body = signedBodyBytes(parsed);
    assert.deepEqual(toHex(createHash("sha256").update(body).digest()), out[name], name);
  }
});

Deno.test("fixtures: a valid legacy envelope also passes the self-signed-only check, labelled", async () => {
  const r = await verifySelfSignedOnly(await load("calibration-valid"));
  assert.deepEqual(r.trust, "self-signed-only");
  assert.deepEqual(r.kind, "legacy");
  // The foreign-key envelope is self-consistent: only a trust store catches it.
  const f = await verifySelfSignedOnly(await load("calibration-foreign-key"));
  assert.deepEqual(f.valid, true);
});

const PY_BODIES = `
import json, hashlib, os, sys
d = sys.argv[1]
out = {}
for f in sorted(os.listdir(d)):
    env = json.load(open(os.path.join(d, f), encoding="utf-8"))
    body = {k: v for k, v in env.items() if k not in ("receipt", "timestamp")}
    s = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    out[f[:-5]] = hashlib.sha256(s.encode("utf-8")).hexdigest()
print(json.dumps(out))
`;

Deno.test("fixtures: a number's text is part of the signed bytes (1.0 is not 1)", async () => {
  const text = await Deno.readTextFile(new URL("envelopes/calibration-valid.json", FIXTURES));
  assert.ok(text.includes("      0.0,\n"));
  for (const other of ["0", "0.00", "0e0", "-0.0"]) {
    const changed = text.replace("      0.0,\n", `      ${other},\n`);
    const r = await checkEnvelope(parseEnvelopeText(changed), store);
    assert.equal(r.valid ? "valid" : r.reason, "HashMismatch", other);
  }
});

Deno.test("fixtures: whitespace and member order of the received text do not matter", async () => {
  const text = await Deno.readTextFile(new URL("envelopes/drift-valid.json", FIXTURES));
  // Reverse the top-level members and drop all indentation, keeping every token's text.
  const parsed = parseJsonText(text) as Record<string, LosslessJsonValue>;
  const reversed = "{" +
    Object.keys(parsed).reverse().map((k) => JSON.stringify(k) + ":" + pythonDumps(parsed[k])).join(
      ", ",
    ) + "}";
  const r = await checkEnvelope(parseEnvelopeText(reversed), store);
  assert.equal(r.valid, true);
  assert.deepEqual(parseEnvelopeText(reversed).canonical, (await load("drift-valid")).canonical);
});

Deno.test("fixtures property: any single change to a valid legacy envelope is caught with the right reason", async () => {
  const text = await Deno.readTextFile(new URL("envelopes/drift-valid.json", FIXTURES));
  const tree = parseJsonText(text);
  const leaves: (string | number)[][] = [];
  const walk = (v: LosslessJsonValue, path: (string | number)[]) => {
    if (v !== null && typeof v === "object" && !(v instanceof LosslessNumber)) {
      for (const [k, x] of Object.entries(v)) walk(x, [...path, Array.isArray(v) ? Number(k) : k]);
    } else leaves.push(path);
  };
  walk(tree, []);
  const expectedFor = (path: (string | number)[]): string => {
    const p = "/" + path.join("/");
    if (p === "/receipt/key_id") return "UntrustedIssuer";
    if (
      ["/receipt/signature_b64", "/receipt/public_key_pem", "/receipt/signature_alg"].includes(p)
    ) {
      return "InvalidSignature";
    }
    if (p === "/schema") return "EnvelopeFormatError";
    return "HashMismatch";
  };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...leaves), fc.nat(), async (path, n) => {
      const copy = parseJsonText(text) as Record<string, LosslessJsonValue>;
      const parent = path.slice(0, -1).reduce(
        (o, k) => (o as Record<string, LosslessJsonValue>)[k],
        copy as LosslessJsonValue,
      ) as Record<string | number, LosslessJsonValue>;
      const old = parent[path[path.length - 1]];
      // A different value of the same JSON type (numbers: other text, e.g. 1.0 → 1.00).
      parent[path[path.length - 1]] = old instanceof LosslessNumber
        ? new LosslessNumber(
          n % 2
            ? old.text + "0".repeat(old.text.includes(".") ? 1 : 0) +
              (old.text.includes(".") ? "" : ".0")
            : String(n + 7) === old.text
            ? String(n + 8)
            : String(n + 7),
        )
        : typeof old === "string"
        ? old + [..."Zé€😀"][n % 4] // (not whitespace: PEM text is compared after trimming, as in Python)
        : typeof old === "boolean"
        ? !old
        : new LosslessNumber(String(n));
      const mutated = pythonDumps(copy);
      let got: string;
      try {
        const r = await checkEnvelope(parseEnvelopeText(mutated), store);
        got = r.valid ? "valid" : r.reason;
      } catch (e) {
        got = (e as Error).name;
      }
      assert.equal(got, expectedFor(path), `/${path.join("/")}: ${mutated.slice(0, 80)}`);
    }),
    { numRuns: 200 },
  );
});

// Envelopes signed as regaudit-fhe 0.0.8 signs them, by fixtures/gen_legacy_edge.py, with
// results at the edges of Python's form: NaN/Infinity, astral and U+E000.. keys, control
// characters, big integers, exponent floats.
const EDGE = new URL("./fixtures/legacy_edge/", import.meta.url);
const edgeStore = await readTrustStoreFile(new URL("trust_store.json", EDGE).pathname);

for (const name of ["non-finite", "unicode", "numbers"]) {
  Deno.test(`legacy edge (${name}): a Python-signed envelope verifies byte-exactly`, async () => {
    const bytes = await Deno.readFile(new URL(`${name}.json`, EDGE));
    const parsed = parseEnvelopeText(bytes);
    assert.equal(parsed.kind, "legacy");
    const r = await checkEnvelope(parsed, edgeStore);
    assert.equal(r.valid ? "valid" : `${r.reason}: ${r.message}`, "valid");
    // The same envelope re-indented and re-ordered (token texts kept) is the same envelope.
    const compact = pythonDumps(parseJsonText(bytes, { allowNonFinite: true }));
    assert.deepEqual(parseEnvelopeText(compact).canonical, parsed.canonical);
  });
}

Deno.test("legacy edge: changing NaN, -0.0, a number's text or a key is a HashMismatch", async () => {
  const cases: [string, string, string, string][] = [
    ["non-finite", '"gap": NaN', '"gap": null', "HashMismatch"],
    ["non-finite", '"upper": Infinity', '"upper": 1.7976931348623157e+308', "HashMismatch"],
    ["numbers", '"neg": -0.0', '"neg": 0.0', "HashMismatch"],
    ["numbers", '"tiny": 1e-05', '"tiny": 0.00001', "HashMismatch"],
    ["numbers", '"exp": 1e+16', '"exp": 1e16', "HashMismatch"],
    ["unicode", '"\\ue000": 1', '"\\ue001": 1', "HashMismatch"],
    // Whitespace between tokens is not part of the signed bytes.
    ["non-finite", '"upper": Infinity', '"upper":    Infinity', "valid"],
  ];
  for (const [name, from, to, want] of cases) {
    const text = await Deno.readTextFile(new URL(`${name}.json`, EDGE));
    assert.ok(text.includes(from), from);
    const r = await checkEnvelope(parseEnvelopeText(text.replace(from, to)), edgeStore);
    assert.equal(r.valid ? "valid" : r.reason, want, `${from} → ${to}`);
  }
});
