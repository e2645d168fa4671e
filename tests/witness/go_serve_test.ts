/**
 * Go checks the cosignatures a running witness returns over HTTP: Go's
 * cosignature/v1 verifier written from the spec (tests/witness/go) accepts
 * the witness's Ed25519 line on each cosigned checkpoint and rejects it
 * when the checkpoint is changed; Go's `note.Open` still verifies the log's
 * Ed25519 signature beside the ML-DSA-44 lines (log's and witness's),
 * which it counts as unverified, whichever engine made the ML-DSA-44 line
 * (liboqs or noble). Needs Go (fails without it, never skipped).
 */
import assert from "node:assert/strict";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { formatAddCheckpointRequest } from "../../ledger/witness/add_checkpoint.ts";
import { MlDsa44NoteSigner } from "../../ledger/witness/mldsa.ts";
import { startWitness } from "../../server/witness/serve.ts";
import { buildGo, runGo } from "./_go.ts";
import { ORIGIN, TestLog } from "./_log.ts";

for (const engine of ["liboqs", "noble"] as const) {
  Deno.test(`Go verifies the cosignatures a witness server returns (ML-DSA-44 by ${engine})`, () =>
    goChecks(engine));
}

async function goChecks(engine: "liboqs" | "noble"): Promise<void> {
  const bin = await buildGo();
  const logKey = await Ed25519NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(21));
  const logPq = MlDsa44NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(22));
  const dir = await Deno.makeTempDir({ prefix: "regledger-witness-go-serve-" });
  const w = await startWitness({
    dataDir: dir,
    name: "witness.example/go",
    logs: [logKey.verifierKey()],
    mlDsa: true,
    mlDsaEngine: engine,
  });
  try {
    assert.equal(w.mlDsaEngine, engine);
    const log = new TestLog([logKey, logPq]);
    const cases: { log_vkey: string; witness_vkey: string; note: string }[] = [];
    let old = 0;
    const before = Math.floor(Date.now() / 1000);
    for (const grow of [1, 6, 9, 17]) {
      await log.grow(grow);
      const cp = await log.checkpoint();
      const res = await fetch(`${w.url}/add-checkpoint`, {
        method: "POST",
        body: formatAddCheckpointRequest(old, await log.proof(old), cp),
      });
      const body = await res.text();
      assert.equal(res.status, 200, body);
      old = log.size;
      const note = cp + body;
      cases.push({ log_vkey: logKey.verifierKey(), witness_vkey: w.verifierKeys[0], note });
      // The same cosignature on a checkpoint claiming one more entry.
      cases.push({
        log_vkey: logKey.verifierKey(),
        witness_vkey: w.verifierKeys[0],
        note: note.replace(`\n${log.size}\n`, `\n${log.size + 1}\n`),
      });
    }
    const after = Math.floor(Date.now() / 1000);
    const res = await runGo(bin, { verify: cases });
    assert.equal(res.verify?.length, cases.length);
    res.verify!.forEach((r, i) => {
      assert.equal(r.key_err, "", `case ${i}: Go parsed the witness vkey`);
      if (i % 2 === 0) {
        assert.equal(r.cosig_err, "", `case ${i}: Go verified the witness's cosignature`);
        assert.ok(r.timestamp >= before && r.timestamp <= after, `case ${i}: timestamp now`);
        assert.equal(r.log_err, "", `case ${i}: Go's note.Open verified the log`);
        assert.equal(r.log_sigs, 1);
        assert.equal(r.unknown_sigs, 3, "log ML-DSA, witness Ed25519 and ML-DSA: unverified");
      } else {
        assert.notEqual(r.cosig_err, "", `case ${i}: Go rejected the changed checkpoint`);
        assert.notEqual(r.log_err, "");
      }
    });
  } finally {
    await w.close();
    await Deno.remove(dir, { recursive: true });
  }
}
