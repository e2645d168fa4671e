/**
 * Hostile connections cannot stop the server (issue 12). `serve` runs as a
 * child process under a low descriptor limit (`ulimit -n 256`, so the
 * default connection cap derived from it is small), and the test opens
 * several times that cap of connections that never finish a request: idle
 * ones, ones that send half a header, one that sends half a body, and one
 * left idle after a complete request. The server stays up, refuses
 * connections over its cap with a 503, closes every slow or idle one by
 * itself (the test waits for the server's end-of-stream, it never closes
 * them), and `/healthz` answers once they are gone.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const enc = new TextEncoder();

async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  seen: { text: string },
  re: RegExp,
): Promise<RegExpExecArray> {
  const dec = new TextDecoder();
  for (;;) {
    const m = re.exec(seen.text);
    if (m) return m;
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve ended before ${re}: ${seen.text}`);
    seen.text += dec.decode(value, { stream: true });
  }
}

/** Read until the server ends the stream; what it sent. */
async function untilServerCloses(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(4096);
  let got = "";
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.ConnectionReset)) return `client error: ${(e as Error).name}`;
  }
  return got;
}

Deno.test({
  name:
    "connections: several times the cap of idle and slow clients; the server closes them and stays up",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-conns-" });
    const deno = Deno.execPath();
    const child = new Deno.Command("bash", {
      args: [
        "-c",
        `ulimit -n 256 && exec "$0" run --allow-read --allow-write --allow-env ` +
        `--allow-net=127.0.0.1,localhost --allow-sys=hostname cli/main.ts serve --port 0 --data "$1"`,
        deno,
        `${dir}/data`,
      ],
      cwd: ROOT,
      env: {
        REGLEDGER_ACCESS_LOG: "0",
        REGLEDGER_HEADERS_TIMEOUT_MS: "1000",
        REGLEDGER_KEEPALIVE_TIMEOUT_MS: "1000",
        REGLEDGER_REQUEST_TIMEOUT_MS: "2000",
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.getReader();
    const seen = { text: "" };
    const conns: Deno.Conn[] = [];
    try {
      const port = Number(
        (await readUntil(reader, seen, /listening on http:\/\/127\.0\.0\.1:(\d+)\//))[1],
      );
      const cap = Number((await readUntil(reader, seen, /at most (\d+) connections/))[1]);
      assert.ok(cap >= 16 && cap < 100, `cap ${cap} not derived from ulimit -n 256`);
      const open = () => Deno.connect({ hostname: "127.0.0.1", port });
      const closed: Promise<string>[] = [];
      // 4 × cap connections: idle, half a header, half a body, idle after a request.
      const n = 4 * cap;
      for (let i = 0; i < n; i++) {
        const c = await open();
        conns.push(c);
        const kind = i % 4;
        if (kind === 1) await c.write(enc.encode("GET /healthz HTTP/1.1\r\nhost: x\r\n"));
        if (kind === 2) {
          await c.write(enc.encode(
            "POST /v1/verify HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
              "content-length: 1000\r\n\r\n{",
          ));
        }
        if (kind === 3) await c.write(enc.encode("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"));
        closed.push(untilServerCloses(c));
      }
      // Generous: the server's limits are 1-2 s; without them nothing is ever closed.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answers = await Promise.race([
        Promise.all(closed),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("the server left idle or slow connections open for 60 s")),
            60_000,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      // Over the cap: refused with a 503 at once; the rest closed by the server's timeouts.
      const refused = answers.filter((a) => a.startsWith("HTTP/1.1 503")).length;
      // (Connections the server closed while the test was still opening more made room.)
      assert.ok(refused >= cap, `only ${refused} of ${n} refused over a cap of ${cap}`);
      const served = answers.filter((a) => /^HTTP\/1\.1 200/.test(a)).length;
      assert.ok(served >= 1, "no keep-alive request was answered before its idle close");
      // The server is still up and answers.
      const h = await fetch(`http://127.0.0.1:${port}/healthz`).catch(async (e) => {
        const rest = await Promise.race([
          reader.read().then((r) => new TextDecoder().decode(r.value ?? new Uint8Array())),
          new Promise<string>((r) => setTimeout(() => r(""), 2000)),
        ]);
        throw new Error(`${e}; server said: ${seen.text}${rest}`);
      });
      assert.equal(h.status, 200);
      await h.body?.cancel();
      assert.ok(!seen.text.includes("Uncaught"), seen.text);
      child.kill("SIGTERM");
      await readUntil(reader, seen, /regledger: stopped/);
      assert.equal((await child.status).code, 0);
    } finally {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed by the server */ }
      }
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await reader.cancel().catch(() => {});
      await child.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
