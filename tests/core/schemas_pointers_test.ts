/**
 * Bad documents fail validation (core/validate.ts) at the exact JSON pointer
 * with a stable rule.
 */
import { check } from "../../core/validate.ts";
import { toBase64 } from "../../core/bytes.ts";
import {
  assert,
  assertEquals,
  clone,
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
// exact pointers for bad documents

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
