/**
 * `regledger proof verify` with the log's two keys (Ed25519 and ML-DSA-44)
 * and with C2SP tlog-policy files. Witnesses are simulated with the pure
 * cosigners of ledger/witness/ (an Ed25519 `cosignature/v1` witness and an
 * ML-DSA-44 one): they cosign the receipt's checkpoint and their lines are
 * added to it, as a witnessed receipt would carry them.
 */
import assert from "node:assert/strict";
import { fromBase64, toBase64 } from "../../core/bytes.ts";
import { openLedger } from "../../ledger/index.ts";
import { formatTlogProof, parseTlogProof } from "../../ledger/tlog_proof.ts";
import { cosignatureLines, mergeCosignatures } from "../../ledger/witness/add_checkpoint.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { MlDsa44NoteSigner } from "../../ledger/witness/mldsa.ts";
import { runCli } from "./_capture.ts";

const ORIGIN = "regledger.local/log";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "regledger-proof-pq-" });
  const p = (f: string) => `${dir}/${f}`;
  const trust = await runCli("keygen", "--issuer", "acme", "--key-id", "acme-1", "-o", p("k.pem"));
  assert.equal(trust.code, 0, trust.stderr);
  await Deno.writeTextFile(p("in.json"), JSON.stringify({ p: [1, 2, 3, 4], q: [4, 3, 2, 1] }));
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
    p("e.json"),
  );
  assert.equal(a.code, 0, a.stderr);
  const r = await runCli("ledger", "append", "--data", p("data"), "-i", p("e.json"));
  assert.equal(r.code, 0, r.stderr);
  const receipt = JSON.parse(r.stdout).tlog_proof as string;
  await Deno.writeTextFile(p("r.txt"), receipt);
  const ledger = await openLedger({ dataDir: p("data"), readOnly: true });
  const [ed, pq] = ledger.verifierKeys;
  await ledger.close();
  assert.ok(pq !== undefined, "the CLI-made log has an ML-DSA-44 key");
  await Deno.writeTextFile(p("ed.vkey"), ed + "\n");
  await Deno.writeTextFile(p("pq.vkey"), pq + "\n");
  await Deno.writeTextFile(p("log.vkeys"), `${ed}\n${pq}\n`); // as GET /v1/log/keys
  return { dir, p, receipt, ed, pq };
}

const verify = (p: (f: string) => string, proof: string, ...more: string[]) =>
  runCli("proof", "verify", "--proof", p(proof), "--envelope", p("e.json"), ...more);

/** Flip one bit inside the ML-DSA-44 signature line of a receipt's checkpoint. */
function tamperPq(receipt: string, pqName: string, pqKeyIdHex: string): string {
  const lines = receipt.split("\n");
  const i = lines.findIndex((l) => {
    if (!l.startsWith(`— ${pqName} `)) return false;
    const raw = fromBase64(l.split(" ")[2]);
    return toBase64(raw.subarray(0, 4)) === toBase64(fromHex4(pqKeyIdHex));
  });
  assert.ok(i > 0);
  const raw = fromBase64(lines[i].split(" ")[2]);
  raw[4 + 8 + 500] ^= 0x40;
  lines[i] = `— ${pqName} ${toBase64(raw)}`;
  return lines.join("\n");
}

function fromHex4(h: string): Uint8Array {
  return new Uint8Array([0, 2, 4, 6].map((i) => parseInt(h.slice(i, i + 2), 16)));
}

Deno.test("proof verify: every given key's signature must verify, and the failing one is named", async () => {
  const { dir, p, receipt, ed, pq } = await setup();
  try {
    // Both keys, as two --key options or as one keys file.
    for (
      const args of [["--key", p("ed.vkey"), "--key", p("pq.vkey")], ["--key", p("log.vkeys")]]
    ) {
      const ok = await verify(p, "r.txt", ...args);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      const out = JSON.parse(ok.stdout);
      assert.deepEqual(out.signatures.map((s: { type: string }) => s.type), [
        "ed25519",
        "ml-dsa-44",
      ]);
      assert.deepEqual(out.signatures.map((s: { key: string }) => s.key), [ed, pq]);
    }
    // The ML-DSA-44 key alone (the key text itself, not a file) is enough.
    const pqOnly = await verify(p, "r.txt", "--key", pq);
    assert.equal(pqOnly.code, 0, pqOnly.stdout);

    // Another ML-DSA-44 key of the same origin: no signature by it.
    const stranger = MlDsa44NoteSigner.generate(ORIGIN).verifierKey();
    const missing = await verify(p, "r.txt", "--key", ed, "--key", stranger);
    assert.equal(missing.code, 1);
    const m = JSON.parse(missing.stdout);
    assert.equal(m.reason, "checkpoint");
    assert.equal(m.key, stranger);
    assert.match(m.message, /no signature by the ml-dsa-44 key/);

    // A broken ML-DSA-44 signature: Ed25519 alone still holds (Go's view),
    // asking for the ML-DSA-44 key names it.
    const keyId = pq.split("+")[1];
    await Deno.writeTextFile(p("bad.txt"), tamperPq(receipt, ORIGIN, keyId));
    assert.equal((await verify(p, "bad.txt", "--key", ed)).code, 0);
    const bad = await verify(p, "bad.txt", "--key", ed, "--key", pq);
    assert.equal(bad.code, 1);
    const b = JSON.parse(bad.stdout);
    assert.equal(b.key, pq);
    assert.match(b.message, /signature by the ml-dsa-44 key .* does not verify/);

    // A witness key is not a log key: bad use.
    const w = await Ed25519CosignatureSigner.generate("example.com/w1");
    const notLog = await verify(p, "r.txt", "--key", w.verifierKey());
    assert.equal(notLog.code, 2);
    assert.match(notLog.stderr, /0x04 key/);
    // Neither --key nor --policy: bad use.
    assert.equal((await verify(p, "r.txt")).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("proof verify --policy: log signature and witness quorum, and which part failed", async () => {
  const { dir, p, receipt, ed, pq } = await setup();
  try {
    // Three witnesses: the regulator's own (Ed25519 cosignature/v1), an
    // independent one (ML-DSA-44) and a third that never cosigns.
    const regulator = await Ed25519CosignatureSigner.generate("regulator.example/witness");
    const independent = MlDsa44NoteSigner.generate("witness.example.org");
    const absent = await Ed25519CosignatureSigner.generate("absent.example/witness");
    const parsed = parseTlogProof(receipt);
    const text = parsed.checkpoint.slice(0, parsed.checkpoint.lastIndexOf("\n\n") + 1);
    const lines = (await cosignatureLines(text, [regulator, independent])).trimEnd().split("\n");
    const cosigned = formatTlogProof({
      ...parsed,
      checkpoint: mergeCosignatures(parsed.checkpoint, lines),
    });
    await Deno.writeTextFile(p("witnessed.txt"), cosigned);
    const witnesses = `witness regulator ${regulator.verifierKey()}\n` +
      `witness independent ${independent.verifierKey()}\n` +
      `witness absent ${absent.verifierKey()}\n`;
    const logs = `log ${ed}\nlog ${pq}\n`;
    const policies: Record<string, string> = {
      // The regulator's policy: its own witness AND one independent one.
      "met.policy": logs + witnesses + "group independents any independent absent\n" +
        "group both all regulator independents\nquorum both\n",
      "unmet.policy": logs + witnesses + "group three all regulator independent absent\n" +
        "quorum three\n",
      "none.policy": logs + "quorum none\n",
    };
    // A policy whose only log is another log's key (same origin name).
    const otherLog = MlDsa44NoteSigner.generate(ORIGIN).verifierKey();
    policies["otherlog.policy"] = `log ${otherLog}\n` + witnesses + "quorum regulator\n";
    for (const [f, t] of Object.entries(policies)) await Deno.writeTextFile(p(f), t);

    const met = await verify(p, "witnessed.txt", "--policy", p("met.policy"));
    assert.equal(met.code, 0, met.stdout + met.stderr);
    const out = JSON.parse(met.stdout);
    assert.equal(out.policy.quorum, "both");
    assert.deepEqual(out.policy.witnesses, ["regulator", "independent"]);
    assert.deepEqual(out.policy.log_keys, [ed, pq]);
    // Policy and keys together.
    const both = await verify(p, "witnessed.txt", "--policy", p("met.policy"), "--key", pq);
    assert.equal(both.code, 0, both.stdout);

    // The same receipt without cosignatures does not meet it: quorum.
    const bare = await verify(p, "r.txt", "--policy", p("met.policy"));
    assert.equal(bare.code, 1);
    assert.equal(JSON.parse(bare.stdout).reason, "policy-quorum");
    assert.deepEqual(JSON.parse(bare.stdout).policy.witnesses, []);

    // Two of three witnesses where all three are needed: quorum, naming who did cosign.
    const unmet = await verify(p, "witnessed.txt", "--policy", p("unmet.policy"));
    assert.equal(unmet.code, 1);
    const u = JSON.parse(unmet.stdout);
    assert.equal(u.reason, "policy-quorum");
    assert.match(u.message, /quorum 'three' not met \(cosigned by: regulator, independent\)/);

    // Another log's key: the log part fails.
    const other = await verify(p, "witnessed.txt", "--policy", p("otherlog.policy"));
    assert.equal(other.code, 1);
    assert.equal(JSON.parse(other.stdout).reason, "policy-log");

    // A forged cosignature by the regulator's witness: the witness part fails, naming it.
    const forgedLines = cosigned.split("\n").map((l) => {
      if (!l.startsWith(`— ${regulator.name} `)) return l;
      const raw = fromBase64(l.split(" ")[2]);
      raw[raw.length - 1] ^= 1;
      return `— ${regulator.name} ${toBase64(raw)}`;
    });
    await Deno.writeTextFile(p("forged.txt"), forgedLines.join("\n"));
    const forged = await verify(p, "forged.txt", "--policy", p("met.policy"));
    assert.equal(forged.code, 1);
    const fo = JSON.parse(forged.stdout);
    assert.equal(fo.reason, "policy-witness");
    assert.match(fo.message, /witness 'regulator'/);

    // quorum none: the log signature alone.
    assert.equal((await verify(p, "r.txt", "--policy", p("none.policy"))).code, 0);
    // A malformed policy file is bad use.
    await Deno.writeTextFile(p("broken.policy"), "quorum nobody\n");
    assert.equal((await verify(p, "r.txt", "--policy", p("broken.policy"))).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
