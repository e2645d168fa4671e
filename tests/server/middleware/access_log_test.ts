/**
 * Request metrics and the JSON access log (server/middleware/access_log):
 * one line per request with no bodies, results or tokens, and metric labels
 * that stay bounded whatever the client sends.
 *
 * @module
 */
import { assert, assertEquals } from "../_assert.ts";
import { auth, harness, jsonAuth, post, signedEnvelope } from "../_helpers.ts";

Deno.test("access log: one JSON line per request, no bodies, results or tokens", async () => {
  const h = await harness();
  try {
    const env = await signedEnvelope(5, { issuer: "issuer-name-MARKER" });
    await post(h.app, "/v1/envelopes", JSON.stringify(env), jsonAuth("ledger:append"));
    await h.app.request("/v1/log/entries/0", { headers: auth("ledger:read") });
    assertEquals(h.accessLog.length, 2);
    for (const l of h.accessLog) {
      const o = JSON.parse(l);
      assertEquals(Object.keys(o).sort(), [
        "bytes_in",
        "duration_ms",
        "level",
        "method",
        "msg",
        "path",
        "request_id",
        "route",
        "status",
        "token",
        "ts",
      ]);
      assert(!l.includes("MARKER") && !l.includes("cvm") && !l.includes("Bearer"));
    }
    assertEquals(JSON.parse(h.accessLog[1]).route, "/v1/log/entries/:index");
  } finally {
    await h.close();
  }
});

Deno.test("metric labels stay bounded whatever the client sends", async () => {
  const h = await harness();
  try {
    for (let i = 0; i < 50; i++) {
      const r = await h.app.request(`/junk/${i}`, { method: `M${i}` });
      assertEquals(r.status, 404);
      await r.body?.cancel();
    }
    const text = h.metrics.render();
    const series = text.split("\n").filter((l) => l.startsWith("regledger_http_requests_total{"));
    assertEquals(series, [
      'regledger_http_requests_total{method="OTHER",route="unmatched",status="404"} 50',
    ]);
  } finally {
    await h.close();
  }
});
