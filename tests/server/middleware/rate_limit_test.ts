/**
 * The per-token rate limit (server/middleware/rate_limit): token buckets on
 * a fake clock, and the middleware inside the regledger app.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import { TokenBuckets } from "../../../server/middleware/rate_limit/index.ts";
import { assert, assertEquals } from "../_assert.ts";
import { auth, harness } from "../_helpers.ts";

Deno.test("TokenBuckets: burst, refill at the configured rate, whole-second Retry-After", () => {
  let now = 0;
  const b = new TokenBuckets({ ratePerSecond: 2, burst: 3 }, () => now);
  assertEquals([b.take("a"), b.take("a"), b.take("a")], [0, 0, 0]);
  assertEquals(b.take("a"), 1);
  assertEquals(b.take("b"), 0);
  now = 499;
  assertEquals(b.take("a"), 1);
  now = 500;
  assertEquals(b.take("a"), 0);
  now = 10_000;
  assertEquals([b.take("a"), b.take("a"), b.take("a"), b.take("a")], [0, 0, 0, 1]);
  const slow = new TokenBuckets({ ratePerSecond: 0.1, burst: 1 }, () => 0);
  assertEquals([slow.take("x"), slow.take("x")], [0, 10]);
  // Bounded memory: idle keys are evicted.
  const small = new TokenBuckets({ ratePerSecond: 1, burst: 1 }, () => now, 4);
  for (let i = 0; i < 100; i++) assertEquals(small.take(`k${i}`), 0);
  assertEquals(small.take("k99"), 1); // still tracked
  assertEquals(small.take("k0"), 0); // evicted long ago: a fresh bucket
  nodeAssert.throws(() => new TokenBuckets({ ratePerSecond: 0, burst: 1 }), RangeError);
});

Deno.test("rate limit: per token, 429 with Retry-After; other tokens unaffected", async () => {
  const h = await harness({ config: { rateLimit: { ratePerSecond: 0.01, burst: 2 } } });
  try {
    const get = (scope: "ledger:read" | "admin") =>
      h.app.request("/v1/log/entries", { headers: auth(scope) });
    for (let i = 0; i < 2; i++) {
      const r = await get("ledger:read");
      assertEquals(r.status, 200);
      await r.body?.cancel();
    }
    const limited = await get("ledger:read");
    assertEquals(limited.status, 429);
    const wait = Number(limited.headers.get("retry-after"));
    assert(Number.isInteger(wait) && wait >= 1, `Retry-After ${wait}`);
    assertEquals((await limited.json()).retry_after, wait);
    const other = await get("admin");
    assertEquals(other.status, 200);
    await other.body?.cancel();
    // Public routes are not limited per token.
    const pub = await h.app.request("/v1/log/checkpoint");
    assertEquals(pub.status, 200);
    await pub.body?.cancel();
  } finally {
    await h.close();
  }
});
