/**
 * server/routes/tiles_twins.ts: entry and envelope bundle N are served from
 * one read of their entries, byte for byte what `ledger.tile` serves; hash
 * tiles, partial bundles and tiles beyond the tree are the ledger's answers;
 * reads held for a twin are bounded, and a failed read is not kept.
 */
import assert from "node:assert/strict";
import { openLedger } from "../../ledger/ledger.ts";
import { MemoryStore } from "../../ledger/memory_store.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { twinBundleTiles } from "../../server/routes/tiles_twins.ts";
import { makeEnvelope } from "../ledger/_helpers.ts";

const ORIGIN = "example.org/twin-bundles-test";

async function withLedger(
  size: number,
  f: (ledger: Awaited<ReturnType<typeof openLedger>>, reads: () => number) => Promise<void>,
) {
  const logKey = await Ed25519NoteSigner.generate(ORIGIN);
  const store = new MemoryStore();
  const ledger = await openLedger({ store, logKey, origin: ORIGIN });
  try {
    const envs = await Promise.all(Array.from({ length: size }, (_, i) => makeEnvelope(i)));
    for (let i = 0; i < size; i += 100) {
      await Promise.all(envs.slice(i, i + 100).map((e) => ledger.append(e)));
    }
    let count = 0;
    const read = store.readEntries.bind(store);
    store.readEntries = (a: number, b: number) => {
      count++;
      return read(a, b);
    };
    await f(ledger, () => count);
  } finally {
    await ledger.close();
  }
}

type Kind = "entries" | "envelopes";
const full = (level: Kind | number, n: number) => ({ level, n, width: 256 });

Deno.test("twin bundles: the same bytes as the ledger's, both bundles of N from one read", async () => {
  await withLedger(600, async (ledger, reads) => {
    const tile = twinBundleTiles(ledger);
    for (const n of [0, 1]) {
      const before = reads();
      // Asked together, as an audit asks them.
      const [entries, envelopes] = await Promise.all([
        tile(full("entries", n)),
        tile(full("envelopes", n)),
      ]);
      assert.equal(reads() - before, 1, `bundle ${n}: one read`);
      const viaLedger = reads();
      assert.deepEqual(entries, await ledger.tile(full("entries", n)));
      assert.deepEqual(envelopes, await ledger.tile(full("envelopes", n)));
      assert.equal(reads() - viaLedger, 2, "the ledger reads once per bundle");
    }
    // One after the other, envelopes first.
    let before = reads();
    const env = await tile(full("envelopes", 0));
    const ent = await tile(full("entries", 0));
    assert.equal(reads() - before, 1);
    assert.deepEqual(env, await ledger.tile(full("envelopes", 0)));
    assert.deepEqual(ent, await ledger.tile(full("entries", 0)));
    // Once both were asked, the read is not kept: the next request reads again.
    before = reads();
    await tile(full("entries", 0));
    assert.equal(reads() - before, 1);
    // Hash tiles, partial bundles and tiles beyond the tree: the ledger's answers.
    for (
      const t of [
        full(0, 0),
        full(0, 1),
        { level: 0, n: 2, width: 88 },
        { level: "entries", n: 2, width: 88 },
        { level: "envelopes", n: 2, width: 88 },
        full("entries", 2),
        full("envelopes", 3),
        { level: "entries", n: 2, width: 89 },
      ] as const
    ) {
      assert.deepEqual(await tile(t), await ledger.tile(t), JSON.stringify(t));
    }
    assert.equal(await tile(full("envelopes", 2)), null);
  });
});

Deno.test("twin bundles: reads held for a twin are bounded in number and bytes; a failed read is not kept", async () => {
  await withLedger(520, async (ledger, reads) => {
    const tile = twinBundleTiles(ledger, 1);
    // Entries 0 then entries 1 with keep = 1: the read for 0 is pushed out.
    await tile(full("entries", 0));
    await tile(full("entries", 1));
    let before = reads();
    await tile(full("envelopes", 1));
    assert.equal(reads() - before, 0, "bundle 1's read was kept");
    before = reads();
    await tile(full("envelopes", 0));
    assert.equal(reads() - before, 1, "bundle 0's read was pushed out");
    await tile(full("entries", 0)); // its twin: nothing held now

    // A byte bound the reads go over: nothing is kept (each twin reads again),
    // and the bytes served are the same.
    const lean = twinBundleTiles(ledger, 32, 1);
    before = reads();
    assert.deepEqual(await lean(full("entries", 1)), await ledger.tile(full("entries", 1)));
    assert.deepEqual(await lean(full("envelopes", 1)), await ledger.tile(full("envelopes", 1)));
    assert.equal(reads() - before, 4, "two reads by the lean reader, two by the ledger");
    // Within the byte bound, the twin comes from the kept read.
    const roomy = twinBundleTiles(ledger, 32, 10 * 1024 * 1024);
    before = reads();
    await roomy(full("entries", 1));
    await roomy(full("envelopes", 1));
    assert.equal(reads() - before, 1);

    const store = ledger.store as MemoryStore;
    const read = store.readEntries;
    store.readEntries = () => Promise.reject(new Error("disk on fire"));
    await assert.rejects(tile(full("entries", 0)), /disk on fire/);
    store.readEntries = read;
    before = reads();
    assert.deepEqual(await tile(full("envelopes", 0)), await ledger.tile(full("envelopes", 0)));
    assert.equal(reads() - before, 2, "read again after the failure (and once by the ledger)");
  });
});
