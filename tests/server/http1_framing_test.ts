/**
 * RequestFramer (server/http1_framing.ts) finds where requests start and
 * end in a byte stream however it is split into chunks: bodies by
 * Content-Length, chunked bodies with extensions and trailers, bare-LF line
 * ends, pipelined requests; an HTTP/2 preface or a conflicting length makes
 * the stream opaque.
 */
import { assertEquals } from "./_assert.ts";
import { RequestFramer } from "../../server/http1_framing.ts";

const enc = new TextEncoder();
const STREAM = [
  "GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
  "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
  "POST /c HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n" +
  "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\ntrailer: t\r\n\r\n",
  "GET /d HTTP/1.1\nHost: x\n\n",
  "POST /e HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
].join("");

Deno.test("RequestFramer: five pipelined requests, split at every pair of positions", () => {
  const bytes = enc.encode(STREAM);
  for (let a = 0; a <= bytes.length; a += 3) {
    for (let b = a; b <= bytes.length; b += 7) {
      const f = new RequestFramer();
      let started = 0;
      for (const part of [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]) {
        started += f.feed(part).started;
      }
      assertEquals([f.completed, started, f.state, f.headBytes], [5, 5, "head", 0], `${a}/${b}`);
    }
  }
});

Deno.test("RequestFramer: partial header and body are in progress; odd streams are opaque", () => {
  const f = new RequestFramer();
  f.feed(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n"));
  assertEquals([f.state, f.completed, f.headBytes > 0], ["head", 0, true]);
  const g = new RequestFramer();
  g.feed(enc.encode("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345"));
  assertEquals([g.state, g.completed], ["body", 0]);
  const h2 = new RequestFramer();
  h2.feed(enc.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  assertEquals(h2.state, "opaque");
  const twice = new RequestFramer();
  twice.feed(enc.encode("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"));
  assertEquals(twice.state, "opaque");
});
