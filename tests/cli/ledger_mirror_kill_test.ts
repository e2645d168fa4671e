/**
 * `regledger ledger mirror` as a real process, SIGKILLed mid-copy: a proxy
 * in front of the log server holds every entry bundle from the fifth on, so
 * the child is stuck mid-way with entries staged on disk (its `--progress`
 * lines say how many); it is killed there, then run again through the
 * proxy without the hold. The rerun keeps what was staged (fetching only
 * the bundles it did not hold), `ledger verify --data DIR` audits the
 * result clean, and the mirror's entries, head and checkpoint are the
 * source log's.
 */
import assert from "node:assert/strict";
import { bytesEqual } from "../../core/bytes.ts";
import { LogClient } from "../../ledger/client.ts";
import { KvStore } from "../../ledger/kv_store.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { DEFAULT_CONFIG, parseApiKeys } from "../../server/config.ts";
import { startServer } from "../../server/serve.ts";
import { makeEnvelope } from "../ledger/_helpers.ts";
import { runCli } from "./_capture.ts";

const TRUST = new URL("../fixtures/regaudit-fhe/trust_store.json", import.meta.url).pathname;
const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const TOKEN = "mirror-kill-test-token";
const SIZE = 1300; // 6 bundles (5 full, one of 20)
const HOLD_FROM = 4; // entry bundles from this one on are held during the first run

/** Run `ledger mirror --progress` as a child; its stderr lines arrive in `lines`. */
function mirrorChild(url: string, dir: string) {
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1",
      MAIN,
      "ledger",
      "mirror",
      "--server",
      url,
      "--data",
      dir,
      "--token",
      TOKEN,
      "--progress",
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(proc.stdout).text();
  return { proc, stdout, lines: proc.stderr.pipeThrough(new TextDecoderStream()) };
}

Deno.test({
  name: "ledger mirror: SIGKILLed mid-copy, rerun resumes, audits clean and equals the source",
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "regledger-mirror-kill-" });
    const src = `${tmp}/source`;
    const m = `${tmp}/mirror`;
    try {
      const ledger = await openLedger({ dataDir: src, maxBatch: 50, pqLogKey: false });
      try {
        const envs = await Promise.all(Array.from({ length: SIZE }, (_, i) => makeEnvelope(i)));
        await Promise.all(envs.map((e) => ledger.append(e)));
      } finally {
        await ledger.close();
      }
      const server = await startServer({
        host: "127.0.0.1",
        port: 0,
        dataDir: src,
        trustedKeys: TRUST,
        config: { ...DEFAULT_CONFIG, apiKeys: parseApiKeys(`${TOKEN}:admin`), verifyWorkers: 0 },
        signals: false,
        status: () => {},
      });
      const origin = `http://127.0.0.1:${server.addr.port}`;
      // The proxy: counts entry bundles, holds those from HOLD_FROM on while `holding`.
      let holding = true;
      const released = Promise.withResolvers<void>();
      const bundles: number[] = [];
      const proxy = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        async (req) => {
          const u = new URL(req.url);
          const b = /^\/tile\/entries\/(\d+)/.exec(u.pathname);
          if (b) {
            bundles.push(Number(b[1]));
            if (holding && Number(b[1]) >= HOLD_FROM) {
              await released.promise;
              return new Response("gone\n", { status: 503 });
            }
          }
          const res = await fetch(origin + u.pathname + u.search, { headers: req.headers });
          return new Response(res.body, { status: res.status, headers: res.headers });
        },
      );
      const url = `http://127.0.0.1:${(proxy.addr as Deno.NetAddr).port}`;
      let checkpoint = "";
      try {
        checkpoint = await new LogClient(origin, { token: TOKEN }).tileCheckpoint();

        // First run: killed once at least two bundles' worth is staged.
        const first = mirrorChild(url, m);
        let held = 0;
        let buf = "";
        const reader = first.lines.getReader();
        while (held < 512) {
          const { value, done } = await reader.read();
          assert.ok(!done, `the mirror exited before staging 512 entries: ${buf}`);
          buf += value;
          for (const mm of buf.matchAll(/^mirrored (\d+)\/(\d+) entries \(held\)$/gm)) {
            assert.equal(Number(mm[2]), SIZE);
            held = Math.max(held, Number(mm[1]));
          }
        }
        assert.ok(held < SIZE, `mid-copy: ${held} of ${SIZE} held`);
        first.proc.kill("SIGKILL");
        const status = await first.proc.status;
        assert.equal(status.signal, "SIGKILL");
        assert.equal(await first.stdout, "", "no result printed");
        await reader.cancel().catch(() => {});
        holding = false;
        released.resolve();
        {
          const store = await KvStore.open(`${m}/ledger.kv`, { migrate: false });
          try {
            assert.equal((await store.readHead()).head.size, 0, "nothing committed mid-copy");
          } finally {
            store.close();
          }
        }

        // Second run: resumes from what the killed one had staged.
        bundles.length = 0;
        const second = mirrorChild(url, m);
        const [st2, out2, err2] = await Promise.all([
          second.proc.status,
          second.stdout,
          new Response(second.lines.pipeThrough(new TextEncoderStream())).text(),
        ]);
        assert.equal(st2.code, 0, err2);
        const r = JSON.parse(out2);
        assert.equal(r.ok, true);
        assert.equal(r.from, 0);
        assert.equal(r.size, SIZE);
        assert.ok(r.resumed >= held, `resumed ${r.resumed} of the ${held} held before the kill`);
        assert.equal(r.bundles, Math.ceil(SIZE / 256) - Math.floor(r.resumed / 256));
        assert.equal(new Set(bundles).size, r.bundles, "only the bundles not held are fetched");
        assert.ok(Math.min(...bundles) >= Math.floor(held / 256), String(bundles));
      } finally {
        holding = false;
        released.resolve();
        await proxy.shutdown();
        await server.shutdown();
        await server.finished;
      }

      const v = await runCli("ledger", "verify", "--data", m);
      assert.deepEqual([v.code, JSON.parse(v.stdout)], [0, { ok: true, size: SIZE }]);

      // The mirror is the source log: head, every entry, the checkpoint.
      const a = await KvStore.open(`${src}/ledger.kv`, { migrate: false });
      const b = await KvStore.open(`${m}/ledger.kv`, { migrate: false });
      try {
        const [ha, hb] = [(await a.readHead()).head, (await b.readHead()).head];
        assert.equal(hb.size, SIZE);
        assert.ok(bytesEqual(ha.root, hb.root) && bytesEqual(ha.lastLeafHash, hb.lastLeafHash));
        const [ea, eb] = [await a.readEntries(0, SIZE), await b.readEntries(0, SIZE)];
        assert.equal(eb.length, SIZE);
        for (let i = 0; i < SIZE; i++) {
          assert.ok(bytesEqual(ea[i].leaf, eb[i].leaf), `leaf ${i}`);
          assert.ok(bytesEqual(ea[i].envelope, eb[i].envelope), `envelope ${i}`);
        }
        assert.equal(await b.readCheckpoint(SIZE), checkpoint, "the server's checkpoint");
      } finally {
        a.close();
        b.close();
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
