/**
 * A small Chrome DevTools Protocol client that drives Debian's Chromium
 * (`/usr/bin/chromium`, headless) for the console's browser tests and
 * benchmark.
 *
 * Why not playwright-core: under the test permissions (`--allow-read
 * --allow-write --allow-env --allow-net=127.0.0.1,localhost --allow-run
 * --allow-sys`) playwright-core 1.65 cannot even load — it probes
 * `/proc/sys/fs/binfmt_misc/WSLInterop`, which Deno only lets `--allow-all`
 * read. CDP over the browser's own WebSocket needs nothing beyond those
 * permissions, and the handful of commands the tests use fit here.
 *
 * @module
 */

/** The Chromium binary the tests drive (installed by apt; `.ci/run` installs it). */
export const CHROMIUM = "/usr/bin/chromium";

type Json = Record<string, unknown>;
type Handler = (params: Json, sessionId?: string) => void;

/** A CDP failure, naming the method. */
export class CdpError extends Error {
  /** Build from the method and the protocol's message. */
  constructor(method: string, message: string) {
    super(`${method}: ${message}`);
    this.name = "CdpError";
  }
}

class Connection {
  #ws: WebSocket;
  #id = 0;
  #pending = new Map<
    number,
    { resolve: (v: Json) => void; reject: (e: Error) => void; m: string }
  >();
  #handlers = new Map<string, Set<Handler>>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data as string);
      if (typeof msg.id === "number") {
        const p = this.#pending.get(msg.id);
        if (!p) return;
        this.#pending.delete(msg.id);
        if (msg.error) p.reject(new CdpError(p.m, msg.error.message));
        else p.resolve(msg.result ?? {});
      } else if (typeof msg.method === "string") {
        for (const h of this.#handlers.get(msg.method) ?? []) h(msg.params ?? {}, msg.sessionId);
      }
    };
    ws.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new CdpError(p.m, "connection closed"));
      this.#pending.clear();
    };
  }

  static open(url: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Connection(ws));
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, m: method });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(method: string, h: Handler): () => void {
    if (!this.#handlers.has(method)) this.#handlers.set(method, new Set());
    this.#handlers.get(method)!.add(h);
    return () => this.#handlers.get(method)!.delete(h);
  }

  close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    const closed = new Promise<void>((r) => this.#ws.addEventListener("close", () => r()));
    this.#ws.close();
    return closed;
  }
}

/** What a page saw: console errors and CSP or other browser-log violations. */
export interface PageLog {
  errors: string[];
}

/** One tab. */
export class Page {
  readonly #c: Connection;
  readonly #session: string;
  /** Errors the page logged (console.error, uncaught exceptions, CSP reports). */
  readonly log: PageLog = { errors: [] };
  /** Bytes received per finished network request (encoded, i.e. on the wire). */
  readonly transfers: { url: string; bytes: number }[] = [];
  #urls = new Map<string, string>();

  constructor(c: Connection, session: string) {
    this.#c = c;
    this.#session = session;
    const mine = (h: Handler): Handler => (p, s) => s === session && h(p, s);
    c.on(
      "Runtime.exceptionThrown",
      mine((p) => {
        const d = p.exceptionDetails as Json;
        this.log.errors.push(`exception: ${(d.exception as Json)?.description ?? d.text}`);
      }),
    );
    c.on(
      "Runtime.consoleAPICalled",
      mine((p) => {
        if (p.type === "error") {
          this.log.errors.push(
            `console: ${(p.args as Json[]).map((a) => a.value ?? a.description).join(" ")}`,
          );
        }
      }),
    );
    c.on(
      "Log.entryAdded",
      mine((p) => {
        const e = p.entry as Json;
        if (e.level === "error") this.log.errors.push(`${e.source}: ${e.text}`);
      }),
    );
    c.on(
      "Network.requestWillBeSent",
      mine((p) => {
        this.#urls.set(p.requestId as string, (p.request as Json).url as string);
      }),
    );
    c.on(
      "Network.loadingFinished",
      mine((p) => {
        const url = this.#urls.get(p.requestId as string) ?? "?";
        this.transfers.push({ url, bytes: p.encodedDataLength as number });
      }),
    );
  }

  /** Send a command to this tab. */
  send(method: string, params: Json = {}): Promise<Json> {
    return this.#c.send(method, params, this.#session);
  }

  /** Navigate and wait for the load event. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const off = this.#c.on("Page.loadEventFired", (_, s) => {
        if (s === this.#session) (off(), resolve());
      });
    });
    const r = await this.send("Page.navigate", { url });
    if (r.errorText) throw new CdpError("Page.navigate", String(r.errorText));
    await loaded;
  }

  /** Evaluate an expression in the page (promises awaited) and return its JSON value. */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    if (r.exceptionDetails) {
      const d = r.exceptionDetails as Json;
      throw new CdpError("Runtime.evaluate", String((d.exception as Json)?.description ?? d.text));
    }
    return (r.result as Json).value as T;
  }

  /** Wait until `expression` is truthy (polled), returning its value; fails after `ms`. */
  async waitFor<T = unknown>(expression: string, ms = 10_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await this.eval<T>(expression);
      if (v) return v;
      if (Date.now() > end) {
        throw new Error(`timed out waiting for ${expression}; errors: ${this.log.errors}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Press a key (`Tab`, `Enter`, `Escape`, `ArrowDown`…), with Shift when asked. */
  async press(key: string, shift = false): Promise<void> {
    const codes: Record<string, number> = { Tab: 9, Enter: 13, Escape: 27, " ": 32 };
    const base = {
      key,
      code: key === " " ? "Space" : key,
      windowsVirtualKeyCode: codes[key] ?? 0,
      modifiers: shift ? 8 : 0,
    };
    const text = key === "Enter" ? "\r" : key === " " ? " " : undefined;
    await this.send("Input.dispatchKeyEvent", { type: "keyDown", ...base, text });
    await this.send("Input.dispatchKeyEvent", { type: "keyUp", ...base });
  }

  /** Type text into the focused element. */
  async type(text: string): Promise<void> {
    await this.send("Input.insertText", { text });
  }

  /** A PNG screenshot of the whole page. */
  async screenshot(path: string): Promise<void> {
    const r = await this.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
    });
    await Deno.writeFile(path, Uint8Array.from(atob(r.data as string), (c) => c.charCodeAt(0)));
  }

  /** Set the viewport in CSS pixels (`scale` 2 is what 200% zoom gives a page). */
  async viewport(width: number, height: number, scale = 1): Promise<void> {
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: scale,
      mobile: false,
    });
  }
}

/** A running headless Chromium. */
export class Browser {
  readonly #proc: Deno.ChildProcess;
  readonly #c: Connection;
  readonly #profile: string;

  private constructor(proc: Deno.ChildProcess, c: Connection, profile: string) {
    this.#proc = proc;
    this.#c = c;
    this.#profile = profile;
  }

  /** Start Chromium with a throw-away profile and connect to it. */
  static async launch(): Promise<Browser> {
    const profile = await Deno.makeTempDir({ prefix: "regledger-chromium-" });
    try {
      await Deno.stat(CHROMIUM);
    } catch (e) {
      await Deno.remove(profile, { recursive: true });
      throw new Error(
        `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; .ci/run does)`,
        { cause: e },
      );
    }
    const proc = new Deno.Command(CHROMIUM, {
      args: [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--metrics-recording-only",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const url = await devtoolsUrl(proc.stderr);
    return new Browser(proc, await Connection.open(url), profile);
  }

  /** A new tab. */
  async newPage(): Promise<Page> {
    const { targetId } = await this.#c.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.#c.send("Target.attachToTarget", { targetId, flatten: true });
    const page = new Page(this.#c, sessionId as string);
    await Promise.all([
      page.send("Page.enable"),
      page.send("Runtime.enable"),
      page.send("Log.enable"),
      page.send("Network.enable"),
    ]);
    return page;
  }

  /** Close the browser, wait for it to exit and delete its profile. */
  async close(): Promise<void> {
    await this.#c.send("Browser.close").catch(() => {});
    await this.#c.close();
    const timer = setTimeout(() => {
      try {
        this.#proc.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 5000);
    await this.#proc.status;
    clearTimeout(timer);
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }
}

/** Read Chromium's stderr until it prints its DevTools WebSocket URL; drain the rest. */
async function devtoolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium exited before listening:\n${seen.slice(-2000)}`);
    seen += decoder.decode(value, { stream: true });
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
    if (m) {
      // Keep reading so the pipe never fills and blocks the browser.
      (async () => {
        try {
          while (!(await reader.read()).done) { /* drain */ }
        } catch { /* closed */ }
      })();
      return m[1];
    }
  }
}
