/**
 * Concurrency: several `ledger append` processes on one data directory at
 * once all succeed with distinct, dense indexes; several append storms in
 * separate processes interleave without a fork, a gap or a lost entry; and
 * in one process, concurrent appends through two handles on one KV file
 * (duplicates included) give every envelope exactly one entry.
 */
import assert from "node:assert/strict";
import { buildEnvelope } from "../../core/envelope.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { openLedger } from "../../ledger/index.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { makeEnvelope } from "./_helpers.ts";

const ROOT = new URL("../../", import.meta.url);
const CLI_SHIM = `import { run } from "${new URL("cli/commands/ledger.ts", ROOT).href}";
import { processIO, UsageError } from "${new URL("cli/io.ts", ROOT).href}";
try { Deno.exitCode = await run(Deno.args, processIO()); }
catch (e) { if (e instanceof UsageError) { console.error(e.message); Deno.exitCode = 2; } else throw e; }`;
const STORM = new URL("./_append_storm.ts", import.meta.url).pathname;

async function output(
  cmd: Deno.Command,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const o = await cmd.output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

Deno.test({
  name: "several `ledger append` processes on one DIR all succeed with distinct indexes",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-conc-" });
    try {
      const signer = await InProcessKeyProvider.generate("conc-key");
      await Deno.writeTextFile(
        `${dir}/trust.json`,
        JSON.stringify({ keys: { "conc-key": signer.publicKeyPem } }),
      );
      const N = 8;
      for (let i = 0; i < N; i++) {
        const env = await buildEnvelope({
          primitive: "fairness",
          backend: "plaintext",
          parameterSet: { backend: "plaintext" },
          regulations: [],
          result: { gap: i / 10 },
          inputs: { x: [i] },
          depthBudget: { declared: 1, consumed: 1 },
          issuer: "conc",
        }, signer);
        await Deno.writeTextFile(`${dir}/env-${i}.json`, JSON.stringify(env));
      }
      // N + 2 processes race, on a directory without a log key yet (they must
      // agree on one) and with env-0 three times (one entry, two `existing`).
      const args = (i: number) => [
        "eval",
        "--ext=ts",
        CLI_SHIM,
        "append",
        "--data",
        `${dir}/data`,
        "-i",
        `${dir}/env-${i}.json`,
        "--trusted-keys",
        `${dir}/trust.json`,
      ];
      const runs = [...Array(N).keys(), 0, 0].map((i) =>
        output(new Deno.Command(Deno.execPath(), { args: args(i), cwd: ROOT.pathname }))
      );
      const outs = await Promise.all(runs);
      const receipts = outs.map((o, k) => {
        assert.equal(o.code, 0, `process ${k}: ${o.stderr}`);
        return JSON.parse(o.stdout);
      });
      const fresh = receipts.filter((r) => !r.existing);
      assert.deepEqual(fresh.map((r) => r.index).sort((a, b) => a - b), [...Array(N).keys()]);
      const zero = receipts.filter((_r, k) => k === 0 || k >= N);
      assert.equal(new Set(zero.map((r) => r.index)).size, 1);
      const ledger = await openLedger({ dataDir: `${dir}/data` });
      try {
        assert.equal(await ledger.size(), N);
        assert.deepEqual(await ledger.verify(), { ok: true, size: N });
      } finally {
        await ledger.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "append storms in three processes interleave without fork, gap or loss",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-conc-" });
    try {
      // Create the key first so the storms do not race on it (that race is tested above).
      await (await openLedger({ dataDir: dir })).close();
      const P = 3;
      const COUNT = 250;
      const outs = await Promise.all(
        Array.from({ length: P }, (_, p) =>
          output(
            new Deno.Command(Deno.execPath(), {
              args: ["run", "-A", "--quiet", STORM, dir, String(p * COUNT), String(COUNT), "16"],
            }),
          )),
      );
      const acked = new Map<number, string>();
      for (const o of outs) {
        assert.equal(o.code, 0, o.stderr);
        const lines = o.stdout.trim().split("\n");
        assert.equal(lines.pop(), "done");
        assert.equal(lines.length, COUNT);
        for (const l of lines) {
          const [i, sha, , existing] = l.split(" ");
          assert.equal(existing, "false");
          assert(!acked.has(Number(i)), `index ${i} acknowledged to two appenders`);
          acked.set(Number(i), sha);
        }
      }
      assert.deepEqual([...acked.keys()].sort((a, b) => a - b), [...Array(P * COUNT).keys()]);
      const ledger = await openLedger({ dataDir: dir });
      try {
        for (const [i, sha] of acked) {
          const e = (await ledger.get(i))!;
          assert.equal(JSON.parse(atob(e.leaf)).envelope_sha256, sha);
        }
        assert.deepEqual(await ledger.verify(), { ok: true, size: P * COUNT });
      } finally {
        await ledger.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("in-process: two handles, concurrent appends with duplicates: one entry per envelope", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-conc-" });
  try {
    const a = await openLedger({ dataDir: dir });
    const b = await openLedger({ dataDir: dir, maxBatch: 13 });
    try {
      const envs = await Promise.all(Array.from({ length: 150 }, (_, i) => makeEnvelope(i)));
      const calls = [];
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < envs.length; i++) {
          calls.push((i + round) % 2 === 0 ? a.append(envs[i]) : b.append(envs[i]));
        }
      }
      const rs = await Promise.all(calls);
      const bySha = new Map<string, number[]>();
      for (const r of rs) {
        bySha.set(r.envelope_sha256, [...(bySha.get(r.envelope_sha256) ?? []), r.index]);
      }
      assert.equal(bySha.size, 150);
      for (const idx of bySha.values()) assert.equal(new Set(idx).size, 1);
      assert.equal(rs.filter((r) => !r.existing).length, 150);
      assert.deepEqual(
        rs.filter((r) => !r.existing).map((r) => r.index).sort((x, y) => x - y),
        [...Array(150).keys()],
      );
      assert.deepEqual(await a.verify(), { ok: true, size: 150 });
      // Commits that lost a race to the other handle were retried: every
      // receipt handed out is for a stored checkpoint and the stored entry
      // (receipts are built while a commit is in flight, never from a lost one).
      for (const r of rs) {
        assert.equal(await a.store.readCheckpoint(r.tree_size), r.checkpoint);
        const e = await a.get(r.index);
        assert.equal(e?.leaf_hash, r.leaf_hash);
        const opened = await verifyTlogProof(r.tlog_proof, a.verifierKey);
        assert.equal(opened.index, r.index);
      }
    } finally {
      await a.close();
      await b.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify runs on a live ledger while appends continue", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-conc-" });
  try {
    const writer = await openLedger({ dataDir: dir });
    const auditor = await openLedger({ dataDir: dir });
    try {
      for (let i = 0; i < 40; i++) await writer.append(await makeEnvelope(i));
      let stop = false;
      let i = 40;
      const appending = (async () => {
        while (!stop) await writer.append(await makeEnvelope(i++));
      })();
      const results = [];
      for (let k = 0; k < 5; k++) results.push(await auditor.verify());
      stop = true;
      await appending;
      for (const r of results) assert.equal(r.ok, true, r.reason);
      assert(results[4].size >= 40);
      assert.deepEqual(await auditor.verify(), { ok: true, size: i });
    } finally {
      await writer.close();
      await auditor.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
