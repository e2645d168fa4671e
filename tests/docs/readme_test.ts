/**
 * The README works as written for a newcomer with only Node.js/npm: every
 * `sh` block runs, in order, in a fresh `bash` (no shell state carried over
 * but files), at the root of a copy of this checkout, with a `PATH` on which
 * `deno` is not found (only `npx`). Blocks that start a server run in the
 * background, as the README says to, and are stopped at the end; the `ts`
 * block is saved under the name the README gives. The opening block's test
 * command is the suite this test belongs to: it is checked to be `.ci/run`'s,
 * not run.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const NPX_DENO = "npx -y deno@2.9.6";
/** The README's way to start a server: `npx -y -p deno@2.9.6 -c 'exec deno run … serve …'`. */
const NPX_EXEC = /npx -y -p deno@2\.9\.6 -c 'exec deno run [^']*'/g;

interface Block {
  lang: "sh" | "ts";
  code: string;
  /** The prose between the previous block and this one. */
  before: string;
}

function readmeBlocks(text: string): Block[] {
  const out: Block[] = [];
  let last = 0;
  for (const m of text.matchAll(/```(sh|ts)\n([\s\S]*?)```/g)) {
    out.push({ lang: m[1] as "sh" | "ts", code: m[2], before: text.slice(last, m.index) });
    last = m.index! + m[0].length;
  }
  return out;
}

/** Copy the checkout's files (not its git data, logs or build output) to `to`. */
async function copyTree(from: string, to: string, rel = ""): Promise<void> {
  const skip = new Set([".git", "data", "tour", "dist", "node_modules", "my-log", "example.ts"]);
  for await (const e of Deno.readDir(from + rel)) {
    if (rel === "" && skip.has(e.name)) continue;
    const path = `${rel}/${e.name}`;
    if (e.isDirectory) {
      await Deno.mkdir(to + path);
      await copyTree(from, to, path);
    } else if (e.isFile) {
      await Deno.copyFile(from + path, to + path);
    }
  }
}

/** A PATH with `node`, `npm` and `npx` but no `deno`: this PATH's directories without one. */
async function pathWithoutDeno(binDir: string): Promise<string> {
  const dirs = (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":").filter((d) => d !== "");
  const has = async (dir: string, name: string) => {
    try {
      await Deno.stat(`${dir}/${name}`);
      return true;
    } catch {
      return false;
    }
  };
  const kept: string[] = [];
  for (const d of dirs) {
    if (await has(d, "deno")) {
      // node/npm/npx may live beside deno: link them alone.
      for (const tool of ["node", "npm", "npx"]) {
        if (await has(d, tool) && !(await has(binDir, tool))) {
          await Deno.symlink(await Deno.realPath(`${d}/${tool}`), `${binDir}/${tool}`);
        }
      }
    } else kept.push(d);
  }
  return [binDir, ...kept].join(":");
}

/** The environment of a new login shell: no REGLEDGER_* or other state of this process. */
function freshEnv(path: string): Record<string, string> {
  const env: Record<string, string> = { PATH: path };
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (
      ["HOME", "USER", "LANG", "TMPDIR", "DENO_DIR", "XDG_CACHE_HOME", "NO_PROXY"].includes(k) ||
      /^(npm_config_|NPM_CONFIG_|HTTPS?_PROXY$)/i.test(k)
    ) env[k] = v;
  }
  return env;
}

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

async function waitHealthy(port: number, server: { exited: boolean; log: () => string }) {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    assert.ok(!server.exited, `the server on ${port} exited:\n${server.log()}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* not yet listening */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`the README's server on port ${port} did not come up:\n${server.log()}`);
}

Deno.test({
  name: "README: every command works pasted into a fresh shell, in order, with only npx",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const readme = await Deno.readTextFile(`${ROOT}README.md`);
    const blocks = readmeBlocks(readme);
    const sh = blocks.filter((b) => b.lang === "sh");
    // Nothing calls a bare `deno`: a newcomer has only npx.
    for (const b of sh) {
      for (const line of b.code.split("\n")) {
        const bare = line.replaceAll(NPX_DENO, "").replaceAll(NPX_EXEC, "").match(
          /(^|[\s;|&(`$])deno\s/,
        );
        assert.equal(bare, null, `README runs deno without npx: ${line}`);
      }
    }
    // The opening: start the server, run the whole suite (.ci/run runs exactly that command).
    const opening = sh[0].code.split("\n").map((l) => l.replace(/(^|\s+)#.*$/, "").trim())
      .filter((l) => l !== "");
    assert.equal(opening.length, 2, opening.join("\n"));
    assert.equal(opening[1], `${NPX_DENO} task test`);
    // The server: the `serve` task's own `deno run`, exec'd by npx so that npm's forwarded
    // SIGTERM/SIGINT reach the server (tests/server/signals_test.ts); the same permissions.
    const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
    assert.equal(opening[0], `npx -y -p deno@2.9.6 -c 'exec ${tasks.serve}'`);
    const permissions = (cmd: string) => cmd.match(/deno run (.*?) cli\/main\.ts serve /)?.[1];
    for (const b of sh) {
      for (const cmd of b.code.match(NPX_EXEC) ?? []) {
        assert.equal(permissions(cmd), permissions(tasks.serve), `not the serve task's: ${cmd}`);
      }
    }
    const ci = await Deno.readTextFile(`${ROOT}.ci/run`);
    assert.match(ci, new RegExp(`^${NPX_DENO.replaceAll(".", "\\.")} task test$`, "m"));

    const work = await Deno.makeTempDir({ prefix: "regledger-readme-" });
    const bin = await Deno.makeTempDir({ prefix: "regledger-readme-bin-" });
    const servers: { child: Deno.ChildProcess; done: Promise<Deno.CommandOutput> }[] = [];
    try {
      await copyTree(ROOT, work);
      const env = freshEnv(await pathWithoutDeno(bin));
      const which = await new Deno.Command("bash", {
        args: ["-c", "command -v deno || true; command -v npx"],
        env,
        clearEnv: true,
        stdout: "piped",
      }).output();
      const found = new TextDecoder().decode(which.stdout).trim().split("\n");
      assert.equal(found.length, 1, `deno must not be on the test's PATH: ${found}`);

      const background = async (code: string) => {
        const port = Number(code.match(/--port (\d+)/)?.[1] ?? 8080);
        assert.ok(portFree(port), `port ${port} is taken before the README's server starts`);
        // Its own process group, so stopping it stops npx and the server.
        const child = new Deno.Command("setsid", {
          args: ["bash", "-c", code],
          cwd: work,
          env,
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const state = { exited: false, log: () => "" };
        const done = child.output();
        done.then((o) => {
          state.exited = true;
          state.log = () => new TextDecoder().decode(o.stderr);
        });
        servers.push({ child, done });
        await waitHealthy(port, state);
      };
      const outputs: string[] = [];
      const runBlock = async (code: string) => {
        const out = await new Deno.Command("bash", {
          args: ["-e", "-o", "pipefail", "-c", code],
          cwd: work,
          env,
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stdout = new TextDecoder().decode(out.stdout);
        assert.equal(
          out.code,
          0,
          `README block failed:\n${code}\n--- stdout\n${stdout}\n--- stderr\n${
            new TextDecoder().decode(out.stderr)
          }`,
        );
        outputs.push(stdout);
        return stdout;
      };

      await background(opening[0]);
      for (const b of blocks.slice(1)) {
        if (b.lang === "ts") {
          const name = b.before.match(/Save as `([^`]+)`/)?.[1];
          assert.ok(name, "the README says where to save its library example");
          await Deno.writeTextFile(`${work}/${name}`, b.code);
        } else if (/ serve( |$)/m.test(b.code)) {
          await background(b.code);
        } else {
          await runBlock(b.code);
        }
      }

      // What the tour promises, step by step.
      const all = outputs.join("\n");
      const trust = JSON.parse(await Deno.readTextFile(`${work}/tour/trust.json`));
      assert.deepEqual(Object.keys(trust.keys), ["acme-1"]);
      const envelope = JSON.parse(await Deno.readTextFile(`${work}/tour/envelope.json`));
      assert.equal(envelope.issuer, "Acme Bank", "signed as the key file's issuer");
      assert.equal(envelope.receipt.key_id, "acme-1", "with the trust store's key id");
      assert.match(all, /"valid": true/);
      assert.match(all, /"ok": true,\s+"size": 1/, "the auditor's remote audit passed");
      assert.match(all, /^0 +\S+ +Acme Bank +fairness +acme-1$/m, "the listed entry");
      assert.match(all, /valid: true/, "the library example verified its envelope");
      assert.match(all, /^0 false$/m, "and appended it as entry 0");
    } finally {
      for (const s of servers) {
        try {
          Deno.kill(-s.child.pid, "SIGTERM");
        } catch { /* already gone */ }
        await s.done;
      }
      await Deno.remove(work, { recursive: true });
      await Deno.remove(bin, { recursive: true });
    }
  },
});
