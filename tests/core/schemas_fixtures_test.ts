/**
 * The bundled JSON Schemas accept the regaudit-fhe fixtures (inputs,
 * results, envelopes, trust store) and what the other modules make (native
 * envelopes, leaves, checkpoints, tlog-proofs).
 */
import { check } from "../../core/validate.ts";
import { PRIMITIVES } from "../../core/envelope_types.ts";
import { buildEnvelope } from "../../core/envelope.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { toBase64 } from "../../core/bytes.ts";
import { encodeLeaf, LEAF_VERSION, ZERO_PREV } from "../../ledger/leaf.ts";
import { type Checkpoint, signCheckpoint } from "../../ledger/checkpoint.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { formatTlogProof } from "../../ledger/tlog_proof.ts";
import {
  assert,
  assertEquals,
  clone,
  envelopeFiles,
  firstViolation,
  FIXTURES,
  type Obj,
  primitivesFixture,
  readJson,
} from "./_schemas.ts";

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
