/**
 * Bearer authentication with scopes (server/middleware/auth): the
 * constant-time keyring, and the middleware alone on a tiny Hono app (401
 * shapes, 403 naming the scope, admin implies all, dev mode).
 *
 * @module
 */
import fc from "fast-check";
import { Hono } from "hono";
import type { AppEnv } from "../../../server/env.ts";
import { errorToResponse } from "../../../server/errors.ts";
import {
  ApiKeyring,
  authenticate,
  hasScope,
  principalOf,
  requireScope,
  tokenHash,
} from "../../../server/middleware/auth/index.ts";
import { assert, assertEquals } from "../_assert.ts";

Deno.test("ApiKeyring: exact token match only; admin implies every scope", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9._~+/-]{16,40}$/), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.string(),
      (tokens, probe) => {
        const ring = new ApiKeyring(tokens.map((t, i) => ({
          token: t,
          scopes: new Set(i === 0 ? ["admin" as const] : ["verify" as const]),
        })));
        tokens.forEach((t, i) => {
          const p = ring.authenticate(t)!;
          assertEquals(p.tokenHash, tokenHash(t));
          assertEquals(hasScope(p, "ledger:append"), i === 0);
          assert(hasScope(p, "verify"));
        });
        if (!tokens.includes(probe)) assertEquals(ring.authenticate(probe), undefined);
        // A prefix or an extension of a token is not the token.
        assertEquals(ring.authenticate(tokens[0].slice(0, -1)), undefined);
        if (!tokens.includes(tokens[0] + "x")) {
          assertEquals(ring.authenticate(tokens[0] + "x"), undefined);
        }
      },
    ),
    { numRuns: 100 },
  );
  assertEquals(tokenHash("abc"), "ba7816bf8f01"); // SHA-256("abc") prefix (FIPS 180-2 vector)
});

Deno.test("authenticate + requireScope: 401 without a known token, 403 naming the scope, dev mode", async () => {
  const ring = new ApiKeyring([
    { token: "reader-token-0123456789", scopes: new Set(["ledger:read"]) },
    { token: "scraper-token-0123456789", scopes: new Set(["metrics"]) },
    { token: "admin-token-0123456789ab", scopes: new Set(["admin"]) },
  ]);
  const build = (dev: boolean) => {
    const app = new Hono<AppEnv>();
    app.onError((e, c) => errorToResponse(e, c, () => {}));
    app.use(authenticate(ring, dev));
    app.get("/read", requireScope("ledger:read"), (c) => c.text(principalOf(c)!.tokenHash));
    app.get("/metrics", requireScope("metrics"), (c) => c.text("m"));
    app.get("/any", requireScope("any"), (c) => c.text("any"));
    return app;
  };
  const app = build(false);
  const as = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });
  const none = await app.request("/read");
  assertEquals(none.status, 401);
  assertEquals(none.headers.get("www-authenticate"), 'Bearer realm="regledger"');
  assertEquals(await none.json(), { error: "missing bearer token" });
  const unknown = await app.request("/read", as("not-a-token-0123456789"));
  assertEquals(unknown.status, 401);
  assertEquals((await unknown.json()).error, "unknown bearer token");
  const ok = await app.request("/read", as("reader-token-0123456789"));
  assertEquals(await ok.text(), tokenHash("reader-token-0123456789"));
  const scraper = await app.request("/read", as("scraper-token-0123456789"));
  assertEquals(scraper.status, 403);
  assertEquals(await scraper.json(), {
    error: "this route needs scope 'ledger:read'",
    scope: "ledger:read",
  });
  const reader = await app.request("/metrics", as("reader-token-0123456789"));
  assertEquals(reader.status, 403);
  assertEquals((await reader.json()).scope, "metrics");
  assertEquals(await (await app.request("/metrics", as("scraper-token-0123456789"))).text(), "m");
  assertEquals(await (await app.request("/metrics", as("admin-token-0123456789ab"))).text(), "m");
  assertEquals(await (await app.request("/any", as("scraper-token-0123456789"))).text(), "any");
  // Dev mode: every request is the admin principal, no token needed.
  const dev = build(true);
  assertEquals(await (await dev.request("/read")).text(), "dev");
  assertEquals(await (await dev.request("/metrics")).text(), "m");
  assert(hasScope({ tokenHash: "x", scopes: new Set(["admin"]) }, "metrics"));
});
