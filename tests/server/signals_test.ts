/**
 * Signals reach the server the way a user runs it: the README's
 * `npx -y deno@2.9.6 task …` (npm exec → sh -c → deno task → deno run), in
 * its own process group like a terminal's foreground job. Ctrl-C (SIGINT to
 * the group) and a supervisor's SIGTERM to the group both end in the
 * graceful shutdown: a request in flight when the signal arrives is
 * answered, the "stopped" line is printed, the KV write-ahead files are
 * gone, and no process of the tree is left. (Before: the wrappers forward
 * the same SIGINT again; the server had already removed its listener, so
 * Deno's default action killed it halfway through the shutdown.)
 *
 * And the README's own server command, `npx -y -p deno@2.9.6 -c 'exec deno
 * run … serve …'` (taken from the README), signalled the way a supervisor or
 * `kill PID` does: SIGTERM or SIGINT to the npx process alone reaches the
 * server (npm forwards it to its child, which `exec` made the server), and a
 * SIGKILLed npx leaves no orphan (the server sees its parent go and shuts
 * down the same way). (Before: npm → sh → deno task → deno run; npm forwarded
 * the signal to sh, which died, and the server ran on as an orphan.) A
 * server npm did not start keeps running when its parent exits (`nohup
 * regledger serve &`): it does not watch its parent.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

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
    if (done) throw new Error(`stream ended before ${re}: ${seen.text}`);
    seen.text += dec.decode(value, { stream: true });
  }
}

/** Like readUntil, but failing (not hanging) when the text does not come within `ms`. */
async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  seen: { text: string },
  re: RegExp,
  ms: number,
): Promise<RegExpExecArray> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      readUntil(reader, seen, re),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no ${re} within ${ms} ms; stderr so far:\n${seen.text}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A `POST /v1/verify` whose headers and first half of the body are sent now (then 200 ms
 * pass); `finish()` sends the rest and returns everything the server answered.
 */
async function halfSentRequest(
  port: number,
  token: string,
): Promise<{ finish(): Promise<string> }> {
  const body = JSON.stringify({ envelope: { not: "an envelope" }, padding: "x".repeat(2000) });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const enc = new TextEncoder();
  await conn.write(enc.encode(
    `POST /v1/verify HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\n` +
      `content-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n` +
      body.slice(0, 1000),
  ));
  await new Promise((r) => setTimeout(r, 200));
  return {
    finish: async () => {
      await conn.write(enc.encode(body.slice(1000)));
      let answer = "";
      const buf = new Uint8Array(65536);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        answer += new TextDecoder().decode(buf.subarray(0, n));
      }
      conn.close();
      return answer;
    },
  };
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test({
    name: `serve via npx → deno task: ${signal} to the process group drains and stops cleanly`,
    sanitizeResources: false,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "regledger-signals-" });
      // setsid: a process group of its own, as a terminal gives a foreground job.
      const child = new Deno.Command("setsid", {
        args: [
          "npx",
          "-y",
          "deno@2.9.6",
          "task",
          "-q",
          "cli",
          "serve",
          "--port",
          "0",
          "--data",
          `${dir}/data`,
        ],
        cwd: ROOT,
        env: { REGLEDGER_ACCESS_LOG: "0" },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const reader = child.stderr.getReader();
      const seen = { text: "" };
      try {
        const port = Number(
          (await readUntil(reader, seen, /listening on http:\/\/127\.0\.0\.1:(\d+)\//))[1],
        );
        const token = (await Deno.readTextFile(`${dir}/data/admin-token`)).trim();
        // A request in flight: headers and half of the body sent before the signal.
        const inFlight = await halfSentRequest(port, token);
        // The whole group, as the terminal (Ctrl-C) or a supervisor does.
        const kill = await new Deno.Command("kill", {
          args: [`-${signal.slice(3)}`, "--", `-${child.pid}`],
        })
          .output();
        assert.ok(kill.success, new TextDecoder().decode(kill.stderr));
        await readUntil(reader, seen, /shutting down/);
        const answer = await inFlight.finish();
        assert.match(
          answer,
          /^HTTP\/1\.1 (200|4\d\d) /,
          `in-flight request not answered: ${answer}`,
        );
        await readUntil(reader, seen, /regledger: stopped/);
        const status = await child.status;
        assert.ok(
          status.code === 0 || status.signal !== null || status.code === 130 || status.code === 143,
          JSON.stringify(status),
        );
        for (const f of ["ledger.kv-wal", "ledger.kv-shm"]) {
          assert.equal(await exists(`${dir}/data/${f}`), false, `${f} left behind`);
        }
        // Nothing of the tree is left running (the wrappers may take a moment to exit).
        let left: string[] = [];
        for (let i = 0; i < 100; i++) {
          const ps = await new Deno.Command("ps", { args: ["-eo", "args"], stdout: "piped" })
            .output();
          left = new TextDecoder().decode(ps.stdout).split("\n").filter((l) =>
            l.includes(`${dir}/data`)
          );
          if (left.length === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(left, []);
      } finally {
        try {
          Deno.kill(-child.pid, "SIGKILL");
        } catch { /* already gone */ }
        await reader.cancel().catch(() => {});
        await child.status;
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

/** The README's command that starts the server on 8080: `npx … -c '…'`, split into npx's arguments. */
async function readmeServerCommand(): Promise<{ npxArgs: string[]; script: string }> {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const m = readme.match(/^npx ((?:\S+ )+?)-c '([^'\n]* serve [^'\n]*--port 8080[^'\n]*)'/m);
  assert.ok(m, "the README starts the server with npx … -c '… serve … --port 8080 …'");
  return { npxArgs: m[1].trim().split(" "), script: m[2] };
}

/** Processes whose command line names `needle` (the test's own data directory). */
async function processesNaming(needle: string): Promise<string[]> {
  const ps = await new Deno.Command("ps", { args: ["-eo", "pid,args"], stdout: "piped" }).output();
  return new TextDecoder().decode(ps.stdout).split("\n").filter((l) => l.includes(needle));
}

for (const signal of ["SIGTERM", "SIGINT", "SIGKILL"] as const) {
  Deno.test({
    name: `README's server command: ${signal} to the npx process alone${
      signal === "SIGKILL" ? " (the server sees its parent go)" : ""
    } drains and stops cleanly, nothing left running`,
    sanitizeResources: false,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "regledger-signals-npx-" });
      const { npxArgs, script } = await readmeServerCommand();
      const mine = script.replace("--port 8080", "--port 0").replace(
        "--data ./data",
        `--data ${dir}/data`,
      );
      assert.notEqual(mine, script.replace("--port 8080", "--port 0"), "README uses --data ./data");
      // setsid only so that the finally below can clean up the whole tree; the signals
      // under test go to the npx pid alone.
      const child = new Deno.Command("setsid", {
        args: ["npx", ...npxArgs, "-c", mine],
        cwd: ROOT,
        env: { REGLEDGER_ACCESS_LOG: "0" },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const reader = child.stderr.getReader();
      const seen = { text: "" };
      try {
        const port = Number(
          (await readUntil(reader, seen, /listening on http:\/\/127\.0\.0\.1:(\d+)\//))[1],
        );
        // npx's own child is the server (no sh, no deno task between them).
        const tree = await processesNaming(`${dir}/data`);
        assert.equal(tree.length, 1, `one process, the server: ${tree.join("\n")}`);
        const ppid = new TextDecoder().decode(
          (await new Deno.Command("ps", {
            args: ["-o", "ppid=", "-p", tree[0].trim().split(/\s+/)[0]],
            stdout: "piped",
          }).output()).stdout,
        ).trim();
        assert.equal(Number(ppid), child.pid, "the server is npx's child");

        const token = (await Deno.readTextFile(`${dir}/data/admin-token`)).trim();
        // A request in flight: headers and half of the body sent before the signal.
        const inFlight = await halfSentRequest(port, token);
        // The npx process alone, as `kill PID`, a supervisor with KillMode=process, or the OOM killer.
        Deno.kill(child.pid, signal);
        await readWithin(
          reader,
          seen,
          signal === "SIGKILL" ? /parent process \d+ is gone.*shutting down/ : /shutting down/,
          60_000,
        );
        if (signal !== "SIGKILL") {
          // The signal itself reached the server (not the parent watch, after npx died).
          assert.doesNotMatch(seen.text, /is gone/);
        }
        const answer = await inFlight.finish();
        assert.match(
          answer,
          /^HTTP\/1\.1 (200|4\d\d) /,
          `in-flight request not answered: ${answer}`,
        );
        await readWithin(reader, seen, /regledger: stopped/, 60_000);
        for (const f of ["ledger.kv-wal", "ledger.kv-shm"]) {
          assert.equal(await exists(`${dir}/data/${f}`), false, `${f} left behind`);
        }
        let left: string[] = [];
        for (let i = 0; i < 100; i++) {
          left = await processesNaming(`${dir}/data`);
          if (left.length === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(left, [], "a process of the tree is still running");
        await child.status;
      } finally {
        try {
          Deno.kill(-child.pid, "SIGKILL");
        } catch { /* already gone */ }
        for (const l of await processesNaming(`${dir}/data`)) {
          try {
            Deno.kill(Number(l.trim().split(/\s+/)[0]), "SIGKILL");
          } catch { /* already gone */ }
        }
        await reader.cancel().catch(() => {});
        await child.status;
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "serve not started by npm outlives its parent (nohup regledger serve &): no parent watch",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-signals-nohup-" });
    // No npm_* variables: the environment of a login shell.
    const env: Record<string, string> = { REGLEDGER_ACCESS_LOG: "0" };
    for (const k of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
      const v = Deno.env.get(k);
      if (v !== undefined) env[k] = v;
    }
    let pid = 0;
    let stopped = false;
    try {
      // The shell starts the server in the background and exits when it is up.
      const sh = await new Deno.Command("bash", {
        args: [
          "-c",
          `"$0" run --allow-read --allow-write --allow-env --allow-net=127.0.0.1,localhost ` +
          `--allow-sys=hostname cli/main.ts serve --port 0 --data "$1/data" 2> "$1/stderr" ` +
          `< /dev/null > /dev/null & echo $!; ` +
          // The shell exits once the server listens (it watches its parent from then on).
          `until grep -q 'listening on' "$1/stderr" 2>/dev/null; do sleep 0.1; done`,
          Deno.execPath(),
          dir,
        ],
        cwd: ROOT,
        env,
        clearEnv: true,
        stdout: "piped",
      }).output();
      pid = Number(new TextDecoder().decode(sh.stdout).trim());
      assert.ok(pid > 0);
      let port = 0;
      for (let i = 0; i < 600 && port === 0; i++) {
        const text = await Deno.readTextFile(`${dir}/stderr`).catch(() => "");
        port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(text)?.[1] ?? 0);
        if (port === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(port > 0, "the server started");
      // Its parent (bash) is gone; let several of the would-be watch's 1 s checks pass.
      await new Promise((r) => setTimeout(r, 3000));
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(r.status, 200);
      await r.body?.cancel();
      assert.doesNotMatch(await Deno.readTextFile(`${dir}/stderr`), /is gone|shutting down/);
      // It still stops cleanly on SIGTERM.
      Deno.kill(pid, "SIGTERM");
      let text = "";
      for (let i = 0; i < 600 && !/regledger: stopped/.test(text); i++) {
        await new Promise((r) => setTimeout(r, 100));
        text = await Deno.readTextFile(`${dir}/stderr`);
      }
      assert.match(text, /regledger: stopped/);
      stopped = true;
    } finally {
      if (pid > 0 && !stopped) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* already gone */ }
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
