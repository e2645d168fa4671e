import assert from "node:assert/strict";
import { encodeRequest, Http1Connection } from "../../benchmarks/http1_client.ts";

const dec = new TextDecoder();

/** Deno.serve on a free loopback port; `handler` answers. */
function serve(handler: (r: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return { server, port: server.addr.port };
}

Deno.test("http1 client: answers match fetch's on a real Deno.serve, bodies of every size", async () => {
  const { server, port } = serve(async (r) => {
    const body = await r.text();
    const n = Number(new URL(r.url).searchParams.get("n") ?? 0);
    return new Response(`${r.method} ${body.length} ${"x".repeat(n)}`, {
      status: n % 2 ? 201 : 200,
      headers: { "x-echo": r.headers.get("x-echo") ?? "" },
    });
  });
  const c = await Http1Connection.open("127.0.0.1", port);
  try {
    // Many requests on one connection, bodies well past the client's 16 KiB buffer.
    for (const n of [0, 1, 100, 16383, 16384, 70_000, 3, 250_000]) {
      const body = "é".repeat(n % 1000);
      const path = `/p?n=${n}`;
      const ours = await c.request(
        encodeRequest("POST", path, { host: `127.0.0.1:${port}`, "x-echo": `e${n}` }, body),
      );
      const theirs = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: "POST",
        body,
        headers: { "x-echo": `e${n}` },
      });
      assert.equal(ours.status, theirs.status);
      assert.equal(ours.headers.get("x-echo"), theirs.headers.get("x-echo"));
      assert.equal(dec.decode(ours.body), await theirs.text());
    }
  } finally {
    c.close();
    await server.shutdown();
  }
});

/** A raw TCP server writing `chunks` (with pauses) in answer to the first request. */
function rawServer(chunks: string[]) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(4096);
    await conn.read(buf);
    for (const ch of chunks) {
      await conn.write(new TextEncoder().encode(ch));
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 20));
    conn.close();
  })();
  return { port: (listener.addr as Deno.NetAddr).port, listener, done };
}

Deno.test("http1 client: a response split anywhere, even inside CRLFCRLF, is reassembled", async () => {
  const resp = "HTTP/1.1 422 Unprocessable Content\r\ncontent-length: 5\r\nx-a: 1\r\n\r\nhello";
  for (
    const cut of [
      1,
      12,
      38,
      resp.indexOf("\r\n\r\n") + 1,
      resp.indexOf("\r\n\r\n") + 3,
      resp.length - 2,
    ]
  ) {
    const s = rawServer([resp.slice(0, cut), resp.slice(cut)]);
    const c = await Http1Connection.open("127.0.0.1", s.port);
    const r = await c.request(encodeRequest("GET", "/", {}));
    assert.equal(r.status, 422, `cut at ${cut}`);
    assert.equal(dec.decode(r.body), "hello");
    assert.equal(r.headers.get("x-a"), "1");
    c.close();
    await s.done;
    s.listener.close();
  }
});

Deno.test("http1 client: refuses what it does not implement, with the reason", async () => {
  const cases: [string, RegExp][] = [
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", /chunked/],
    ["HTTP/1.1 200 OK\r\nx: y\r\n\r\nhello", /content-length/],
    [
      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
      /closed the keep-alive/,
    ],
    ["HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n", /status line/],
    ["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello", /closed before/],
    ["HTTP/1.1 200 OK\r\nbroken header\r\ncontent-length: 0\r\n\r\n", /malformed header/],
  ];
  for (const [resp, why] of cases) {
    const s = rawServer([resp]);
    const c = await Http1Connection.open("127.0.0.1", s.port);
    await assert.rejects(c.request(encodeRequest("GET", "/", {})), why);
    c.close();
    await s.done;
    s.listener.close();
  }
});

Deno.test("http1 client: requests are framed by content-length and cannot be split by headers", () => {
  const r = dec.decode(
    encodeRequest("POST", "/v1/x", { a: "b", "Content-Length": "999" }, "héllo"),
  );
  assert.equal(r, "POST /v1/x HTTP/1.1\r\na: b\r\ncontent-length: 6\r\n\r\nhéllo");
  assert.throws(() => encodeRequest("GET", "/", { a: "b\r\nx-injected: 1" }), TypeError);
  assert.throws(() => encodeRequest("GET", "/", { "a\nb": "c" }), TypeError);
});
