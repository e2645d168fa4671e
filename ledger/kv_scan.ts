/**
 * Secondary-index scans of the Deno KV store (`KvStore.scanIndex`): one
 * `[kind, …values, t, n]` index read in key order within a selector's
 * bounds, the six primitive indexes merged for time-only queries, and the
 * issuer+primitive index (or, on a log whose `"ip"` rows are not built
 * yet, the issuer index filtered by each entry's leaf).
 *
 * @module
 */
import { PRIMITIVES } from "../core/envelope_types.ts";
import { LedgerCorruptionError } from "./errors.ts";
import { issuerPrefix, issuerPrimitivePrefix, MAX_KEY_PART, primitivePrefix } from "./kv_layout.ts";
import type { IndexHit, IndexSelector, StoredEntry } from "./store.ts";
import { compareIndexTime } from "./time_key.ts";

/**
 * The hits of `sel` on `kv`, at most `limit`, in (time, index) order.
 * `ipBuilt` says the `"ip"` index is complete (its mark is stored);
 * `readEntry` reads an entry for the filtering fallback.
 */
export async function scanKvIndex(
  kv: Deno.Kv,
  sel: IndexSelector,
  limit: number,
  ipBuilt: boolean,
  readEntry: (index: number) => Promise<StoredEntry | null>,
): Promise<IndexHit[]> {
  const hits: IndexHit[] = [];
  if (sel.issuer === undefined && sel.primitive === undefined) {
    // No time-only index (one row less per entry): merge the six primitive indexes.
    const its = PRIMITIVES.map((p) =>
      scanPrefix(kv, primitivePrefix(p), sel, limit)[Symbol.asyncIterator]()
    );
    const heads = await Promise.all(its.map((it) => it.next()));
    while (hits.length < limit) {
      let best = -1;
      for (let k = 0; k < heads.length; k++) {
        const h = heads[k];
        if (h.done) continue;
        if (best < 0 || compareHits(h.value, heads[best].value as IndexHit) < 0) best = k;
      }
      if (best < 0) break;
      hits.push(heads[best].value as IndexHit);
      heads[best] = await its[best].next();
    }
    await Promise.all(its.map((it) => it.return(undefined)));
    return hits;
  }
  const both = sel.issuer !== undefined && sel.primitive !== undefined;
  if (!both || ipBuilt) {
    const prefix: Deno.KvKey = both
      ? issuerPrimitivePrefix(sel.issuer!, sel.primitive!)
      : sel.issuer !== undefined
      ? issuerPrefix(sel.issuer)
      : primitivePrefix(sel.primitive as string);
    for await (const h of scanPrefix(kv, prefix, sel, limit)) {
      hits.push(h);
      if (hits.length >= limit) break;
    }
    return hits;
  }
  // Issuer and primitive before the "ip" index is built: the issuer index, keeping
  // hits whose leaf names the primitive; the leaves of a chunk of hits are read concurrently.
  const it = scanPrefix(kv, issuerPrefix(sel.issuer!), sel, limit)[Symbol.asyncIterator]();
  let ended = false;
  while (!ended && hits.length < limit) {
    const chunk: IndexHit[] = [];
    for (let n = await it.next(); !(ended = n.done === true); n = await it.next()) {
      if (chunk.push(n.value) === 64) break;
    }
    const entries = await Promise.all(chunk.map((h) => readEntry(h.index)));
    for (let k = 0; k < chunk.length && hits.length < limit; k++) {
      const e = entries[k];
      if (!e) throw new LedgerCorruptionError(`index names missing entry ${chunk[k].index}`);
      const leaf = JSON.parse(new TextDecoder().decode(e.leaf)) as { primitive?: unknown };
      if (leaf.primitive === sel.primitive) hits.push(chunk[k]);
    }
  }
  await it.return(undefined);
  return hits;
}

/** Hits of one `[kind, …values, t, n]` index (t: UTC time key) in key order, within the selector's bounds. */
async function* scanPrefix(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  sel: IndexSelector,
  limit: number,
): AsyncGenerator<IndexHit> {
  let start: Deno.KvKey | undefined = sel.from !== undefined ? [...prefix, sel.from] : undefined;
  let startTime = sel.from;
  if (sel.after) {
    const a: Deno.KvKey = [...prefix, sel.after.issuedAt, sel.after.index + 1];
    if (sel.from === undefined || compareIndexTime(sel.after.issuedAt, sel.from) >= 0) {
      start = a;
      startTime = sel.after.issuedAt;
    }
  }
  // An empty time range (Deno KV refuses a start key beyond the end key).
  if (sel.to !== undefined && startTime !== undefined && compareIndexTime(startTime, sel.to) >= 0) {
    return;
  }
  const end: Deno.KvKey = sel.to !== undefined ? [...prefix, sel.to] : [...prefix, MAX_KEY_PART];
  const it = kv.list<Uint8Array>(
    start === undefined ? { prefix, end } : { start, end },
    { batchSize: Math.min(500, limit + 1) },
  );
  const base = prefix.length;
  for await (const r of it) {
    const issuedAt = r.key[base];
    const index = r.key[base + 1];
    if (typeof issuedAt !== "string" || typeof index !== "number") {
      throw new LedgerCorruptionError(`index key ${JSON.stringify(r.key.map(String))} malformed`);
    }
    yield { index, issuedAt };
  }
}

function compareHits(a: IndexHit, b: IndexHit): number {
  return compareIndexTime(a.issuedAt, b.issuedAt) || a.index - b.index;
}
