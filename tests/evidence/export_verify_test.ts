/**
 * Evidence packs end to end: a real server on loopback, packs from
 * `--server`, `GET /v1/evidence` and `--data` of the same selection are the
 * same bytes; they verify offline; a wrong log key, a foreign trust store
 * and an unmet policy are exit 1 naming the check; an unreadable pack is exit 2.
 */
import assert from "node:assert/strict";
import { runCli } from "../cli/_capture.ts";
import { readZip } from "../../ledger/evidence/zip.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { packServer, TOKEN } from "./_pack.ts";

Deno.test({
  name:
    "evidence export: --server, GET /v1/evidence and --data give the same pack, and it verifies",
  sanitizeResources: false,
  fn: async () => {
    const s = await packServer(24) as Awaited<ReturnType<typeof packServer>> & {
      stop(): Promise<void>;
    };
    try {
      const d = s.dir;
      const trust = await (await fetch(`${s.url}/v1/trust-store`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })).text();
      await Deno.writeTextFile(`${d}/in-force.json`, trust);
      const sel = ["--issuer", "acme", "--from", "2026-01-02T00:00:00Z"];
      const r1 = await runCli(
        "evidence",
        "export",
        "--server",
        s.url,
        "--token",
        TOKEN,
        ...sel,
        "-o",
        `${d}/server.zip`,
      );
      assert.equal(r1.code, 0, r1.stderr);
      const res = await fetch(
        `${s.url}/v1/evidence?issuer=acme&from=${encodeURIComponent("2026-01-02T00:00:00Z")}`,
        { headers: { authorization: `Bearer ${TOKEN}` } },
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/zip");
      const viaRoute = new Uint8Array(await res.arrayBuffer());
      const unauth = await fetch(`${s.url}/v1/evidence`);
      assert.equal(unauth.status, 401);
      await unauth.body?.cancel();
      await s.stop();
      const r2 = await runCli(
        "evidence",
        "export",
        "--data",
        `${d}/data`,
        "--trusted-keys",
        `${d}/in-force.json`,
        ...sel,
        "-o",
        `${d}/data.zip`,
      );
      assert.equal(r2.code, 0, r2.stderr);
      const fromServer = await Deno.readFile(`${d}/server.zip`);
      const fromData = await Deno.readFile(`${d}/data.zip`);
      assert.deepEqual(fromServer, fromData);
      assert.deepEqual(viaRoute, fromServer);

      // The selection: acme's entries from 2 January, every one with its receipt.
      const files = readZip(fromServer);
      assert.equal(files[0].name, "report.html");
      const manifest = JSON.parse(
        new TextDecoder().decode(files.find((f) => f.name === "manifest.json")!.data),
      );
      assert.equal(JSON.parse(r1.stdout).entries, manifest.entries.length);
      assert.ok(manifest.entries.length >= 10);
      for (const i of manifest.entries) {
        const env = JSON.parse(
          new TextDecoder().decode(files.find((f) => f.name === `envelopes/${i}.json`)!.data),
        );
        assert.equal(env.issuer, "acme");
        assert.ok(env.issued_at >= "2026-01-02");
        assert.ok(files.some((f) => f.name === `envelopes/${i}.receipt`));
      }
      assert.equal(manifest.privacy_budgets, null);

      const ok = await runCli("evidence", "verify", `${d}/server.zip`);
      assert.equal(ok.code, 0, ok.stdout);
      assert.equal(JSON.parse(ok.stdout).entries, manifest.entries.length);
      // Pinned to the log's real key: still valid; to another key: exit 1 naming the checkpoint.
      const logKey = (await Deno.readTextFile(`${d}/data/log-key.vkey`).catch(() => "")) ||
        new TextDecoder().decode(files.find((f) => f.name === "log-keys.txt")!.data).split("\n")[0];
      assert.equal(
        (await runCli("evidence", "verify", `${d}/server.zip`, "--key", logKey.trim())).code,
        0,
      );
      const other = (await Ed25519NoteSigner.generate(manifest.checkpoint.origin)).verifierKey();
      const bad = await runCli("evidence", "verify", `${d}/server.zip`, "--key", other);
      assert.equal(bad.code, 1);
      assert.equal(JSON.parse(bad.stdout).file, "checkpoint.txt");
      // A trust store without the issuer: every envelope is named, UntrustedIssuer.
      const stranger = await InProcessKeyProvider.generate("stranger");
      await Deno.writeTextFile(
        `${d}/other.json`,
        JSON.stringify({ keys: { stranger: stranger.publicKeyPem } }),
      );
      const untrusted = await runCli(
        "evidence",
        "verify",
        `${d}/server.zip`,
        "--trusted-keys",
        `${d}/other.json`,
      );
      assert.equal(untrusted.code, 1);
      const v = JSON.parse(untrusted.stdout);
      assert.equal(v.reason, "UntrustedIssuer");
      assert.equal(v.file, `envelopes/${manifest.entries[0]}.json`);
      assert.equal(v.problems.length, manifest.entries.length);
      // A policy asking for a witness that never cosigned: the quorum is not met.
      const witness = await Ed25519CosignatureSigner.generate("witness.example");
      await Deno.writeTextFile(
        `${d}/policy.txt`,
        `log ${logKey.trim()}\nwitness w1 ${witness.verifierKey()}\nquorum w1\n`,
      );
      const pol = await runCli(
        "evidence",
        "verify",
        `${d}/server.zip`,
        "--policy",
        `${d}/policy.txt`,
      );
      assert.equal(pol.code, 1, pol.stdout + pol.stderr);
      assert.equal(JSON.parse(pol.stdout).reason, "policy-quorum");
      assert.equal(JSON.parse(pol.stdout).file, "checkpoint.txt");
      await Deno.writeTextFile(`${d}/none.txt`, `log ${logKey.trim()}\nquorum none\n`);
      const none = await runCli(
        "evidence",
        "verify",
        `${d}/server.zip`,
        "--policy",
        `${d}/none.txt`,
      );
      assert.equal(none.code, 0, none.stdout);
      assert.equal(JSON.parse(none.stdout).log_keys_from, "policy");

      // Unreadable: not a ZIP, or cut short.
      await Deno.writeFile(`${d}/cut.zip`, fromServer.subarray(0, fromServer.length - 30));
      assert.equal((await runCli("evidence", "verify", `${d}/cut.zip`)).code, 2);
      await Deno.writeTextFile(`${d}/junk.zip`, "not a zip");
      assert.equal((await runCli("evidence", "verify", `${d}/junk.zip`)).code, 2);
      assert.equal((await runCli("evidence", "verify", `${d}/missing.zip`)).code, 2);
    } finally {
      await s.close();
    }
  },
});
