/**
 * `regledger proof verify`: a receipt from a real ledger holds for its
 * envelope offline, and every kind of substitution is caught with a reason:
 * another envelope, a tampered proof hash, a receipt signed by another log
 * key, a newer checkpoint that does not extend the receipt's, bad use.
 */
import assert from "node:assert/strict";
import { runCli } from "./_capture.ts";
import { openLedger } from "../../ledger/index.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "regledger-proof-" });
  const p = (f: string) => `${dir}/${f}`;
  const trust = await runCli("keygen", "--issuer", "acme", "--key-id", "acme-1", "-o", p("k.pem"));
  assert.equal(trust.code, 0, trust.stderr);
  await Deno.writeTextFile(p("trust.json"), trust.stdout);
  const input = { p: [1, 2, 3, 4], q: [4, 3, 2, 1] };
  await Deno.writeTextFile(p("in.json"), JSON.stringify(input));
  const receipts: string[] = [];
  for (let i = 0; i < 5; i++) {
    const a = await runCli(
      "audit",
      "drift",
      "-i",
      p("in.json"),
      "--key",
      p("k.pem"),
      "--key-id",
      "acme-1",
      "--issuer",
      "acme",
      "-o",
      p(`e${i}.json`),
    );
    assert.equal(a.code, 0, a.stderr);
    const r = await runCli("ledger", "append", "--data", p("data"), "-i", p(`e${i}.json`));
    assert.equal(r.code, 0, r.stderr);
    const receipt = JSON.parse(r.stdout).tlog_proof as string;
    // As issued (`jq -j .tlog_proof > file`): the exact signed bytes.
    await Deno.writeTextFile(p(`r${i}.txt`), receipt);
    receipts.push(receipt);
  }
  const key = await runCli("ledger", "key", "--data", p("data"));
  await Deno.writeTextFile(p("log.vkey"), key.stdout);
  return { dir, p, receipts };
}

Deno.test("proof verify: each receipt holds for its own envelope and no other", async () => {
  const { dir, p } = await setup();
  try {
    for (let i = 0; i < 5; i++) {
      const ok = await runCli(
        "proof",
        "verify",
        "--proof",
        p(`r${i}.txt`),
        "--key",
        p("log.vkey"),
        "--envelope",
        p(`e${i}.json`),
        "--trusted-keys",
        p("trust.json"),
      );
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      const out = JSON.parse(ok.stdout);
      assert.equal(out.valid, true);
      assert.equal(out.index, i);
      assert.equal(out.tree_size, i + 1);
      assert.equal(out.envelope.trust, "trust-store");
      const other = await runCli(
        "proof",
        "verify",
        "--proof",
        p(`r${i}.txt`),
        "--key",
        p("log.vkey"),
        "--envelope",
        p(`e${(i + 1) % 5}.json`),
      );
      assert.equal(other.code, 1);
      assert.equal(JSON.parse(other.stdout).reason, "envelope-mismatch");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("proof verify: tampered proof, foreign log key, inconsistent newer checkpoint", async () => {
  const { dir, p, receipts } = await setup();
  try {
    // Flip one character of the proof hash line of receipt 2 (index 2 of 3 has a 2-hash proof).
    const lines = receipts[2].split("\n");
    const at = lines.findIndex((l) => l.startsWith("index ")) + 1;
    lines[at] = (lines[at][0] === "A" ? "B" : "A") + lines[at].slice(1);
    await Deno.writeTextFile(p("bad.txt"), lines.join("\n"));
    const bad = await runCli(
      "proof",
      "verify",
      "--proof",
      p("bad.txt"),
      "--key",
      p("log.vkey"),
      "--envelope",
      p("e2.json"),
    );
    assert.equal(bad.code, 1);
    assert.equal(JSON.parse(bad.stdout).reason, "inclusion");

    // Another log's key (same origin, different key) does not verify the checkpoint.
    await (await openLedger({ dataDir: p("other") })).close();
    const other = await runCli("ledger", "key", "--data", p("other"));
    assert.equal(other.code, 0, other.stderr);
    const foreign = await runCli(
      "proof",
      "verify",
      "--proof",
      p("r0.txt"),
      "--key",
      other.stdout.trim(),
      "--envelope",
      p("e0.json"),
    );
    assert.equal(foreign.code, 1);
    assert.equal(JSON.parse(foreign.stdout).reason, "checkpoint");

    // Consistency: the latest checkpoint extends receipt 1's checkpoint (size 2)...
    const cp = await runCli("ledger", "checkpoint", "--data", p("data"));
    await Deno.writeTextFile(p("newer.txt"), cp.stdout);
    const cons = await runCli(
      "ledger",
      "consistency",
      "--data",
      p("data"),
      "--first",
      "2",
      "--second",
      "5",
    );
    await Deno.writeTextFile(p("cons.json"), cons.stdout);
    const good = await runCli(
      "proof",
      "verify",
      "--proof",
      p("r1.txt"),
      "--key",
      p("log.vkey"),
      "--envelope",
      p("e1.json"),
      "--checkpoint",
      p("newer.txt"),
      "--consistency",
      p("cons.json"),
    );
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.equal(JSON.parse(good.stdout).consistent_with.tree_size, 5);
    // ...but the same proof does not connect receipt 2's tree (size 3) to it.
    const wrong = await runCli(
      "proof",
      "verify",
      "--proof",
      p("r2.txt"),
      "--key",
      p("log.vkey"),
      "--envelope",
      p("e2.json"),
      "--checkpoint",
      p("newer.txt"),
      "--consistency",
      p("cons.json"),
    );
    assert.equal(wrong.code, 1);
    assert.equal(JSON.parse(wrong.stdout).reason, "inconsistent");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("proof verify: bad use is exit 2 with a message", async () => {
  const { dir, p } = await setup();
  try {
    const cases: string[][] = [
      ["proof", "verify", "--key", p("log.vkey"), "--envelope", p("e0.json")],
      ["proof", "verify", "--proof", p("r0.txt"), "--key", "not-a-key", "--envelope", p("e0.json")],
      [
        "proof",
        "verify",
        "--proof",
        p("e0.json"),
        "--key",
        p("log.vkey"),
        "--envelope",
        p("e0.json"),
      ],
      [
        "proof",
        "verify",
        "--proof",
        p("r0.txt"),
        "--key",
        p("log.vkey"),
        "--envelope",
        p("r0.txt"),
      ],
      [
        "proof",
        "verify",
        "--proof",
        p("r0.txt"),
        "--key",
        p("log.vkey"),
        "--envelope",
        p("e0.json"),
        "--checkpoint",
        p("r0.txt"),
      ],
      ["proof", "frobnicate"],
    ];
    for (const args of cases) {
      const r = await runCli(...args);
      assert.equal(r.code, 2, args.join(" "));
      assert.notEqual(r.stderr.trim(), "", args.join(" "));
      assert.equal(r.stdout, "");
    }
    const help = await runCli("proof", "verify", "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /example:/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
