/**
 * The split flow end to end: the client encrypts with its own keys and
 * sends JSON; the evaluator, given only that JSON, evaluates without any
 * secret key; the client decrypts, finishes and signs a seal-ckks envelope
 * that verifies against a trust store and is appended to a ledger. Plus
 * every rejection path.
 */
import { assert, assertEquals } from "./_helpers.ts";
import { PRIMITIVE_SPECS } from "../../core/primitives/registry.ts";
import { EncryptedAuditClient, evaluateEncryptedAudit } from "../../core/fhe/split.ts";
import type { EncryptedAuditRequest } from "../../core/fhe/split.ts";
import { CKKS_TOLERANCES } from "../../core/fhe/tolerances.ts";
import { InputValidationError } from "../../core/errors.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { parameterSetHash, parseEnvelopeValue } from "../../core/envelope.ts";
import { verifyEnvelope } from "../../core/verify.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { openLedger } from "../../ledger/index.ts";

const driftInput = PRIMITIVE_SPECS.drift.parse({
  p: [5, 9, 14, 20, 17, 11, 6, 3, 1, 1],
  q: [2, 4, 8, 13, 18, 19, 15, 10, 6, 3],
  drift_threshold: 0.005,
});
const client = await EncryptedAuditClient.create("drift", driftInput);
const wire: EncryptedAuditRequest = JSON.parse(JSON.stringify(client.request));

async function rejects(request: unknown, pointer: string): Promise<void> {
  const err = await evaluateEncryptedAudit(request).then(() => null, (e) => e);
  assert(err instanceof InputValidationError, `expected InputValidationError, got ${err}`);
  assertEquals(err.pointer, pointer);
}

Deno.test("split flow: encrypted drift through JSON, decrypted and signed by the client", async () => {
  // The request carries no secret key and no raw histogram.
  const text = JSON.stringify(wire);
  assert(!/secret/i.test(text));
  assertEquals(Object.keys(wire.ciphertexts).sort(), ["p", "q"]);
  assertEquals(Object.keys(wire.evaluation_keys).sort(), [
    "galois_keys",
    "public_key",
    "relin_keys",
    "rotation_steps",
  ]);

  const response = JSON.parse(JSON.stringify(await evaluateEncryptedAudit(wire)));
  const run = client.finish(response);
  const exact = PRIMITIVE_SPECS.drift.statistic(driftInput);
  assert(Math.abs(run.result.distance - exact.distance) <= CKKS_TOLERANCES.drift);
  assert(Math.abs(run.result.w1_distance - exact.w1_distance) <= CKKS_TOLERANCES.drift);
  assertEquals(run.result.drift_bit, exact.drift_bit);
  assertEquals(run.depth, { declared: 1, consumed: 1 });

  const signer = await InProcessKeyProvider.generate("client-1");
  const env = await client.envelope(run, { signer, issuer: "client.example" });
  assertEquals(env.backend, "seal-ckks");
  assertEquals(env.parameter_set.poly_modulus_degree, 8192);
  assertEquals(env.parameter_set.coeff_mod_bit_sizes, [60, 40, 60]); // depth 1: one level prime
  assertEquals(env.parameter_set.backend_version, "node-seal 7.0.0");
  assertEquals(env.parameter_set_hash, parameterSetHash(env.parameter_set));
  assertEquals(env.depth_budget, { declared: 1, consumed: 1 });
  const verdict = await verifyEnvelope(
    parseEnvelopeValue(env),
    TrustStore.fromObject({ "client-1": signer.publicKeyPem }),
  );
  assertEquals(verdict.valid, true);

  // The client submits its envelope to a ledger.
  const dir = await Deno.makeTempDir({ prefix: "regledger-fhe-" });
  const ledger = await openLedger({ dataDir: dir });
  try {
    const appended = await ledger.append(parseEnvelopeValue(env));
    assertEquals([appended.index, appended.tree_size, appended.existing], [0, 1, false]);
    assert(appended.tlog_proof.startsWith("c2sp.org/tlog-proof@v1"));
  } finally {
    await ledger.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("split flow: fairness and provenance with multi-vector and public-mask layouts", async () => {
  const fairness = PRIMITIVE_SPECS.fairness.parse({
    y_true: [1, 0, 1, 1, 0, 1, 0, 0, 1, 1],
    y_pred: [1, 0, 0, 1, 1, 1, 0, 1, 1, 0],
    group_a: [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
    group_b: [0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
  });
  const fc = await EncryptedAuditClient.create("fairness", fairness);
  try {
    const run = fc.finish(await evaluateEncryptedAudit(JSON.parse(JSON.stringify(fc.request))));
    assertEquals(run.result, PRIMITIVE_SPECS.fairness.statistic(fairness));
    assertEquals(run.depth.consumed, 2);
  } finally {
    fc.dispose();
  }
  const prov = PRIMITIVE_SPECS.provenance.parse({
    attributions: [0.5, -0.25, 1.5, 0.75, 2, -1, 0.125, 0.3],
    row_ids: [11, 42, 7, 1000, 5, 77, 123456, 9],
    n_buckets: 5,
    k: 2,
  });
  const pc = await EncryptedAuditClient.create("provenance", prov);
  try {
    const run = pc.finish(await evaluateEncryptedAudit(JSON.parse(JSON.stringify(pc.request))));
    const exact = PRIMITIVE_SPECS.provenance.statistic(prov);
    exact.bucket_aggregates.forEach((a, b) =>
      assert(Math.abs(run.result.bucket_aggregates[b] - a) <= 1e-3 * Math.max(1, Math.abs(a)))
    );
    assertEquals(run.result.topk_indices, exact.topk_indices);
  } finally {
    pc.dispose();
  }
});

Deno.test("another client's keys cannot read the evaluator's output", async () => {
  const other = await EncryptedAuditClient.create("drift", driftInput);
  try {
    const response = await evaluateEncryptedAudit(wire);
    const stolen = other.finish(response);
    const exact = PRIMITIVE_SPECS.drift.statistic(driftInput);
    assert(
      Math.abs(stolen.result.distance - exact.distance) > 1,
      `decrypted ${stolen.result.distance}`,
    );
  } finally {
    other.dispose();
  }
});

Deno.test("the evaluator rejects malformed requests, naming the field", async () => {
  await rejects(null, "/v");
  await rejects({ ...wire, primitive: "astrology" }, "/primitive");
  await rejects({
    ...wire,
    parameter_set: { ...wire.parameter_set, coeff_mod_bit_sizes: [60, 60, 60, 60] },
  }, "/parameter_set/coeff_mod_bit_sizes");
  await rejects({ ...wire, depth_budget: 5 }, "/depth_budget");
  await rejects({ ...wire, layout: { ...wire.layout, slots: 16 } }, "/layout/slots");
  await rejects({ ...wire, layout: { ...wire.layout, block: 3 } }, "/layout/block");
  await rejects({ ...wire, layout: { ...wire.layout, block: 1 << 20 } }, "/layout/block");
  await rejects({ ...wire, ciphertexts: { p: wire.ciphertexts.p } }, "/ciphertexts");
  await rejects({ ...wire, ciphertexts: { ...wire.ciphertexts, q: "AAAA" } }, "/ciphertexts/q");
  await rejects(
    { ...wire, evaluation_keys: { ...wire.evaluation_keys, rotation_steps: [1] } },
    "/evaluation_keys/rotation_steps",
  );
  await rejects(
    {
      ...wire,
      evaluation_keys: {
        ...wire.evaluation_keys,
        relin_keys: wire.evaluation_keys.relin_keys.slice(8),
      },
    },
    "/evaluation_keys/relin_keys",
  );
});

Deno.test("the client rejects a response for another primitive or with foreign ciphertexts", async () => {
  const response = await evaluateEncryptedAudit(wire);
  for (
    const [bad, pointer] of [
      [{ ...response, primitive: "fairness" }, "/primitive"],
      [{ ...response, v: "x" }, "/v"],
      [{ ...response, ciphertexts: { l2: "////" } }, "/ciphertexts/l2"],
    ] as const
  ) {
    try {
      client.finish(bad);
      assert(false, "accepted");
    } catch (e) {
      assert(e instanceof InputValidationError, String(e));
      assertEquals(e.pointer, pointer);
    }
  }
});

globalThis.addEventListener("unload", () => client.dispose());

Deno.test("split backend behind runAuditWith: the evaluator sees only the request; the run is exact within tolerance", async () => {
  const { splitCkksAuditBackend } = await import("../../core/audit/index.ts");
  const { runAuditWith } = await import("../../core/audit/index.ts");
  const seen: string[] = [];
  const backend = splitCkksAuditBackend(async (request) => {
    const text = JSON.stringify(request);
    seen.push(text);
    return JSON.parse(JSON.stringify(await evaluateEncryptedAudit(JSON.parse(text))));
  });
  const raw = { p: [5, 9, 14, 20, 17, 11, 6, 3, 1, 1], q: [2, 4, 8, 13, 18, 19, 15, 10, 6, 3] };
  const run = await runAuditWith("drift", raw, backend);
  assertEquals(seen.length, 1);
  assert(!/secret/i.test(seen[0]));
  // The histograms never travel in the clear.
  assert(!seen[0].includes("[5,9,14,20,17,11,6,3,1,1]"));
  const exact = PRIMITIVE_SPECS.drift.statistic(PRIMITIVE_SPECS.drift.parse(raw));
  assert(Math.abs(run.result.distance - exact.distance) <= CKKS_TOLERANCES.drift);
  assertEquals(run.result.drift_bit, exact.drift_bit);
  assertEquals(run.backend, "seal-ckks");
  assertEquals(run.depth, { declared: 1, consumed: 1 });
  assert(run.stats !== null && run.stats.ops.rotate > 0, "the evaluator's rotations are reported");

  // A transport that answers for another primitive is refused by the client.
  const liar = splitCkksAuditBackend(async (request) => {
    const r = await evaluateEncryptedAudit(request);
    return { ...r, primitive: "fairness" };
  });
  const err = await runAuditWith("drift", raw, liar).then(() => null, (e) => e);
  assert(err instanceof InputValidationError, `expected InputValidationError, got ${err}`);
});
