/**
 * The body-limit middleware (server/middleware/body_limit): alone on a tiny
 * Hono app (per-path limits, argument checks) and inside the regledger app
 * (declared and streamed bodies over the limit are 413 JSON).
 *
 * @module
 */
import { Hono } from "hono";
import type { AppEnv } from "../../../server/env.ts";
import { bodyLimits } from "../../../server/middleware/body_limit/index.ts";
import { assert, assertEquals } from "../_assert.ts";
import { harness, jsonAuth, post } from "../_helpers.ts";

const enc = new TextEncoder();

Deno.test("bodyLimits: the default limit, a path's own limit, 413 JSON naming it", async () => {
  const app = new Hono<AppEnv>();
  app.use(bodyLimits({ maxSize: 10, perPath: { "/big": 100 } }));
  app.post("/small", async (c) => c.text(String((await c.req.text()).length)));
  app.post("/big", async (c) => c.text(String((await c.req.text()).length)));
  const send = (path: string, n: number) =>
    Promise.resolve(app.request(path, { method: "POST", body: "x".repeat(n) }));
  assertEquals(await (await send("/small", 10)).text(), "10");
  const over = await send("/small", 11);
  assertEquals(over.status, 413);
  assertEquals(over.headers.get("content-type"), "application/json; charset=utf-8");
  assertEquals(await over.json(), { error: "request body over the limit of 10 bytes", limit: 10 });
  assertEquals(await (await send("/big", 100)).text(), "100");
  const bigOver = await send("/big", 101);
  assertEquals(bigOver.status, 413);
  assertEquals((await bigOver.json()).limit, 100);
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    let threw = false;
    try {
      bodyLimits({ maxSize: bad });
    } catch (e) {
      threw = e instanceof RangeError && e.message.includes("maxSize");
    }
    assert(threw, `maxSize ${bad}`);
  }
  let threw = false;
  try {
    bodyLimits({ maxSize: 10, perPath: { "/x": 0 } });
  } catch (e) {
    threw = e instanceof RangeError && e.message.includes("perPath['/x']");
  }
  assert(threw, "perPath limit 0");
});

Deno.test("body limit: declared and streamed bodies over the limit are 413 JSON", async () => {
  const h = await harness({ config: { bodyLimit: 4096 } });
  try {
    const big = "x".repeat(5000);
    const r = await post(h.app, "/v1/envelopes", big, jsonAuth("ledger:append"));
    assertEquals(r.status, 413);
    assertEquals((await r.json()).limit, 4096);
    // Chunked (no content-length): counted while streaming.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 10) return c.close();
        sent++;
        c.enqueue(enc.encode("y".repeat(1000)));
      },
    });
    const s = await h.app.request("/v1/envelopes", {
      method: "POST",
      body: stream,
      headers: jsonAuth("ledger:append"),
      duplex: "half",
    } as RequestInit);
    assertEquals(s.status, 413);
    await s.body?.cancel();
    // Within the limit but beyond what the ledger stores: 400 naming the limit, not a 5xx.
  } finally {
    await h.close();
  }
});
