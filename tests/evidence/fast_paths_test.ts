/**
 * The export's fast paths give what the plain paths give: CRC-32 by
 * slicing-by-8 against a bit-at-a-time reference, the memoised proof reader
 * against proofs from the stored hashes (and still refusing a tampered
 * tile), and a local selection's index scan against the query's pages.
 */
import assert from "node:assert/strict";
import { MemoHashReader } from "../../ledger/evidence/memo_hashes.ts";
import { crc32, readZip, ZipWriter } from "../../ledger/evidence/zip.ts";
import { LedgerRangeError } from "../../ledger/errors.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { MemoryStore } from "../../ledger/memory_store.ts";
import { MemoryHashStore, proveRecord, treeHash } from "../../ledger/merkle/mod.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { scanIndexes } from "../../ledger/query.ts";
import { hashTilesForSize, readTileData } from "../../ledger/tiles/layout.ts";
import { formatTilePath } from "../../ledger/tiles/path.ts";
import { TileAuthError, TileHashReader } from "../../ledger/tiles/reader.ts";
import { makeEnvelope } from "../ledger/_helpers.ts";

/** CRC-32 one bit at a time, straight from the polynomial (no tables). */
function crcReference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

Deno.test("crc32: known answer, and every length and offset against the bitwise reference", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const data = crypto.getRandomValues(new Uint8Array(4099));
  for (let len = 0; len <= 40; len++) {
    for (const off of [0, 1, 3, 7]) {
      const v = data.subarray(off, off + len);
      assert.equal(crc32(v), crcReference(v), `len ${len} off ${off}`);
    }
  }
  assert.equal(crc32(data), crcReference(data));
});

Deno.test("ZipWriter: chunks of about 1 MiB, the same archive as read back", async () => {
  const chunks: Uint8Array[] = [];
  const zip = new ZipWriter((c) => {
    chunks.push(c.slice());
    return Promise.resolve();
  });
  const files = Array.from(
    { length: 400 },
    (_, i) => crypto.getRandomValues(new Uint8Array(5000 + i)),
  );
  for (const [i, f] of files.entries()) await zip.add(`f/${i}`, f);
  await zip.finish(["f/399"]);
  // Fewer sink calls than files: small files are handed over together.
  assert.ok(chunks.length < 10, `${chunks.length} chunks`);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  assert.equal(all.length, zip.bytesWritten);
  const back = readZip(all);
  assert.equal(back[0].name, "f/399");
  for (const f of back) {
    assert.ok(f.crcOk);
    assert.deepEqual(f.data, files[Number(f.name.slice(2))]);
  }
});

async function tiledTree(size: number) {
  const store = new MemoryHashStore();
  for (let i = 0; i < size; i++) await store.append(new Uint8Array([i & 0xff, i >> 8, 7]));
  const served = new Map<string, Uint8Array>();
  for (const t of hashTilesForSize(size)) {
    served.set(formatTilePath(t), await readTileData(t, store));
  }
  return { store, served, root: await treeHash(size, store) };
}

Deno.test("MemoHashReader: the same proofs as the stored hashes give, for every entry", async () => {
  for (const size of [1, 2, 255, 256, 257, 700]) {
    const { store, served, root } = await tiledTree(size);
    let fetches = 0;
    const tiles = new TileHashReader(size, root, (p) => {
      fetches++;
      return Promise.resolve(served.get(p)!);
    });
    const memo = new MemoHashReader(tiles, size);
    memo.prefetchRow(1);
    // In pack order (and once more backwards: derived hashes are reused, not re-read).
    const order = [...Array(size).keys()];
    for (const i of [...order, ...order.reverse()]) {
      assert.deepEqual(await proveRecord(size, i, memo), await proveRecord(size, i, store));
    }
    assert.ok(fetches <= 2 * Math.ceil(size / 256) + 4, `${fetches} tile fetches for ${size}`);
  }
});

Deno.test("MemoHashReader: a tampered tile is still a TileAuthError", async () => {
  const size = 700;
  const { served, root } = await tiledTree(size);
  const bad = new Map(served);
  const full = bad.get("tile/0/001")!.slice();
  full[40] ^= 1;
  bad.set("tile/0/001", full);
  const memo = new MemoHashReader(
    new TileHashReader(size, root, (p) => Promise.resolve(bad.get(p)!)),
    size,
  );
  await proveRecord(size, 3, memo); // tile row 0 is intact
  await assert.rejects(proveRecord(size, 300, memo), TileAuthError);
});

Deno.test("scanIndexes: the query's entries in the query's order, its checks, no entry filters", async () => {
  const key = await Ed25519NoteSigner.generate("scan.example/log");
  const ledger = await openLedger({ store: new MemoryStore(), logKey: key, origin: key.name });
  try {
    for (let i = 0; i < 60; i++) {
      // Out of time order, two issuers: the index orders by (issued_at, index).
      const minute = String((i * 37) % 60).padStart(2, "0");
      await ledger.append(
        await makeEnvelope(i, {
          issuer: i % 3 ? "acme" : "globex",
          issuedAt: `2026-03-01T10:${minute}:00Z`,
        }),
      );
    }
    const selections = [
      {},
      { issuer: "acme" },
      { issuer: "acme", from: "2026-03-01T12:20:00+02:00", to: "2026-03-01T10:50:00Z" },
      { primitive: "fairness" },
    ];
    for (const sel of selections) {
      const viaQuery: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await ledger.query({ ...sel, limit: 7, cursor });
        viaQuery.push(...page.entries.map((e) => e.index));
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
      const viaScan: number[] = [];
      for await (const page of scanIndexes(ledger.store, sel, 7)) viaScan.push(...page);
      assert.deepEqual(viaScan, viaQuery, JSON.stringify(sel));
    }
    const drain = async (sel: Record<string, unknown>) => {
      for await (const _ of scanIndexes(ledger.store, sel)) { /* read */ }
    };
    await assert.rejects(drain({ from: "yesterday" }), LedgerRangeError);
    await assert.rejects(drain({ breached: true }), LedgerRangeError);
  } finally {
    await ledger.close();
  }
});
