/**
 * Stored hash tiles by default, and their audit: a real on-disk Deno KV
 * ledger stores every tile of its tree; `verifyLog` names a corrupt, stale,
 * missing or stray tile (and a lost tile mark); a log written without
 * tiles gets them built when a writer opens it, never by an audit; a store
 * that holds tiles keeps them current even when opened with
 * `storeTiles: false`; a MemoryStore ledger stores them too.
 */
import assert from "node:assert/strict";
import { openLedger } from "../../ledger/ledger.ts";
import { KvStore } from "../../ledger/kv_store.ts";
import { KIND, TILE_MARK_KEY, tileKey } from "../../ledger/kv_layout.ts";
import { MemoryStore } from "../../ledger/memory_store.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { hashTilesForSize, readTileData } from "../../ledger/tiles/layout.ts";
import { makeEnvelope, tempDir } from "./_helpers.ts";

const ORIGIN = "example.org/tiles-test";

/** A KV ledger in `dir` with `n` entries (commits of up to 40). */
async function build(dir: string, n: number, storeTiles?: boolean): Promise<void> {
  const ledger = await openLedger({
    dataDir: dir,
    origin: ORIGIN,
    maxBatch: 40,
    pqLogKey: false,
    ...(storeTiles === undefined ? {} : { storeTiles }),
  });
  try {
    const base = await ledger.size();
    const envs = await Promise.all(Array.from({ length: n }, (_, i) => makeEnvelope(base + i)));
    await Promise.all(envs.map((e) => ledger.append(e)));
  } finally {
    await ledger.close();
  }
}

async function audit(dir: string) {
  const ledger = await openLedger({ dataDir: dir, origin: ORIGIN, audit: true, readOnly: true });
  try {
    return await ledger.verify();
  } finally {
    await ledger.close();
  }
}

/** Change the raw KV of the ledger in `dir`. */
async function tamper(dir: string, f: (kv: Deno.Kv) => Promise<unknown>): Promise<void> {
  const kv = await Deno.openKv(`${dir}/ledger.kv`);
  try {
    await f(kv);
  } finally {
    kv.close();
  }
}

/** Every tile of the tree is stored and equals the hashes it holds. */
async function assertTilesStored(dir: string): Promise<void> {
  const store = await KvStore.open(`${dir}/ledger.kv`, { migrate: false });
  try {
    const { head } = await store.readHead();
    for (const t of hashTilesForSize(head.size)) {
      assert.deepEqual(
        await store.readTile(t.level as number, t.n),
        await readTileData(t, store),
        `tile ${t.level}/${t.n}`,
      );
    }
    assert.notEqual((await store.kv.get(TILE_MARK_KEY)).versionstamp, null);
  } finally {
    store.close();
  }
}

Deno.test("stored tiles: a Deno KV ledger stores every tile by default and audits clean", async () => {
  await using tmp = await tempDir();
  await build(tmp.dir, 300);
  await assertTilesStored(tmp.dir);
  assert.deepEqual(await audit(tmp.dir), { ok: true, size: 300 });
});

Deno.test("stored tiles: the audit names a corrupt, stale, missing or stray tile", async (t) => {
  await using tmp = await tempDir();
  await build(tmp.dir, 300);
  const pristine = `${tmp.dir}/pristine`;
  await Deno.mkdir(pristine);
  for (const f of ["ledger.kv", "log-key", "signed-head"]) {
    await Deno.copyFile(`${tmp.dir}/${f}`, `${pristine}/${f}`).catch(() => {});
  }
  const restore = async () => {
    for (const f of ["ledger.kv-wal", "ledger.kv-shm"]) {
      await Deno.remove(`${tmp.dir}/${f}`).catch(() => {});
    }
    await Deno.copyFile(`${pristine}/ledger.kv`, `${tmp.dir}/ledger.kv`);
  };
  const cases: [string, (kv: Deno.Kv) => Promise<unknown>, number | undefined, RegExp][] = [
    [
      "one byte of a full tile",
      async (kv) => {
        const v = (await kv.get<Uint8Array>(tileKey(0, 0))).value!.slice();
        v[32 * 7 + 3] ^= 1;
        await kv.set(tileKey(0, 0), v);
      },
      7,
      /hash tile 0\/0: stored hash 7 is not the tree's/,
    ],
    [
      "one byte of a partial tile",
      async (kv) => {
        const v = (await kv.get<Uint8Array>(tileKey(0, 1))).value!.slice();
        v[32 * 40] ^= 0x80;
        await kv.set(tileKey(0, 1), v);
      },
      296,
      /hash tile 0\/1\.p\/44: stored hash 40/,
    ],
    [
      "a level-1 tile",
      async (kv) => {
        const v = (await kv.get<Uint8Array>(tileKey(1, 0))).value!.slice();
        v[0] ^= 1;
        await kv.set(tileKey(1, 0), v);
      },
      0,
      /hash tile 1\/0\.p\/1: stored hash 0/,
    ],
    [
      "a stale (shorter) partial tile",
      async (kv) => {
        const v = (await kv.get<Uint8Array>(tileKey(0, 1))).value!;
        await kv.set(tileKey(0, 1), v.slice(0, 32 * 10));
      },
      256,
      /hash tile 0\/1\.p\/44: stored tile holds 10 hashes, the tree has 44/,
    ],
    [
      "a tile of odd length",
      async (kv) => {
        const v = (await kv.get<Uint8Array>(tileKey(0, 1))).value!;
        const longer = new Uint8Array(v.length + 5);
        longer.set(v);
        await kv.set(tileKey(0, 1), longer);
      },
      256,
      /not 1-256 hashes/,
    ],
    [
      "a missing tile",
      (kv) => kv.delete(tileKey(0, 1)),
      256,
      /hash tile 0\/1\.p\/44 is not stored/,
    ],
    [
      "every tile deleted (the mark remains)",
      async (kv) => {
        for await (const r of kv.list({ prefix: [KIND.tile] })) await kv.delete(r.key);
      },
      0,
      /hash tile 0\/0 is not stored/,
    ],
    ["the tile mark deleted", (kv) => kv.delete(TILE_MARK_KEY), undefined, /tile mark .* missing/],
    [
      "a stray malformed tile key",
      (kv) => kv.set([KIND.tile, "x", 0], new Uint8Array(32)),
      undefined,
      /tile key .* malformed/,
    ],
  ];
  for (const [what, f, index, reason] of cases) {
    await t.step(what, async () => {
      await restore();
      assert.deepEqual(await audit(tmp.dir), { ok: true, size: 300 });
      await tamper(tmp.dir, f);
      const r = await audit(tmp.dir);
      assert.equal(r.ok, false, what);
      assert.match(r.reason ?? "", reason);
      assert.equal(r.first_bad_index, index);
    });
  }
});

Deno.test("stored tiles: a log written without tiles gets them on a writer's open, not an audit's", async () => {
  await using tmp = await tempDir();
  await build(tmp.dir, 530, false);
  const store = await KvStore.open(`${tmp.dir}/ledger.kv`, { migrate: false });
  assert.equal(await store.readTile(0, 0), null);
  store.close();
  // An audit passes (tiles are derived on read) and writes nothing.
  assert.deepEqual(await audit(tmp.dir), { ok: true, size: 530 });
  const again = await KvStore.open(`${tmp.dir}/ledger.kv`, { migrate: false });
  assert.equal(await again.readTile(0, 0), null);
  assert.equal((await again.kv.get(TILE_MARK_KEY)).versionstamp, null);
  again.close();
  // A writer's open builds every tile; later commits keep them current.
  await build(tmp.dir, 30);
  await assertTilesStored(tmp.dir);
  assert.deepEqual(await audit(tmp.dir), { ok: true, size: 560 });
});

Deno.test("stored tiles: storeTiles false on a store that holds tiles keeps them current", async () => {
  await using tmp = await tempDir();
  await build(tmp.dir, 20);
  await build(tmp.dir, 270, false);
  await assertTilesStored(tmp.dir);
  assert.deepEqual(await audit(tmp.dir), { ok: true, size: 290 });
});

Deno.test("stored tiles: a MemoryStore ledger stores them by default", async () => {
  const logKey = await Ed25519NoteSigner.generate(ORIGIN);
  const store = new MemoryStore();
  const ledger = await openLedger({ store, logKey, origin: ORIGIN, maxBatch: 50 });
  try {
    const envs = await Promise.all(Array.from({ length: 260 }, (_, i) => makeEnvelope(i)));
    await Promise.all(envs.map((e) => ledger.append(e)));
    for (const t of hashTilesForSize(260)) {
      assert.deepEqual(await store.readTile(t.level as number, t.n), await readTileData(t, store));
    }
    assert.deepEqual(await ledger.verify(), { ok: true, size: 260 });
  } finally {
    await ledger.close();
  }
});
