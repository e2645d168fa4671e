/**
 * Tests of the bundled JSON Schemas (core/schemas.ts) and of validation
 * against them (core/validate.ts): fixtures from regaudit-fhe validate, bad
 * documents fail at the exact JSON pointer, schemas compile under an
 * independent strict ajv, and they load with no file reads from any cwd.
 */
import nodeAssert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { Ajv2020 } from "ajv/dist/2020";
import fc from "fast-check";
import {
  getBundledSchema,
  getSchema,
  isSchemaName,
  listSchemas,
  SCHEMA_BASE_URI,
  SCHEMA_NAMES,
  type SchemaName,
} from "../../core/schemas.ts";
import { check, validate, withDefaults } from "../../core/validate.ts";
import { InputValidationError } from "../../core/errors.ts";
import { PRIMITIVES } from "../../core/envelope_types.ts";
import { buildEnvelope } from "../../core/envelope.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { toBase64 } from "../../core/bytes.ts";
import { encodeLeaf, LEAF_VERSION, ZERO_PREV } from "../../ledger/leaf.ts";
import { type Checkpoint, signCheckpoint } from "../../ledger/checkpoint.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { formatTlogProof } from "../../ledger/tlog_proof.ts";
import { parseInput } from "../../core/primitives/registry.ts";

const FIXTURES = new URL("../fixtures/regaudit-fhe/", import.meta.url);

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string): void =>
  nodeAssert.deepStrictEqual(actual, expected, message);
const assertFalse = (value: unknown, message?: string): void => nodeAssert.ok(!value, message);
/** Run `fn`, require it to throw an instance of `cls` (matching `pattern` if given), return the error. */
function assertThrows<E extends Error>(
  fn: () => unknown,
  cls: abstract new (...args: never[]) => E,
  pattern?: RegExp,
): E {
  try {
    fn();
  } catch (e) {
    nodeAssert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    if (pattern) nodeAssert.match(e.message, pattern);
    return e;
  }
  throw new nodeAssert.AssertionError({ message: `expected ${cls.name} to be thrown` });
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

function readJson(url: URL): Json {
  return JSON.parse(Deno.readTextFileSync(url));
}

const primitivesFixture = readJson(new URL("primitives.json", FIXTURES)) as {
  cases: Record<string, { input: Obj; result: Obj }[]>;
};
const envelopeFiles = [...Deno.readDirSync(new URL("envelopes/", FIXTURES))]
  .filter((e) => e.name.endsWith(".json"))
  .map((e) => e.name)
  .sort();
const validEnvelope = readJson(new URL("envelopes/fairness-valid.json", FIXTURES)) as Obj;

/** The first violation of `value` against `name`, as [pointer, rule]. */
function firstViolation(name: SchemaName, value: unknown): [string, string] {
  const r = check(name, value);
  if (r.ok) throw new Error(`expected ${name} to reject ${JSON.stringify(value)?.slice(0, 200)}`);
  return [r.errors[0].pointer, r.errors[0].rule];
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

// ---------------------------------------------------------------------------
// catalogue

Deno.test("catalogue: every schema is Draft 2020-12 with the $id of its name, a title and a description", () => {
  assertEquals(SCHEMA_NAMES.length, 23);
  assertEquals(new Set(SCHEMA_NAMES).size, SCHEMA_NAMES.length);
  for (const name of SCHEMA_NAMES) {
    const s = getSchema(name);
    assertEquals(s.$schema, "https://json-schema.org/draft/2020-12/schema", name);
    assertEquals(s.$id, `${SCHEMA_BASE_URI}${name}.json`, name);
    assert(typeof s.title === "string" && s.title.length > 0, `${name} title`);
    assert(typeof s.description === "string" && s.description.length > 20, `${name} description`);
  }
  for (const p of PRIMITIVES) {
    assert(isSchemaName(`${p}.input`) && isSchemaName(`${p}.output`), p);
  }
  assertEquals(
    listSchemas().map((s) => [s.name, s.id, s.title]),
    SCHEMA_NAMES.map((n) => [n, getSchema(n).$id, getSchema(n).title]),
  );
});

Deno.test("catalogue: unknown names are refused, including inherited property names", () => {
  for (
    const bad of ["", "nope", "constructor", "__proto__", "toString", "fairness", "envelope.json"]
  ) {
    assertFalse(isSchemaName(bad), bad);
    assertThrows(() => getSchema(bad as SchemaName), RangeError);
    assertThrows(() => check(bad as SchemaName, {}), RangeError);
  }
});

Deno.test("catalogue: schemas are deeply frozen so no caller can change what others validate with", () => {
  const s = getSchema("fairness.input") as Record<string, unknown>;
  assertThrows(() => {
    s.title = "changed";
  }, TypeError);
  const props = s.properties as Record<string, Record<string, unknown>>;
  assertThrows(() => {
    props.threshold.default = 0.5;
  }, TypeError);
  assertEquals(withDefaults<{ threshold: number }>("fairness.input", {}).threshold, 0.1);
});

Deno.test("catalogue: defaults are those of regaudit-fhe's audit functions", () => {
  const prop = (n: SchemaName, k: string) =>
    (getSchema(n).properties as Record<string, { default?: unknown }>)[k].default;
  assertEquals(prop("fairness.input", "threshold"), 0.1);
  assertEquals(prop("drift.input", "drift_threshold"), 0.005);
  assertEquals(prop("disagreement.input", "threshold"), 0.05);
});

// ---------------------------------------------------------------------------
// strict compilation, independently of core/validate.ts

Deno.test("strict: every schema compiles under a separate strict ajv with all strict checks on", () => {
  const ajv = new Ajv2020({
    strict: true,
    strictRequired: true,
    strictTypes: true,
    strictTuples: true,
    allowUnionTypes: true,
    discriminator: true,
  });
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T/);
  for (const name of SCHEMA_NAMES) ajv.addSchema(structuredClone(getSchema(name)));
  for (const name of SCHEMA_NAMES) {
    const fn = ajv.getSchema(getSchema(name).$id);
    assert(fn !== undefined, name);
    assert(ajv.validateSchema(structuredClone(getSchema(name))), name);
  }
  // and through core/validate.ts (compiles lazily on first use)
  for (const name of SCHEMA_NAMES) assertFalse(check(name, 42).ok, name);
});

Deno.test("bundling: each bundled document stands alone in a fresh validator and accepts the fixtures", () => {
  const fresh = () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, discriminator: true });
    ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T/);
    return ajv;
  };
  for (const name of SCHEMA_NAMES) {
    const doc = getBundledSchema(name);
    const refs = JSON.stringify(doc).match(/"\$ref":"[^#"][^"]*"/g) ?? [];
    for (const ref of refs) {
      const target = ref.slice(8, -1).split("#")[0];
      assert(Object.hasOwn(doc.$defs as object, target), `${name}: ${target} embedded`);
    }
    assert(fresh().compile(structuredClone(doc)), name);
  }
  assert(getBundledSchema("drift.input") === getSchema("drift.input"), "no refs: same document");
  const envelope = fresh().compile(structuredClone(getBundledSchema("envelope")));
  for (const f of envelopeFiles) {
    assert(envelope(readJson(new URL(`envelopes/${f}`, FIXTURES))), f);
  }
  const bad = clone(validEnvelope);
  (bad.receipt as Obj).signature_alg = "RSA";
  assertFalse(envelope(bad), "the embedded receipt schema is applied");
});

Deno.test("strict: a schema with an unknown keyword would be rejected (strict mode is really on)", () => {
  const ajv = new Ajv2020({ strict: true });
  assertThrows(() => ajv.compile({ type: "object", propertiez: {} }), Error, /strict mode/);
});

// ---------------------------------------------------------------------------
// fixtures

Deno.test("fixtures: every regaudit-fhe primitive input and result validates against its schema", () => {
  let n = 0;
  for (const p of PRIMITIVES) {
    const cases = primitivesFixture.cases[p];
    assert(cases.length > 0, p);
    for (const c of cases) {
      const input = check(`${p}.input`, c.input);
      assert(input.ok, `${p} input: ${JSON.stringify(input)}`);
      const result = check(`${p}.output`, c.result);
      assert(result.ok, `${p} result: ${JSON.stringify(result)}`);
      n++;
    }
  }
  assertEquals(n, 36);
});

Deno.test("fixtures: every result field is required and no other field is allowed", () => {
  for (const p of PRIMITIVES) {
    const result = primitivesFixture.cases[p][0].result;
    for (const key of Object.keys(result)) {
      const missing = clone(result);
      delete missing[key];
      assertEquals(firstViolation(`${p}.output`, missing), [`/${key}`, "required"], `${p}.${key}`);
    }
    assertEquals(
      firstViolation(`${p}.output`, { ...result, extra: 1 }),
      ["/extra", "unknown-field"],
    );
  }
});

Deno.test("fixtures: every input field except the optional thresholds is required", () => {
  const optional = new Set(["threshold", "drift_threshold"]);
  for (const p of PRIMITIVES) {
    const input = primitivesFixture.cases[p][0].input;
    for (const key of Object.keys(input)) {
      const without = clone(input);
      delete without[key];
      if (optional.has(key)) {
        assert(check(`${p}.input`, without).ok, `${p}.${key} is optional`);
      } else {
        assertEquals(firstViolation(`${p}.input`, without), [`/${key}`, "required"], `${p}.${key}`);
      }
    }
  }
});

Deno.test("fixtures: every regaudit-fhe envelope, valid or tampered, has the envelope structure", () => {
  assertEquals(envelopeFiles.length, 22);
  for (const f of envelopeFiles) {
    const env = readJson(new URL(`envelopes/${f}`, FIXTURES));
    const r = check("envelope", env);
    assert(r.ok, `${f}: ${JSON.stringify(r)}`);
    assert(check("receipt", (env as Obj).receipt).ok, f);
  }
});

Deno.test("fixtures: the trust store validates, in its full and its bare shape", () => {
  const store = readJson(new URL("trust_store.json", FIXTURES)) as { keys: Obj };
  assert(check("trust-store", store).ok);
  assert(check("trust-store", store.keys).ok, "bare {key_id: PEM} mapping");
  assert(check("trust-store", { keys: store.keys }).ok, "full shape without revoked or pins");
});

Deno.test("cross-module: a native envelope built by core/envelope.ts validates", async () => {
  const signer = await InProcessKeyProvider.generate("issuer-2026");
  const c = primitivesFixture.cases.drift[1];
  const env = await buildEnvelope({
    primitive: "drift",
    backend: "plaintext",
    parameterSet: { backend: "plaintext", multiplicative_depth: 6 },
    regulations: ["EU_AI_ACT_ART15"],
    result: c.result,
    inputs: c.input,
    depthBudget: { declared: 6, consumed: 1 },
    dp: {
      applied: true,
      fields: {
        distance: { mechanism: "laplace", epsilon: 1, sensitivity: 0.01, noise_scale: 0.01 },
      },
    },
    issuer: "acme-bank",
  }, signer);
  const r = check("envelope", env);
  assert(r.ok, JSON.stringify(r));
  assertEquals(env.schema, "regledger.envelope.v1");
  // The legacy-only fields are not allowed in a native envelope.
  assertEquals(firstViolation("envelope", { ...env, schema_version: "x" }), [
    "/schema_version",
    "unknown-field",
  ]);
});

Deno.test("cross-module: a leaf encoded by ledger/leaf.ts validates, and its JSON is the leaf schema", () => {
  const bytes = encodeLeaf({
    envelope_sha256: toBase64(new Uint8Array(32).fill(7)),
    index: 3,
    issued_at: "2026-11-21T16:57:43.671516+00:00",
    issuer: "acme-bank",
    key_id: "acme-2026-04",
    prev: toBase64(ZERO_PREV),
    primitive: "fairness",
    v: LEAF_VERSION,
  });
  const leaf = JSON.parse(new TextDecoder().decode(bytes));
  assert(check("leaf", leaf).ok, JSON.stringify(check("leaf", leaf)));
  assertEquals(firstViolation("leaf", { ...leaf, prev: toBase64(new Uint8Array(31)) }), [
    "/prev",
    "pattern",
  ]);
});

Deno.test("cross-module: checkpoints and tlog-proofs made by ledger/ match the append-response patterns", async () => {
  const log = await Ed25519NoteSigner.generate("regledger.local/log");
  const witness = await Ed25519NoteSigner.generate("witness.example");
  const h = (b: number) => new Uint8Array(32).fill(b);
  const leaf = encodeLeaf({
    envelope_sha256: toBase64(h(9)),
    index: 6,
    issued_at: "2026-11-21T16:57:43Z",
    issuer: "acme-bank",
    key_id: "acme-2026-04",
    prev: toBase64(h(8)),
    primitive: "drift",
    v: LEAF_VERSION,
  });
  for (
    const [cp, signers] of [
      [{ origin: "regledger.local/log", size: 7, root: h(1) }, [log]],
      [{ origin: "regledger.local/log", size: 7, root: h(1), extensions: ["ext one"] }, [
        log,
        witness,
      ]],
      [{ origin: "example.com/log", size: 0, root: h(0) }, [log]],
    ] as [Checkpoint, Ed25519NoteSigner[]][]
  ) {
    const checkpoint = await signCheckpoint(cp, signers);
    const proof = cp.size > 0 ? [h(2), h(3), h(4)] : [];
    const append = {
      index: 6,
      tree_size: 7,
      leaf_hash: toBase64(h(5)),
      envelope_sha256: toBase64(h(9)),
      checkpoint,
      inclusion_proof: proof.map(toBase64),
      tlog_proof: formatTlogProof({ extra: leaf, index: 6, proof, checkpoint }),
    };
    const r = check("append-response", append);
    assert(r.ok, `${JSON.stringify(r)}\n${checkpoint}`);
    const noExtra = formatTlogProof({ index: 6, proof, checkpoint });
    assert(check("append-response", { ...append, tlog_proof: noExtra }).ok, "extra is optional");
    // Remove the signature lines: no longer a signed note.
    const unsigned = checkpoint.slice(0, checkpoint.indexOf("\n\n") + 2);
    assertEquals(firstViolation("append-response", { ...append, checkpoint: unsigned }), [
      "/checkpoint",
      "pattern",
    ]);
  }
});

// ---------------------------------------------------------------------------
// exact pointers for bad documents

const fairness = (): Obj => clone(primitivesFixture.cases.fairness[2].input);

Deno.test("pointers: wrong type deep in an array", () => {
  const f = fairness();
  (f.y_pred as Json[])[2] = "1";
  assertEquals(firstViolation("fairness.input", f), ["/y_pred/2", "type"]);

  const d = clone(primitivesFixture.cases.disagreement[1].input);
  (d.model_polynomials as Json[][])[4][3] = null;
  assertEquals(firstViolation("disagreement.input", d), ["/model_polynomials/4/3", "type"]);

  const t = clone(primitivesFixture.cases.concordance[3].input);
  (t.time as Json[])[1] = [5];
  assertEquals(firstViolation("concordance.input", t), ["/time/1", "type"]);
});

Deno.test("pointers: values JSON Schema can constrain", () => {
  const f = fairness();
  (f.group_a as Json[])[1] = 2;
  assertEquals(firstViolation("fairness.input", f), ["/group_a/1", "binary"]);
  assertEquals(firstViolation("fairness.input", { ...fairness(), threshold: -0.1 }), [
    "/threshold",
    "non-negative",
  ]);
  assertEquals(firstViolation("fairness.input", { ...fairness(), y_true: [] }), [
    "/y_true",
    "non-empty",
  ]);

  const prov = clone(primitivesFixture.cases.provenance[2].input);
  assertEquals(firstViolation("provenance.input", { ...prov, n_buckets: 2.5 }), [
    "/n_buckets",
    "integer",
  ]);
  assertEquals(firstViolation("provenance.input", { ...prov, k: 0 }), ["/k", "range"]);
  assertEquals(firstViolation("provenance.input", { ...prov, row_ids: [1, -4, 3] }), [
    "/row_ids/1",
    "non-negative",
  ]);
  assertEquals(firstViolation("provenance.input", { ...prov, row_ids: [1, 2 ** 53, 3] }), [
    "/row_ids/1",
    "range",
  ]);
  // 16.0 is an integer (regaudit-fhe's CLI does int(16.0)).
  assert(check("provenance.input", { ...prov, n_buckets: 16.0, k: 4.0 }).ok);

  const dis = clone(primitivesFixture.cases.disagreement[0].input);
  const polys = dis.model_polynomials as Json[][];
  assertEquals(
    firstViolation("disagreement.input", { ...dis, model_polynomials: polys.slice(0, 2) }),
    ["/model_polynomials", "min-items"],
  );
  assertEquals(
    firstViolation("disagreement.input", {
      ...dis,
      model_polynomials: [polys[0], polys[1].slice(0, 3), polys[2]],
    }),
    ["/model_polynomials/1", "min-items"],
  );
  assertEquals(
    firstViolation("disagreement.input", {
      ...dis,
      model_polynomials: [polys[0], polys[1], [...polys[2], 0.5]],
    }),
    ["/model_polynomials/2", "max-items"],
  );
  assertEquals(
    firstViolation("drift.input", { p: [1, -0.5], q: [1, 1] }),
    ["/p/1", "non-negative"],
  );
});

Deno.test("pointers: non-finite numbers (possible from JavaScript callers) are rejected as `finite`", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    assertEquals(firstViolation("drift.input", { p: [1, bad], q: [1, 1] }), ["/p/1", "finite"]);
    assertEquals(firstViolation("calibration.input", { scores: [bad], quantiles: [1] }), [
      "/scores/0",
      "finite",
    ]);
  }
});

Deno.test("pointers: a missing field points at the field, a missing nested field at its full path", () => {
  const f = fairness();
  delete f.group_b;
  assertEquals(firstViolation("fairness.input", f), ["/group_b", "required"]);

  const env = clone(validEnvelope);
  delete (env.receipt as Obj).key_id;
  assertEquals(firstViolation("envelope", env), ["/receipt/key_id", "required"]);

  const env2 = clone(validEnvelope);
  delete (env2.input_commitments as Obj[])[3].sha256;
  assertEquals(firstViolation("envelope", env2), ["/input_commitments/3/sha256", "required"]);

  const env3 = clone(validEnvelope);
  delete env3.schema_version;
  assertEquals(firstViolation("envelope", env3), ["/schema_version", "required"]);
});

Deno.test("pointers: an extra field where additionalProperties is false points at that field", () => {
  assertEquals(firstViolation("fairness.input", { ...fairness(), dp: { epsilon: 1 } }), [
    "/dp",
    "unknown-field",
  ]);
  const env = clone(validEnvelope);
  (env.receipt as Obj).version = "0.0.1";
  assertEquals(firstViolation("envelope", env), ["/receipt/version", "unknown-field"]);
  const env2 = clone(validEnvelope);
  (env2.depth_budget as Obj).used = 1;
  assertEquals(firstViolation("envelope", env2), ["/depth_budget/used", "unknown-field"]);
  // Property names with / and ~ are escaped per RFC 6901.
  assertEquals(firstViolation("drift.input", { p: [1], q: [1], "a/b~c": 1 }), [
    "/a~1b~0c",
    "unknown-field",
  ]);
});

Deno.test("pointers: bad hex and base64", () => {
  const env = clone(validEnvelope);
  (env.receipt as Obj).sha256 = ((env.receipt as Obj).sha256 as string).toUpperCase();
  assertEquals(firstViolation("envelope", env), ["/receipt/sha256", "pattern"]);

  const env2 = clone(validEnvelope);
  env2.parameter_set_hash = "ab".repeat(31);
  assertEquals(firstViolation("envelope", env2), ["/parameter_set_hash", "pattern"]);

  const env3 = clone(validEnvelope);
  (env3.input_commitments as Obj[])[1].sha256 = "g".repeat(64);
  assertEquals(firstViolation("envelope", env3), ["/input_commitments/1/sha256", "pattern"]);

  const env4 = clone(validEnvelope);
  (env4.receipt as Obj).signature_b64 = "aZUy-_==";
  assertEquals(firstViolation("envelope", env4), ["/receipt/signature_b64", "pattern"]);

  const store = readJson(new URL("trust_store.json", FIXTURES)) as Obj;
  (store.parameter_set_pins as Obj)["pinned-1"] = "0x00";
  assertEquals(firstViolation("trust-store", store), ["/parameter_set_pins/pinned-1", "pattern"]);
});

Deno.test("pointers: envelope variants are chosen by `schema`", () => {
  assertEquals(firstViolation("envelope", { ...validEnvelope, schema: "regaudit-fhe.report.v2" }), [
    "/schema",
    "variant",
  ]);
  const r = check("envelope", { ...validEnvelope, schema: "nope" });
  assert(!r.ok && r.errors[0].message.includes('"regledger.envelope.v1"'), JSON.stringify(r));
  assert(!r.ok && r.errors[0].message.includes('"regaudit-fhe.report.v1"'), JSON.stringify(r));
  assertEquals(firstViolation("envelope", { ...validEnvelope, schema: 1 }), ["/schema", "type"]);
  const noSchema = clone(validEnvelope);
  delete noSchema.schema;
  assertEquals(firstViolation("envelope", noSchema), ["/schema", "required"]);
  // A legacy envelope relabelled as native fails on its legacy-only fields.
  assertEquals(
    firstViolation("envelope", { ...validEnvelope, schema: "regledger.envelope.v1" })[1],
    "unknown-field",
  );
  assertEquals(
    firstViolation("envelope", { ...validEnvelope, issued_at: "2026-02-30T10:00:00Z" }),
    [
      "/issued_at",
      "format",
    ],
  );
  assertEquals(firstViolation("envelope", { ...validEnvelope, primitive: "accuracy" }), [
    "/primitive",
    "enum",
  ]);
  assertEquals(firstViolation("envelope", { ...validEnvelope, timestamp: 5 }), [
    "/timestamp",
    "type",
  ]);
  assert(
    check("envelope", { ...validEnvelope, timestamp: null }).ok,
    "legacy timestamp may be null",
  );
});

Deno.test("pointers: trust-store shapes", () => {
  const store = readJson(new URL("trust_store.json", FIXTURES)) as { keys: Obj } & Obj;
  assertEquals(firstViolation("trust-store", { keys: {} }), ["/keys", "min-properties"]);
  assertEquals(firstViolation("trust-store", {}), ["", "min-properties"]);
  assertEquals(
    firstViolation("trust-store", { ...store, keys: { ...store.keys, k2: "not a pem" } }),
    [
      "/keys/k2",
      "pattern",
    ],
  );
  assertEquals(
    firstViolation("trust-store", {
      "acme/1": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    }),
    [
      "/acme~11",
      "pattern",
    ],
  );
  assertEquals(firstViolation("trust-store", { ...store, revoked: "old-2025" }), [
    "/revoked",
    "type",
  ]);
  assertEquals(firstViolation("trust-store", { ...store, pins: {} }), ["/pins", "unknown-field"]);
});

Deno.test("pointers: API objects", () => {
  const hash = toBase64(new Uint8Array(32).fill(1));
  const cp = "regledger.local/log\n5\n" + hash + "\n\n\u2014 regledger.local/log Abcd1234efgh==\n";
  const append = {
    index: 4,
    tree_size: 5,
    leaf_hash: hash,
    envelope_sha256: hash,
    checkpoint: cp,
    inclusion_proof: [hash, hash],
    tlog_proof: `c2sp.org/tlog-proof@v1\nextra eyJ2IjoxfQ==\nindex 4\n${hash}\n${hash}\n\n${cp}`,
  };
  assert(check("append-response", append).ok, JSON.stringify(check("append-response", append)));
  assertEquals(firstViolation("append-response", { ...append, inclusion_proof: [hash, "AA=="] }), [
    "/inclusion_proof/1",
    "pattern",
  ]);
  assertEquals(
    firstViolation("append-response", { ...append, checkpoint: "regledger.local/log\n5\n" }),
    [
      "/checkpoint",
      "pattern",
    ],
  );
  assertEquals(firstViolation("append-response", { ...append, tlog_proof: cp }), [
    "/tlog_proof",
    "pattern",
  ]);
  assertEquals(firstViolation("append-response", { ...append, index: -1 }), [
    "/index",
    "non-negative",
  ]);

  const audit = { envelope: validEnvelope, receipt: append };
  assert(check("audit-response", audit).ok);
  assertEquals(
    firstViolation("audit-response", { ...audit, receipt: { ...append, tree_size: "5" } }),
    [
      "/receipt/tree_size",
      "type",
    ],
  );

  const entry = { index: 0, leaf: "eyJ2IjoxfQ==", leaf_hash: hash, envelope: validEnvelope };
  assert(check("log-entry", entry).ok);
  const badEnv = clone(validEnvelope);
  (badEnv.depth_budget as Obj).consumed = 1.5;
  assertEquals(firstViolation("log-entry", { ...entry, envelope: badEnv }), [
    "/envelope/depth_budget/consumed",
    "integer",
  ]);

  assert(check("inclusion-proof", { index: 0, tree_size: 1, leaf_hash: hash, proof: [] }).ok);
  assertEquals(
    firstViolation("inclusion-proof", { index: 0, tree_size: 0, leaf_hash: hash, proof: [] }),
    [
      "/tree_size",
      "range",
    ],
  );
  assert(check("consistency-proof", { first: 0, second: 7, proof: [] }).ok);
  assertEquals(firstViolation("consistency-proof", { first: 1, second: 7 }), [
    "/proof",
    "required",
  ]);

  assert(check("verify-response", { valid: true, primitive: "drift" }).ok);
  assert(check("verify-response", { valid: false, reason: "HashMismatch" }).ok);
  assertEquals(firstViolation("verify-response", { valid: false }), ["/reason", "required"]);
  assertEquals(firstViolation("verify-response", { valid: true, reason: "HashMismatch" }), [
    "/reason",
    "not-allowed",
  ]);

  assert(
    check("error", {
      error: "bad input",
      reason: "InputValidationError",
      pointer: "/a~1b/0",
      rule: "type",
    }).ok,
  );
  assertEquals(firstViolation("error", { error: "x", pointer: "a/b" }), ["/pointer", "pattern"]);
  assertEquals(firstViolation("error", { reason: "X" }), ["/error", "required"]);
});

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
    "unknown property (allowed: sha256, signature_alg, signature_b64, key_id, public_key_pem)",
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

// ---------------------------------------------------------------------------
// bundled into the module graph

Deno.test("bundling: schemas load and validate from another cwd with no read permission at all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-schemas-" });
  try {
    const schemasUrl = new URL("../../core/schemas.ts", import.meta.url).href;
    const validateUrl = new URL("../../core/validate.ts", import.meta.url).href;
    const script = `
      import { SCHEMA_NAMES, getSchema } from ${JSON.stringify(schemasUrl)};
      import { check } from ${JSON.stringify(validateUrl)};
      let readable = true;
      try { Deno.readTextFileSync(${
      JSON.stringify(fromFileUrl(new URL("../../schemas/envelope.json", import.meta.url)))
    }); }
      catch (e) { readable = !(e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied); }
      const compiled = SCHEMA_NAMES.filter((n) => !check(n, 0).ok).length;
      console.log(JSON.stringify({
        n: SCHEMA_NAMES.length, compiled, readable,
        id: getSchema("envelope").$id,
        ok: check("drift.input", { p: [1], q: [2] }).ok,
      }));
    `;
    await Deno.writeTextFile(`${dir}/probe.ts`, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--config",
        fromFileUrl(new URL("../../deno.json", import.meta.url)),
        "probe.ts",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, stderr);
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), {
      n: SCHEMA_NAMES.length,
      compiled: SCHEMA_NAMES.length,
      readable: false,
      id: "https://regledger.dev/schemas/envelope.json",
      ok: true,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
