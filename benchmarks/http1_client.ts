/**
 * A lean HTTP/1.1 load client for the server benchmark: one keep-alive TCP
 * connection per simulated client, requests encoded once in advance, and
 * responses parsed just enough to check them (status line, `Content-Length`
 * framing, body). This is what load generators such as wrk do; it exists
 * because the benchmark's clients share this 2-core machine with the server,
 * and `fetch` spends ~100 µs of CPU per request, about a quarter of what the
 * server spends, so `fetch` clients measure the client as much as the server.
 *
 * It refuses what it does not implement instead of guessing: a response
 * without `Content-Length`, a chunked one, or one asking to close the
 * connection is an error.
 *
 * @module
 */

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** One answered request. */
export interface Http1Response {
  /** Status code from the status line. */
  status: number;
  /** Header names lowercased; a repeated header keeps its last value. */
  headers: Map<string, string>;
  /** The body bytes (a copy). */
  body: Uint8Array;
}

/**
 * The bytes of one HTTP/1.1 request with a `Content-Length` body.
 * @throws {TypeError} when a header name or value could split the request.
 */
export function encodeRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | Uint8Array = new Uint8Array(0),
): Uint8Array {
  const b = typeof body === "string" ? enc.encode(body) : body;
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) {
    if (/[\r\n:]/.test(k) || /[\r\n]/.test(v)) {
      throw new TypeError(`bad header ${JSON.stringify(k)}`);
    }
    if (k.toLowerCase() === "content-length") continue;
    head += `${k}: ${v}\r\n`;
  }
  head += `content-length: ${b.length}\r\n\r\n`;
  const h = enc.encode(head);
  const out = new Uint8Array(h.length + b.length);
  out.set(h);
  out.set(b, h.length);
  return out;
}

/** Index just past the first CRLFCRLF in `buf[0, len)`, or -1. */
function headerEnd(buf: Uint8Array, len: number): number {
  let i = buf.indexOf(13);
  while (i !== -1 && i + 3 < len) {
    if (buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i + 4;
    i = buf.indexOf(13, i + 1);
  }
  return -1;
}

/** A keep-alive HTTP/1.1 connection answering one request at a time. */
export class Http1Connection {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(16384);
  #len = 0;
  #busy = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connect to `hostname:port`. */
  static async open(hostname: string, port: number): Promise<Http1Connection> {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return new Http1Connection(conn);
  }

  /**
   * Send `request` (from {@linkcode encodeRequest}) and read its response.
   * @throws {Error} when the connection closes early, the response is not
   * `Content-Length`-framed HTTP/1.1, or the server asks to close.
   */
  async request(request: Uint8Array): Promise<Http1Response> {
    if (this.#busy) throw new Error("one request at a time on a connection");
    this.#busy = true;
    try {
      let off = 0;
      while (off < request.length) off += await this.#conn.write(request.subarray(off));
      let end = headerEnd(this.#buf, this.#len);
      while (end === -1) {
        await this.#fill();
        end = headerEnd(this.#buf, this.#len);
      }
      const head = latin1.decode(this.#buf.subarray(0, end - 4)).split("\r\n");
      const m = /^HTTP\/1\.1 (\d{3})(?: |$)/.exec(head[0]);
      if (!m) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify(head[0])}`);
      const headers = new Map<string, string>();
      for (const line of head.slice(1)) {
        const c = line.indexOf(":");
        if (c <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`);
        headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
      }
      if (headers.has("transfer-encoding")) {
        throw new Error(`transfer-encoding ${headers.get("transfer-encoding")} not supported`);
      }
      const cl = headers.get("content-length");
      if (cl === undefined || !/^\d{1,9}$/.test(cl)) {
        throw new Error(`response without a usable content-length (${cl})`);
      }
      const total = end + Number(cl);
      while (this.#len < total) await this.#fill(total);
      const body = this.#buf.slice(end, total);
      this.#buf.copyWithin(0, total, this.#len);
      this.#len -= total;
      if (headers.get("connection")?.toLowerCase() === "close") {
        throw new Error("server closed the keep-alive connection");
      }
      return { status: Number(m[1]), headers, body };
    } finally {
      this.#busy = false;
    }
  }

  async #fill(need = 0): Promise<void> {
    if (this.#len === this.#buf.length || need > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, need));
      bigger.set(this.#buf.subarray(0, this.#len));
      this.#buf = bigger;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#len));
    if (n === null) throw new Error("connection closed before the response was complete");
    this.#len += n;
  }

  /** Close the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
