/**
 * A TCP proxy in front of the test cluster that the test can turn into a
 * black hole: connections stay open, nothing passes either way, and new
 * connections are accepted and never answered — a database that stops
 * answering without closing anything (a partition, a hung host), which a
 * stopped PostgreSQL (connections reset, connects refused) does not show.
 *
 * @module
 */

interface Pair {
  client: Deno.Conn;
  server: Deno.Conn | null;
}

/** The proxy; {@link PgProxy.url} rewrites a cluster URL to go through it. */
export class PgProxy {
  readonly port: number;
  readonly #listener: Deno.Listener;
  readonly #target: number;
  readonly #pairs = new Set<Pair>();
  #blackhole = false;
  #accepting: Promise<void>;

  private constructor(listener: Deno.Listener, target: number) {
    this.#listener = listener;
    this.#target = target;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  /** Listen on a free loopback port, forwarding to `targetPort`. */
  static start(targetPort: number): PgProxy {
    return new PgProxy(Deno.listen({ hostname: "127.0.0.1", port: 0 }), targetPort);
  }

  /** `url` (a cluster URL on 127.0.0.1) pointed at the proxy. */
  url(url: string): string {
    const u = new URL(url);
    u.port = String(this.port);
    return u.toString();
  }

  /** Connections currently open through the proxy. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Stop passing anything; keep every connection open; accept and ignore new ones. */
  blackhole(): void {
    this.#blackhole = true;
  }

  /** Pass traffic again for new connections; the black-holed ones are closed (reset). */
  restore(): void {
    this.#blackhole = false;
    for (const p of [...this.#pairs]) this.#drop(p);
  }

  /** Close the listener and every connection. */
  async close(): Promise<void> {
    this.#listener.close();
    for (const p of [...this.#pairs]) this.#drop(p);
    await this.#accepting;
  }

  #drop(p: Pair): void {
    this.#pairs.delete(p);
    for (const c of [p.client, p.server]) {
      try {
        c?.close();
      } catch {
        // already closed
      }
    }
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.Conn;
      try {
        client = await this.#listener.accept();
      } catch {
        return; // closed
      }
      const pair: Pair = { client, server: null };
      this.#pairs.add(pair);
      if (this.#blackhole) {
        void this.#pump(client, null, pair); // read and drop
        continue;
      }
      try {
        pair.server = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
      } catch {
        this.#drop(pair);
        continue;
      }
      void this.#pump(client, pair.server, pair);
      void this.#pump(pair.server, client, pair);
    }
  }

  async #pump(from: Deno.Conn, to: Deno.Conn | null, pair: Pair): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        if (this.#blackhole || to === null) continue; // swallowed
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }
    } catch {
      // reset or closed
    }
    this.#drop(pair);
  }
}
