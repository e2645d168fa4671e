/**
 * `regledger ledger …` tests: every subcommand's output checked by the pure
 * verifiers, every regaudit-fhe fixture gets its expected verdict on append
 * (and only valid ones are appended), exit codes 0/1/2, `--help`, and a
 * corrupted log named by `verify`.
 */
import assert from "node:assert/strict";
import { fromBase64 } from "../../core/bytes.ts";
import { type CliIO, UsageError } from "../../cli/io.ts";
import { run } from "../../cli/commands/ledger.ts";
import { openCheckpoint } from "../../ledger/checkpoint.ts";
import { checkRecord, checkTree } from "../ledger/tlog_check.ts";
import { parseVerifierKey } from "../../ledger/note.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { buildEnvelope } from "../../core/envelope.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { check } from "../../core/validate.ts";

const FIX = new URL("../fixtures/regaudit-fhe/", import.meta.url);

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<Out> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    isTerminal: false,
  };
  try {
    return { code: await run(args, io), stdout, stderr };
  } catch (e) {
    if (e instanceof UsageError) return { code: 2, stdout, stderr: stderr + e.message };
    throw e;
  }
}

Deno.test("ledger CLI: fixtures get their verdicts; receipts, entries and proofs verify", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = `${dir}/data`;
    const trust = new URL("trust_store.json", FIX).pathname;
    const expected = JSON.parse(await Deno.readTextFile(new URL("expected.json", FIX))) as Record<
      string,
      string
    >;
    const appended: { name: string; index: number; text: string }[] = [];
    for (const [name, verdict] of Object.entries(expected).sort()) {
      const file = new URL(`envelopes/${name}.json`, FIX).pathname;
      const r = await cli("append", "--data", data, "-i", file, "--trusted-keys", trust);
      if (verdict === "valid") {
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        const receipt = JSON.parse(r.stdout);
        assert.equal(receipt.existing, false);
        // The printed receipt is what schemas/append-response.json documents.
        const valid = check("append-response", receipt);
        assert.ok(valid.ok, `${name}: ${JSON.stringify(valid)}`);
        appended.push({ name, index: receipt.index, text: await Deno.readTextFile(file) });
      } else {
        assert.equal(r.code, 1, `${name} should fail with ${verdict}`);
        assert.equal(JSON.parse(r.stdout).reason, verdict);
      }
    }
    assert.equal(appended.length, 6);
    const vkey = (await cli("key", "--data", data)).stdout.trim();
    const verifier = parseVerifierKey(vkey);
    const cpText = (await cli("checkpoint", "--data", data)).stdout;
    const cp = await openCheckpoint(cpText, verifier);
    assert.equal(cp.size, 6);

    // Re-append: existing, same index; receipt verifies offline.
    const first = appended[0];
    const again = await cli(
      "append",
      "--data",
      data,
      "-i",
      new URL(`envelopes/${first.name}.json`, FIX).pathname,
    );
    assert.equal(again.code, 0, again.stderr);
    const rec = JSON.parse(again.stdout);
    assert.equal(rec.existing, true);
    assert.equal(rec.index, first.index);
    assert.ok(check("append-response", rec).ok, "an existing entry's receipt fits the schema");
    assert.ok(!check("append-response", { ...rec, existing: "yes" }).ok, "existing is a boolean");
    await verifyTlogProof(rec.tlog_proof, vkey, { envelopeSha256: rec.envelope_sha256 });

    for (const a of appended) {
      const g = await cli("get", "--data", data, "--index", String(a.index));
      assert.equal(g.code, 0);
      const entry = JSON.parse(g.stdout);
      assert.deepEqual(Object.keys(entry), ["index", "leaf", "leaf_hash", "envelope"]);
      // Legacy numbers survive: the raw text has every number of the original file.
      const nums = (s: string) => (s.match(/-?\d+\.\d+(e[-+]?\d+)?/gi) ?? []).sort();
      const rawEnvelope = g.stdout.slice(g.stdout.indexOf('"envelope":') + 11, -2);
      assert.deepEqual(nums(rawEnvelope), nums(a.text));
      const p = JSON.parse(
        (await cli("proof", "--data", data, "--index", String(a.index))).stdout,
      );
      assert.equal(p.leaf_hash, entry.leaf_hash);
      checkRecord(p.proof.map(fromBase64), 6, cp.root, a.index, fromBase64(p.leaf_hash));
    }
    const older = JSON.parse(
      (await cli("proof", "--data", data, "--index", "1", "--tree-size", "3")).stdout,
    );
    assert.equal(older.tree_size, 3);
    const c = JSON.parse(
      (await cli("consistency", "--data", data, "--first", "2", "--second", "6")).stdout,
    );
    assert.deepEqual([c.first, c.second], [2, 6]);
    const v = await cli("verify", "--data", data);
    assert.equal(v.code, 0);
    assert.deepEqual(JSON.parse(v.stdout), { ok: true, size: 6 });
    // A consistency proof checks against two real roots.
    const { openLedger } = await import("../../ledger/index.ts");
    const l = await openLedger({ dataDir: data });
    const cp2Text = (await l.store.readCheckpoint(2))!;
    await l.close();
    const cp2 = await openCheckpoint(cp2Text, verifier);
    checkTree(c.proof.map(fromBase64), 6, cp.root, 2, cp2.root);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger CLI: without --trusted-keys the envelope's own signature is still checked", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const signer = await InProcessKeyProvider.generate("k-cli");
    const env = await buildEnvelope({
      primitive: "drift",
      backend: "plaintext",
      parameterSet: { backend: "plaintext" },
      regulations: [],
      result: { cvm: 0.5 },
      inputs: { a: [1] },
      depthBudget: { declared: 1, consumed: 1 },
      issuer: "cli-test",
    }, signer);
    await Deno.writeTextFile(`${dir}/ok.json`, JSON.stringify(env));
    const bad = structuredClone(env);
    (bad.result as Record<string, number>).cvm = 0.6;
    await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify(bad));
    const ok = await cli("append", "--data", `${dir}/d`, "-i", `${dir}/ok.json`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).index, 0);
    const no = await cli("append", "--data", `${dir}/d`, "-i", `${dir}/bad.json`);
    assert.equal(no.code, 1);
    assert.equal(JSON.parse(no.stdout).reason, "HashMismatch");
    assert.equal(JSON.parse((await cli("verify", "--data", `${dir}/d`)).stdout).size, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger CLI: bad use exits 2, --help exits 0 with an example", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const sub of ["append", "get", "checkpoint", "key", "proof", "consistency", "verify"]) {
      const h = await cli(sub, "--help");
      assert.equal(h.code, 0);
      assert.match(h.stdout, /usage: regledger ledger/);
      assert.match(h.stdout, /example/);
    }
    assert.equal((await cli("--help")).code, 0);
    const bad: string[][] = [
      [],
      ["frobnicate", "--data", dir],
      ["get", "--index", "0"],
      ["get", "--data", dir],
      ["get", "--data", dir, "--index", "-1"],
      ["get", "--data", dir, "--index", "01"],
      ["get", "--data", dir, "--index", "0"],
      ["proof", "--data", dir, "--index", "0"],
      ["consistency", "--data", dir, "--first", "2", "--second", "1"],
      ["append", "--data", dir],
      ["append", "--data", dir, "-i", `${dir}/missing.json`],
      ["key", "--data", dir, "--index", "3"],
      ["verify", "--data", dir, "extra"],
    ];
    for (const args of bad) {
      const r = await cli(...args);
      assert.equal(r.code, 2, `${args.join(" ")} should exit 2`);
      assert.equal(r.stdout === "" || args.length === 0, true);
    }
    await Deno.writeTextFile(`${dir}/junk.json`, "{not json");
    assert.equal((await cli("append", "--data", dir, "-i", `${dir}/junk.json`)).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger CLI: verify exits 1 naming the first bad index of a corrupted log", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const trust = new URL("trust_store.json", FIX).pathname;
    for (const p of ["drift", "fairness", "concordance"]) {
      const r = await cli(
        "append",
        "--data",
        dir,
        "-i",
        new URL(`envelopes/${p}-valid.json`, FIX).pathname,
        "--trusted-keys",
        trust,
      );
      assert.equal(r.code, 0, r.stderr);
    }
    const kv = await Deno.openKv(`${dir}/ledger.kv`);
    const e = await kv.get<Uint8Array>(["e", 1]);
    const v = e.value!.slice();
    v[v.length - 10] ^= 0x01; // inside the stored envelope bytes
    await kv.set(["e", 1], v);
    kv.close();
    const r = await cli("verify", "--data", dir);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, false);
    assert.equal(out.first_bad_index, 1);
    assert.match(out.reason, /envelope/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger reads never create a log: a mistyped --data is exit 2, not an empty valid log", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const args of [["verify"], ["key"], ["checkpoint"], ["get", "--index", "0"]]) {
      const r = await cli(args[0], "--data", `${dir}/typo`, ...args.slice(1));
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, /no ledger at .*typo/);
    }
    await assert.rejects(Deno.stat(`${dir}/typo`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
