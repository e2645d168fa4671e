/**
 * Verification in worker threads gives the same verdicts as on the main
 * thread (every regaudit-fhe fixture, typed failures rebuilt as the same
 * classes), follows trust-store reloads, and falls back to the main thread
 * when its workers are gone.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { EnvelopeVerificationError } from "../../core/errors.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { verifyEnvelope } from "../../core/verify.ts";
import { VerifyPool } from "../../server/verify_pool.ts";
import {
  fixtureText,
  harness,
  jsonAuth,
  post,
  signedEnvelope,
  writeTrustFile,
} from "./_helpers.ts";

Deno.test({
  name: "verify pool: fixture verdicts equal main-thread verification; reload; crash fallback",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const expected: Record<string, string> = JSON.parse(await fixtureText("expected.json"));
    const store = TrustStore.fromJsonText(await fixtureText("trust_store.json"));
    const pool = await VerifyPool.create(2, store.toJSON());
    try {
      nodeAssert.equal(pool.size, 2);
      for (const [name, verdict] of Object.entries(expected)) {
        const parsed = parseEnvelopeText(await fixtureText(`envelopes/${name}.json`));
        const main = await verifyEnvelope(parsed, store).then(
          (r) => ({ kind: r.kind, key_id: r.key_id, timestamp: r.timestamp }),
          (e) => e,
        );
        const off = await pool.verify(parsed).catch((e) => e);
        if (verdict === "valid") {
          nodeAssert.deepEqual(off, main, name);
        } else {
          nodeAssert.ok(off instanceof EnvelopeVerificationError, name);
          nodeAssert.equal(off.name, verdict, name);
          nodeAssert.equal(off.constructor, main.constructor, name);
          nodeAssert.equal(off.message, main.message, name);
          nodeAssert.equal(off.keyId, main.keyId, name);
        }
      }
      // A new trust store reaches every worker.
      const json = store.toJSON();
      json.revoked = [...(json.revoked ?? []), "acme-2026-04"];
      await pool.setTrustStore(json);
      const valid = parseEnvelopeText(await fixtureText("envelopes/drift-valid.json"));
      for (let i = 0; i < 4; i++) {
        const e = await pool.verify(valid).catch((x) => x);
        nodeAssert.equal(e.name, "RevokedIssuer");
      }
      pool.crashOneForTest();
      nodeAssert.equal(pool.size, 1);
      nodeAssert.equal((await pool.verify(valid).catch((x) => x)).name, "RevokedIssuer");
    } finally {
      pool.close();
    }
    await nodeAssert.rejects(
      pool.verify(parseEnvelopeText(await fixtureText("envelopes/drift-valid.json"))),
    );
    await nodeAssert.rejects(VerifyPool.create(0, store.toJSON()), RangeError);
    // Workers that cannot take the trust store fail the pool's creation (and are stopped).
    await nodeAssert.rejects(VerifyPool.create(1, { keys: { k: "not a pem" } }), /PEM|pem|key/);
  },
});

Deno.test({
  name: "server with verification workers: verdicts, reload through the admin route",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const h = await harness({ verifyWorkers: 2 });
    try {
      nodeAssert.equal(h.envelopes.workers, 2);
      const expected: Record<string, string> = JSON.parse(await fixtureText("expected.json"));
      for (const [name, verdict] of Object.entries(expected)) {
        const r = await post(
          h.app,
          "/v1/envelopes",
          await fixtureText(`envelopes/${name}.json`),
          jsonAuth("ledger:append"),
        );
        const b = await r.json();
        nodeAssert.equal(r.status, verdict === "valid" ? 201 : 422, name);
        if (verdict !== "valid") nodeAssert.equal(b.reason, verdict, name);
      }
      await writeTrustFile(h.trustFile, (s) => s.revoked.push("test-issuer-2026"));
      const rl = await post(h.app, "/v1/admin/reload-trust-store", "", jsonAuth("admin"));
      nodeAssert.equal(rl.status, 200);
      await rl.body?.cancel();
      for (let i = 0; i < 4; i++) {
        const r = await post(
          h.app,
          "/v1/envelopes",
          JSON.stringify(await signedEnvelope(i)),
          jsonAuth("ledger:append"),
        );
        nodeAssert.equal((await r.json()).reason, "RevokedIssuer");
      }
      // With every worker gone, verification runs on the main thread: same answers.
      h.envelopes.close();
      nodeAssert.equal(h.envelopes.workers, 0);
      const r = await post(
        h.app,
        "/v1/envelopes",
        JSON.stringify(await signedEnvelope(9)),
        jsonAuth("ledger:append"),
      );
      nodeAssert.equal((await r.json()).reason, "RevokedIssuer");
    } finally {
      await h.close();
    }
  },
});
