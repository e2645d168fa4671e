/**
 * The console's routes in process: every deep link answers the page, the
 * assets it names are served from the module graph, its CSP is strict, the
 * API keeps its own, and the committed `assets.gen.ts` is what
 * `scripts/build_console.ts` builds from `server/console/web/` today.
 *
 * @module
 */
import assert from "node:assert/strict";
import { buildConsoleModule, GENERATED } from "../../scripts/build_console.ts";
import { CONSOLE_CSS, CONSOLE_JS } from "../../server/console/assets.gen.ts";
import { harness } from "../server/_helpers.ts";

Deno.test("assets.gen.ts is up to date with server/console/web (run deno task build:console)", async () => {
  assert.equal(await Deno.readTextFile(GENERATED), await buildConsoleModule());
});

Deno.test("the console's bundle keeps the typed failures' names (a reason reads HashMismatch, not a minified name)", () => {
  // The verification panel shows `<error name>: <message>`; the names come from the classes.
  for (const name of ["HashMismatch", "InvalidSignature", "UntrustedIssuer", "RevokedIssuer"]) {
    assert.ok(CONSOLE_JS.includes(name), `the bundle names ${name}`);
  }
});

Deno.test("every console path answers the page, with a strict CSP and no token", async () => {
  const h = await harness(); // bearer mode: the API needs tokens
  try {
    for (
      const path of [
        "/console",
        "/console/",
        "/console/entries",
        "/console/entries/5",
        "/console/issuers/acme%2Fbank",
        "/console/trust",
      ]
    ) {
      const res = await h.app.request(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
      const csp = res.headers.get("content-security-policy") ?? "";
      for (
        const d of [
          "default-src 'none'",
          "script-src 'self'",
          "style-src 'self'",
          "connect-src 'self'",
          "frame-ancestors 'none'",
        ]
      ) {
        assert.ok(csp.includes(d), `${path}: CSP ${csp} lacks ${d}`);
      }
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
      const html = await res.text();
      // No inline script or style: every <script> has a src, no style attributes or elements.
      assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/);
      assert.doesNotMatch(html, /\sstyle=|<style/);
    }
    // The API keeps its own policy and still needs a token.
    const api = await h.app.request("/v1/log/entries");
    assert.equal(api.status, 401);
    assert.equal(
      api.headers.get("content-security-policy"),
      "default-src 'none'; frame-ancestors 'none'",
    );
  } finally {
    await h.close();
  }
});

Deno.test("the page's assets are served from the module graph, content-addressed and same-origin only", async () => {
  const h = await harness();
  try {
    const html = await (await h.app.request("/console")).text();
    const srcs = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]);
    assert.equal(srcs.length, 2);
    const bodies = new Map<string, string>();
    for (const src of srcs) {
      const res = await h.app.request(src);
      assert.equal(res.status, 200, src);
      assert.match(res.headers.get("cache-control") ?? "", /immutable/);
      bodies.set(src.endsWith(".js") ? "js" : "css", await res.text());
      assert.match(
        res.headers.get("content-type") ?? "",
        src.endsWith(".js") ? /^text\/javascript/ : /^text\/css/,
      );
    }
    assert.equal(bodies.get("js"), CONSOLE_JS);
    // Compressed for clients that accept gzip, to the same bytes.
    for (const src of srcs) {
      const res = await h.app.request(src, { headers: { "accept-encoding": "gzip, br" } });
      assert.equal(res.headers.get("content-encoding"), "gzip");
      const zipped = new Uint8Array(await res.arrayBuffer());
      const plain = await new Response(
        new Blob([zipped]).stream().pipeThrough(new DecompressionStream("gzip")),
      ).text();
      assert.equal(plain, bodies.get(src.endsWith(".js") ? "js" : "css"));
      assert.ok(zipped.length < plain.length / 2, `${src}: ${zipped.length} of ${plain.length}`);
    }
    assert.equal(bodies.get("css"), CONSOLE_CSS);
    // The only absolute URLs in the bundle are the SVG namespace and the bundled output
    // schemas' identifiers ($id, $schema), which name things and are never fetched.
    const urls = [
      ...(CONSOLE_JS + CONSOLE_CSS).matchAll(
        /(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^"'\\\s)`]*/gi,
      ),
    ].map((m) => m[0]).filter((u) =>
      !/^https:\/\/regledger\.dev\/schemas\/[a-z]+\.output\.json$/.test(u) &&
      u !== "https://json-schema.org/draft/2020-12/schema"
    );
    assert.deepEqual([...new Set(urls)], ["http://www.w3.org/2000/svg"]);
    assert.doesNotMatch(CONSOLE_CSS, /@import|@font-face|url\(/);
    const missing = await h.app.request("/console/assets/console.0000000000000000.js");
    assert.equal(missing.status, 404);
    assert.equal((await h.app.request("/console", { method: "POST" })).status, 405);
  } finally {
    await h.close();
  }
});
