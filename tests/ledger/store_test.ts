/**
 * KV store tests: the entry encoding round-trips and is strict (fast-check),
 * readHashes agrees with an independent in-memory tree at every stored
 * index, and commits are refused (writing nothing) on a stale head or an
 * already indexed envelope.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256 } from "../../core/bytes.ts";
import { decodeEntryValue, encodeEntry, KV_MAX_VALUE } from "../../ledger/kv_codec.ts";
import { LedgerCorruptionError } from "../../ledger/errors.ts";
import { KvStore } from "../../ledger/kv_store.ts";
import { leafHash, MemoryHashStore, storedHashCount } from "../../ledger/merkle/mod.ts";
import { openLedger } from "../../ledger/index.ts";
import type { NewEntry } from "../../ledger/store.ts";
import { makeEnvelope } from "./_helpers.ts";

function eq(a: unknown, b: unknown, msg?: string): void {
  assert.deepStrictEqual(a, b, msg);
}

const entryArb = fc.record({
  index: fc.nat({ max: 2 ** 40 }),
  leaf: fc.uint8Array({ minLength: 1, maxLength: 600 }),
  hashes: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 5 }),
  endsCommit: fc.boolean(),
  envelope: fc.oneof(
    fc.uint8Array({ maxLength: 3000 }),
    fc.integer({ min: KV_MAX_VALUE - 800, max: 3 * KV_MAX_VALUE + 5 }).map((n) =>
      new Uint8Array(n).map((_, i) => (i * 31) & 0xff)
    ),
  ),
});

Deno.test("entry encoding round-trips, fits KV values and chunks exactly", () => {
  fc.assert(
    fc.property(entryArb, (e) => {
      const { value, chunks } = encodeEntry(e);
      assert(value.length <= KV_MAX_VALUE);
      for (const c of chunks) assert(c.length > 0 && c.length <= KV_MAX_VALUE);
      const d = decodeEntryValue(value, e.index);
      eq(d.leaf, e.leaf);
      eq(d.hashes, e.hashes);
      eq(d.endsCommit, e.endsCommit);
      eq(d.chunkCount, chunks.length);
      const whole = new Uint8Array(d.envelopeLength);
      whole.set(d.first);
      let o = d.first.length;
      for (const c of chunks) {
        whole.set(c, o);
        o += c.length;
      }
      eq(o, e.envelope.length);
      eq(whole, e.envelope);
    }),
    { numRuns: 150 },
  );
});

Deno.test("entry decoding is strict: truncation, extension and bad header bytes are corruption", () => {
  fc.assert(
    fc.property(entryArb, fc.nat(), fc.integer({ min: 1, max: 40 }), (e, cut, extra) => {
      const { value } = encodeEntry(e);
      const bad = [
        value.subarray(0, cut % value.length),
        new Uint8Array([...value, ...new Uint8Array(extra)]),
        Uint8Array.from(value, (b, i) => (i === 0 ? b ^ 0x80 : b)),
        Uint8Array.from(value, (b, i) => (i === 1 ? b | 0x04 : b)),
      ];
      for (const v of bad) {
        // A longer first part is only wrong when the envelope was not chunked-to-fit.
        if (v.length > KV_MAX_VALUE) continue;
        assert.throws(() => decodeEntryValue(v, e.index), LedgerCorruptionError);
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test("readHashes returns the independent tree's hash at every stored index", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ledger = await openLedger({ dataDir: dir, maxBatch: 6 });
    const mem = new MemoryHashStore();
    const N = 45;
    const rs = await Promise.all(
      Array.from({ length: N }, async (_, i) => ledger.append(await makeEnvelope(i))),
    );
    rs.sort((a, b) => a.index - b.index);
    for (const r of rs) {
      const e = (await ledger.store.readEntry(r.index))!;
      await mem.append(e.leaf);
    }
    await ledger.close();
    // A fresh store has an empty cache: every hash comes from KV.
    const store = await KvStore.open(`${dir}/ledger.kv`);
    try {
      const all = [...Array(storedHashCount(N)).keys()];
      const got = await store.readHashes(all);
      eq(got, all.map((i) => mem.hashes[i]));
      // In a shuffled order too.
      const shuffled = [...all].reverse();
      eq(await store.readHashes(shuffled), shuffled.map((i) => mem.hashes[i]));
      await assert.rejects(() => store.readHashes([storedHashCount(N) + 3]), RangeError);
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("commit writes nothing on a stale head or an already indexed envelope", async () => {
  const store = await KvStore.open(":memory:");
  try {
    const meta = { origin: "o", verifierKey: "k" };
    const mk = (index: number, env: string): NewEntry => {
      const envelope = new TextEncoder().encode(env);
      const leaf = new TextEncoder().encode(`leaf-${index}`);
      return {
        index,
        leaf,
        hashes: [leafHash(leaf)],
        endsCommit: true,
        envelope,
        envelopeSha256: sha256(envelope),
        bodySha256: sha256(new TextEncoder().encode(`body-${env}`)),
        issuer: "i",
        primitive: "p",
        issuedAt: "t",
      };
    };
    const head1 = { size: 1, root: new Uint8Array(32), lastLeafHash: new Uint8Array(32) };
    const r1 = await store.commit(null, {
      entries: [mk(0, "a")],
      head: head1,
      checkpoint: "c1",
      meta,
    });
    assert(r1.ok);
    // Stale version (null again): refused.
    const r2 = await store.commit(null, {
      entries: [mk(0, "b")],
      head: head1,
      checkpoint: "c",
      meta,
    });
    eq(r2.ok, false);
    // Right version, but envelope "a" is already indexed: refused.
    const head2 = { ...head1, size: 2 };
    const r3 = await store.commit(r1.version, {
      entries: [mk(1, "a")],
      head: head2,
      checkpoint: "c2",
      meta,
    });
    eq(r3.ok, false);
    eq((await store.readHead()).head.size, 1);
    eq(await store.readEntry(1), null);
    eq(await store.findEnvelopes([sha256(new TextEncoder().encode("a")), new Uint8Array(32)]), [
      0,
      null,
    ]);
    eq(await store.readCheckpoint(1), "c1");
    eq(await store.readCheckpoint(2), null);
  } finally {
    store.close();
  }
});
