/**
 * The connection front: the server's own accept loop on the public TCP
 * port, in front of `Deno.serve` listening on a loopback port of its own
 * (a Unix socket would need net permission for its path). `Deno.serve` has no header timeout, no idle keep-alive
 * timeout and no connection cap, and when the process runs out of file
 * descriptors its accept fails and `server.finished` rejects: any client
 * could stop the server by holding connections open. The front adds:
 *
 * - a cap on open connections (`maxConnections`): one more is answered
 *   `503` with `Retry-After` and closed at once;
 * - a header timeout: a request's header (from its first byte, or from
 *   the connection's opening for the first request) must arrive within
 *   `headersTimeoutMs`;
 * - an idle keep-alive timeout: a connection with no request in progress
 *   and no bytes either way for `keepAliveTimeoutMs` is closed;
 * - a body timeout: a request's body must arrive within
 *   `requestTimeoutMs` of its first header byte (slow uploads);
 * - accept errors (`EMFILE`, `ENFILE`, …) are logged, at most one line
 *   per 5 seconds with a count, and the loop waits and carries on.
 *
 * Each connection is piped byte for byte to the HTTP server (which parses
 * everything itself); the front only frames requests
 * (server/http1_framing.ts) to know when a header or body is late.
 * Every connection costs three descriptors (client, front → server,
 * server side), which the default cap counts.
 *
 * @module
 */
import { RequestFramer } from "./http1_framing.ts";

/** Connection limits of the front. */
export interface ConnectionLimits {
  /** Open client connections at most; more are refused (503). */
  maxConnections: number;
  /** A request header must arrive within this. @default {10000} */
  headersTimeoutMs: number;
  /** A connection idle between requests is closed after this. @default {5000} */
  keepAliveTimeoutMs: number;
  /** A request body must arrive within this of the request's start. */
  requestTimeoutMs: number;
}

/** What the front counted since it started. */
export interface FrontStats {
  /** Connections accepted and piped to the server. */
  accepted: number;
  /** Connections refused (503) because `maxConnections` were open. */
  refused: number;
  /** Closed because a header did not arrive in time. */
  headerTimeouts: number;
  /** Closed because a body did not arrive in time. */
  bodyTimeouts: number;
  /** Closed because idle between requests. */
  idleTimeouts: number;
  /** Accept calls that failed (descriptor exhaustion and the like). */
  acceptErrors: number;
}

interface Tracked {
  client: Deno.Conn;
  upstream: Deno.TcpConn | null;
  framer: RequestFramer;
  opened: number;
  headStart: number;
  reqStart: number;
  lastActivity: number;
  awaiting: boolean;
  closed: boolean;
}

const REFUSAL = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n" +
    "retry-after: 1\r\nconnection: close\r\ncontent-length: 52\r\n\r\n" +
    '{"error":"too many open connections; retry shortly"}',
);

/**
 * The largest number of descriptors this process can still open, up to
 * `ceiling`: found by opening `/dev/null` until the system refuses (Deno
 * offers no getrlimit and refuses `/proc/self/limits` without
 * `--allow-all`). Null where there is no `/dev/null` or no read permission.
 */
export function probeFreeDescriptors(ceiling = 16384): number | null {
  const files: Deno.FsFile[] = [];
  try {
    for (; files.length < ceiling;) files.push(Deno.openSync("/dev/null"));
    return ceiling;
  } catch (e) {
    if (files.length === 0) return null;
    return /too many open files|os error 2[34]/i.test(String((e as Error).message))
      ? files.length
      : null;
  } finally {
    for (const f of files) f.close();
  }
}

/**
 * The default connection cap: a third of the descriptors free at start-up
 * (each connection holds three), less 64 kept for the store, workers and
 * key files, at least 16 and at most 4096.
 */
export function defaultMaxConnections(): number {
  const free = probeFreeDescriptors();
  if (free === null) return 1024;
  return Math.max(16, Math.min(4096, Math.floor((free - 64) / 3)));
}

/** A running front. */
export class ConnectionFront {
  /** Where clients connect. */
  readonly addr: Deno.NetAddr;
  /** Counters since start. */
  readonly stats: FrontStats = {
    accepted: 0,
    refused: 0,
    headerTimeouts: 0,
    bodyTimeouts: 0,
    idleTimeouts: 0,
    acceptErrors: 0,
  };
  readonly #listener: Deno.TcpListener;
  #backend: Deno.NetAddr;
  readonly #limits: ConnectionLimits;
  readonly #log: (line: string) => void;
  readonly #conns = new Set<Tracked>();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #loop: Promise<void>;
  #closing = false;
  #lastErrorLog = 0;
  #errorsSinceLog = 0;

  private constructor(
    listener: Deno.TcpListener,
    backend: Deno.NetAddr,
    limits: ConnectionLimits,
    log: (line: string) => void,
  ) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.#backend = backend;
    this.#limits = limits;
    this.#log = log;
    this.#timer = setInterval(
      () => this.#sweep(),
      Math.max(50, Math.min(250, limits.headersTimeoutMs / 4)),
    );
    this.#loop = this.#acceptLoop();
  }

  /**
   * Listen on `hostname:port` and pipe every accepted connection to the
   * HTTP server at `backend` (loopback).
   * @throws {Deno.errors.AddrInUse} and the like when the port cannot be bound.
   */
  static listen(opts: {
    hostname: string;
    port: number;
    backend: Deno.NetAddr;
    limits: ConnectionLimits;
    log: (line: string) => void;
  }): ConnectionFront {
    const listener = Deno.listen({ hostname: opts.hostname, port: opts.port, transport: "tcp" });
    return new ConnectionFront(listener, opts.backend, opts.limits, opts.log);
  }

  /** Send new connections to another HTTP server (one restarted after a failure). */
  setBackend(backend: Deno.NetAddr): void {
    this.#backend = backend;
  }

  /** Client connections open now. */
  get open(): number {
    return this.#conns.size;
  }

  /** Stop accepting; existing connections stay until the server closes them. */
  async stopAccepting(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    await this.#loop;
  }

  /** Stop accepting and close every connection. */
  async close(): Promise<void> {
    await this.stopAccepting();
    clearInterval(this.#timer);
    for (const t of this.#conns) this.#drop(t);
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closing || e instanceof Deno.errors.BadResource) return;
        this.stats.acceptErrors++;
        this.#errorsSinceLog++;
        const now = Date.now();
        if (now - this.#lastErrorLog >= 5000) {
          this.#log(
            `regledger: accept failed ${this.#errorsSinceLog} time(s) (${(e as Error).message}); ` +
              `${this.open} connection(s) open; still serving`,
          );
          this.#lastErrorLog = now;
          this.#errorsSinceLog = 0;
        }
        // Out of descriptors: give the sweeper time to close idle connections.
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (this.#conns.size >= this.#limits.maxConnections) {
        this.stats.refused++;
        // Awaited: refusals hold descriptors too, so at most one is open at a time.
        await this.#refuse(conn);
        continue;
      }
      this.stats.accepted++;
      void this.#serve(conn);
    }
  }

  async #refuse(conn: Deno.Conn): Promise<void> {
    try {
      await conn.write(REFUSAL);
    } catch { /* the client left */ }
    try {
      conn.close();
    } catch { /* already closed */ }
  }

  async #serve(client: Deno.Conn): Promise<void> {
    const now = Date.now();
    const t: Tracked = {
      client,
      upstream: null,
      framer: new RequestFramer(),
      opened: now,
      headStart: now,
      reqStart: now,
      lastActivity: now,
      awaiting: false,
      closed: false,
    };
    this.#conns.add(t);
    try {
      const up = await Deno.connect({ hostname: this.#backend.hostname, port: this.#backend.port });
      up.setNoDelay(true);
      t.upstream = up;
    } catch (e) {
      this.#log(`regledger: cannot reach the HTTP server: ${(e as Error).message}`);
      this.#drop(t);
      return;
    }
    if (t.closed) {
      this.#drop(t);
      return;
    }
    await Promise.all([this.#up(t), this.#down(t)]);
    this.#drop(t);
  }

  /** Client → server, framing requests on the way. */
  async #up(t: Tracked): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await t.client.read(buf);
        if (n === null) break;
        const now = Date.now();
        const chunk = buf.subarray(0, n);
        const r = t.framer.feed(chunk);
        // A request started in this chunk: its header and body clocks start now.
        if (r.started > 0) {
          t.headStart = now;
          t.reqStart = now;
        }
        if (r.completed > 0) t.awaiting = true;
        t.lastActivity = now;
        await writeAll(t.upstream!, chunk);
      }
      // The client finished sending: let the server answer, then close.
      await t.upstream!.closeWrite().catch(() => {});
    } catch {
      this.#drop(t);
    }
  }

  /** Server → client. */
  async #down(t: Tracked): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await t.upstream!.read(buf);
        if (n === null) break;
        t.lastActivity = Date.now();
        t.awaiting = false;
        await writeAll(t.client, buf.subarray(0, n));
      }
    } catch { /* either side went away */ }
    this.#drop(t);
  }

  #sweep(): void {
    const now = Date.now();
    const l = this.#limits;
    for (const t of this.#conns) {
      const f = t.framer;
      if (f.state === "opaque") {
        if (now - t.lastActivity > l.keepAliveTimeoutMs && !t.awaiting) {
          this.stats.idleTimeouts++;
          this.#drop(t);
        }
      } else if (f.state === "head" && f.headBytes > 0) {
        if (now - t.headStart > l.headersTimeoutMs) {
          this.stats.headerTimeouts++;
          this.#drop(t);
        }
      } else if (f.state === "head") {
        if (f.completed === 0) {
          // Connected and sent nothing: the first header is late.
          if (now - t.opened > l.headersTimeoutMs) {
            this.stats.headerTimeouts++;
            this.#drop(t);
          }
        } else if (!t.awaiting && now - t.lastActivity > l.keepAliveTimeoutMs) {
          this.stats.idleTimeouts++;
          this.#drop(t);
        }
      } else if (now - t.reqStart > l.requestTimeoutMs) {
        this.stats.bodyTimeouts++;
        this.#drop(t);
      }
    }
  }

  #drop(t: Tracked): void {
    if (!this.#conns.delete(t) && t.closed) return;
    t.closed = true;
    for (const c of [t.client, t.upstream]) {
      try {
        c?.close();
      } catch { /* already closed */ }
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}
