/**
 * A head that claims more entries than the store holds (one flipped byte in
 * the head record) is corruption named at once, with the first missing
 * index: audits, start-up checks and the signed-head check do O(log n) reads,
 * not a loop over entries that do not exist.
 */
import assert from "node:assert/strict";
import { LedgerCorruptionError, LedgerStateError, openLedger } from "../../ledger/ledger.ts";
import { checkpointKey, HEAD_KEY } from "../../ledger/kv_layout.ts";
import { makeEnvelope, tempDir } from "./_helpers.ts";

/** A ledger of 31 entries whose head's size byte 3 is flipped to 0x3f: 270,582,939,679 entries. */
async function flippedHead(dir: string): Promise<void> {
  const ledger = await openLedger({ dataDir: dir, maxBatch: 7 });
  await Promise.all(
    Array.from({ length: 31 }, async (_, i) => ledger.append(await makeEnvelope(i))),
  );
  await ledger.close();
  const kv = await Deno.openKv(`${dir}/ledger.kv`);
  try {
    const v = (await kv.get<Uint8Array>(HEAD_KEY)).value!.slice();
    v[3] ^= 0x3f;
    await kv.set(HEAD_KEY, v);
  } finally {
    kv.close();
  }
}

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("head check: verifyLog names a head claiming 270,582,939,679 entries at once, with the index", async () => {
  await using t = await tempDir();
  await flippedHead(t.dir);
  const ledger = await openLedger({ dataDir: t.dir, audit: true });
  try {
    assert.equal(await ledger.size(), 270_582_939_679);
    const r = await within(10_000, ledger.verify());
    assert.equal(r.ok, false);
    assert.equal(r.first_bad_index, 31);
    assert.match(r.reason!, /claims 270582939679 entries but entry 31 is not stored/);
  } finally {
    await ledger.close();
  }
});

Deno.test("head check: opening for appends refuses the corrupt head by name; start-up checks too", async () => {
  await using t = await tempDir();
  await flippedHead(t.dir);
  await assert.rejects(
    () => within(10_000, openLedger({ dataDir: t.dir })),
    (e) => e instanceof LedgerStateError && /entry 31 is not stored/.test(e.message),
  );
  // Without the signed-head record (a log made before it), the start-up check names it.
  await Deno.remove(`${t.dir}/signed-head`);
  const ledger = await openLedger({ dataDir: t.dir, audit: true });
  try {
    await assert.rejects(
      () => within(10_000, ledger.checkStartup()),
      (e) => e instanceof LedgerCorruptionError && e.index === 31,
    );
  } finally {
    await ledger.close();
  }
});

Deno.test("head check: start-up checks pass on a sound store and name a missing head checkpoint", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir });
  try {
    await ledger.checkStartup();
    await ledger.append(await makeEnvelope(1));
    await ledger.append(await makeEnvelope(2));
    await ledger.checkStartup();
  } finally {
    await ledger.close();
  }
  const kv = await Deno.openKv(`${t.dir}/ledger.kv`);
  try {
    assert.ok((await kv.get(checkpointKey(2))).value);
    await kv.delete(checkpointKey(2));
  } finally {
    kv.close();
  }
  const l2 = await openLedger({ dataDir: t.dir, audit: true });
  try {
    await assert.rejects(
      () => l2.checkStartup(),
      (e) =>
        e instanceof LedgerCorruptionError &&
        /no checkpoint is stored for its size 2/.test(e.message),
    );
  } finally {
    await l2.close();
  }
});

Deno.test("head check: every flip of the head's size bytes 3..7 is named at entry 31 within the limit", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir, maxBatch: 7 });
  await Promise.all(
    Array.from({ length: 31 }, async (_, i) => ledger.append(await makeEnvelope(i))),
  );
  await ledger.close();
  const kv = await Deno.openKv(`${t.dir}/ledger.kv`);
  const pristine = (await kv.get<Uint8Array>(HEAD_KEY)).value!;
  try {
    for (let byte = 3; byte < 8; byte++) {
      const v = pristine.slice();
      v[byte] ^= 0x3f;
      await kv.set(HEAD_KEY, v);
      const claimed = Number(new DataView(v.buffer).getBigUint64(0));
      const l = await openLedger({ dataDir: t.dir, audit: true });
      try {
        const r = await within(10_000, l.verify());
        assert.equal(r.ok, false, `byte ${byte}`);
        assert.equal(r.first_bad_index, 31, `byte ${byte}: ${r.reason}`);
        assert.match(r.reason!, new RegExp(`claims ${claimed} entries`));
      } finally {
        await l.close();
      }
    }
  } finally {
    kv.close();
  }
});
