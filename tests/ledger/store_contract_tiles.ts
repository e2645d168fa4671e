/**
 * The tile part of the store contract (run by `storeContract` for every
 * store): the hash tiles a ledger's commits store equal `readTileData` over
 * the store's stored hashes for every tile of sizes crossing 256-boundaries,
 * each is one read of the latest version, bundles are the entries, and a log
 * committed without tiles is served by deriving them on read.
 *
 * @module
 */
import assert from "node:assert/strict";
import { leafHash } from "../../ledger/merkle/mod.ts";
import { openLedger } from "../../ledger/ledger.ts";
import type { Ed25519NoteSigner } from "../../ledger/note.ts";
import { sha256 } from "../../core/bytes.ts";
import type { LedgerStore } from "../../ledger/store.ts";
import { decodeEntryBundle, decodeEnvelopeBundle } from "../../ledger/tiles/bundle.ts";
import { bundlesForSize, hashTilesForSize, readTileData } from "../../ledger/tiles/layout.ts";
import { readBundle, readHashTile, TileNotFoundError } from "../../ledger/tiles/store_tiles.ts";
import type { ParsedEnvelope } from "../../core/envelope_types.ts";

type Test = (
  what: string,
  fn: (open: () => Promise<LedgerStore>, key: Ed25519NoteSigner) => Promise<void>,
) => void;

/** Check every tile and bundle of a log of `size` entries on `store`. */
export async function checkTilesAt(store: LedgerStore, size: number): Promise<void> {
  for (const t of hashTilesForSize(size)) {
    const want = await readTileData(t, store);
    assert.deepEqual(
      await readHashTile(store, t, size),
      want,
      `tile ${t.level}/${t.n}.p/${t.width}`,
    );
    // Stored: one read gives the latest version (a full tile, or this size's partial).
    const stored = await store.readTile(t.level as number, t.n);
    assert.ok(stored !== null, `tile ${t.level}/${t.n} is stored at size ${size}`);
    assert.deepEqual(stored, want);
  }
  const entries = await store.readEntries(0, size);
  for (const b of bundlesForSize(size)) {
    const slice = entries.slice(b.n * 256, b.n * 256 + b.width);
    const leaves = decodeEntryBundle(await readBundle(store, b, size, 1 << 20), b.width);
    assert.deepEqual(leaves, slice.map((e) => e.leaf));
    const envs = await readBundle(store, { ...b, level: "envelopes" }, size, 1 << 20);
    assert.deepEqual(decodeEnvelopeBundle(envs, b.width), slice.map((e) => e.envelope));
  }
  await assert.rejects(
    () =>
      readHashTile(store, { level: 0, n: Math.floor(size / 256), width: (size % 256) + 1 }, size),
    TileNotFoundError,
  );
  await assert.rejects(
    () =>
      readBundle(
        store,
        { level: "entries", n: Math.ceil(size / 256) + 1, width: 1 },
        size,
        1 << 20,
      ),
    TileNotFoundError,
  );
}

/** Register the tile tests with the contract's `test`. */
export function storeTileContract(
  test: Test,
  origin: string,
  envelope: (i: number) => Promise<ParsedEnvelope>,
): void {
  test(
    "commits store hash tiles; tiles and bundles read back at sizes crossing 256",
    async (open, key) => {
      const store = await open();
      const ledger = await openLedger({
        store,
        logKey: key,
        origin,
        maxBatch: 64,
        storeTiles: true,
      });
      try {
        let size = 0;
        for (const chunk of [100, 155, 1, 44, 213]) {
          const envs = await Promise.all(
            Array.from({ length: chunk }, (_, i) => envelope(size + i)),
          );
          await Promise.all(envs.map((e) => ledger.append(e)));
          size += chunk;
          assert.equal(await ledger.size(), size);
          await checkTilesAt(store, size);
        }
        // Old sizes' partial tiles are prefixes of the stored latest version.
        const old = await readHashTile(store, { level: 0, n: 1, width: 44 }, size);
        assert.deepEqual(old, await readTileData({ level: 0, n: 1, width: 44 }, store));
      } finally {
        await ledger.close();
      }
    },
  );

  test("a log committed without tiles derives them on read", async (open) => {
    const store = await open();
    try {
      const leaves = Array.from({ length: 3 }, (_, i) => new TextEncoder().encode(`leaf-${i}`));
      let version: string | null = null;
      for (let i = 0; i < 3; i++) {
        const env = new TextEncoder().encode(`env-${i}`);
        const r = await store.commit(version, {
          entries: [{
            index: i,
            leaf: leaves[i],
            hashes: [leafHash(leaves[i])],
            endsCommit: true,
            envelope: env,
            envelopeSha256: sha256(env),
            bodySha256: sha256(new TextEncoder().encode(`body-${i}`)),
            issuer: "i",
            primitive: "drift",
            issuedAt: "2026-01-01T00:00:00Z",
          }],
          head: { size: i + 1, root: new Uint8Array(32), lastLeafHash: new Uint8Array(32) },
          checkpoint: `cp-${i + 1}`,
          meta: { origin, verifierKey: "k" },
        });
        assert.ok(r.ok);
        version = r.version;
      }
      assert.equal(await store.readTile(0, 0), null);
      const tile = await readHashTile(store, { level: 0, n: 0, width: 1 }, 3);
      assert.deepEqual(tile, leafHash(leaves[0]));
      const bundle = await readBundle(store, { level: "entries", n: 0, width: 3 }, 3, 1 << 20);
      assert.deepEqual(decodeEntryBundle(bundle, 3), leaves);
    } finally {
      store.close();
    }
  });
}
