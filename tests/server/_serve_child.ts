/**
 * `regledger serve` as a child process on 127.0.0.1:0 for end-to-end tests:
 * started with the test tokens and extra arguments, its stderr collected
 * (status lines and the witnessing's JSON event lines), stopped with SIGTERM.
 */
import { TOKENS } from "./_helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

export interface ServeChild {
  /** The child process (for signals other than `stop`'s SIGTERM). */
  proc: Deno.ChildProcess;
  /** Resolves when it exited. */
  exit: Promise<Deno.CommandStatus>;
  /** `http://127.0.0.1:PORT`. */
  base: string;
  stderr: string[];
  /** SIGTERM and wait for the exit; returns the exit code. */
  stop(): Promise<number>;
}

/** Start `serve --data dir ...args` and wait for its "listening" line. */
export async function startServeChild(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeChild> {
  const keys = Object.entries(TOKENS).map(([scope, token]) => `${token}:${scope}`).join(";");
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1,localhost",
      "--allow-sys=hostname",
      MAIN,
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--data",
      dir,
      ...args,
    ],
    cwd: ROOT,
    env: {
      REGLEDGER_API_KEYS: keys,
      REGLEDGER_RATE_LIMIT: "0",
      REGLEDGER_ACCESS_LOG: "0",
      NO_COLOR: "1",
      ...env,
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr: string[] = [];
  const reader = proc.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let base: string | undefined;
  const deadline = Date.now() + 60_000;
  while (base === undefined) {
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`serve did not start: ${stderr.join("\n")}`);
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${stderr.join("\n")}`);
    buf += value;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      stderr.push(line);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(line);
      if (m) base = m[1];
    }
  }
  const drained = (async () => {
    for (;;) {
      // A killed child may end its stderr with an error: that is the end too.
      const { value, done } = await reader.read().catch(() => ({ value: "", done: true }));
      if (done) break;
      buf += value;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        stderr.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
  })();
  return {
    proc,
    exit: proc.status,
    base,
    stderr,
    stop: async () => {
      try {
        proc.kill("SIGTERM");
      } catch { /* already gone */ }
      const st = await proc.status;
      await drained;
      return st.code;
    },
  };
}

/** `fetch` with a scope's bearer token. */
export function fetchAs(
  scope: keyof typeof TOKENS,
  url: string,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${TOKENS[scope]}`);
  return fetch(url, { ...init, headers });
}
