/**
 * Where HTTP/1.1 requests begin and end in a client's byte stream (RFC 9112
 * §6: a `Content-Length` body, a chunked body, or none), without buffering
 * or interpreting anything else: what the connection front
 * (server/conn_front.ts) needs to time a request's header and its body. The
 * HTTP server behind the front still parses every byte itself; a stream this
 * reader cannot frame (an HTTP/2 preface, a malformed length) is marked
 * `opaque`, and from then on only the idle timeout applies to it.
 *
 * @module
 */

/** Where the stream is. */
export type FramingState = "head" | "body" | "chunked" | "opaque";

const CR = 13;
const LF = 10;
const MAX_HEAD = 256 * 1024;
const decoder = new TextDecoder("latin1");

/** Follows the requests of one connection, fed its bytes in order. */
export class RequestFramer {
  /** Where the stream is now. */
  state: FramingState = "head";
  /** Bytes of the current request's header seen so far (0: between requests). */
  headBytes = 0;
  /** Requests whose header and body have been fully received. */
  completed = 0;
  #parts: Uint8Array[] = [];
  // The last two header bytes of earlier chunks (a blank line may span chunks).
  #p1 = 0;
  #p2 = 0;
  #bodyLeft = 0;
  // Chunked bodies: reading a size line, chunk data, the CRLF after data, or trailers.
  #chunk: "size" | "data" | "crlf" | "trailer" = "size";
  #line: number[] = [];

  /**
   * Feed the next bytes. Returns how many requests started (their first
   * header byte) and completed (body fully received) within them.
   */
  feed(bytes: Uint8Array): { started: number; completed: number } {
    let started = 0;
    const before = this.completed;
    let i = 0;
    while (i < bytes.length && this.state !== "opaque") {
      if (this.state === "head") {
        if (this.headBytes === 0) started++;
        const end = this.#headEnd(bytes, i);
        const stop = end < 0 ? bytes.length : end;
        this.#parts.push(bytes.slice(i, stop));
        this.headBytes += stop - i;
        const old1 = this.#p1;
        if (stop - i >= 2) {
          this.#p1 = bytes[stop - 1];
          this.#p2 = bytes[stop - 2];
        } else if (stop - i === 1) {
          this.#p2 = old1;
          this.#p1 = bytes[stop - 1];
        }
        i = stop;
        if (end >= 0) this.#endOfHead();
        else if (this.headBytes > MAX_HEAD) this.state = "opaque";
      } else if (this.state === "body") {
        const take = Math.min(this.#bodyLeft, bytes.length - i);
        this.#bodyLeft -= take;
        i += take;
        if (this.#bodyLeft === 0) this.#complete();
      } else {
        i = this.#chunked(bytes, i);
      }
    }
    return { started, completed: this.completed - before };
  }

  /** Index just past the blank line ending the header in `bytes` from `i`, or -1. */
  #headEnd(bytes: Uint8Array, i: number): number {
    for (let j = bytes.indexOf(LF, i); j >= 0; j = bytes.indexOf(LF, j + 1)) {
      const a = j - 1 >= i ? bytes[j - 1] : (j - 1 === i - 1 ? this.#p1 : this.#p2);
      const b = j - 2 >= i ? bytes[j - 2] : (j - 2 === i - 1 ? this.#p1 : this.#p2);
      if (a === LF || (a === CR && b === LF)) return j + 1;
    }
    return -1;
  }

  #endOfHead(): void {
    const all = this.#parts.length === 1 ? this.#parts[0] : concat(this.#parts);
    const text = decoder.decode(all);
    this.#parts = [];
    this.#p1 = 0;
    this.#p2 = 0;
    if (text.startsWith("PRI * HTTP/2.0")) {
      this.state = "opaque";
      return;
    }
    let length: number | null = null;
    let chunked = false;
    for (const line of text.split(/\r?\n/).slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^[0-9]{1,15}$/.test(value) || (length !== null && length !== Number(value))) {
          this.state = "opaque";
          return;
        }
        length = Number(value);
      } else if (name === "transfer-encoding") {
        chunked = value.toLowerCase().split(",").map((s) => s.trim()).includes("chunked");
      }
    }
    if (chunked) {
      this.state = "chunked";
      this.#chunk = "size";
      this.#line = [];
    } else if (length !== null && length > 0) {
      this.state = "body";
      this.#bodyLeft = length;
    } else {
      this.#complete();
    }
  }

  #complete(): void {
    this.completed++;
    this.state = "head";
    this.headBytes = 0;
  }

  #chunked(bytes: Uint8Array, i: number): number {
    while (i < bytes.length && this.state === "chunked") {
      if (this.#chunk === "data") {
        const take = Math.min(this.#bodyLeft, bytes.length - i);
        this.#bodyLeft -= take;
        i += take;
        if (this.#bodyLeft === 0) {
          this.#chunk = "crlf";
          this.#line = [];
        }
        continue;
      }
      const b = bytes[i++];
      if (this.#line.length > 4096) {
        this.state = "opaque";
        break;
      }
      if (b !== LF) {
        this.#line.push(b);
        continue;
      }
      const line = decoder.decode(new Uint8Array(this.#line)).replace(/\r$/, "");
      this.#line = [];
      if (this.#chunk === "crlf") {
        this.#chunk = "size";
      } else if (this.#chunk === "size") {
        const m = /^([0-9A-Fa-f]{1,12})(;.*)?$/.exec(line.trim());
        if (!m) {
          this.state = "opaque";
          break;
        }
        const size = parseInt(m[1], 16);
        if (size === 0) {
          this.#chunk = "trailer";
        } else {
          this.#chunk = "data";
          this.#bodyLeft = size;
        }
      } else if (line === "") {
        this.#complete(); // the empty line after the trailers
      }
    }
    return i;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
