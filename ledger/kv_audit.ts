/**
 * The Deno KV store's half of an audit: every derived record it holds (the
 * envelope-hash index, the issuer and primitive indexes) decoded back from
 * its keys, and every key it cannot attribute (malformed index keys,
 * envelope chunks no entry has), so that `verifyLog` can check them against
 * the entries without knowing the key layout.
 *
 * @module
 */
import { decodeEntryValue } from "./kv_codec.ts";
import { BODY_MARK_KEY, entryKey, KIND, TILE_MARK_KEY, tileKey } from "./kv_layout.ts";
import type { DerivedRecord } from "./store.ts";

function show(key: Deno.KvKey): string {
  return JSON.stringify(key.map((p) => p instanceof Uint8Array ? `bytes(${p.length})` : String(p)));
}

function entryIndexOf(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** The derived records of the KV database `kv` for entries below `size` (see `LedgerStore.scanDerived`). */
export async function* scanKvDerived(kv: Deno.Kv, size: number): AsyncGenerator<DerivedRecord> {
  // The signed-body index's completion mark: written with the first entry (or by the
  // rebuild of an older log), an empty value; without it re-submission checks are unsound.
  if (size > 0) {
    const mark = await kv.get(BODY_MARK_KEY);
    if (mark.versionstamp === null) {
      yield {
        kind: "unaccounted",
        what: `the signed-body index mark ${show(BODY_MARK_KEY)} is missing`,
      };
    } else if (!(mark.value instanceof Uint8Array) || mark.value.length !== 0) {
      yield {
        kind: "unaccounted",
        what: `the signed-body index mark ${show(BODY_MARK_KEY)} is malformed`,
      };
    }
  }
  yield* scanTileKeys(kv, size);
  // Chunk keys: each must be chunk j <= the chunk count of an entry below size.
  const chunks = new Map<number, number[]>();
  for await (const r of kv.list({ prefix: [KIND.chunk] }, { batchSize: 1000 })) {
    const n = entryIndexOf(r.key[1]);
    const j = entryIndexOf(r.key[2]);
    if (r.key.length !== 3 || n === undefined || j === undefined || j < 1) {
      if (typeof r.key[1] === "number" && r.key[1] >= size) continue; // appended meanwhile
      yield { kind: "unaccounted", what: `envelope chunk key ${show(r.key)} is malformed` };
      continue;
    }
    if (n >= size) continue;
    const list = chunks.get(n) ?? [];
    list.push(j);
    chunks.set(n, list);
  }
  for (const [n, js] of chunks) {
    const r = await kv.get<Uint8Array>(entryKey(n));
    let count = 0;
    try {
      if (r.versionstamp !== null) count = decodeEntryValue(r.value, n).chunkCount;
    } catch {
      continue; // a bad entry value is the entry check's finding
    }
    for (const j of js) {
      if (j > count) {
        yield {
          kind: "unaccounted",
          what: `envelope chunk key ${show([KIND.chunk, n, j])} belongs to no entry`,
          index: n,
        };
      }
    }
  }
  for (const kind of [KIND.envelope, KIND.body] as const) {
    const what = kind === KIND.envelope ? "envelope index key" : "signed-body index key";
    for await (const r of kv.list<Uint8Array>({ prefix: [kind] }, { batchSize: 1000 })) {
      const v = r.value;
      const sha = r.key[1];
      if (!(v instanceof Uint8Array) || v.length !== 8 || !(sha instanceof Uint8Array)) {
        yield { kind: "unaccounted", what: `${what} ${show(r.key)} is malformed` };
        continue;
      }
      const big = new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0);
      const index = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
      if (index >= size) continue; // appended after the audit read the head
      if (r.key.length !== 2) {
        yield { kind: "unaccounted", what: `${what} ${show(r.key)} is malformed`, index };
        continue;
      }
      yield { kind: kind === KIND.envelope ? "envelope" : "body", sha256: sha, index };
    }
  }
  for (const kind of [KIND.issuer, KIND.primitive] as const) {
    for await (const r of kv.list<Uint8Array>({ prefix: [kind] }, { batchSize: 1000 })) {
      const [, value, time, n] = r.key;
      if (typeof n === "number" && n >= size) continue; // appended meanwhile
      const index = entryIndexOf(n);
      if (
        r.key.length !== 4 || typeof value !== "string" || typeof time !== "string" ||
        index === undefined || !(r.value instanceof Uint8Array) || r.value.length !== 0
      ) {
        yield { kind: "unaccounted", what: `index key ${show(r.key)} is malformed`, index };
        continue;
      }
      yield kind === KIND.issuer
        ? { kind: "issuer", issuer: value, time, index }
        : { kind: "primitive", primitive: value, time, index };
    }
  }
}

/**
 * The tile mark and the tile keys: the tiles' contents are the audit's
 * (`ledger/tiles/audit_tiles.ts`, through `readTile`); here, a key that is
 * no tile's, and a mark promising tiles that are not there.
 */
async function* scanTileKeys(kv: Deno.Kv, size: number): AsyncGenerator<DerivedRecord> {
  if (size > 0) {
    const mark = await kv.get(TILE_MARK_KEY);
    if (mark.versionstamp === null) {
      if ((await kv.get(tileKey(0, 0))).versionstamp !== null) {
        yield {
          kind: "unaccounted",
          what: `the tile mark ${show(TILE_MARK_KEY)} is missing but tiles are stored`,
        };
      }
    } else {
      if (!(mark.value instanceof Uint8Array) || mark.value.length !== 0) {
        yield { kind: "unaccounted", what: `the tile mark ${show(TILE_MARK_KEY)} is malformed` };
      } else if ((await kv.get(tileKey(0, 0))).versionstamp === null) {
        yield {
          kind: "unaccounted",
          what: `hash tile 0/0 is not stored (the tile mark says every tile is)`,
          index: 0,
        };
      }
    }
  }
  for await (const r of kv.list({ prefix: [KIND.tile] }, { batchSize: 1000 })) {
    const [, level, n] = r.key;
    if (
      r.key.length !== 3 || typeof level !== "number" || !Number.isInteger(level) || level < 0 ||
      level > 63 || entryIndexOf(n) === undefined || !(r.value instanceof Uint8Array)
    ) {
      yield { kind: "unaccounted", what: `tile key ${show(r.key)} is malformed` };
    }
  }
}
