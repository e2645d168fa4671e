/**
 * In-process tests of `POST /v1/audit/{primitive}`: every primitive on the
 * fixture inputs (signed by the server, logged, receipts verified offline),
 * bad input, unknown primitives and backends, and the CKKS backend through
 * the encrypted-backend seam and for real.
 *
 * @module
 */
import { parseEnvelopeText } from "../../core/envelope.ts";
import { verifyEnvelope } from "../../core/verify.ts";
import { parseVerifierKey } from "../../ledger/note.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { ckksAuditBackend } from "../../server/services.ts";
import { assert, assertEquals, assertSchema } from "./_assert.ts";
import { fixtureText, harness, jsonAuth, post } from "./_helpers.ts";

Deno.test("POST /v1/audit/{primitive}: every fixture input runs, is signed by the server and logged", async () => {
  const h = await harness();
  try {
    const cases = JSON.parse(await fixtureText("primitives.json")).cases;
    const store = h.envelopes.trustStore;
    const vkey = parseVerifierKey(h.ledger.verifierKey);
    for (
      const p of ["fairness", "provenance", "concordance", "calibration", "drift", "disagreement"]
    ) {
      const c = cases[p][0];
      const r = await post(h.app, `/v1/audit/${p}`, JSON.stringify(c.input), jsonAuth("audit:run"));
      const raw = await r.text();
      assertEquals(r.status, 201, `${p}: ${raw.slice(0, 300)}`);
      const body = JSON.parse(raw);
      assertSchema("audit-response", body);
      const env = parseEnvelopeText(JSON.stringify(body.envelope));
      const ok = await verifyEnvelope(env, store);
      assertEquals(ok.key_id, h.serverIssuer.keyId);
      assertEquals(body.envelope.primitive, p);
      for (const [k, v] of Object.entries(c.result as Record<string, unknown>)) {
        if (typeof v === "number") {
          assert(
            Math.abs((body.envelope.result[k] as number) - v) <= 1e-9 * Math.max(1, Math.abs(v)),
            `${p}.${k}`,
          );
        }
      }
      await verifyTlogProof(body.receipt.tlog_proof, vkey, { envelopeSha256: env.sha256 });
    }
    assertEquals(await h.ledger.size(), 6);
    // Bad input: 400 with a JSON pointer; nothing appended.
    const bad = await post(
      h.app,
      "/v1/audit/drift",
      JSON.stringify({ reference: "x" }),
      jsonAuth("audit:run"),
    );
    assertEquals(bad.status, 400);
    const e = await bad.json();
    assertSchema("error", e);
    assertEquals(typeof e.pointer, "string");
    assertEquals(typeof e.rule, "string");
    const unknown = await post(h.app, "/v1/audit/astrology", "{}", jsonAuth("audit:run"));
    assertEquals(unknown.status, 404);
    assertEquals((await unknown.json()).primitives.length, 6);
    const ckks = await post(
      h.app,
      "/v1/audit/drift?backend=ckks",
      JSON.stringify(cases.drift[0].input),
      jsonAuth("audit:run"),
    );
    assertEquals(ckks.status, 400);
    assertEquals((await ckks.json()).error, "backend ckks not available");
    const foo = await post(h.app, "/v1/audit/drift?backend=foo", "{}", jsonAuth("audit:run"));
    assertEquals(foo.status, 400);
    await foo.body?.cancel();
    assertEquals(await h.ledger.size(), 6);
  } finally {
    await h.close();
  }
});

Deno.test("POST /v1/audit/{primitive}?backend=ckks: through the encrypted-backend seam, and real CKKS", async () => {
  const cases = JSON.parse(await fixtureText("primitives.json")).cases;
  // A stand-in backend shows what the server does with any encrypted backend's run.
  const fake = await harness({
    ckks: {
      name: "fake-ckks",
      run: (_p, circuit, input) => {
        const slots = circuit.minSlots(input);
        return Promise.resolve({
          result: { distance: 0.5, w1_distance: 0.25, drift_bit: true } as never,
          stats: { depthConsumed: 1, slots } as never,
          depth: { declared: circuit.depth, consumed: 1 },
          parameterSet: { backend: "fake-ckks", poly_modulus_degree: 8192 },
        });
      },
    },
  });
  try {
    const r = await post(
      fake.app,
      "/v1/audit/drift?backend=ckks",
      JSON.stringify(cases.drift[0].input),
      jsonAuth("audit:run"),
    );
    const body = await r.json();
    assertEquals(r.status, 201, JSON.stringify(body).slice(0, 300));
    assertEquals(body.envelope.backend, "fake-ckks");
    assertEquals(body.envelope.parameter_set, { backend: "fake-ckks", poly_modulus_degree: 8192 });
    assertEquals(body.envelope.result.distance, 0.5);
    await verifyEnvelope(
      parseEnvelopeText(JSON.stringify(body.envelope)),
      fake.envelopes.trustStore,
    );
    // Validation still comes first: nothing reaches the backend.
    const bad = await post(
      fake.app,
      "/v1/audit/drift?backend=ckks",
      '{"p":"x"}',
      jsonAuth("audit:run"),
    );
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await fake.close();
  }
  const real = await harness({ ckks: ckksAuditBackend() });
  try {
    const c = cases.drift[0];
    const r = await post(
      real.app,
      "/v1/audit/drift?backend=ckks",
      JSON.stringify(c.input),
      jsonAuth("audit:run"),
    );
    const body = await r.json();
    assertEquals(r.status, 201, JSON.stringify(body).slice(0, 300));
    assertEquals(body.envelope.backend, "seal-ckks");
    assert(body.envelope.parameter_set.poly_modulus_degree >= 1024);
    assertEquals(body.envelope.result.drift_bit, c.result.drift_bit);
    assert(Math.abs(body.envelope.result.distance - c.result.distance) < 1e-3);
    await verifyEnvelope(
      parseEnvelopeText(JSON.stringify(body.envelope)),
      real.envelopes.trustStore,
    );
    await verifyTlogProof(body.receipt.tlog_proof, real.ledger.verifierKey);
  } finally {
    await real.close();
  }
});
