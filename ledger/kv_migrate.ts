/**
 * One-time migrations of a Deno KV ledger written by an earlier version,
 * run when the store is opened, before anything reads it.
 *
 * @module
 */
import { toBase64 } from "../core/bytes.ts";
import { storedSignedBodySha256 } from "../core/envelope_stored.ts";
import { encodeIndexValue } from "./kv_codec.ts";
import {
  BODY_MARK_KEY,
  bodyKey,
  IP_MARK_KEY,
  issuerPrimitivePrefix,
  TILE_MARK_KEY,
  tileKey,
} from "./kv_layout.ts";
import { decodeLeaf } from "./leaf.ts";
import { indexTime } from "./time_key.ts";
import { hashTilesForSize, readTileData } from "./tiles/layout.ts";
import { retryTransient } from "./kv_retry.ts";
import type { KvStore } from "./kv_store.ts";

/**
 * A log written before the signed-body index existed (a head but no
 * `["bm"]` mark) gets the index built once: every entry's signed body
 * (recomputed from its stored envelope) maps to the first entry holding it.
 * Entries are not touched; only index records are added. Runs when the
 * store is opened (for appends or an audit), before anything reads it.
 */
export async function indexSignedBodies(store: KvStore): Promise<void> {
  const mark = await retryTransient(() => store.kv.get(BODY_MARK_KEY));
  if (mark.versionstamp !== null) return;
  const { head, version } = await store.readHead();
  if (version === null) return; // a fresh store: the first commit writes the mark
  const seen = new Set<string>();
  for (let a = 0; a < head.size; a += 500) {
    const rows = await store.readEntries(a, Math.min(a + 500, head.size));
    const add: { sha: Uint8Array; index: number }[] = [];
    for (const e of rows) {
      let sha: Uint8Array;
      try {
        sha = storedSignedBodySha256(e.envelope);
      } catch {
        continue; // an envelope that does not parse is the audit's finding
      }
      const k = toBase64(sha);
      if (seen.has(k)) continue;
      seen.add(k);
      add.push({ sha, index: e.index });
    }
    for (let i = 0; i < add.length; i += 50) {
      const part = add.slice(i, i + 50);
      const found = await store.findBodies(part.map((x) => x.sha));
      let op = store.kv.atomic();
      part.forEach((x, j) => {
        if (found[j] !== null) return; // indexed already (by a concurrent rebuild)
        op = op.check({ key: bodyKey(x.sha), versionstamp: null })
          .set(bodyKey(x.sha), encodeIndexValue(x.index));
      });
      const r = await op.commit();
      if (!r.ok) i -= 50; // another process indexed one meanwhile: look again
    }
  }
  await store.kv.set(BODY_MARK_KEY, new Uint8Array(0));
}

/**
 * A log written before hash tiles were stored (a head but no `["tm"]`
 * mark) gets every tile of its tree stored once, so that serving a tile is
 * one read and the audit can hold every stored tile to the tree. A tile a
 * concurrent commit already stored at least as wide is left alone (each
 * write checks the version it read). Entries are not touched. Runs when a
 * writer opens the store, before anything reads it.
 */
export async function storeTilesOnce(store: KvStore): Promise<void> {
  const mark = await retryTransient(() => store.kv.get(TILE_MARK_KEY));
  if (mark.versionstamp !== null) return;
  const { head, version } = await store.readHead();
  if (version === null) return; // a fresh store: its first commit writes the mark
  const tiles = hashTilesForSize(head.size);
  for (let i = 0; i < tiles.length; i += 10) {
    const part = tiles.slice(i, i + 10);
    const data = await Promise.all(part.map(async (t) => {
      if (t.level !== 0) return await readTileData(t, store);
      // Level 0 is the entries' leaf hashes: one range read.
      const rows = await store.readEntries(t.n * 256, t.n * 256 + t.width);
      if (rows.length !== t.width) {
        throw new RangeError(`entry ${t.n * 256 + rows.length} is missing`);
      }
      const out = new Uint8Array(t.width * 32);
      rows.forEach((e, j) => out.set(e.hashes[0], j * 32));
      return out;
    }));
    const keys = part.map((t) => tileKey(t.level as number, t.n));
    const current = await retryTransient(() => store.kv.getMany<Uint8Array[]>(keys));
    let op = store.kv.atomic();
    part.forEach((_, j) => {
      const c = current[j];
      if (c.value instanceof Uint8Array && c.value.length >= data[j].length) return;
      op = op.check({ key: keys[j], versionstamp: c.versionstamp }).set(keys[j], data[j]);
    });
    const r = await op.commit();
    if (!r.ok) i -= 10; // a commit stored one meanwhile: look again
  }
  await store.kv.set(TILE_MARK_KEY, new Uint8Array(0));
}

/**
 * A log written before the issuer+primitive index existed (a head but no
 * `["ipm"]` mark) gets its `"ip"` row written once for every entry below
 * the head (rows are empty values, so a concurrent commit writing the same
 * row changes nothing; commits from now on write their own). Entries are
 * not touched. Until the mark is stored, queries by issuer and primitive
 * filter the issuer index. Runs when a writer opens the store.
 */
export async function indexIssuerPrimitive(store: KvStore): Promise<void> {
  const mark = await retryTransient(() => store.kv.get(IP_MARK_KEY));
  if (mark.versionstamp !== null) return;
  const { head, version } = await store.readHead();
  if (version === null) return; // a fresh store: the first commit writes the mark
  const empty = new Uint8Array(0);
  for (let a = 0; a < head.size; a += 500) {
    const rows = await store.readEntries(a, Math.min(a + 500, head.size));
    const keys: Deno.KvKey[] = [];
    for (const e of rows) {
      try {
        const f = decodeLeaf(e.leaf);
        const t = indexTime(f.issued_at);
        keys.push([...issuerPrimitivePrefix(f.issuer, f.primitive), t, e.index]);
      } catch {
        continue; // a leaf that does not decode is the audit's finding
      }
    }
    // 250 rows per commit: well within Deno KV's 1,000 mutations and 800 KiB.
    for (let i = 0; i < keys.length; i += 250) {
      let op = store.kv.atomic();
      for (const k of keys.slice(i, i + 250)) op = op.set(k, empty);
      await retryTransient(() => op.commit());
    }
  }
  await store.kv.set(IP_MARK_KEY, empty);
}
