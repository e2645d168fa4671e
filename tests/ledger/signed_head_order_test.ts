/**
 * The signed-head record is written only after the KV commit it records has
 * returned, never before and never for a commit that failed: fault
 * injection through the store seam (tests/ledger/_faulty_store.ts) holds a
 * commit open, fails one before it writes, and fails one after it wrote,
 * and reads `DIR/signed-head` at each step.
 */
import assert from "node:assert/strict";
import { openLedger } from "../../ledger/ledger.ts";
import { KvStore } from "../../ledger/kv_store.ts";
import { readSignedHead } from "../../ledger/signed_head.ts";
import type { CommitBatch, CommitResult } from "../../ledger/store.ts";
import { FaultyStore } from "./_faulty_store.ts";
import { makeEnvelope, tempDir } from "./_helpers.ts";

/** A store whose next commit waits for `release()` before reaching the KV file. */
class GatedStore extends FaultyStore {
  gate: PromiseWithResolvers<void> | null = null;
  entered = Promise.withResolvers<void>();
  override async commit(v: string | null, batch: CommitBatch): Promise<CommitResult> {
    if (this.gate) {
      this.entered.resolve();
      await this.gate.promise;
      this.gate = null;
    }
    return await super.commit(v, batch);
  }
}

Deno.test("signed-head: recorded after the KV commit returns; a failed commit never advances it", async () => {
  await using t = await tempDir();
  const store = new GatedStore(await KvStore.open(`${t.dir}/ledger.kv`));
  const ledger = await openLedger({ dataDir: t.dir, store });
  try {
    await ledger.append(await makeEnvelope(0));
    assert.equal((await readSignedHead(t.dir))?.size, 1);

    // A commit held open: the record still names the old tree while it is pending.
    store.gate = Promise.withResolvers<void>();
    const pending = ledger.append(await makeEnvelope(1));
    await store.entered.promise;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await readSignedHead(t.dir))?.size, 1, "recorded before the commit");
    store.gate.resolve();
    const r1 = await pending;
    assert.equal(r1.tree_size, 2);
    const rec = await readSignedHead(t.dir);
    assert.equal(rec?.size, 2);
    assert.equal(rec?.checkpoint, r1.checkpoint);

    // Commits that fail before writing (every retry too): no receipt, no record.
    store.failAlways = true;
    const e2 = await makeEnvelope(2);
    await assert.rejects(() => ledger.append(e2));
    store.failAlways = false;
    assert.equal((await readSignedHead(t.dir))?.size, 2);
    assert.equal((await ledger.head()).size, 2);

    // A commit that wrote but reported failure: the retry finds the entry in the
    // store and only then records the tree its receipt names.
    store.failNext("after");
    const r3 = await ledger.append(await makeEnvelope(3));
    assert.equal(r3.tree_size, 3);
    assert.equal((await readSignedHead(t.dir))?.size, 3);
    const v = await ledger.verify();
    assert.equal(v.ok, true, JSON.stringify(v));
  } finally {
    await ledger.close();
  }
  // Reopening agrees with the record: nothing it names is missing from the store.
  const again = await openLedger({ dataDir: t.dir });
  await again.close();
});
