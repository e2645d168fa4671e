/**
 * The CLI and `serve` on a log whose store lost signed entries, whose log key
 * is missing, whose KV file is not a database or whose head is corrupt: each
 * is named (exit 2 with a message, or `ledger verify`'s `{ok:false, reason}`
 * with exit 1), never a stack trace, a silent new log or a fresh log key.
 */
import assert from "node:assert/strict";
import { runCli } from "./_capture.ts";
import { HEAD_KEY } from "../../ledger/kv_layout.ts";

const FIX = new URL("../fixtures/regaudit-fhe/envelopes/", import.meta.url);
const env = (name: string) => new URL(`${name}.json`, FIX).pathname;

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-state-cli-" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function removeKv(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith("ledger.kv")) await Deno.remove(`${dir}/${e.name}`);
  }
}

function noStack(text: string): void {
  assert.doesNotMatch(text, /\n\s+at /, text);
}

/** `serve` in-process: these stores must make it refuse before it listens. */
function serve(dir: string, ...extra: string[]) {
  return runCli("serve", "--data", dir, "--port", "0", ...extra);
}

Deno.test("CLI: a deleted ledger.kv is refused by append and serve; the explicit flag starts a new log", async () => {
  await withDir(async (dir) => {
    assert.equal(
      (await runCli("ledger", "append", "--data", dir, "-i", env("drift-valid"))).code,
      0,
    );
    assert.equal(
      (await runCli("ledger", "append", "--data", dir, "-i", env("fairness-valid"))).code,
      0,
    );
    await removeKv(dir);
    const r = await runCli("ledger", "append", "--data", dir, "-i", env("calibration-valid"));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /behind the log: it holds 0 entries.*size 2/);
    noStack(r.stderr);
    const s = await serve(dir);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /refusing to start: the store is behind the log/);
    noStack(s.stderr);
    const v = await runCli("ledger", "verify", "--data", dir);
    assert.equal(v.code, 1);
    assert.equal(JSON.parse(v.stdout).ok, false);
    assert.match(JSON.parse(v.stdout).reason, /behind the log/);
    const forced = await runCli(
      "ledger",
      "append",
      "--data",
      dir,
      "-i",
      env("calibration-valid"),
      "--new-log-under-existing-key",
    );
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(JSON.parse(forced.stdout).tree_size, 1);
    const bad = await runCli("ledger", "verify", "--data", dir, "--new-log-under-existing-key");
    assert.equal(bad.code, 2);
  });
});

Deno.test("CLI: a missing log key is never created by reads; serve refuses with a message", async () => {
  await withDir(async (dir) => {
    assert.equal(
      (await runCli("ledger", "append", "--data", dir, "-i", env("drift-valid"))).code,
      0,
    );
    await Deno.remove(`${dir}/log-key`);
    for (const sub of ["verify", "checkpoint"]) {
      const r = await runCli("ledger", sub, "--data", dir);
      assert.equal(r.code, 2, sub);
      assert.match(r.stderr, /no log key at .*log-key/);
      noStack(r.stderr);
    }
    await assert.rejects(() => Deno.stat(`${dir}/log-key`), Deno.errors.NotFound);
    const s = await serve(dir);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /log key .*log-key is missing/);
    noStack(s.stderr);
    await assert.rejects(() => Deno.stat(`${dir}/log-key`), Deno.errors.NotFound);
  });
});

Deno.test("CLI: a KV file that is not a database: verify {ok:false, reason} exit 1, serve exit 2", async () => {
  await withDir(async (dir) => {
    assert.equal(
      (await runCli("ledger", "append", "--data", dir, "-i", env("drift-valid"))).code,
      0,
    );
    await removeKv(dir);
    await Deno.writeFile(`${dir}/ledger.kv`, new TextEncoder().encode("not sqlite ".repeat(500)));
    const v = await runCli("ledger", "verify", "--data", dir);
    assert.equal(v.code, 1, v.stderr);
    const out = JSON.parse(v.stdout);
    assert.equal(out.ok, false);
    assert.match(out.reason, /is not a Deno KV database/);
    noStack(v.stderr);
    const s = await serve(dir);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /refusing to start: .*is not a Deno KV database/);
    noStack(s.stderr);
  });
});

Deno.test("CLI: a head claiming unstored entries: verify names the index at once; serve refuses", async () => {
  await withDir(async (dir) => {
    assert.equal(
      (await runCli("ledger", "append", "--data", dir, "-i", env("drift-valid"))).code,
      0,
    );
    const kv = await Deno.openKv(`${dir}/ledger.kv`);
    try {
      const v = (await kv.get<Uint8Array>(HEAD_KEY)).value!.slice();
      v[3] ^= 0x3f; // size 1 -> 270,582,939,649
      await kv.set(HEAD_KEY, v);
    } finally {
      kv.close();
    }
    const t0 = performance.now();
    const v = await runCli("ledger", "verify", "--data", dir);
    assert.ok(performance.now() - t0 < 10_000);
    assert.equal(v.code, 1);
    const out = JSON.parse(v.stdout);
    assert.equal(out.first_bad_index, 1);
    assert.match(out.reason, /entry 1 is not stored/);
    // Refused by the signed-head check, and without it by the start-up checks.
    const s = await serve(dir);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /entry 1 is not stored/);
    await Deno.remove(`${dir}/signed-head`);
    const s2 = await serve(dir);
    assert.equal(s2.code, 2);
    assert.match(s2.stderr, /refusing to start: head: it claims .* entry 1 is not stored/);
    noStack(s2.stderr);
  });
});

Deno.test("serve: --new-log-under-existing-key starts on an emptied store and keeps the old record aside", async () => {
  const { startServer } = await import("../../server/serve.ts");
  const { DEFAULT_CONFIG } = await import("../../server/config.ts");
  await withDir(async (dir) => {
    assert.equal(
      (await runCli("ledger", "append", "--data", dir, "-i", env("drift-valid"))).code,
      0,
    );
    await removeKv(dir);
    const config = { ...DEFAULT_CONFIG, devMode: true };
    const server = await startServer({
      dataDir: dir,
      port: 0,
      config,
      signals: false,
      status: () => {},
      newLogUnderExistingKey: true,
    });
    try {
      const cp = await (await fetch(`http://127.0.0.1:${server.addr.port}/v1/log/checkpoint`))
        .text();
      assert.equal(cp.split("\n")[1], "0");
    } finally {
      await server.shutdown();
      await server.finished;
    }
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.ok(names.some((n) => n.startsWith("signed-head.replaced-")), names.join());
  });
});
