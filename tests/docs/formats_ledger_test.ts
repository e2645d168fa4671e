/**
 * Keeps docs/formats.md true (3 and 4 of 4): the real ledger, given the
 * example envelopes and log key, stores the document's leaves and returns
 * its checkpoint and receipt; the document's shell and regledger commands
 * print its stated output.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { runCli } from "../cli/_capture.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { verifyEnvelope } from "../../core/verify.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { parseSignerKey, parseVerifierKey } from "../../ledger/note.ts";
import { TlogProofError, verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { b64, block, kvGet } from "./_formats.ts";

// ---------------------------------------------------------------------------
// 3. The real ledger and verifiers agree with the document.

Deno.test("formats.md: the real ledger stores these leaves and returns this receipt", async () => {
  const origin = kvGet("keys", "log origin");
  const signer = await Ed25519NoteSigner.fromSeed(
    origin,
    Buffer.from(kvGet("keys", "log seed (hex)"), "hex"),
  );
  // The signer-key text round-trips through Go's format.
  assert.equal((await parseSignerKey(signer.toSignerKey())).verifierKey(), signer.verifierKey());
  const ledger = await openLedger({ path: ":memory:", origin, logKey: signer });
  try {
    assert.equal(ledger.verifierKey, kvGet("log-key", "verifier key"));
    const env0 = parseEnvelopeText(block("envelope-0"));
    const env1 = parseEnvelopeText(block("envelope-1"));
    const first = await ledger.append(env0);
    assert.equal(first.index, 0);
    assert.equal(first.envelope_sha256, kvGet("envelope-ids", "envelope 0 sha256 (base64)"));
    assert.equal(first.leaf_hash, kvGet("tree", "leaf hash 0 (base64)"));
    assert.deepEqual(first.inclusion_proof, []);
    const second = await ledger.append(env1);
    assert.equal(second.index, 1);
    assert.equal(second.checkpoint, block("checkpoint-2") + "\n");
    const again = await ledger.append(env0);
    assert.equal(again.existing, true);
    assert.equal(again.tlog_proof, block("receipt-entry-0") + "\n");
    assert.equal(await ledger.checkpoint(), block("checkpoint-2") + "\n");
    assert.equal((await ledger.get(0))!.leaf, b64(Buffer.from(block("leaf-0"))));
    assert.equal((await ledger.get(1))!.leaf, b64(Buffer.from(block("leaf-1"))));
    assert.equal((await ledger.get(0))!.envelope, block("envelope-0"));
    assert.deepEqual(await ledger.proveConsistency(1, 2), JSON.parse(block("consistency-1-2")));
  } finally {
    await ledger.close();
  }
});

Deno.test("formats.md: the example verifies, and a changed byte does not", async () => {
  const env0 = parseEnvelopeText(block("envelope-0"));
  const store = TrustStore.fromObject({ [kvGet("keys", "issuer key_id")]: block("issuer-pem") });
  const r = await verifyEnvelope(env0, store);
  assert.equal(r.envelope_sha256, kvGet("envelope-ids", "envelope 0 sha256 (base64)"));
  assert.equal(r.body_sha256, JSON.parse(block("receipt-0")).sha256);
  const receipt = block("receipt-entry-0") + "\n";
  const vkey = kvGet("log-key", "verifier key");
  const ok = await verifyTlogProof(receipt, vkey, {
    envelopeSha256: kvGet("envelope-ids", "envelope 0 sha256 (hex)"),
  });
  assert.equal(ok.index, 0);
  assert.equal(ok.checkpoint.size, 2);
  assert.equal(parseVerifierKey(vkey).name, kvGet("keys", "log origin"));
  // The receipt does not prove envelope 1, and a changed proof hash fails inclusion.
  await assert.rejects(
    () =>
      verifyTlogProof(receipt, vkey, {
        envelopeSha256: kvGet("envelope-ids", "envelope 1 sha256 (hex)"),
      }),
    (e: unknown) => e instanceof TlogProofError && e.rule === "envelope-mismatch",
  );
  const lh1 = kvGet("tree", "leaf hash 1 (base64)");
  const other = kvGet("tree", "root of size 2 (base64)");
  await assert.rejects(
    () => verifyTlogProof(receipt.replace(`\n${lh1}\n`, `\n${other}\n`), vkey),
    (e: unknown) => e instanceof TlogProofError && e.rule === "inclusion",
  );
});

// ---------------------------------------------------------------------------
// 4. The shell commands of §7.10 print what the document says.

async function runBash(script: string, cwd: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `bash failed: ${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

async function has(cmd: string): Promise<boolean> {
  try {
    const r = await new Deno.Command("bash", {
      args: ["-c", `command -v ${cmd}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

Deno.test("formats.md: the shell recomputation prints the stated output", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-formats-" });
  try {
    assert.equal(await runBash(block("shell"), dir), block("shell-output") + "\n");
    assert.equal(await Deno.readTextFile(`${dir}/leaf0.json`), block("leaf-0"));
    assert.equal(await Deno.readTextFile(`${dir}/body0.json`), block("signed-body-0"));
    // The OpenSSL and python3 checks need those tools; where they exist, they must pass.
    const tools = await Promise.all(["openssl", "python3"].map(has));
    if (tools.every(Boolean)) {
      assert.equal(
        await runBash(block("shell-openssl"), dir),
        block("shell-openssl-output") + "\n",
      );
    } else {
      console.warn("openssl or python3 missing: §7.10's second script was not run");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Split a documented command line as a POSIX shell would (single quotes, `\\` continuations). */
function shellWords(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.replaceAll("\\\n", " ").split("\n")) {
    const words: string[] = [];
    for (const m of line.matchAll(/'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2]);
    if (words.length > 0) out.push(words);
  }
  return out;
}

Deno.test("formats.md: the documented regledger commands succeed on the example", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-formats-cli-" });
  // The documented file names, resolved in `dir` (no chdir: the process is shared).
  const files = new Set(["envelope0.json", "trust.json", "receipt0.tlog-proof"]);
  const args = (words: string[]) => words.slice(1).map((w) => files.has(w) ? `${dir}/${w}` : w);
  try {
    await Deno.writeTextFile(`${dir}/envelope0.json`, block("envelope-0"));
    await Deno.writeTextFile(
      `${dir}/trust.json`,
      JSON.stringify({ [kvGet("keys", "issuer key_id")]: block("issuer-pem") + "\n" }),
    );
    await Deno.writeTextFile(`${dir}/receipt0.tlog-proof`, block("receipt-entry-0") + "\n");
    const commands = shellWords(block("cli"));
    assert.equal(commands.length, 2);
    for (const words of commands) {
      assert.equal(words[0], "regledger");
      const r = await runCli(...args(words));
      assert.equal(r.code, 0, `${words.join(" ")}: ${r.stdout} ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).valid, true);
    }
    // The same receipt does not prove envelope 1.
    await Deno.writeTextFile(`${dir}/envelope0.json`, block("envelope-1"));
    const r = await runCli(...args(commands[1]));
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).valid, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
