/**
 * The regulator's console (CONTRACT §10) as routes of the server: one HTML
 * page for `/console` and every deep link under it, and the bundled script
 * and stylesheet from `assets.gen.ts` (built by `scripts/build_console.ts`
 * from `web/`). The assets are string constants in the module graph, so
 * `deno task serve`, an imported `server/mod.ts` and the compiled binary
 * serve the same bytes, and nothing is fetched from anywhere else.
 *
 * Console responses get their own Content-Security-Policy: scripts, styles
 * and requests from this origin only, no inline code, no framing.
 *
 * @module
 */
import type { Context } from "hono";
import { sha256, toHex, utf8 } from "../../core/bytes.ts";
import type { AppEnv } from "../env.ts";
import { jsonError } from "../errors.ts";
import { CONSOLE_CSS, CONSOLE_JS } from "./assets.gen.ts";

/** Where the console lives. */
export const CONSOLE_PREFIX = "/console";

/** Whether a request path belongs to the console (gets its security headers). */
export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);
}

/** The console's Content-Security-Policy directives (Hono `secureHeaders` form). */
export const CONSOLE_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

interface Asset {
  name: string;
  body: string;
  type: string;
}

/** Content-addressed names: a new build never meets a stale cached copy. */
function asset(stem: string, ext: string, body: string, type: string): Asset {
  return { name: `${stem}.${toHex(sha256(utf8(body))).slice(0, 16)}.${ext}`, body, type };
}

const ASSETS: readonly Asset[] = [
  asset("console", "js", CONSOLE_JS, "text/javascript; charset=utf-8"),
  asset("console", "css", CONSOLE_CSS, "text/css; charset=utf-8"),
];

/** The page every console path answers with; the script renders the view of the URL. */
export const CONSOLE_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>regledger console</title>
<link rel="stylesheet" href="${CONSOLE_PREFIX}/assets/${ASSETS[1].name}">
<script type="module" src="${CONSOLE_PREFIX}/assets/${ASSETS[0].name}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
<span class="brand">regledger console</span>
<nav class="top" id="nav" aria-label="Main">
<a href="${CONSOLE_PREFIX}" data-nav>Overview</a>
<a href="${CONSOLE_PREFIX}/entries" data-nav>Entries</a>
<a href="${CONSOLE_PREFIX}/trust" data-nav>Trust store</a>
</nav>
<div id="token-status" aria-live="polite"></div>
</header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<noscript><p>The console needs JavaScript; the API works without it.</p></noscript>
</body>
</html>
`;

/** `GET /console` and every path under it: the console page. */
export function consolePageRoute(): (c: Context<AppEnv>) => Response {
  return (c) => c.html(CONSOLE_HTML, 200, { "cache-control": "no-cache" });
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * `GET /console/assets/{name}`: a bundled asset, cached for good (the name is
 * its hash), gzip-compressed once (on first request) for clients that accept it.
 */
export function consoleAssetRoute(): (c: Context<AppEnv>) => Promise<Response> {
  const byName = new Map(ASSETS.map((a) => [a.name, a]));
  const zipped = new Map<string, Promise<Uint8Array>>();
  return async (c) => {
    const a = byName.get(c.req.param("name") ?? "");
    if (a === undefined) return jsonError(404, "no such console asset");
    const headers: Record<string, string> = {
      "content-type": a.type,
      "cache-control": "public, max-age=31536000, immutable",
      "vary": "accept-encoding",
    };
    if (!/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
      return c.body(a.body, 200, headers);
    }
    if (!zipped.has(a.name)) zipped.set(a.name, gzip(a.body));
    const body = await zipped.get(a.name)!;
    return c.body(body as Uint8Array<ArrayBuffer>, 200, { ...headers, "content-encoding": "gzip" });
  };
}
