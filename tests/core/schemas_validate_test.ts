/**
 * validate() and check() (core/validate.ts): messages, no mutation,
 * properties over random documents, hostile nesting, and the date-time
 * format.
 */
import fc from "fast-check";
import { SCHEMA_NAMES, type SchemaName } from "../../core/schemas.ts";
import { check, validate, withDefaults } from "../../core/validate.ts";
import { InputValidationError } from "../../core/errors.ts";
import { PRIMITIVES } from "../../core/envelope_types.ts";
import { toBase64 } from "../../core/bytes.ts";
import { LEAF_VERSION, ZERO_PREV } from "../../ledger/leaf.ts";
import { parseInput } from "../../core/primitives/registry.ts";
import {
  assert,
  assertEquals,
  assertFalse,
  assertThrows,
  clone,
  envelopeFiles,
  fairness,
  firstViolation,
  FIXTURES,
  type Json,
  type Obj,
  primitivesFixture,
  readJson,
  validEnvelope,
} from "./_schemas.ts";

// ---------------------------------------------------------------------------
// validate(), messages, no mutation

Deno.test("validate: returns the same value, throws InputValidationError with pointer, rule and a message naming them", () => {
  const f = fairness();
  assertEquals(validate("fairness.input", f), f);
  assert(validate("fairness.input", f) === f, "no copy");
  (f.y_true as Json[])[1] = "x";
  const e = assertThrows(() => validate("fairness.input", f), InputValidationError);
  assertEquals(e.pointer, "/y_true/1");
  assertEquals(e.rule, "type");
  assertEquals(e.name, "InputValidationError");
  assertEquals(e.message, "/y_true/1: must be a number, got a string (fairness.input)");
});

Deno.test("validate: messages are specific and never quote the offending value", () => {
  const secret = "patient-7731-secret";
  const msg = (name: SchemaName, v: unknown) => {
    const r = check(name, v);
    if (r.ok) throw new Error("expected failure");
    return r.errors[0].message;
  };
  assertEquals(
    msg("fairness.input", { ...fairness(), extra: secret }),
    "unknown property (allowed: y_true, y_pred, group_a, group_b, threshold)",
  );
  assertEquals(msg("drift.input", { p: [secret], q: [1] }), "must be a number, got a string");
  assertEquals(
    msg("envelope", { ...validEnvelope, parameter_set_hash: secret }),
    "must be a SHA-256 digest in lowercase hex (64 characters 0-9a-f)",
  );
  assertEquals(msg("fairness.input", { ...fairness(), y_true: [1, 7] }), "must be one of 0, 1");
  assertEquals(msg("leaf", { v: "regledger.leaf.v0" }).includes("required"), true);
  for (const name of SCHEMA_NAMES) {
    const r = check(name, { [secret]: secret, schema: secret, keys: secret, error: 5 });
    if (r.ok) throw new Error(`${name} accepted a junk document`);
    for (const v of r.errors) assertFalse(v.message.includes(secret), `${name}: ${v.message}`);
  }
});

Deno.test("validate: messages about a referenced schema describe that schema, not the referrer", () => {
  const msg = (name: SchemaName, v: unknown): [string, string] => {
    const r = check(name, v);
    if (r.ok) throw new Error("expected failure");
    return [r.errors[0].pointer, r.errors[0].message];
  };
  const hash = toBase64(new Uint8Array(32));
  assertEquals(msg("audit-response", { envelope: { schema: "x" }, receipt: {} }), [
    "/envelope/schema",
    'must be one of "regledger.envelope.v1", "regaudit-fhe.report.v1"',
  ]);
  const [pointer, message] = msg("log-entry", {
    index: 0,
    leaf: "AAAA",
    leaf_hash: hash,
    envelope: { ...validEnvelope, extra: 1 },
  });
  assertEquals(pointer, "/envelope/extra");
  assert(
    message.startsWith("unknown property (allowed: schema, schema_version, algorithm_version,"),
    message,
  );
  const receipt = { ...(validEnvelope.receipt as Obj), version: "1" };
  const [p2, m2] = msg("envelope", { ...validEnvelope, receipt });
  assertEquals(p2, "/receipt/version");
  assertEquals(
    m2,
    "unknown property (allowed: sha256, signature_alg, signature_b64, key_id, public_key_pem, " +
      "pq_signature_alg, pq_signature_b64, pq_public_key_pem)",
  );
  const pem =
    (readJson(new URL("trust_store.json", FIXTURES)) as { keys: Obj }).keys["acme-2026-04"];
  assertEquals(msg("trust-store", { "": pem }), ["/", "property name must not be empty"]);
  assertEquals(
    firstViolation("trust-store", { keys: { a: pem }, parameter_set_pins: { "": "0".repeat(64) } }),
    [
      "/parameter_set_pins/",
      "property-name",
    ],
  );
});

Deno.test("validate: never mutates its input (frozen inputs validate; defaults only through withDefaults)", () => {
  const input = Object.freeze({ p: Object.freeze([1, 2]), q: Object.freeze([2, 1]) });
  assertEquals(validate("drift.input", input), input);
  assertFalse("drift_threshold" in input);
  const filled = withDefaults<{ drift_threshold: number; p: number[] }>("drift.input", input);
  assertEquals(filled.drift_threshold, 0.005);
  assert(filled.p === input.p);
  assertFalse("drift_threshold" in input);
  const given = { p: [1], q: [1], drift_threshold: 0.2 };
  assert(withDefaults("drift.input", given) === given, "nothing to fill: same object");
  assertEquals(withDefaults("drift.input", [1, 2]), [1, 2]);
});

Deno.test("property: a valid fairness input validates; one corrupted element is reported at its pointer", () => {
  const bit = fc.constantFrom(0, 1);
  const fields = ["y_true", "y_pred", "group_a", "group_b"] as const;
  const input = fc.integer({ min: 1, max: 40 }).chain((n) =>
    fc.record({
      y_true: fc.array(bit, { minLength: n, maxLength: n }),
      y_pred: fc.array(bit, { minLength: n, maxLength: n }),
      group_a: fc.array(bit, { minLength: n, maxLength: n }),
      group_b: fc.array(bit, { minLength: n, maxLength: n }),
      threshold: fc.double({ min: 0, max: 1, noNaN: true }),
    })
  );
  const corruption = fc.oneof(
    fc.constant<[unknown, string]>(["1", "type"]),
    fc.constant<[unknown, string]>([null, "type"]),
    fc.constant<[unknown, string]>([true, "type"]),
    fc.constant<[unknown, string]>([NaN, "finite"]),
    fc.double({ min: 2, max: 1e9, noNaN: true }).map((x): [unknown, string] => [x, "binary"]),
    fc.double({ min: 0.001, max: 0.999, noNaN: true }).map((x): [unknown, string] => [x, "binary"]),
  );
  fc.assert(
    fc.property(
      input,
      fc.constantFrom(...fields),
      fc.nat(),
      corruption,
      (inp, field, at, [bad, rule]) => {
        assert(check("fairness.input", inp).ok);
        const i = at % inp[field].length;
        const broken = structuredClone(inp) as unknown as Record<string, unknown[]>;
        broken[field][i] = bad;
        assertEquals(firstViolation("fairness.input", broken), [`/${field}/${i}`, rule]);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: the input schemas and the primitives' own parsers agree on every single-field fault", () => {
  /** Every path to a value inside `v` (not `v` itself). */
  const paths = (v: Json, at: (string | number)[] = []): (string | number)[][] => {
    const out: (string | number)[][] = [];
    if (Array.isArray(v)) v.forEach((x, i) => out.push([...at, i], ...paths(x, [...at, i])));
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) out.push([...at, k], ...paths(x, [...at, k]));
    }
    return out;
  };
  const set = (v: unknown, path: (string | number)[], value: unknown): void => {
    let cur = v as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) cur = cur[key] as Record<string | number, unknown>;
    cur[path[path.length - 1]] = value;
  };
  const toPointer = (path: (string | number)[]) => path.map((k) => `/${k}`).join("");
  // Rules only the code can check: they relate several fields.
  const crossField = new Set(["same-length", "non-empty-group", "non-zero-sum", "range"]);
  const bad = fc.constantFrom<unknown>(
    "1",
    null,
    true,
    NaN,
    Infinity,
    2,
    -1,
    0,
    1,
    0.5,
    1e300,
    2 ** 53,
    [],
    {},
    [1],
  );
  const fault = fc.record({
    primitive: fc.constantFrom(...PRIMITIVES),
    caseIndex: fc.nat(5),
    pick: fc.nat(),
    kind: fc.constantFrom("set", "set", "set", "delete", "extra"),
    value: bad,
  });
  let agreedRejections = 0;
  fc.assert(
    fc.property(fault, ({ primitive, caseIndex, pick, kind, value }) => {
      const input = clone(primitivesFixture.cases[primitive][caseIndex].input);
      let target = "";
      if (kind === "extra") {
        (input as Record<string, unknown>).unexpected = value;
        target = "/unexpected";
      } else if (kind === "delete") {
        const keys = Object.keys(input);
        const key = keys[pick % keys.length];
        delete input[key];
        target = `/${key}`;
      } else {
        const all = paths(input);
        const path = all[pick % all.length];
        set(input, path, value);
        target = toPointer(path);
      }
      const schema = check(`${primitive}.input`, input);
      let code: InputValidationError | undefined;
      try {
        parseInput(primitive, input);
      } catch (e) {
        if (!(e instanceof InputValidationError)) throw e;
        code = e;
      }
      if (!schema.ok) {
        assert(
          code !== undefined,
          `${primitive}: schema rejects ${target} (${schema.errors[0].rule}), code accepts`,
        );
        assertEquals(
          code.pointer,
          schema.errors[0].pointer,
          `${primitive} ${target}: ${code.rule} vs ${schema.errors[0].rule}`,
        );
        agreedRejections++;
      } else if (code !== undefined) {
        assert(
          crossField.has(code.rule),
          `${primitive}: code rejects ${code.pointer} (${code.rule}), schema accepts`,
        );
      }
    }),
    { numRuns: 1500 },
  );
  assert(agreedRejections > 500, `only ${agreedRejections} rejections exercised`);
});

Deno.test("property: any JSON value gets an answer for every schema, and each pointer leads into the value", () => {
  const resolve = (doc: unknown, pointer: string): boolean => {
    let cur = doc;
    for (const raw of pointer.split("/").slice(1)) {
      const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
      if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, key)) return false;
      cur = (cur as Record<string, unknown>)[key];
    }
    return true;
  };
  const names = fc.constantFrom(...SCHEMA_NAMES);
  const docs = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.constantFrom(...envelopeFiles).map((f) => readJson(new URL(`envelopes/${f}`, FIXTURES))),
    fc.constantFrom(...PRIMITIVES).map((p) => primitivesFixture.cases[p][0].input as Json),
  );
  fc.assert(
    fc.property(names, docs, (name, doc) => {
      const r = check(name, doc);
      if (r.ok) return;
      assert(r.errors.length > 0);
      for (const v of r.errors) {
        assert(/^(?:\/(?:[^~/]|~[01])*)*$/.test(v.pointer), v.pointer);
        const parent = v.pointer.slice(0, Math.max(0, v.pointer.lastIndexOf("/")));
        // A missing property's pointer names it; its parent exists. Otherwise the pointer exists.
        assert(
          v.rule === "required" ? resolve(doc, parent) : resolve(doc, v.pointer),
          `${name}: ${v.pointer} (${v.rule})`,
        );
        assert(v.message.length > 0 && v.rule.length > 0);
      }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("hostile: deep nesting neither overflows the stack nor is walked where the schema does not look", () => {
  let deepArray: unknown = 1;
  for (let i = 0; i < 100_000; i++) deepArray = [deepArray];
  assertEquals(firstViolation("fairness.input", { ...fairness(), y_true: deepArray }), [
    "/y_true/0",
    "type",
  ]);
  let deepObject: unknown = {};
  for (let i = 0; i < 100_000; i++) deepObject = { a: deepObject };
  // `result`, `parameter_set` and `dp.accounting` are free-form objects: accepted without descent.
  assert(check("envelope", { ...validEnvelope, result: deepObject, parameter_set: deepObject }).ok);
  const big = Array.from({ length: 200_000 }, (_, i) => i % 2);
  assert(check("fairness.input", { y_true: big, y_pred: big, group_a: big, group_b: big }).ok);
  const bigBad = [...big];
  bigBad[199_999] = 3;
  assertEquals(
    firstViolation("fairness.input", { y_true: big, y_pred: bigBad, group_a: big, group_b: big }),
    [
      "/y_pred/199999",
      "binary",
    ],
  );
});

Deno.test("property: date-time accepts RFC 3339 instants and rejects impossible dates", () => {
  const leaf = {
    envelope_sha256: toBase64(new Uint8Array(32)),
    index: 0,
    issued_at: "",
    issuer: "i",
    key_id: "k",
    prev: toBase64(ZERO_PREV),
    primitive: "drift",
    v: LEAF_VERSION,
  };
  fc.assert(
    fc.property(
      fc.date({
        min: new Date("0001-01-01T00:00:00Z"),
        max: new Date("9999-12-31T23:59:59Z"),
        noInvalidDate: true,
      }),
      (d) => {
        assert(check("leaf", { ...leaf, issued_at: d.toISOString() }).ok, d.toISOString());
      },
    ),
    { numRuns: 200 },
  );
  for (
    const ok of [
      "2024-02-29T00:00:00Z",
      "2026-11-21T16:57:43.671516+00:00",
      "2026-01-01t10:00:00-05:30",
    ]
  ) {
    assert(check("leaf", { ...leaf, issued_at: ok }).ok, ok);
  }
  for (
    const bad of [
      "2023-02-29T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-01-01 10:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01T10:00:00",
      "2026-01-01T10:00:00+24:00",
      "yesterday",
    ]
  ) {
    assertEquals(
      firstViolation("leaf", { ...leaf, issued_at: bad }),
      ["/issued_at", "format"],
      bad,
    );
  }
});
