/**
 * Responses on a kept-alive connection carry `Keep-Alive: timeout=S`, the
 * connection front's idle timeout (REGLEDGER_KEEPALIVE_TIMEOUT_MS) in whole
 * seconds, so that clients reading the hint (Node's http agent, undici) stop
 * reusing a connection before the front closes it rather than sending a
 * request into a connection being closed. Not on a response to a request
 * that asked to close, and not when the timeout is under a second.
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG, type ServerConfig } from "../../server/config.ts";
import { keepAliveHint, startServer } from "../../server/serve.ts";

/** One raw HTTP/1.1 exchange through the server's public port: the response head, lower-cased names. */
async function head(port: number, extra = ""): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(`GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n${extra}\r\n`),
    );
    let text = "";
    const buf = new Uint8Array(16384);
    while (!text.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text.split("\r\n\r\n")[0].toLowerCase();
  } finally {
    conn.close();
  }
}

async function withServer(
  config: Partial<ServerConfig>,
  f: (port: number) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-keepalive-" });
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: dir,
    config: { ...DEFAULT_CONFIG, verifyWorkers: 0, ...config },
    signals: false,
    status: () => {},
  });
  try {
    await f(server.addr.port);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("keep-alive hint: responses through the front say the idle timeout (default 5 s)", async () => {
  await withServer({}, async (port) => {
    const h = await head(port);
    assert.match(h, /^http\/1\.1 200 /);
    assert.match(h, /\r\nkeep-alive: timeout=5(\r\n|$)/);
    // A request that closes its connection gets no hint.
    const closing = await head(port, "connection: close\r\n");
    assert.match(closing, /^http\/1\.1 200 /);
    assert.doesNotMatch(closing, /keep-alive:/);
  });
});

Deno.test("keep-alive hint: follows REGLEDGER_KEEPALIVE_TIMEOUT_MS, in whole seconds", async () => {
  await withServer({ keepAliveTimeoutMs: 2_500 }, async (port) => {
    assert.match(await head(port), /\r\nkeep-alive: timeout=2(\r\n|$)/);
  });
});

Deno.test("keep-alive hint: none under a second; immutable responses are copied with it", async () => {
  const info = {} as Deno.ServeHandlerInfo<Deno.NetAddr>;
  const req = new Request("http://127.0.0.1/");
  const short = await keepAliveHint(() => new Response("x"), 999)(req, info);
  assert.equal(short.headers.get("keep-alive"), null);
  const redirect = await keepAliveHint(
    () => Response.redirect("http://127.0.0.1/elsewhere", 302),
    5_000,
  )(req, info);
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get("location"), "http://127.0.0.1/elsewhere");
  assert.equal(redirect.headers.get("keep-alive"), "timeout=5");
});
