/**
 * `GET /v1/log/keys`: every verifier key of the log, Ed25519 first, one per
 * line, public; each opens the checkpoints and receipts the server hands out.
 *
 * @module
 */
import { openCheckpoint } from "../../ledger/checkpoint.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { assert, assertEquals } from "./_assert.ts";
import { harness, jsonAuth, post, signedEnvelope } from "./_helpers.ts";

Deno.test("GET /v1/log/keys lists the Ed25519 and ML-DSA-44 keys; each verifies checkpoints and receipts", async () => {
  const h = await harness();
  try {
    const r = await h.app.request("/v1/log/keys"); // no token: public like /v1/log/key
    assertEquals(r.status, 200);
    assertEquals(r.headers.get("content-type"), "text/plain; charset=utf-8");
    const text = await r.text();
    assert(text.endsWith("\n"));
    const keys = text.slice(0, -1).split("\n");
    assertEquals(keys, [...h.ledger.verifierKeys]);
    assertEquals(keys[0], await (await h.app.request("/v1/log/key")).text().then((t) => t.trim()));
    assertEquals(keys.map((k) => parseNoteVerifierKey(k).type), [0x01, 0x06]);
    const sub = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(await signedEnvelope(1)),
      jsonAuth("ledger:append"),
    );
    assertEquals(sub.status, 201);
    const receipt = (await sub.json()).tlog_proof as string;
    const cp = await (await h.app.request("/v1/log/checkpoint")).text();
    for (const k of keys) {
      const v = parseNoteVerifierKey(k).verifier;
      assertEquals((await openCheckpoint(cp, v)).size, 1);
      assertEquals((await verifyTlogProof(receipt, [v])).index, 0);
    }
    // Query parameters are refused as on every other route.
    assertEquals((await h.app.request("/v1/log/keys?x=1")).status, 400);
  } finally {
    await h.close();
  }
});
