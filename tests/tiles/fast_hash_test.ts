/**
 * ledger/tiles/fast_hash.ts gives the same hashes as core/bytes.ts `sha256`
 * and the RFC 6962 node hash: `sha256Into` on messages of every size class
 * an audit hashes, `merkleRootOfRun` on every power-of-two run of a tile
 * against the recursive definition.
 */
import assert from "node:assert/strict";
import { sha256 } from "../../core/bytes.ts";
import { nodeHash } from "../../ledger/merkle/mod.ts";
import { merkleRootOfRun, sha256Into } from "../../ledger/tiles/fast_hash.ts";
import { fullTileHash, hashFromTileData } from "../../ledger/tiles/layout.ts";

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

function mth(data: Uint8Array, start: number, end: number): Uint8Array {
  if (end - start === 1) return data.slice(start * 32, end * 32);
  const mid = start + (end - start) / 2;
  return nodeHash(mth(data, start, mid), mth(data, mid, end));
}

Deno.test("fast hash: sha256Into is SHA-256, at any offset of the output", () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 250, 1400, 70_000]) {
    const m = bytes(n, n + 1);
    const out = new Uint8Array(40).fill(7);
    sha256Into(m, out, 5);
    assert.deepEqual(out.subarray(5, 37), sha256(m), `${n} bytes`);
    assert.deepEqual([...out.subarray(0, 5), ...out.subarray(37)], [7, 7, 7, 7, 7, 7, 7, 7]);
  }
});

Deno.test("fast hash: merkleRootOfRun is the Merkle tree hash of every power-of-two run", () => {
  const tile = bytes(256 * 32, 42);
  const copy = tile.slice();
  for (let size = 1; size <= 256; size *= 2) {
    for (let start = 0; start + size <= 256; start += size) {
      const want = mth(tile, start, start + size);
      if (size > 1) assert.deepEqual(merkleRootOfRun(tile, start, start + size), want);
      assert.deepEqual(hashFromTileData(tile, start, start + size), want);
    }
  }
  assert.deepEqual(fullTileHash(tile), mth(tile, 0, 256));
  assert.deepEqual(tile, copy, "the tile is not changed");
});
