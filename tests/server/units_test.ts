/**
 * Unit tests of the server's small parts: API-key and environment parsing,
 * Prometheus exposition, JSON splicing, and the issuer-key file. (The
 * keyring and token buckets are tested beside their middleware, in
 * tests/server/middleware/.)
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import {
  ConfigError,
  configFromEnv,
  isLoopbackHost,
  parseApiKeys,
  parseRateLimit,
} from "../../server/config.ts";
import { jsonWithRaw, parseIndex } from "../../server/http.ts";
import { ISSUER_KEY_FILE, IssuerKeyError, loadOrCreateIssuerKey } from "../../server/keys.ts";
import { Counter, Gauge, Histogram, ServerMetrics } from "../../server/metrics.ts";
import { mergedTrustStore } from "../../server/services.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { TrustStoreError } from "../../core/errors.ts";

const assert: (v: unknown, msg?: string) => asserts v = nodeAssert.ok;
const assertEquals = (a: unknown, b: unknown, msg?: string) =>
  nodeAssert.deepStrictEqual(a, b, msg);

Deno.test("parseApiKeys: entries, scopes, and errors that never quote the token", () => {
  const keys = parseApiKeys(
    " aaaaaaaaaaaaaaaa:ledger:read, verify ; bbbbbbbbbbbbbbbb-_.~+/=:admin; ",
  );
  assertEquals(keys.length, 2);
  assertEquals(keys[0].token, "aaaaaaaaaaaaaaaa");
  assertEquals([...keys[0].scopes], ["ledger:read", "verify"]);
  assertEquals([...keys[1].scopes], ["admin"]);
  const bad = [
    "secret-token-value-1",
    "secret-token-value-1:",
    "secret-token-value-1:root",
    "short:admin",
    "secret token value 1:admin",
    "secret-token-value-1:admin;secret-token-value-1:verify",
  ];
  for (const text of bad) {
    nodeAssert.throws(() => parseApiKeys(text), (e: unknown) => {
      assert(e instanceof ConfigError);
      assert(!e.message.includes("secret"), e.message);
      return true;
    });
  }
});

Deno.test("configFromEnv: defaults, every variable, and named errors", () => {
  const d = configFromEnv({});
  assertEquals([d.devMode, d.bodyLimit, d.requestTimeoutMs], [false, 1048576, 30000]);
  assertEquals(d.rateLimit, { ratePerSecond: 200, burst: 400 });
  const c = configFromEnv({
    REGLEDGER_DEV_MODE: "1",
    REGLEDGER_BODY_LIMIT: "2048",
    REGLEDGER_RATE_LIMIT: "0",
    REGLEDGER_REQUEST_TIMEOUT_MS: "500",
    REGLEDGER_CORS_ORIGINS: "https://a.example, http://localhost:3000",
  });
  assertEquals([c.devMode, c.bodyLimit, c.rateLimit, c.requestTimeoutMs], [true, 2048, null, 500]);
  assertEquals(c.corsOrigins, ["https://a.example", "http://localhost:3000"]);
  assertEquals(parseRateLimit("10"), { ratePerSecond: 10, burst: 20 });
  assertEquals(parseRateLimit("2.5/7"), { ratePerSecond: 2.5, burst: 7 });
  for (
    const env of [
      { REGLEDGER_DEV_MODE: "yes" },
      { REGLEDGER_BODY_LIMIT: "1k" },
      { REGLEDGER_BODY_LIMIT: "10" },
      { REGLEDGER_RATE_LIMIT: "fast" },
      { REGLEDGER_RATE_LIMIT: "5/0" },
      { REGLEDGER_REQUEST_TIMEOUT_MS: "-1" },
      { REGLEDGER_CORS_ORIGINS: "https://a.example/path" },
      { REGLEDGER_CORS_ORIGINS: "not a url" },
    ]
  ) {
    const name = Object.keys(env)[0];
    nodeAssert.throws(() => configFromEnv(env), (e: unknown) => {
      assert(e instanceof ConfigError && e.message.startsWith(name), String(e));
      return true;
    });
  }
});

Deno.test("isLoopbackHost", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) {
    assert(isLoopbackHost(h), h);
  }
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "example.com", "128.0.0.1"]) {
    assert(!isLoopbackHost(h), h);
  }
});

Deno.test("Prometheus exposition: counters, cumulative histograms, label escaping", () => {
  const c = new Counter("x_total", "Things.");
  c.inc({ route: '/a"b\\c\nd' });
  c.inc({ route: '/a"b\\c\nd' }, 2);
  assertEquals(
    c.render(),
    '# HELP x_total Things.\n# TYPE x_total counter\nx_total{route="/a\\"b\\\\c\\nd"} 3\n',
  );
  const h = new Histogram("lat_seconds", "Latency.", [0.1, 1]);
  h.observe(0.05, { m: "GET" });
  h.observe(0.5, { m: "GET" });
  h.observe(5, { m: "GET" });
  assertEquals(
    h.render(),
    [
      "# HELP lat_seconds Latency.",
      "# TYPE lat_seconds histogram",
      'lat_seconds_bucket{m="GET",le="0.1"} 1',
      'lat_seconds_bucket{m="GET",le="1"} 2',
      'lat_seconds_bucket{m="GET",le="+Inf"} 3',
      'lat_seconds_sum{m="GET"} 5.55',
      'lat_seconds_count{m="GET"} 3',
      "",
    ].join("\n"),
  );
});

Deno.test("ServerMetrics.recordCommit: batch sizes and retried attempts; labelled gauges", () => {
  const m = new ServerMetrics();
  m.recordCommit({ tree_size: 3, entries: 3, attempts: 1 });
  m.recordCommit({ tree_size: 4, entries: 1, attempts: 3 });
  assertEquals(m.batches.count(), 2);
  assertEquals(m.commitRetries.get(), 2);
  const text = m.render();
  nodeAssert.match(text, /^regledger_group_commit_batch_size_sum 4$/m);
  nodeAssert.match(text, /^regledger_group_commit_batch_size_bucket\{le="2"\} 1$/m);
  nodeAssert.match(text, /^regledger_group_commit_retries_total 2$/m);
  nodeAssert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  const g = new Gauge("x_info", "Info.", () => 1, "gauge", { version: 'a"b' });
  assertEquals(g.render(), '# HELP x_info Info.\n# TYPE x_info gauge\nx_info{version="a\\"b"} 1\n');
});

Deno.test("parseIndex and jsonWithRaw", async () => {
  assertEquals(parseIndex("i", "0"), 0);
  assertEquals(parseIndex("i", "9007199254740991"), 9007199254740991);
  assertEquals(parseIndex("i", undefined, true), undefined);
  for (const bad of ["", "-0", "+1", "01", "1.0", "1e3", " 1", "9007199254740992", "0x10"]) {
    nodeAssert.throws(() => parseIndex("i", bad), /parameter 'i'/, bad);
  }
  const r = jsonWithRaw(200, { a: 1 }, { env: '{"x":1.0,"y":[1e5]}' });
  assertEquals(await r.text(), '{"a":1,"env":{"x":1.0,"y":[1e5]}}');
  const nan = jsonWithRaw(200, {}, { env: '{"x":NaN}' });
  assertEquals(await nan.json(), { env: null, env_text: '{"x":NaN}' });
});

Deno.test("issuer key: created 0600 once, reloaded, refused when too open; trust-store merge", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await loadOrCreateIssuerKey(dir);
    assert(a.created);
    assertEquals((await Deno.stat(`${dir}/${ISSUER_KEY_FILE}`)).mode! & 0o777, 0o600);
    const b = await loadOrCreateIssuerKey(dir);
    assert(!b.created);
    assertEquals(b.provider.keyId, a.provider.keyId);
    assertEquals(b.provider.publicKeyPem, a.provider.publicKeyPem);
    // Concurrent first starts agree on one key.
    const dir2 = await Deno.makeTempDir();
    const both = await Promise.all([loadOrCreateIssuerKey(dir2), loadOrCreateIssuerKey(dir2)]);
    assertEquals(both[0].provider.keyId, both[1].provider.keyId);
    await Deno.remove(dir2, { recursive: true });
    await Deno.chmod(`${dir}/${ISSUER_KEY_FILE}`, 0o644);
    await nodeAssert.rejects(loadOrCreateIssuerKey(dir), IssuerKeyError);

    const own = { keyId: a.provider.keyId, publicKeyPem: a.provider.publicKeyPem };
    const other = await InProcessKeyProvider.generate("x");
    const only = mergedTrustStore(undefined, own);
    assertEquals(only.keyIds, [own.keyId]);
    const file = new TextEncoder().encode(JSON.stringify({ x: other.publicKeyPem }));
    assertEquals(mergedTrustStore(file, own).keyIds, [own.keyId, "x"].sort());
    const clash = new TextEncoder().encode(JSON.stringify({ [own.keyId]: other.publicKeyPem }));
    nodeAssert.throws(() => mergedTrustStore(clash, own), TrustStoreError);
    // The file may revoke the server's own key.
    const revoking = new TextEncoder().encode(
      JSON.stringify({ keys: { x: other.publicKeyPem }, revoked: ["x"] }),
    );
    assert(mergedTrustStore(revoking, own).isRevoked("x"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
