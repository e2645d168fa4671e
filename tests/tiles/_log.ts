/**
 * Test helpers: an in-memory log (leaves → stored hashes through
 * ledger/merkle.ts), the tiles and entry bundles a server would publish for
 * it, and RFC 6962's Merkle Tree Hash computed straight from its definition
 * (the oracle for what a tile must hold).
 */
import { concatBytes, sha256 } from "../../core/bytes.ts";
import { leafHash, MemoryHashStore, treeHash } from "../../ledger/merkle/mod.ts";
import {
  bundlesForSize,
  encodeEntryBundle,
  formatTilePath,
  hashTilesForSize,
  readTileData,
  TILE_WIDTH,
} from "../../ledger/tiles/mod.ts";

/** Leaf bytes of entry i: varied lengths (0 to ~90 bytes), deterministic. */
export function leafBytes(i: number): Uint8Array {
  const len = (i * 7919) % 91;
  const out = new Uint8Array(len + 4);
  new DataView(out.buffer).setUint32(0, i);
  for (let j = 0; j < len; j++) out[4 + j] = (i * 31 + j * 17) & 0xff;
  return out;
}

/** A log of `size` entries in memory. */
export interface TestLog {
  leaves: Uint8Array[];
  store: MemoryHashStore;
}

/** Build a log of `size` entries with {@link leafBytes} leaves. */
export async function buildLog(size: number): Promise<TestLog> {
  const leaves = Array.from({ length: size }, (_, i) => leafBytes(i));
  const store = new MemoryHashStore();
  const CHUNK = 4096;
  for (let i = 0; i < size; i += CHUNK) {
    await store.appendLeafHashes(leaves.slice(i, i + CHUNK).map(leafHash));
  }
  return { leaves, store };
}

/** Root of the first `size` entries, from the stored hashes. */
export function rootOf(log: TestLog, size: number): Promise<Uint8Array> {
  return treeHash(size, log.store);
}

/**
 * Write into `into` (path → bytes) every hash tile and entry bundle a log
 * serves for tree size `size` (full tiles, and that size's partial tiles).
 */
export async function publish(
  log: TestLog,
  size: number,
  into = new Map<string, Uint8Array>(),
): Promise<Map<string, Uint8Array>> {
  for (const t of hashTilesForSize(size)) {
    const path = formatTilePath(t);
    if (!into.has(path)) into.set(path, await readTileData(t, log.store));
  }
  for (const b of bundlesForSize(size)) {
    const path = formatTilePath(b);
    if (into.has(path)) continue;
    const first = b.n * TILE_WIDTH;
    into.set(path, encodeEntryBundle(log.leaves.slice(first, first + b.width)));
  }
  return into;
}

/** A fetcher over a path → bytes map that rejects unknown paths (like a 404). */
export function mapFetcher(
  m: Map<string, Uint8Array>,
  log?: string[],
): (path: string) => Promise<Uint8Array> {
  return (path) => {
    log?.push(path);
    const d = m.get(path);
    return d === undefined ? Promise.reject(new Error(`404 ${path}`)) : Promise.resolve(d.slice());
  };
}

/** RFC 6962 §2.1 MTH(D[lo:hi]) straight from the definition (k = largest power of 2 < n). */
export function mth(leaves: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  const n = hi - lo;
  if (n === 0) return sha256();
  if (n === 1) return sha256(new Uint8Array([0]), leaves[lo]);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return sha256(new Uint8Array([1]), concatBytes(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi)));
}
