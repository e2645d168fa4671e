/**
 * Hostile input and the protective middleware, in-process on a real ledger:
 * body limit (declared and streamed), invalid UTF-8 and JSON, deep nesting,
 * huge numbers, wrong types and content types, CORS, bugs answered without
 * leaking, dev mode, and a closed ledger. Each of the regledger middleware
 * (body limit, rate limit, timeout, access log, auth) has its tests in
 * tests/server/middleware/.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import { buildEnvelope } from "../../core/envelope.ts";
import { createApp } from "../../server/app.ts";
import { ConfigError, DEFAULT_CONFIG } from "../../server/config.ts";
import { startServer } from "../../server/serve.ts";
import { auth, harness, jsonAuth, post, signedEnvelope, testIssuer } from "./_helpers.ts";

const assert: (v: unknown, msg?: string) => asserts v = nodeAssert.ok;
const assertEquals = (a: unknown, b: unknown, msg?: string) =>
  nodeAssert.deepStrictEqual(a, b, msg);

const enc = new TextEncoder();

Deno.test("malformed bodies are 4xx JSON naming the problem; nothing is appended", async () => {
  const h = await harness();
  try {
    const valid = JSON.stringify(await signedEnvelope(1));
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const cases: [string, string | Uint8Array<ArrayBuffer>, number, string | undefined][] = [
      ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400, "utf-8"],
      ["lone surrogate escape", '{"schema":"\\ud800"}', 400, undefined],
      ["not JSON", "{not json", 400, "syntax"],
      ["trailing garbage", valid + "x", 400, "syntax"],
      ["deep nesting", deep, 400, "max-depth"],
      ["huge number", '{"schema":1e999}', 400, undefined],
      ["duplicate key", '{"schema":"a","schema":"b"}', 400, "duplicate-key"],
      ["array", "[]", 400, "object"],
      ["unknown schema", '{"schema":"x"}', 400, "enum"],
      ["wrong type", valid.replace('"issuer":"acme"', '"issuer":42'), 400, undefined],
      [
        "missing receipt",
        JSON.stringify({ ...JSON.parse(valid), receipt: undefined }),
        400,
        undefined,
      ],
    ];
    for (const [name, body, status, rule] of cases) {
      for (const route of ["/v1/envelopes", "/v1/verify"]) {
        const r = await post(h.app, route, body, {
          ...jsonAuth(route === "/v1/verify" ? "verify" : "ledger:append"),
        });
        const b = await r.json();
        assertEquals(r.status, status, `${name} on ${route}: ${JSON.stringify(b)}`);
        assertEquals(typeof b.error, "string");
        if (rule) assertEquals(b.rule, rule, `${name} on ${route}`);
      }
    }
    // Schema errors name a JSON pointer.
    const wt = await post(
      h.app,
      "/v1/envelopes",
      valid.replace('"issuer":"acme"', '"issuer":42'),
      jsonAuth("ledger:append"),
    );
    assertEquals((await wt.json()).pointer, "/issuer");
    // Audit inputs: the same classes, plus schema violations with pointers.
    const auditCases: [string, string | Uint8Array<ArrayBuffer>, string | undefined][] = [
      ["invalid UTF-8", new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), "utf-8"],
      ["deep nesting", deep, "max-depth"],
      ["huge number", '{"reference":[1e999],"current":[1]}', undefined],
      ["wrong type", '{"reference":"abc","current":[1,2]}', undefined],
      ["not an object", '"drift"', undefined],
    ];
    for (const [name, body, rule] of auditCases) {
      const r = await post(h.app, "/v1/audit/drift", body, jsonAuth("audit:run"));
      const b = await r.json();
      assertEquals(r.status, 400, `audit ${name}: ${JSON.stringify(b)}`);
      if (rule) assertEquals(b.rule, rule, `audit ${name}`);
    }
    const wrongType = await post(
      h.app,
      "/v1/audit/drift",
      '{"reference":"abc","current":[1,2]}',
      jsonAuth("audit:run"),
    );
    assert(typeof (await wrongType.json()).pointer === "string");
    // Content type and empty body.
    const ct = await post(h.app, "/v1/envelopes", valid, {
      ...auth("ledger:append"),
      "content-type": "text/plain",
    });
    assertEquals(ct.status, 415);
    await ct.body?.cancel();
    const empty = await post(h.app, "/v1/envelopes", "", jsonAuth("ledger:append"));
    assertEquals(empty.status, 400);
    await empty.body?.cancel();
    // A body without content type is read as JSON (curl --data-binary sends one, others may not).
    const noCt = await h.app.request("/v1/envelopes", {
      method: "POST",
      body: enc.encode(valid),
      headers: auth("ledger:append"),
    });
    assertEquals(noCt.status, 201);
    await noCt.body?.cancel();
    assertEquals(await h.ledger.size(), 1);
    assertEquals(h.bugs, []);
  } finally {
    await h.close();
  }
});

Deno.test("an envelope too large for the ledger is a 400, not a 5xx", async () => {
  const h = await harness({ config: { bodyLimit: 2 * 1024 * 1024 } });
  try {
    const env = await buildEnvelope({
      primitive: "drift",
      backend: "plaintext",
      parameterSet: { backend: "plaintext" },
      regulations: [],
      result: { pad: "z".repeat(600 * 1024) },
      inputs: {},
      depthBudget: { declared: 1, consumed: 1 },
      issuer: "acme",
    }, await testIssuer());
    const r = await post(h.app, "/v1/envelopes", JSON.stringify(env), jsonAuth("ledger:append"));
    const b = await r.json();
    assertEquals(r.status, 400, JSON.stringify(b).slice(0, 200));
    assertEquals(b.rule, "ledger-limit");
    assertEquals(await h.ledger.size(), 0);
  } finally {
    await h.close();
  }
});

Deno.test("CORS: only allow-listed origins get CORS headers", async () => {
  const h = await harness({ config: { corsOrigins: ["https://regulator.example"] } });
  try {
    const ok = await h.app.request("/v1/log/checkpoint", {
      headers: { origin: "https://regulator.example" },
    });
    assertEquals(ok.headers.get("access-control-allow-origin"), "https://regulator.example");
    await ok.body?.cancel();
    const no = await h.app.request("/v1/log/checkpoint", {
      headers: { origin: "https://evil.example" },
    });
    assertEquals(no.headers.get("access-control-allow-origin"), null);
    await no.body?.cancel();
    const pre = await h.app.request("/v1/envelopes", {
      method: "OPTIONS",
      headers: {
        origin: "https://regulator.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    assertEquals(pre.status, 204);
    assert(
      (pre.headers.get("access-control-allow-headers") ?? "").toLowerCase().includes(
        "authorization",
      ),
    );
  } finally {
    await h.close();
  }
});

Deno.test("query parameters: unknown or repeated ones are a 400; none at all is fine", async () => {
  const h = await harness();
  try {
    const valid = JSON.stringify(await signedEnvelope(77));
    for (
      const [path, status, msg] of [
        ["/v1/envelopes?x=1", 400, "unknown query parameter 'x'"],
        ["/v1/envelopes?", 201, undefined],
        ["/v1/envelopes", 200, undefined],
      ] as const
    ) {
      const r = await post(h.app, path, valid, jsonAuth("ledger:append"));
      const b = await r.json();
      assertEquals(r.status, status, `${path}: ${JSON.stringify(b)}`);
      if (msg) assertEquals(b.error, msg);
    }
    const r = await h.app.request("/v1/log/entries?limit=1&limit=2", {
      headers: auth("ledger:read"),
    });
    assertEquals(r.status, 400);
    assertEquals((await r.json()).error, "query parameter 'limit' given twice");
  } finally {
    await h.close();
  }
});

Deno.test("a server bug is a 500 with the request id; the log line holds no message or payload", async () => {
  const h = await harness({
    wrapLog: (log) => ({
      ...log,
      verifierKey: log.verifierKey,
      checkpoint: () => Promise.reject(new Error("secret-payload-12345")),
    }),
  });
  try {
    const r = await h.app.request("/v1/log/checkpoint", { headers: { "x-request-id": "req-42" } });
    assertEquals(r.status, 500);
    assertEquals(await r.json(), { error: "internal error", request_id: "req-42" });
    assertEquals(h.bugs.length, 1);
    assert(!h.bugs[0].includes("secret-payload"));
    assertEquals(JSON.parse(h.bugs[0]).request_id, "req-42");
  } finally {
    await h.close();
  }
});

Deno.test("dev mode: no token needed; refuses to bind a non-loopback host", async () => {
  const h = await harness({ config: { devMode: true, apiKeys: [] } });
  try {
    const r = await h.app.request("/v1/log/entries");
    assertEquals(r.status, 200);
    await r.body?.cancel();
  } finally {
    await h.close();
  }
  const dir = await Deno.makeTempDir();
  try {
    await nodeAssert.rejects(
      startServer({
        host: "0.0.0.0",
        port: 0,
        dataDir: dir,
        config: { ...DEFAULT_CONFIG, devMode: true },
        signals: false,
        status: () => {},
      }),
      ConfigError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a closed ledger answers 503, not a 500", async () => {
  const h = await harness();
  try {
    await h.ledger.close();
    const r = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(await signedEnvelope(1)),
      jsonAuth("ledger:append"),
    );
    assertEquals(r.status, 503);
    assertEquals(typeof (await r.json()).error, "string");
  } finally {
    await h.close();
  }
});

Deno.test({
  name: "startServer: an address in use is refused and releases what it opened",
  sanitizeResources: false,
  fn: async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dir = await Deno.makeTempDir();
    try {
      await nodeAssert.rejects(
        startServer({
          host: "127.0.0.1",
          port: (listener.addr as Deno.NetAddr).port,
          dataDir: dir,
          config: { ...DEFAULT_CONFIG, verifyWorkers: 1 },
          signals: false,
          status: () => {},
        }),
        Deno.errors.AddrInUse,
      );
      // Keys were made; the data directory opens again (nothing left half-open).
      const again = await startServer({
        host: "127.0.0.1",
        port: 0,
        dataDir: dir,
        config: { ...DEFAULT_CONFIG, verifyWorkers: 0 },
        signals: false,
        status: () => {},
      });
      const r = await fetch(`http://127.0.0.1:${again.addr.port}/readyz`);
      assertEquals(await r.json(), { ready: true, tree_size: 0 });
      await again.shutdown();
      await again.finished;
    } finally {
      listener.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("readiness follows the runner's state", async () => {
  const h = await harness();
  try {
    let draining = false;
    const app = createApp(h.deps, { ...DEFAULT_CONFIG, devMode: true }, {
      notReady: () => (draining ? "shutting down" : null),
    });
    assertEquals((await app.request("/readyz")).status, 200);
    draining = true;
    const r = await app.request("/readyz");
    assertEquals(r.status, 503);
    assertEquals(await r.json(), { ready: false, error: "shutting down" });
    // Liveness is unaffected.
    assertEquals((await app.request("/healthz")).status, 200);
  } finally {
    await h.close();
  }
});
