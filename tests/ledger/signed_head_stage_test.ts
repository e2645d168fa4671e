/**
 * The signed-head record is staged while the store commits (its temporary
 * file written and fsynced) and put in place only after the commit
 * succeeded (ledger/signed_head.ts): every receipt's checkpoint is covered
 * by the record on disk when the receipt arrives, a commit that fails or
 * loses a race never moves the record, and no staged file is left behind.
 * Also: with no engine given, the log signs its ML-DSA-44 checkpoint
 * signatures with liboqs where it loads, and noble (an independent
 * implementation) verifies them.
 */
import assert from "node:assert/strict";
import { openCheckpoint } from "../../ledger/checkpoint.ts";
import { KvStore } from "../../ledger/kv_store.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { parseVerifierKey } from "../../ledger/note.ts";
import { readSignedHead } from "../../ledger/signed_head.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { MlDsa44NoteVerifier, nobleMlDsa44 } from "../../ledger/witness/mldsa.ts";
import { defaultMlDsa44Engine } from "../../ledger/witness/mldsa_liboqs.ts";
import { makeEnvelope, tempDir } from "./_helpers.ts";

async function staged(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".tmp")) out.push(e.name);
  return out;
}

Deno.test("signed-head staging: each receipt's checkpoint is on disk when it arrives; nothing left behind", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir, maxBatch: 8 });
  try {
    const envs = await Promise.all(Array.from({ length: 100 }, (_, i) => makeEnvelope(i)));
    const seen = await Promise.all(envs.map(async (e) => {
      const r = await ledger.append(e);
      const rec = await readSignedHead(t.dir);
      return rec !== null && rec.size >= r.tree_size;
    }));
    assert.ok(seen.every(Boolean));
  } finally {
    await ledger.close();
  }
  assert.equal((await readSignedHead(t.dir))!.size, 100);
  assert.deepEqual(await staged(t.dir), []);
});

Deno.test("signed-head staging: a lost race or a failed commit never moves the record", async () => {
  await using t = await tempDir();
  const store = await KvStore.open(`${t.dir}/ledger.kv`);
  const commit = store.commit.bind(store);
  let mode: "pass" | "lose" | "fail" = "pass";
  store.commit = (...args: Parameters<KvStore["commit"]>) => {
    if (mode === "lose") {
      mode = "pass"; // lose one race, then let the retry through
      return Promise.resolve({ ok: false as const });
    }
    if (mode === "fail") return Promise.reject(new Error("disk on fire"));
    return commit(...args);
  };
  const ledger = await openLedger({ store, dataDir: t.dir });
  try {
    await ledger.append(await makeEnvelope(0));
    assert.equal((await readSignedHead(t.dir))!.size, 1);
    mode = "lose";
    const r = await ledger.append(await makeEnvelope(1));
    assert.equal(r.tree_size, 2);
    assert.equal((await readSignedHead(t.dir))!.size, 2);
    mode = "fail";
    await assert.rejects(ledger.append(await makeEnvelope(2)), /disk on fire/);
    const rec = await readSignedHead(t.dir);
    assert.equal(rec!.size, 2);
    assert.equal(rec!.checkpoint, r.checkpoint);
    assert.deepEqual(await staged(t.dir), []);
    mode = "pass";
    assert.equal((await ledger.append(await makeEnvelope(2))).tree_size, 3);
  } finally {
    await ledger.close();
  }
  assert.equal((await readSignedHead(t.dir))!.size, 3);
  assert.deepEqual(await staged(t.dir), []);
});

Deno.test("default ML-DSA-44 engine: liboqs signs the log's checkpoints; noble verifies them", async () => {
  const engine = await defaultMlDsa44Engine();
  assert.equal(engine.name, "liboqs"); // @oqs/liboqs-js is pinned and loads here
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir });
  try {
    const r = await ledger.append(await makeEnvelope(0));
    const [edKey, pqKey] = ledger.verifierKeys;
    const pq = parseNoteVerifierKey(pqKey);
    const noble = new MlDsa44NoteVerifier(pq.verifier.name, pq.publicKey, nobleMlDsa44);
    const cp = await openCheckpoint(r.checkpoint, [parseVerifierKey(edKey), noble]);
    assert.equal(cp.note.sigs.length, 2);
    assert.equal(cp.size, 1);
  } finally {
    await ledger.close();
  }
});
