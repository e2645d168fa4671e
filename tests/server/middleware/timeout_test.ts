/**
 * The request timeout (server/middleware/timeout): one shared sweep timer,
 * alone on a tiny Hono app and inside the regledger app with a stuck
 * dependency.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppEnv } from "../../../server/env.ts";
import { errorToResponse } from "../../../server/errors.ts";
import { requestTimeout } from "../../../server/middleware/timeout/index.ts";
import { assert, assertEquals } from "../_assert.ts";
import { harness } from "../_helpers.ts";

Deno.test("requestTimeout: 503 after the deadline, handlers in time untouched, no timer left", async () => {
  const app = new Hono<AppEnv>();
  app.use(requestTimeout(50));
  app.onError((e, c) => errorToResponse(e, c, () => {}));
  app.get("/fast", (c) => c.text("fast"));
  let release = () => {};
  app.get("/slow", async (c) => {
    await new Promise<void>((r) => {
      const t = setTimeout(r, 300);
      release = () => {
        clearTimeout(t);
        r();
      };
    });
    return c.text("slow");
  });
  assertEquals(await (await app.request("/fast")).text(), "fast");
  const t0 = performance.now();
  const slow = await app.request("/slow");
  assertEquals(slow.status, 503);
  assertEquals(await slow.json(), { error: "request timed out" });
  assert(performance.now() - t0 >= 45, "not before the deadline");
  release();
  // Deno's test sanitizer fails this test if the sweep interval outlived the requests.
  let threw = false;
  try {
    requestTimeout(0);
  } catch (e) {
    threw = e instanceof RangeError;
  }
  assert(threw, "ms 0 is a RangeError");
});

Deno.test("timeout: a stuck dependency is a 503 JSON answer", async () => {
  let stall = false;
  const h = await harness({
    config: { requestTimeoutMs: 100 },
    wrapLog: (log) => ({
      ...log,
      verifierKey: log.verifierKey,
      size: async () => {
        if (stall) await new Promise((r) => setTimeout(r, 400));
        return await log.size();
      },
    }),
  });
  try {
    stall = true;
    const r = await h.app.request("/readyz");
    assertEquals(r.status, 503);
    assertEquals((await r.json()).error, "request timed out");
    await new Promise((r) => setTimeout(r, 400)); // let the stalled call finish
  } finally {
    await h.close();
  }
});

Deno.test("timeout: one shared timer; only the stuck request times out, within its window", async () => {
  let stall = false;
  const h = await harness({
    config: { requestTimeoutMs: 200 },
    wrapLog: (log) => ({
      ...log,
      verifierKey: log.verifierKey,
      size: async () => {
        if (stall) await new Promise((r) => setTimeout(r, 600));
        return await log.size();
      },
    }),
  });
  try {
    // Requests that finish in time are answered normally, before and after a timeout.
    assertEquals((await h.app.request("/healthz")).status, 200);
    stall = true;
    const t0 = performance.now();
    const stuck = Promise.resolve(h.app.request("/readyz"));
    const quick = await h.app.request("/healthz"); // in flight beside the stuck one
    assertEquals(quick.status, 200);
    const r = await stuck;
    const waited = performance.now() - t0;
    assertEquals(r.status, 503);
    assertEquals((await r.json()).error, "request timed out");
    // Deadline 200 ms, swept every 10 ms: not early, and not much later.
    assert(waited >= 195, `timed out after ${waited} ms`);
    assert(waited < 500, `timed out only after ${waited} ms`);
    stall = false;
    assertEquals((await h.app.request("/healthz")).status, 200);
    await new Promise((r) => setTimeout(r, 600)); // let the stalled call finish
  } finally {
    await h.close();
  }
});
