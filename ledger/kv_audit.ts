/**
 * The Deno KV store's half of an audit: every derived record it holds (the
 * envelope-hash index, the issuer and primitive indexes) decoded back from
 * its keys, and every key it cannot attribute (malformed index keys,
 * envelope chunks no entry has, issuer+primitive rows that do not repeat an
 * entry's issuer and primitive rows), so that `verifyLog` can check them against
 * the entries without knowing the key layout.
 *
 * @module
 */
import { decodeEntryValue } from "./kv_codec.ts";
import { BODY_MARK_KEY, entryKey, IP_MARK_KEY, KIND, TILE_MARK_KEY, tileKey } from "./kv_layout.ts";
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
  // The issuer and primitive rows of each entry, as hashes, for the "ip" rows' check.
  const rowsOf = new IndexRowsSeen(size);
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
      rowsOf.add(kind, index, value, time);
      yield kind === KIND.issuer
        ? { kind: "issuer", issuer: value, time, index }
        : { kind: "primitive", primitive: value, time, index };
    }
  }
  yield* scanIssuerPrimitive(kv, size, rowsOf);
}

/**
 * FNV-1a (32 bits) over `a`'s length, then the UTF-16 code units of `a` and
 * `b`: a fingerprint of one index row's value and time (compared only with
 * another fingerprint made here; no text encoding per row).
 */
function fingerprint(a: string, b: string): number {
  let h = Math.imul(0x811c9dc5 ^ a.length, 0x01000193);
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a.charCodeAt(i), 0x01000193);
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Per entry: fingerprints of its issuer and primitive rows (their values and times). */
class IndexRowsSeen {
  readonly issuer: Uint32Array;
  readonly primitive: Uint32Array;
  /** Bit 1: an issuer row, bit 2: a primitive row, bit 4: an "ip" row was seen; bit 8: more than one issuer/primitive row. */
  readonly flags: Uint8Array;
  constructor(size: number) {
    this.issuer = new Uint32Array(size);
    this.primitive = new Uint32Array(size);
    this.flags = new Uint8Array(size);
  }
  add(kind: string, n: number, value: string, time: string): void {
    const bit = kind === KIND.issuer ? 1 : 2;
    if (this.flags[n] & bit) this.flags[n] |= 8;
    this.flags[n] |= bit;
    (kind === KIND.issuer ? this.issuer : this.primitive)[n] = fingerprint(value, time);
  }
}

/**
 * The issuer+primitive index: each `["ip", issuer, primitive, t, n]` row
 * must repeat entry n's issuer row `["i", issuer, t, n]` and primitive row
 * `["p", primitive, t, n]` (which the audit holds to the entries), at most
 * one per entry; with the `["ipm"]` mark stored, every entry has its row;
 * without it, no row is stored (the one-time build writes the mark last).
 */
async function* scanIssuerPrimitive(
  kv: Deno.Kv,
  size: number,
  seen: IndexRowsSeen,
): AsyncGenerator<DerivedRecord> {
  const mark = await kv.get(IP_MARK_KEY);
  const marked = mark.versionstamp !== null;
  if (marked && (!(mark.value instanceof Uint8Array) || mark.value.length !== 0)) {
    yield {
      kind: "unaccounted",
      what: `the issuer+primitive index mark ${show(IP_MARK_KEY)} is malformed`,
    };
  }
  const prefix = [KIND.issuerPrimitive];
  for await (const r of kv.list<Uint8Array>({ prefix }, { batchSize: 1000 })) {
    const [, issuer, primitive, time, n] = r.key;
    if (typeof n === "number" && n >= size) continue; // appended meanwhile
    const index = entryIndexOf(n);
    if (
      r.key.length !== 5 || typeof issuer !== "string" || typeof primitive !== "string" ||
      typeof time !== "string" || index === undefined || !(r.value instanceof Uint8Array) ||
      r.value.length !== 0
    ) {
      yield {
        kind: "unaccounted",
        what: `issuer+primitive index key ${show(r.key)} is malformed`,
        index,
      };
      continue;
    }
    if (!marked) {
      yield {
        kind: "unaccounted",
        what: `the issuer+primitive index mark ${
          show(IP_MARK_KEY)
        } is missing but its rows are stored`,
      };
      return;
    }
    if (seen.flags[index] & 4) {
      yield {
        kind: "unaccounted",
        what: `issuer+primitive index key ${show(r.key)} is extra: entry ${index} has one already`,
        index,
      };
      continue;
    }
    seen.flags[index] |= 4;
    if (
      (seen.flags[index] & 3) !== 3 || seen.issuer[index] !== fingerprint(issuer, time) ||
      seen.primitive[index] !== fingerprint(primitive, time)
    ) {
      yield {
        kind: "unaccounted",
        what: `issuer+primitive index key ${
          show(r.key)
        } does not match entry ${index}'s issuer and primitive`,
        index,
      };
    }
  }
  if (!marked) return;
  for (let n = 0; n < size; n++) {
    if (!(seen.flags[n] & 4)) {
      yield {
        kind: "unaccounted",
        what: `entry ${n}: its issuer+primitive index key ["ip", …, ${n}] is missing`,
        index: n,
      };
      return;
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
