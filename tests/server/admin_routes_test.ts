/**
 * In-process tests of the operator routes: trust-store reload, the bundled
 * schemas, and Prometheus metrics (group commits from the ledger's
 * `onCommit` hook, process series, the `metrics` scope).
 *
 * @module
 */
import { parseEnvelopeText } from "../../core/envelope.ts";
import { getSchema, SCHEMA_NAMES } from "../../core/schemas.ts";
import { createApp, SERVER_VERSION } from "../../server/app.ts";
import { DEFAULT_CONFIG, parseApiKeys } from "../../server/config.ts";
import { assert, assertDoesNotMatch, assertEquals, assertMatch } from "./_assert.ts";
import { auth, harness, jsonAuth, post, signedEnvelope, writeTrustFile } from "./_helpers.ts";

Deno.test("trust store reload (admin route): revocation takes effect; a bad file changes nothing", async () => {
  const h = await harness();
  try {
    const text = JSON.stringify(await signedEnvelope(1));
    assertEquals((await post(h.app, "/v1/envelopes", text, jsonAuth("ledger:append"))).status, 201);
    await writeTrustFile(h.trustFile, (s) => s.revoked.push("test-issuer-2026"));
    const r = await post(h.app, "/v1/admin/reload-trust-store", "", auth("admin"));
    assertEquals(r.status, 200);
    const s = await r.json();
    assertEquals(s.reloaded, true);
    assertEquals(s.revoked, 2);
    assertEquals(s.keys, 5); // 3 fixture keys + test issuer + the server's own key
    const again = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(await signedEnvelope(2)),
      jsonAuth("ledger:append"),
    );
    assertEquals(again.status, 422);
    assertEquals((await again.json()).reason, "RevokedIssuer");
    // Malformed file: 422 naming the problem, the previous store stays in force.
    await Deno.writeTextFile(h.trustFile, '{"keys": {"k": "not a pem"}}');
    const bad = await post(h.app, "/v1/admin/reload-trust-store", "", auth("admin"));
    assertEquals(bad.status, 422);
    assertEquals((await bad.json()).reason, "TrustStoreError");
    const still = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(await signedEnvelope(3)),
      jsonAuth("ledger:append"),
    );
    assertEquals((await still.json()).reason, "RevokedIssuer");
    // The server's own key is always in the store.
    assert(h.envelopes.trustStore.has(h.serverIssuer.keyId));
    assertMatch(h.metrics.render(), /regledger_trust_store_reloads_total\{result="error"\} 1/);
  } finally {
    await h.close();
  }
});

Deno.test("schemas, and Prometheus metrics with group commits from the ledger's onCommit hook", async () => {
  const h = await harness();
  try {
    const list = await (await h.app.request("/v1/schemas", { headers: auth("verify") })).json();
    assertEquals(list.schemas, [...SCHEMA_NAMES]);
    const env = await (await h.app.request("/v1/schemas/envelope", { headers: auth("verify") }))
      .json();
    assertEquals(env, getSchema("envelope"));
    const nf = await h.app.request("/v1/schemas/nope", { headers: auth("verify") });
    assertEquals(nf.status, 404);
    await nf.body?.cancel();

    await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(await signedEnvelope(1)),
      jsonAuth("ledger:append"),
    );
    const m = await h.app.request("/metrics", { headers: auth("metrics") });
    assertEquals(m.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await m.text();
    assertMatch(
      text,
      /regledger_http_requests_total\{method="POST",route="\/v1\/envelopes",status="201"\} 1/,
    );
    assertMatch(
      text,
      /regledger_http_request_duration_seconds_count\{method="GET",route="\/v1\/schemas\/:name"\} 2/,
    );
    assertMatch(text, /regledger_log_size 1/);
    assertDoesNotMatch(text, /stats_available/);
    assertMatch(text, /regledger_group_commit_batch_size_count 1\n/);
    // 40 concurrent submissions: every entry is counted in exactly one batch.
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const r = await post(
          h.app,
          "/v1/envelopes",
          JSON.stringify(await signedEnvelope(100 + i)),
          jsonAuth("ledger:append"),
        );
        assertEquals(r.status, 201);
        await r.body?.cancel();
      }),
    );
    const t2 = await (await h.app.request("/metrics", { headers: auth("metrics") })).text();
    const sum = Number(/regledger_group_commit_batch_size_sum (\d+)/.exec(t2)![1]);
    const count = Number(/regledger_group_commit_batch_size_count (\d+)/.exec(t2)![1]);
    assertEquals(sum, 41);
    assert(count >= 2 && count <= 41, `batches ${count}`);
    assertMatch(t2, /regledger_log_size 41/);
    assertMatch(text, /# TYPE regledger_http_request_duration_seconds histogram/);
    // The hook counts every commit of the ledger, not only the HTTP layer's appends.
    await h.ledger.append(parseEnvelopeText(JSON.stringify(await signedEnvelope(500))));
    const t3 = await (await h.app.request("/metrics", { headers: auth("metrics") })).text();
    assertMatch(t3, /regledger_group_commit_batch_size_sum 42\n/);
    assertMatch(t3, new RegExp(`regledger_group_commit_batch_size_count ${count + 1}\n`));
    assertMatch(t3, /regledger_log_size 42/);
  } finally {
    await h.close();
  }
});

Deno.test("metrics: process series and build info; the metrics scope reads /metrics and nothing else", async () => {
  const h = await harness();
  try {
    const r = await h.app.request("/metrics", { headers: auth("metrics") });
    assertEquals(r.status, 200);
    const text = await r.text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    assertMatch(text, /# TYPE process_resident_memory_bytes gauge\n/);
    assert(value("process_resident_memory_bytes") > 1024 * 1024, "resident memory");
    assertMatch(text, /# TYPE process_cpu_seconds_total counter\n/);
    assert(value("process_cpu_seconds_total") > 0, "CPU seconds");
    const started = value("process_start_time_seconds");
    assert(started > 1.7e9 && started <= Date.now() / 1000, `start time ${started}`);
    assertMatch(
      text,
      new RegExp(
        `^regledger_build_info\\{version="${
          SERVER_VERSION.replaceAll(".", "\\.")
        }",runtime="deno [0-9.]+"\\} 1$`,
        "m",
      ),
    );
    // A scrape token reads nothing else; a log reader does not read metrics.
    const others = [
      ["GET", "/v1/log/entries", "ledger:read"],
      ["GET", "/v1/log/entries/0", "ledger:read"],
      ["POST", "/v1/envelopes", "ledger:append"],
      ["POST", "/v1/verify", "verify"],
    ];
    for (const [method, path, scope] of others) {
      const denied = await h.app.request(path, { method, headers: auth("metrics") });
      assertEquals(denied.status, 403, path);
      assertEquals((await denied.json()).scope, scope, path);
    }
    const reader = await h.app.request("/metrics", { headers: auth("ledger:read") });
    assertEquals(reader.status, 403);
    assertEquals((await reader.json()).scope, "metrics");
    const both = parseApiKeys("reader-and-scraper-0123:ledger:read,metrics")[0];
    const h2 = createApp(h.deps, { ...DEFAULT_CONFIG, apiKeys: [both], rateLimit: null });
    const ok = await h2.request("/metrics", { headers: { authorization: `Bearer ${both.token}` } });
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await h.close();
  }
});
