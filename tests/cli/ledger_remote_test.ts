/**
 * `regledger ledger … --server URL`: against a real server on loopback, the
 * same envelopes give the same verdicts, receipts, entries and proofs as a
 * local data directory; `verify` is a client-side audit that catches a server
 * lying about one entry (through a tampering proxy) and a checkpoint signed by
 * another key; bad use is exit 2 naming the problem.
 */
import {
  decodeEntryBundle,
  decodeEnvelopeBundle,
  encodeEntryBundle,
  encodeEnvelopeBundle,
} from "../../ledger/tiles/bundle.ts";
import assert from "node:assert/strict";
import { openCheckpoint } from "../../ledger/checkpoint.ts";
import { parseVerifierKey } from "../../ledger/note.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { DEFAULT_CONFIG, parseApiKeys } from "../../server/config.ts";
import { type RunningServer, startServer } from "../../server/serve.ts";
import { runCli } from "./_capture.ts";
import { openLedger } from "../../ledger/index.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { parseEnvelopeValue } from "../../core/envelope.ts";
import { runAudit, signAuditRun } from "../../core/audit/index.ts";

const FIX = new URL("../fixtures/regaudit-fhe/", import.meta.url);
const TRUST = new URL("trust_store.json", FIX).pathname;
const TOKEN = "remote-cli-test-token";

async function withServer(
  f: (url: string, server: RunningServer, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: `${dir}/server`,
    trustedKeys: TRUST,
    config: { ...DEFAULT_CONFIG, apiKeys: parseApiKeys(`${TOKEN}:admin`), verifyWorkers: 0 },
    signals: false,
    status: () => {},
  });
  try {
    await f(`http://127.0.0.1:${server.addr.port}`, server, dir);
  } finally {
    await server.shutdown();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
}

async function fixtures(): Promise<[string, string][]> {
  const expected = JSON.parse(
    await Deno.readTextFile(new URL("expected.json", FIX)),
  ) as Record<string, string>;
  return Object.entries(expected).sort();
}

const envelopeFile = (name: string) => new URL(`envelopes/${name}.json`, FIX).pathname;

Deno.test({
  name: "ledger --server: verdicts, receipts, entries and proofs equal those of a local log",
  sanitizeResources: false,
  fn: () =>
    withServer(async (url, _server, dir) => {
      const local = `${dir}/local`;
      const remote = ["--server", url, "--token", TOKEN];
      let n = 0;
      for (const [name, verdict] of await fixtures()) {
        const l = await runCli(
          "ledger",
          "append",
          "--data",
          local,
          "-i",
          envelopeFile(name),
          "--trusted-keys",
          TRUST,
        );
        const receiptFile = `${dir}/receipt-${name}.txt`;
        const r = await runCli(
          "ledger",
          "append",
          ...remote,
          "-i",
          envelopeFile(name),
          "--receipt",
          receiptFile,
        );
        if (verdict === "valid") {
          assert.equal(r.code, 0, `${name}: ${r.stderr}`);
          const lr = JSON.parse(l.stdout);
          const rr = JSON.parse(r.stdout);
          assert.equal(rr.existing, false);
          for (
            const k of ["index", "tree_size", "leaf_hash", "envelope_sha256", "inclusion_proof"]
          ) {
            assert.deepEqual(rr[k], lr[k], `${name}: ${k}`);
          }
          // The receipt file is the server's tlog-proof, checkable offline against the server's key.
          const vkey = (await runCli("ledger", "key", "--server", url)).stdout.trim();
          const proof = await Deno.readTextFile(receiptFile);
          assert.equal(proof, rr.tlog_proof);
          const verified = await verifyTlogProof(proof, parseVerifierKey(vkey), {
            envelopeSha256: rr.envelope_sha256,
          });
          assert.equal(verified.index, rr.index);
          n++;
          // The same envelope again is its existing entry.
          const again = JSON.parse(
            (await runCli("ledger", "append", ...remote, "-i", envelopeFile(name))).stdout,
          );
          assert.equal(again.existing, true);
          assert.equal(again.index, rr.index);
        } else {
          assert.equal(r.code, 1, `${name} should be refused as ${verdict}`);
          assert.equal(JSON.parse(r.stdout).reason, verdict);
          await assert.rejects(Deno.stat(receiptFile), Deno.errors.NotFound);
        }
      }
      assert.equal(n, 6);

      for (let i = 0; i < n; i++) {
        const lg = await runCli("ledger", "get", "--data", local, "--index", String(i));
        const rg = await runCli("ledger", "get", ...remote, "--index", String(i));
        assert.equal(rg.code, 0);
        assert.equal(rg.stdout, lg.stdout, `entry ${i}`);
        for (let size = i + 1; size <= n; size++) {
          const a: string[] = ["--index", String(i), "--tree-size", String(size)];
          assert.equal(
            (await runCli("ledger", "proof", ...remote, ...a)).stdout,
            (await runCli("ledger", "proof", "--data", local, ...a)).stdout,
          );
        }
      }
      for (let first = 0; first <= n; first++) {
        const a: string[] = ["--first", String(first), "--second", String(n)];
        assert.equal(
          (await runCli("ledger", "consistency", ...remote, ...a)).stdout,
          (await runCli("ledger", "consistency", "--data", local, ...a)).stdout,
        );
      }
      // The checkpoint is the server's, signed by the key it publishes; the tree is the same.
      const vkey = (await runCli("ledger", "key", ...remote)).stdout.trim();
      const cp = await openCheckpoint(
        (await runCli("ledger", "checkpoint", ...remote)).stdout,
        parseVerifierKey(vkey),
      );
      const localKey = (await runCli("ledger", "key", "--data", local)).stdout.trim();
      const localCp = await openCheckpoint(
        (await runCli("ledger", "checkpoint", "--data", local)).stdout,
        parseVerifierKey(localKey),
      );
      assert.equal(cp.size, n);
      assert.deepEqual(cp.root, localCp.root);
    }),
});

Deno.test({
  name:
    "ledger verify --server: a full client-side audit; a lying server and a foreign key are caught",
  sanitizeResources: false,
  fn: () =>
    withServer(async (url, server, dir) => {
      const valid = (await fixtures()).filter(([, v]) => v === "valid").map(([name]) => name);
      for (const name of valid) {
        const r = await runCli(
          "ledger",
          "append",
          "--server",
          url,
          "--token",
          TOKEN,
          "-i",
          envelopeFile(name),
        );
        assert.equal(r.code, 0, r.stderr);
      }
      const keyFile = `${dir}/log.vkey`;
      await Deno.writeTextFile(keyFile, server.verifierKey + "\n");

      // Reads need the ledger:read scope: the token comes from the environment too.
      Deno.env.set("REGLEDGER_TOKEN", TOKEN);
      let ok;
      try {
        ok = await runCli("ledger", "verify", "--server", url, "--key", keyFile);
      } finally {
        Deno.env.delete("REGLEDGER_TOKEN");
      }
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(JSON.parse(ok.stdout), { ok: true, size: valid.length });

      // Pinned to another log's key: the checkpoint is refused before any entry is read.
      await (await openLedger({ dataDir: `${dir}/other` })).close();
      const otherKey = `${dir}/other.vkey`;
      await Deno.writeTextFile(
        otherKey,
        (await runCli("ledger", "key", "--data", `${dir}/other`)).stdout,
      );
      const foreign = await runCli(
        "ledger",
        "verify",
        "--server",
        url,
        "--token",
        TOKEN,
        "--key",
        otherKey,
      );
      assert.equal(foreign.code, 1);
      const fr = JSON.parse(foreign.stdout);
      assert.equal(fr.ok, false);
      assert.match(fr.reason, /^checkpoint: /);

      // A proxy that changes one entry in the bundles it serves (the audit reads only
      // tiles): its envelope's issuer, its leaf's envelope hash, a field added to its
      // envelope; or one byte of the level-0 hash tile. Each is named as the first bad index.
      const edit = (bytes: Uint8Array, i: number, f: (t: string) => string, envelopes: boolean) => {
        const items = envelopes ? decodeEnvelopeBundle(bytes) : decodeEntryBundle(bytes);
        const changed = f(new TextDecoder().decode(items[i]));
        assert.notEqual(
          changed,
          new TextDecoder().decode(items[i]),
          `the proxy changed entry ${i}`,
        );
        items[i] = new TextEncoder().encode(changed);
        return envelopes ? encodeEnvelopeBundle(items) : encodeEntryBundle(items);
      };
      for (
        const [bad, kind, tamper] of [
          [2, "envelopes", (t: string) => t.replace(/"issuer":"/, '"issuer":"x')],
          [3, "entries", (t: string) =>
            t.replace(
              /"envelope_sha256":"([A-Za-z0-9+/])/,
              (_m, c) => `"envelope_sha256":"${c === "A" ? "B" : "A"}`,
            )],
          [4, "envelopes", (t: string) => t.replace(/^{/, '{"note":"added in transit",')],
          [0, "tile", (t: string) => t],
        ] as const
      ) {
        const proxy = Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen: () => {} },
          async (req) => {
            const u = new URL(req.url);
            const upstream = await fetch(`${url}${u.pathname}${u.search}`, {
              headers: req.headers,
            });
            let body: Uint8Array = new Uint8Array(await upstream.arrayBuffer());
            if (kind === "tile" && u.pathname.startsWith("/tile/0/")) {
              body = body.slice();
              body[5] ^= 1;
            } else if (kind !== "tile" && u.pathname.startsWith(`/tile/${kind}/`)) {
              body = edit(body, bad, tamper, kind === "envelopes");
            }
            return new Response(body as Uint8Array<ArrayBuffer>, {
              status: upstream.status,
              headers: upstream.headers,
            });
          },
        );
        try {
          const r = await runCli(
            "ledger",
            "verify",
            "--server",
            `http://127.0.0.1:${proxy.addr.port}`,
            "--token",
            TOKEN,
            "--key",
            keyFile,
          );
          assert.equal(r.code, 1, `entry ${bad} (${kind}): ${r.stdout}`);
          const out = JSON.parse(r.stdout);
          assert.equal(out.ok, false);
          assert.equal(out.first_bad_index, bad, out.reason);
          assert.equal(out.size, valid.length);
        } finally {
          await proxy.shutdown();
        }
      }
    }),
});

Deno.test({
  name: "ledger --server: bad use, refused requests and an unreachable server are exit 2",
  sanitizeResources: false,
  fn: () =>
    withServer(async (url, _server, dir) => {
      const cases: [string[], RegExp][] = [
        [
          ["ledger", "checkpoint", "--server", url, "--data", dir],
          /--data and --server exclude each other/,
        ],
        [
          ["ledger", "checkpoint", "--data", dir, "--token", "x"],
          /--token applies only with --server/,
        ],
        [["ledger", "verify", "--data", dir, "--key", "k"], /--key applies only with --server/],
        [["ledger", "get", "--server", "ftp://example", "--index", "0"], /http or https/],
        [["ledger", "get", "--server", url, "--index", "0"], /ledger: 401/],
        [["ledger", "get", "--server", url, "--token", "wrong", "--index", "0"], /ledger: 401/],
        [["ledger", "get", "--server", url, "--token", TOKEN, "--index", "7"], /ledger: (404|400)/],
        [
          ["ledger", "append", "--server", url, "--token", TOKEN, "-i", `${dir}/missing.json`],
          /cannot read|No such file/,
        ],
        [["ledger", "get", "--server", "http://127.0.0.1:9", "--index", "0"], /cannot reach/],
      ];
      for (const [args, want] of cases) {
        const r = await runCli(...args);
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}`);
        assert.match(r.stderr, want, args.join(" "));
      }
      // A malformed envelope is refused before anything is sent.
      const junk = `${dir}/junk.json`;
      await Deno.writeTextFile(junk, '{"schema":');
      const r = await runCli("ledger", "append", "--server", url, "--token", TOKEN, "-i", junk);
      assert.equal(r.code, 2);
      const size = JSON.parse(await (await fetch(`${url}/readyz`)).text()).tree_size;
      assert.equal(size, 0);
    }),
});

Deno.test({
  name:
    "ledger verify --server under a tight rate limit: waits as told by Retry-After and succeeds",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const server = await startServer({
      host: "127.0.0.1",
      port: 0,
      dataDir: `${dir}/server`,
      trustedKeys: TRUST,
      config: {
        ...DEFAULT_CONFIG,
        apiKeys: parseApiKeys(`${TOKEN}:admin`),
        verifyWorkers: 0,
        rateLimit: { ratePerSecond: 20, burst: 4 },
      },
      signals: false,
      status: () => {},
    });
    try {
      const signer = await InProcessKeyProvider.generate("rate-test");
      const n = 24;
      for (let i = 0; i < n; i++) {
        const run = runAudit("drift", { p: [1 + i, 2, 3], q: [3, 2, 1 + i] });
        const env = await signAuditRun(run, signer, { issuer: "rate-test" });
        await server.log.append(parseEnvelopeValue(env));
      }
      const url = `http://127.0.0.1:${server.addr.port}`;
      // More requests than the burst allows: without retries this would be a 429 (exit 2).
      const r = await runCli("ledger", "verify", "--server", url, "--token", TOKEN);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { ok: true, size: n });
    } finally {
      await server.shutdown();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
