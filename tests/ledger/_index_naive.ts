/**
 * The answer a secondary-index scan must give, computed naively from the
 * entries' leaves (for comparing `LedgerStore.scanIndex` against).
 *
 * @module
 */
import { decodeLeaf } from "../../ledger/leaf.ts";
import type { IndexHit, IndexSelector, LedgerStore } from "../../ledger/store.ts";
import { indexTime } from "../../ledger/time_key.ts";
import { seededRandom } from "../_random.ts";

/** One entry's indexed fields (`t`: its `issued_at` as a UTC index key). */
export interface IndexRow {
  index: number;
  issuer: string;
  primitive: string;
  t: string;
}

/** The indexed fields of entries [0, size) of `store`. */
export async function indexRows(store: LedgerStore, size: number): Promise<IndexRow[]> {
  return (await store.readEntries(0, size)).map((e) => {
    const f = decodeLeaf(e.leaf);
    return { index: e.index, issuer: f.issuer, primitive: f.primitive, t: indexTime(f.issued_at) };
  });
}

/** The hits of `sel` among `rows`, at most `limit`, in (time, index) order. */
export function naiveScan(rows: IndexRow[], sel: IndexSelector, limit: number): IndexHit[] {
  const a = sel.after;
  return rows.filter((x) =>
    (sel.issuer === undefined || x.issuer === sel.issuer) &&
    (sel.primitive === undefined || x.primitive === sel.primitive) &&
    (sel.from === undefined || x.t >= sel.from) && (sel.to === undefined || x.t < sel.to) &&
    (a === undefined || x.t > a.issuedAt || (x.t === a.issuedAt && x.index > a.index))
  ).sort((x, y) => (x.t < y.t ? -1 : x.t > y.t ? 1 : x.index - y.index)).slice(0, limit)
    .map((x) => ({ index: x.index, issuedAt: x.t }));
}

/** A seeded PRNG (mulberry32), so a failure replays from its seed. */
export const rng: (seed: number) => () => number = seededRandom;

/** The seed of a randomized test: `REGLEDGER_TEST_SEED` when set, else the clock. */
export function testSeed(): number {
  const env = Deno.env.get("REGLEDGER_TEST_SEED");
  if (env === undefined || env === "") return Date.now() >>> 0;
  const n = Number(env);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`REGLEDGER_TEST_SEED must be a non-negative integer, got ${env}`);
  }
  return n >>> 0;
}
