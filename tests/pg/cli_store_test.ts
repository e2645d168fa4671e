/**
 * `regledger ledger … --store postgres://…`: the same commands and output on
 * a PostgreSQL database (keys in `--data`), reads that never create the
 * schema, and errors (bad URL, unreachable database, `--store` without
 * `--data`) that are exit 2 and never show the password.
 */
import assert from "node:assert/strict";
import { openCheckpoint } from "../../ledger/checkpoint.ts";
import { parseVerifierKey } from "../../ledger/note.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { runCli } from "../cli/_capture.ts";
import { PG_PASSWORD, registerClusterTeardown, sharedCluster } from "./_cluster.ts";

const FIX = new URL("../fixtures/regaudit-fhe/", import.meta.url);
const VALID = ["calibration", "concordance", "disagreement", "drift", "fairness", "provenance"];

function noPassword(text: string): void {
  assert.ok(!text.includes(PG_PASSWORD), `password leaked: ${text}`);
}

Deno.test({
  name: "ledger commands with --store postgres://: append, read, prove, list, verify",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const cluster = await sharedCluster();
    const url = await cluster.createDatabase();
    const dir = await Deno.makeTempDir();
    try {
      const data = `${dir}/keys`;
      const trust = new URL("trust_store.json", FIX).pathname;
      // Reading a database without a ledger never creates one.
      const empty = await runCli("ledger", "verify", "--data", data, "--store", url);
      assert.equal(empty.code, 2, empty.stdout);
      assert.match(empty.stderr, /schema is missing/);
      noPassword(empty.stderr);
      const receipts = [];
      for (const name of VALID) {
        const file = new URL(`envelopes/${name}-valid.json`, FIX).pathname;
        const r = await runCli(
          "ledger",
          "append",
          "--data",
          data,
          "--store",
          url,
          "-i",
          file,
          "--trusted-keys",
          trust,
        );
        assert.equal(r.code, 0, r.stderr);
        receipts.push(JSON.parse(r.stdout));
      }
      assert.deepEqual(receipts.map((r) => r.index), [0, 1, 2, 3, 4, 5]);
      // Nothing of the log is in the key directory: no ledger.kv.
      await assert.rejects(() => Deno.stat(`${data}/ledger.kv`), Deno.errors.NotFound);
      const at = ["--data", data, "--store", url];
      const vkey = (await runCli("ledger", "key", ...at)).stdout.trim();
      for (const r of receipts) {
        assert.equal((await verifyTlogProof(r.tlog_proof, vkey)).index, r.index);
      }
      const cp = await openCheckpoint(
        (await runCli("ledger", "checkpoint", ...at)).stdout,
        parseVerifierKey(vkey),
      );
      assert.equal(cp.size, 6);
      const got = JSON.parse((await runCli("ledger", "get", ...at, "--index", "3")).stdout);
      assert.equal(got.leaf_hash, receipts[3].leaf_hash);
      const proof = JSON.parse(
        (await runCli("ledger", "proof", ...at, "--index", "2", "--tree-size", "5")).stdout,
      );
      assert.equal(proof.tree_size, 5);
      const list = JSON.parse(
        (await runCli("ledger", "list", ...at, "--primitive", "drift")).stdout,
      );
      assert.deepEqual(list.entries.map((e: { index: number }) => e.index), [3]);
      const v = await runCli("ledger", "verify", ...at);
      assert.equal(v.code, 0, v.stderr);
      assert.deepEqual(JSON.parse(v.stdout), { ok: true, size: 6 });
      // The same envelope again is its existing entry.
      const again = await runCli(
        "ledger",
        "append",
        ...at,
        "-i",
        new URL("envelopes/drift-valid.json", FIX).pathname,
      );
      assert.equal(JSON.parse(again.stdout).existing, true);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "--store errors: bad URL, no --data, unreachable: exit 2, password redacted",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const dead = (l.addr as Deno.NetAddr).port;
      l.close();
      const cases: [string[], RegExp][] = [
        [["--data", dir, "--store", `mysql://u:${PG_PASSWORD}@h/d`], /not a postgres:\/\//],
        [["--data", dir, "--store", `postgres://u:${PG_PASSWORD}@h/`], /no database name/],
        [["--store", `postgres://u:${PG_PASSWORD}@h/d`], /--store needs --data/],
        [
          ["--data", dir, "--store", `postgres://u:${PG_PASSWORD}@127.0.0.1:${dead}/d`],
          /postgres:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/d.*reachable/,
        ],
        [["--server", "http://127.0.0.1:1", "--store", "postgres://u@h/d"], /exclude each other/],
      ];
      for (const [args, want] of cases) {
        const r = await runCli("ledger", "checkpoint", ...args);
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}`);
        assert.match(r.stderr, want);
        noPassword(r.stderr + r.stdout);
      }
      const serve = await runCli(
        "serve",
        "--data",
        dir,
        "--store",
        `postgres://u:${PG_PASSWORD}@127.0.0.1:${dead}/d`,
        "--port",
        "0",
      );
      assert.equal(serve.code, 2);
      assert.match(serve.stderr, /refusing to start: PostgreSQL postgres:\/\/u:\*\*\*@/);
      noPassword(serve.stderr + serve.stdout);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

registerClusterTeardown();
