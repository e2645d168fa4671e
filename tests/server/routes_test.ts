/**
 * In-process tests of every route against the real ledger on a KV file:
 * shapes (checked against the bundled JSON Schemas), legacy fixtures with
 * their typed verdicts, receipts and proofs checked with the ledger's pure
 * verifiers and an independent RFC 6962 implementation, queries, and every
 * route's scope. Audits, admin routes, metrics and the OpenAPI document have
 * their own files.
 *
 * @module
 */
import { fromBase64, toBase64 } from "../../core/bytes.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { verifyEnvelope } from "../../core/verify.ts";
import { openCheckpoint } from "../../ledger/checkpoint.ts";
import { verifyConsistency, verifyInclusion } from "../../ledger/merkle/mod.ts";
import { parseVerifierKey } from "../../ledger/note.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertSchema,
  leafH,
  mth,
} from "./_assert.ts";
import { auth, fixtureText, harness, jsonAuth, post, signedEnvelope, TOKENS } from "./_helpers.ts";

Deno.test("public routes: probes, version, checkpoint and key need no token", async () => {
  const h = await harness();
  try {
    assertEquals(await (await h.app.request("/healthz")).json(), { status: "ok" });
    const ready = await h.app.request("/readyz");
    assertEquals(ready.status, 200);
    assertEquals(await ready.json(), { ready: true, tree_size: 0 });
    const v = await (await h.app.request("/version")).json();
    assertEquals(v.name, "regledger");
    assertEquals(v.verifier_key, h.ledger.verifierKey);
    const key = await h.app.request("/v1/log/key");
    assertEquals(key.headers.get("content-type"), "text/plain; charset=utf-8");
    assertEquals(await key.text(), h.ledger.verifierKey + "\n");
    const cp = await h.app.request("/v1/log/checkpoint");
    assertEquals(cp.status, 200);
    const opened = await openCheckpoint(await cp.text(), parseVerifierKey(h.ledger.verifierKey));
    assertEquals(opened.size, 0);
    // Security headers and a request id on every answer.
    assertEquals(cp.headers.get("x-content-type-options"), "nosniff");
    assertMatch(cp.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    const echoed = await h.app.request("/healthz", { headers: { "x-request-id": "abc-123" } });
    assertEquals(echoed.headers.get("x-request-id"), "abc-123");
  } finally {
    await h.close();
  }
});

Deno.test("auth: 401 without, malformed or unknown token; 403 wrong scope; admin implies all", async () => {
  const h = await harness();
  try {
    const routes: [string, string, string][] = [
      ["POST", "/v1/envelopes", "ledger:append"],
      ["POST", "/v1/audit/drift", "audit:run"],
      ["GET", "/v1/log/entries", "ledger:read"],
      ["GET", "/v1/log/entries/0", "ledger:read"],
      ["GET", "/v1/log/entries/0/bundle", "ledger:read"],
      ["GET", "/v1/log/proof/inclusion?index=0", "ledger:read"],
      ["GET", "/v1/log/proof/consistency?first=0", "ledger:read"],
      ["POST", "/v1/verify", "verify"],
      ["GET", "/metrics", "metrics"],
      ["POST", "/v1/admin/reload-trust-store", "admin"],
      ["GET", "/v1/schemas", "any"],
      ["GET", "/v1/schemas/envelope", "any"],
    ];
    for (const [method, path, scope] of routes) {
      const none = await h.app.request(path, { method });
      assertEquals(none.status, 401, `${path} without token`);
      assertMatch(none.headers.get("www-authenticate") ?? "", /^Bearer/);
      assertEquals((await none.json()).error, "missing bearer token");
      const malformed = "malformed Authorization header (expected 'Bearer <token>')";
      const answers: [string, string][] = [
        ["Bearer not-a-known-token-at-all", "unknown bearer token"],
        ["Basic dXNlcjpwYXNz", malformed],
        ["Bearer", malformed],
        ["Bearer a b", malformed],
      ];
      for (const [bad, error] of answers) {
        const r = await h.app.request(path, { method, headers: { authorization: bad } });
        assertEquals(r.status, 401, `${path} with '${bad}'`);
        assertEquals((await r.json()).error, error, `${path} with '${bad}'`);
      }
      if (scope !== "any") {
        const other = scope === "verify" ? "ledger:read" : "verify";
        const wrong = await h.app.request(path, { method, headers: auth(other) });
        assertEquals(wrong.status, 403, `${path} with scope ${other}`);
        assertEquals((await wrong.json()).scope, scope);
      }
      const admin = await h.app.request(path, { method, headers: auth("admin") });
      assert(admin.status !== 401 && admin.status !== 403, `${path} with admin: ${admin.status}`);
      await admin.body?.cancel();
    }
    // Tokens never reach a log line; a short hash does.
    const lines = h.accessLog.join("\n");
    for (const t of Object.values(TOKENS)) assert(!lines.includes(t));
    const tokenHashes = h.accessLog.map((l) => JSON.parse(l).token).filter((t) => t);
    assert(tokenHashes.length > 0 && tokenHashes.every((t: string) => /^[0-9a-f]{12}$/.test(t)));
  } finally {
    await h.close();
  }
});

Deno.test("POST /v1/envelopes: every regaudit-fhe fixture gets its verdict; receipts verify offline", async () => {
  const h = await harness();
  try {
    const expected: Record<string, string> = JSON.parse(await fixtureText("expected.json"));
    const vkey = parseVerifierKey(h.ledger.verifierKey);
    const accepted: { name: string; index: number; text: string }[] = [];
    for (const [name, verdict] of Object.entries(expected)) {
      const text = await fixtureText(`envelopes/${name}.json`);
      const r = await post(h.app, "/v1/envelopes", text, jsonAuth("ledger:append"));
      const body = await r.json();
      if (verdict === "valid") {
        assertEquals(r.status, 201, `${name}: ${JSON.stringify(body)}`);
        assertSchema("append-response", body);
        const parsed = parseEnvelopeText(text);
        assertEquals(body.envelope_sha256, toBase64(parsed.sha256));
        const v = await verifyTlogProof(body.tlog_proof, vkey, { envelopeSha256: parsed.sha256 });
        assertEquals(v.index, body.index);
        assertEquals(v.checkpoint.size, body.tree_size);
        verifyInclusion(
          fromBase64(body.leaf_hash),
          body.index,
          body.tree_size,
          body.inclusion_proof.map(fromBase64),
          v.checkpoint.root,
        );
        accepted.push({ name, index: body.index, text });
      } else {
        assertEquals(r.status, 422, name);
        assertSchema("error", body);
        assertEquals(body.reason, verdict, name);
      }
    }
    assertEquals(accepted.length, 6);
    assertEquals(await h.ledger.size(), 6);
    // Re-submission: 200 with the existing index, nothing appended.
    for (const a of accepted) {
      const r = await post(h.app, "/v1/envelopes", a.text, jsonAuth("ledger:append"));
      assertEquals(r.status, 200);
      assertEquals((await r.json()).index, a.index);
    }
    assertEquals(await h.ledger.size(), 6);
    // Legacy envelopes are served exactly as stored: the canonical text verbatim.
    for (const a of accepted) {
      const r = await h.app.request(`/v1/log/entries/${a.index}`, { headers: auth("ledger:read") });
      const raw = await r.text();
      const canonical = new TextDecoder().decode(parseEnvelopeText(a.text).canonical);
      assert(raw.endsWith(`"envelope":${canonical}}`), `${a.name} spliced verbatim`);
      const body = JSON.parse(raw);
      assertSchema("log-entry", body);
      assertEquals(toBase64(leafH(fromBase64(body.leaf))), body.leaf_hash);
      // The served text verifies again, byte-exactly (numbers such as 1.0 kept).
      const again = parseEnvelopeText(raw.slice(raw.indexOf('"envelope":') + 11, -1));
      const store = TrustStore.fromJsonText(await fixtureText("trust_store.json"));
      assertEquals((await verifyEnvelope(again, store)).kind, "legacy");
    }
    const m = h.metrics.render();
    assertMatch(m, /regledger_verification_failures_total\{reason="HashMismatch"\} 6/);
    assertMatch(m, /regledger_appends_total\{outcome="existing"\} 6/);
  } finally {
    await h.close();
  }
});

Deno.test("proofs: inclusion and consistency for every size agree with an independent RFC 6962 tree", async () => {
  const h = await harness();
  try {
    const N = 11;
    for (let i = 0; i < N; i++) {
      const r = await post(
        h.app,
        "/v1/envelopes",
        JSON.stringify(await signedEnvelope(i)),
        jsonAuth("ledger:append"),
      );
      assertEquals(r.status, 201);
      await r.body?.cancel();
    }
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      const e =
        await (await h.app.request(`/v1/log/entries/${i}`, { headers: auth("ledger:read") }))
          .json();
      leaves.push(fromBase64(e.leaf));
    }
    const hashes = leaves.map(leafH);
    const roots = Array.from({ length: N + 1 }, (_, n) => mth(hashes.slice(0, n)));
    const cp = await openCheckpoint(
      await (await h.app.request("/v1/log/checkpoint")).text(),
      parseVerifierKey(h.ledger.verifierKey),
    );
    assertEquals(cp.size, N);
    assertEquals(toBase64(cp.root), toBase64(roots[N]));
    for (let m = 1; m <= N; m++) {
      for (let i = 0; i < m; i++) {
        const r = await h.app.request(`/v1/log/proof/inclusion?index=${i}&tree_size=${m}`, {
          headers: auth("ledger:read"),
        });
        const p = await r.json();
        assertSchema("inclusion-proof", p);
        assertEquals(p.leaf_hash, toBase64(hashes[i]));
        verifyInclusion(hashes[i], i, m, p.proof.map(fromBase64), roots[m]);
      }
      for (let a = 0; a <= m; a++) {
        const r = await h.app.request(`/v1/log/proof/consistency?first=${a}&second=${m}`, {
          headers: auth("ledger:read"),
        });
        const p = await r.json();
        assertSchema("consistency-proof", p);
        verifyConsistency(a, m, p.proof.map(fromBase64), roots[a], roots[m]);
      }
    }
    // Defaults: tree_size / second are the current size.
    const d = await (await h.app.request("/v1/log/proof/inclusion?index=3", {
      headers: auth("ledger:read"),
    })).json();
    assertEquals(d.tree_size, N);
    // Bundle: entry, proof, checkpoint and tlog-proof in one answer.
    const b = await (await h.app.request("/v1/log/entries/4/bundle", {
      headers: auth("ledger:read"),
    })).json();
    assertEquals(b.tree_size, N);
    assertEquals(b.verifier_key, h.ledger.verifierKey);
    const v = await verifyTlogProof(b.tlog_proof, b.verifier_key, {
      leaf: fromBase64(b.leaf),
      envelopeSha256: parseEnvelopeText(JSON.stringify(b.envelope)).sha256,
    });
    assertEquals(v.index, 4);
    verifyInclusion(hashes[4], 4, N, b.inclusion_proof.map(fromBase64), roots[N]);
    assertEquals(b.checkpoint.split("\n")[1], String(N));
  } finally {
    await h.close();
  }
});

Deno.test("out-of-range and malformed indexes are 4xx naming the parameter", async () => {
  const h = await harness();
  try {
    await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(await signedEnvelope(1)),
      jsonAuth("ledger:append"),
    );
    const cases: [string, number, string | undefined][] = [
      ["/v1/log/entries/1", 404, "index"],
      ["/v1/log/entries/99999999999999999999", 400, "index"],
      ["/v1/log/entries/-1", 400, "index"],
      ["/v1/log/entries/01", 400, "index"],
      ["/v1/log/entries/1e3", 400, "index"],
      ["/v1/log/entries/1/bundle", 404, "index"],
      ["/v1/log/proof/inclusion", 400, "index"],
      ["/v1/log/proof/inclusion?index=1", 400, "index"],
      ["/v1/log/proof/inclusion?index=0&tree_size=2", 400, "tree_size"],
      ["/v1/log/proof/inclusion?index=0&tree_size=0", 400, "index"],
      ["/v1/log/proof/inclusion?index=0x1", 400, "index"],
      ["/v1/log/proof/inclusion?index=0&index=0", 400, undefined],
      ["/v1/log/proof/inclusion?index=0&bogus=1", 400, undefined],
      ["/v1/log/proof/consistency?first=2&second=1", 400, "first"],
      ["/v1/log/proof/consistency?first=0&second=5", 400, "second"],
      ["/v1/log/proof/consistency?second=1", 400, "first"],
      ["/v1/log/entries?limit=0", 400, "limit"],
      ["/v1/log/entries?limit=1001", 400, "limit"],
      ["/v1/log/entries?from=yesterday", 400, "from"],
      ["/v1/log/entries?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", 400, "from"],
      ["/v1/log/entries?cursor=%00%01", 400, "cursor"],
      ["/v1/log/entries?cursor=bm90LWEtY3Vyc29y", 400, "cursor"],
      ["/v1/log/entries?issuer=", 400, "issuer"],
    ];
    for (const [path, status, parameter] of cases) {
      const r = await h.app.request(path, { headers: auth("ledger:read") });
      const body = await r.json();
      assertEquals(r.status, status, `${path}: ${JSON.stringify(body)}`);
      assertEquals(typeof body.error, "string");
      if (parameter) assertEquals(body.parameter, parameter, path);
    }
    const nf = await h.app.request("/v1/nothing-here", { headers: auth("admin") });
    assertEquals(nf.status, 404);
    assertEquals(typeof (await nf.json()).error, "string");
    assertEquals(h.bugs, []);
  } finally {
    await h.close();
  }
});

Deno.test("GET /v1/log/entries: filters by issuer, primitive and time range; pages with a cursor", async () => {
  const h = await harness();
  try {
    const specs = [
      { issuer: "acme", primitive: "drift", issuedAt: "2026-01-05T00:00:00.000Z" },
      { issuer: "globex", primitive: "fairness", issuedAt: "2026-01-10T00:00:00.000Z" },
      { issuer: "acme", primitive: "fairness", issuedAt: "2026-02-01T00:00:00.000Z" },
      { issuer: "acme", primitive: "drift", issuedAt: "2026-02-15T00:00:00.000Z" },
      { issuer: "globex", primitive: "drift", issuedAt: "2026-03-01T00:00:00.000Z" },
    ] as const;
    for (let i = 0; i < specs.length; i++) {
      const r = await post(
        h.app,
        "/v1/envelopes",
        JSON.stringify(await signedEnvelope(i, specs[i])),
        jsonAuth("ledger:append"),
      );
      assertEquals(r.status, 201);
      await r.body?.cancel();
    }
    const q = async (qs: string) => {
      const r = await h.app.request(`/v1/log/entries?${qs}`, { headers: auth("ledger:read") });
      assertEquals(r.status, 200, qs);
      return await r.json();
    };
    const idx = (page: { entries: { index: number }[] }) => page.entries.map((e) => e.index);
    assertEquals(idx(await q("")), [0, 1, 2, 3, 4]);
    assertEquals(idx(await q("issuer=acme")), [0, 2, 3]);
    assertEquals(idx(await q("primitive=drift")), [0, 3, 4]);
    assertEquals(idx(await q("issuer=acme&primitive=drift")), [0, 3]);
    assertEquals(idx(await q("from=2026-01-10T00:00:00.000Z&to=2026-02-15T00:00:00.000Z")), [1, 2]);
    assertEquals(idx(await q("issuer=nobody")), []);
    const first = await q("limit=2");
    assertEquals(idx(first), [0, 1]);
    assertNotEquals(first.next_cursor, null);
    const second = await q(`limit=2&cursor=${encodeURIComponent(first.next_cursor)}`);
    assertEquals(idx(second), [2, 3]);
    const third = await q(`limit=2&cursor=${encodeURIComponent(second.next_cursor)}`);
    assertEquals(idx(third), [4]);
    assertEquals(third.next_cursor, null);
    const e = first.entries[1];
    assertEquals([e.issuer, e.primitive, e.issued_at], ["globex", "fairness", specs[1].issuedAt]);
    assertEquals(e.key_id, "test-issuer-2026");
  } finally {
    await h.close();
  }
});

Deno.test("POST /v1/verify: valid, typed failures, logged index; nothing appended", async () => {
  const h = await harness();
  try {
    const expected: Record<string, string> = JSON.parse(await fixtureText("expected.json"));
    for (const [name, verdict] of Object.entries(expected)) {
      const r = await post(
        h.app,
        "/v1/verify",
        await fixtureText(`envelopes/${name}.json`),
        jsonAuth("verify"),
      );
      assertEquals(r.status, 200);
      const body = await r.json();
      assertSchema("verify-response", body);
      assertEquals(body.valid, verdict === "valid", name);
      if (verdict !== "valid") assertEquals(body.reason, verdict, name);
      assertEquals(body.logged_index, null);
    }
    assertEquals(await h.ledger.size(), 0);
    const text = JSON.stringify(await signedEnvelope(7));
    await post(h.app, "/v1/envelopes", text, jsonAuth("ledger:append"));
    const v = await (await post(h.app, "/v1/verify", text, jsonAuth("verify"))).json();
    assertEquals([v.valid, v.kind, v.key_id, v.logged_index], [
      true,
      "native",
      "test-issuer-2026",
      0,
    ]);
  } finally {
    await h.close();
  }
});
