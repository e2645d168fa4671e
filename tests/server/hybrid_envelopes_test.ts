/**
 * Hybrid Ed25519 + ML-DSA-65 envelopes over HTTP (CONTRACT §9): with the
 * issuer's two keys in the server's trust store, `POST /v1/envelopes`
 * appends a hybrid envelope (201, then 200 with its index for the same
 * signed body, whatever its hedged ML-DSA-65 signature), `POST /v1/verify`
 * says valid, and the same envelope without its ML-DSA-65 signature, or
 * with an altered one, is 422 / invalid `InvalidSignature` and appends
 * nothing. Run on the calling thread and through the verification worker
 * pool (which gets the trust store as JSON). The stored entry keeps both
 * signatures, its receipt verifies offline and the ledger audits clean.
 */
import assert from "node:assert/strict";
import { fromBase64, toBase64 } from "../../core/bytes.ts";
import { buildEnvelope } from "../../core/envelope.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { harness, jsonAuth, post, writeTrustFile } from "./_helpers.ts";

const hybrid = await InProcessKeyProvider.generate("acme-pq-2026", { pq: true });

function envelopeOf(n: number) {
  return buildEnvelope({
    primitive: "drift",
    backend: "plaintext",
    parameterSet: { backend: "plaintext" },
    regulations: ["EU_AI_ACT_ART72"],
    result: { cvm: 0.25, n },
    inputs: { ref: [1, 2, n] },
    depthBudget: { declared: 1, consumed: 1 },
    issuer: "acme",
    issuedAt: "2026-12-02T00:00:00Z",
  }, hybrid);
}

for (const verifyWorkers of [0, 1]) {
  Deno.test(`hybrid envelopes: /v1/envelopes and /v1/verify need both signatures (${verifyWorkers} verify workers)`, async () => {
    const h = await harness({ verifyWorkers });
    try {
      await writeTrustFile(h.trustFile, (s) => {
        (s.keys as Record<string, unknown>)[hybrid.keyId] = {
          public_key_pem: hybrid.publicKeyPem,
          pq_public_key_pem: hybrid.mlDsa65!.publicKeyPem,
        };
      });
      await h.envelopes.reloadTrustStore();
      const env = await envelopeOf(1);
      const text = JSON.stringify(env);

      const v = await (await post(h.app, "/v1/verify", text, jsonAuth("verify"))).json();
      assert.deepEqual([v.valid, v.key_id], [true, hybrid.keyId]);

      const r1 = await post(h.app, "/v1/envelopes", text, jsonAuth("ledger:append"));
      assert.equal(r1.status, 201);
      const receipt = await r1.json();
      assert.equal(receipt.index, 0);

      // Same signed body, another (hedged) ML-DSA-65 signature: the same entry.
      const again = await envelopeOf(1);
      assert.notEqual(again.receipt.pq_signature_b64, env.receipt.pq_signature_b64);
      const r2 = await post(
        h.app,
        "/v1/envelopes",
        JSON.stringify(again),
        jsonAuth("ledger:append"),
      );
      assert.equal(r2.status, 200);
      assert.equal((await r2.json()).index, 0);

      // Stripped or altered ML-DSA-65 part: refused, nothing appended.
      const other = await envelopeOf(2);
      const { pq_signature_alg: _a, pq_signature_b64: _b, pq_public_key_pem: _c, ...edOnly } =
        other.receipt;
      const sig = fromBase64(other.receipt.pq_signature_b64!);
      sig[2000] ^= 0x10;
      const bad = [
        { ...other, receipt: edOnly },
        { ...other, receipt: { ...other.receipt, pq_signature_b64: toBase64(sig) } },
      ];
      for (const b of bad) {
        const t = JSON.stringify(b);
        const r = await post(h.app, "/v1/envelopes", t, jsonAuth("ledger:append"));
        assert.equal(r.status, 422);
        assert.equal((await r.json()).reason, "InvalidSignature");
        const check = await (await post(h.app, "/v1/verify", t, jsonAuth("verify"))).json();
        assert.deepEqual([check.valid, check.reason], [false, "InvalidSignature"]);
      }
      assert.equal(await h.ledger.size(), 1);

      // The stored entry is the first envelope, both signatures kept; its receipt checks offline.
      const entry = await (await h.app.request("/v1/log/entries/0", {
        headers: jsonAuth("ledger:read"),
      })).json();
      assert.equal(entry.envelope.receipt.pq_signature_b64, env.receipt.pq_signature_b64);
      const key = await (await h.app.request("/v1/log/key")).text();
      const ok = await verifyTlogProof(receipt.tlog_proof, key.trim(), {
        envelopeSha256: fromBase64(receipt.envelope_sha256),
      });
      assert.equal(ok.index, 0);
      assert.equal((await h.ledger.verify()).ok, true);
    } finally {
      await h.close();
    }
  });
}
