/**
 * Interop of `cosignature/v1` cosignatures with Go (tests/witness/go), in
 * both directions:
 *
 * - Go, from the spec text and crypto/ed25519 (Go's x/mod `note` has no
 *   cosignature support), verifies our witnesses' cosignatures on our
 *   checkpoints and rejects tampered ones; Go's `note.Open` still verifies
 *   the log's Ed25519 signature on checkpoints that also carry cosignature
 *   and ML-DSA-44 lines (it ignores them as unknown keys);
 * - Go makes cosignatures and verifier keys from a seed; ours are identical
 *   byte for byte and our verifier accepts Go's lines.
 *
 * This test needs `go` and Debian's golang-golang-x-mod-dev (x/mod source in
 * /usr/share/gocode); it FAILS without them, it is never skipped.
 */
import assert from "node:assert/strict";
import { toBase64 } from "../../core/bytes.ts";
import { signCheckpoint } from "../../ledger/checkpoint.ts";
import { Ed25519NoteSigner, openNote } from "../../ledger/note.ts";
import { cosignatureLines } from "../../ledger/witness/add_checkpoint.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { MlDsa44NoteSigner } from "../../ledger/witness/mldsa.ts";
import { buildGo, runGo } from "./_go.ts";

function flipIn(note: string, linePrefix: string): string {
  const lines = note.split("\n");
  const i = lines.findIndex((l) => l.startsWith(linePrefix));
  const at = lines[i].length - 6;
  lines[i] = lines[i].slice(0, at) + (lines[i][at] === "A" ? "B" : "A") + lines[i].slice(at + 1);
  return lines.join("\n");
}

Deno.test("Go verifies our cosignatures from the spec; Go's note still verifies the log", async () => {
  const bin = await buildGo();
  const log = await Ed25519NoteSigner.fromSeed("example.com/log", new Uint8Array(32).fill(1));
  const pq = MlDsa44NoteSigner.fromSeed("example.com/log", new Uint8Array(32).fill(2));
  const cases: { log_vkey: string; witness_vkey: string; note: string }[] = [];
  const expect: { ok: boolean; ts: number; unknown: number }[] = [];
  for (let i = 0; i < 6; i++) {
    const ts = 1_700_000_000 + i * 977;
    const w = await Ed25519CosignatureSigner.fromSeed(
      `witness${i}.example/w`,
      new Uint8Array(32).fill(10 + i),
      { clock: () => ts },
    );
    const cp = { origin: "example.com/log", size: 1 + i * 1000, root: new Uint8Array(32).fill(i) };
    const signers = i % 2 === 0 ? [log, pq] : [log];
    const base = await signCheckpoint(cp, signers);
    const text = base.slice(0, base.lastIndexOf("\n\n") + 1);
    const note = base + await cosignatureLines(text, [w]);
    cases.push({ log_vkey: log.verifierKey(), witness_vkey: w.verifierKey(), note });
    expect.push({ ok: true, ts, unknown: signers.length });
    cases.push({
      log_vkey: log.verifierKey(),
      witness_vkey: w.verifierKey(),
      note: flipIn(note, `— witness${i}.example/w `),
    });
    expect.push({ ok: false, ts, unknown: signers.length });
    cases.push({
      log_vkey: log.verifierKey(),
      witness_vkey: w.verifierKey(),
      note: note.replace(`\n${cp.size}\n`, `\n${cp.size + 1}\n`),
    });
    expect.push({ ok: false, ts, unknown: signers.length });
  }
  const res = await runGo(bin, { verify: cases });
  assert.equal(res.verify?.length, cases.length);
  res.verify!.forEach((r, i) => {
    assert.equal(r.key_err, "", `case ${i}: Go parsed our vkey`);
    if (expect[i].ok) {
      assert.equal(r.cosig_err, "", `case ${i}: Go verified our cosignature`);
      assert.equal(r.timestamp, expect[i].ts);
      assert.equal(r.log_err, "", `case ${i}: Go's note.Open verified the log`);
      assert.equal(r.log_sigs, 1);
      assert.equal(r.unknown_sigs, expect[i].unknown, "cosignature/ML-DSA lines ignored");
    } else {
      assert.notEqual(r.cosig_err, "", `case ${i}: Go rejected a tampered cosignature`);
    }
  });
  // The text-tampered cases also fail Go's log check.
  assert.ok(res.verify!.filter((_, i) => i % 3 === 2).every((r) => r.log_err !== ""));
});

Deno.test("Go makes the same vkeys and cosignature lines as we do; we verify Go's", async () => {
  const bin = await buildGo();
  const text = "example.com/log\n42\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  const sign = [];
  const ours: { signer: Ed25519CosignatureSigner; line: string }[] = [];
  for (let i = 0; i < 5; i++) {
    const seed = new Uint8Array(32).map((_, j) => (i * 31 + j * 7) & 0xff);
    const ts = 1 + i * 123456789;
    const signer = await Ed25519CosignatureSigner.fromSeed(`w${i}.example`, seed, {
      clock: () => ts,
    });
    sign.push({ name: signer.name, seed: toBase64(seed), timestamp: ts, text });
    ours.push({ signer, line: await cosignatureLines(text, [signer]) });
  }
  const res = await runGo(bin, { sign });
  assert.equal(res.sign?.length, 5);
  for (const [i, g] of res.sign!.entries()) {
    assert.equal(g.vkey, ours[i].signer.verifierKey());
    // Ed25519 is deterministic, so the whole line is identical.
    assert.equal(g.line, ours[i].line);
    const opened = await openNote(`${text}\n${g.line}`, [ours[i].signer.verifier()]);
    assert.equal(opened.sigs.length, 1);
  }
});
