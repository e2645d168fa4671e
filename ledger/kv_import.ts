/**
 * Writing a log copied from elsewhere (`ledger mirror`) into a Deno KV
 * ledger: the entries, with every record a commit writes for them, are
 * staged beyond the head in commits of the store's budget (invisible to
 * readers and audits, which stop at the head); one final commit moves the
 * head and stores the copied, signed checkpoint. A mirror holds no log key,
 * so it cannot sign the intermediate checkpoints `LedgerStore.commit`
 * needs; staging is also what makes an interrupted copy resumable.
 *
 * @module
 */
import { sha256, utf8 } from "../core/bytes.ts";
import { storedSignedBodySha256 } from "../core/envelope_stored.ts";
import { encodeEntry, encodeHead, encodeIndexValue, encodeMeta } from "./kv_codec.ts";
import {
  BODY_MARK_KEY,
  bodyKey,
  checkpointKey,
  entryKey,
  entryRecords,
  envelopeKey,
  HEAD_KEY,
  indexKeys,
  IP_MARK_KEY,
  KIND,
  META_KEY,
  TILE_MARK_KEY,
  tileKey,
} from "./kv_layout.ts";
import type { KvStore } from "./kv_store.ts";
import { storedHashIndex } from "./merkle/mod.ts";
import type { LedgerMeta, LogHead, NewEntry, StoredEntry, StoredTile } from "./store.ts";
import { decodeLeaf } from "./leaf.ts";

const EMPTY = new Uint8Array(0);

/**
 * Stage `entries` (consecutive, beyond the head) with their index records
 * and `tiles`, in one atomic write. A signed body already indexed by an
 * earlier entry (a log written before the signed-body index) keeps that
 * entry's record.
 */
export async function stageEntries(
  store: KvStore,
  entries: NewEntry[],
  tiles: StoredTile[],
): Promise<void> {
  const known = await store.findBodies(entries.map((e) => e.bodySha256));
  let op = store.kv.atomic();
  entries.forEach((e, i) => {
    for (const [k, v] of entryRecords(e)) op = op.set(k, v);
    const first = known[i];
    if (first === null || first >= e.index) {
      op = op.set(bodyKey(e.bodySha256), encodeIndexValue(e.index));
    }
  });
  for (const t of tiles) op = op.set(tileKey(t.level, t.n), t.data);
  const r = await op.commit();
  if (!r.ok) throw new Error("staging write failed");
  for (const e of entries) store.rememberHashes(storedHashIndex(0, e.index), e.hashes);
}

/** How many entries are staged contiguously from `from` (at most `limit`). */
export async function stagedCount(store: KvStore, from: number, limit: number): Promise<number> {
  let n = 0;
  while (n < limit) {
    const want = Math.min(limit - n, 1000);
    const rows = await store.readEntries(from + n, from + n + want);
    n += rows.length;
    if (rows.length < want) break;
  }
  return n;
}

/**
 * Remove every staged entry at or beyond `from` (all beyond the head) and
 * the records staging wrote for it, so that nothing of a discarded copy
 * stays in the store.
 */
export async function unstage(store: KvStore, from: number): Promise<void> {
  for (;;) {
    const rows = await store.readEntries(from, from + 50);
    if (rows.length === 0) return;
    const bodies = rows.map((e) => {
      try {
        return storedSignedBodySha256(e.envelope);
      } catch {
        return null;
      }
    });
    const named = await store.findBodies(bodies.map((b) => b ?? new Uint8Array(32)));
    let op = store.kv.atomic();
    for (const [i, e] of rows.entries()) {
      op = op.delete(entryKey(e.index)).delete(envelopeKey(sha256(e.envelope)));
      for await (const c of store.kv.list({ prefix: [KIND.chunk, e.index] })) op = op.delete(c.key);
      if (bodies[i] !== null && named[i] === e.index) op = op.delete(bodyKey(bodies[i]!));
      try {
        const f = decodeLeaf(e.leaf);
        const keys = indexKeys({
          index: e.index,
          issuer: f.issuer,
          primitive: f.primitive,
          issuedAt: f.issued_at,
        });
        for (const k of keys) op = op.delete(k);
      } catch {
        // a staged leaf always decodes (it was checked before staging)
      }
    }
    if (!(await op.commit()).ok) throw new Error("unstaging write failed");
    from += rows.length;
  }
}

/**
 * Move the head over the staged entries: entry `head.size - 1` (re-written
 * as the end of this commit), the head and the copied checkpoint, and on a
 * fresh store its identity and completion marks. Fails when the head moved.
 */
export async function commitStaged(
  store: KvStore,
  expectedVersion: string | null,
  last: StoredEntry,
  head: LogHead,
  checkpoint: string,
  meta: LedgerMeta,
): Promise<boolean> {
  let op = store.kv.atomic().check({ key: HEAD_KEY, versionstamp: expectedVersion });
  if (expectedVersion === null) {
    op = op.check({ key: META_KEY, versionstamp: null }).set(META_KEY, encodeMeta(meta))
      .set(BODY_MARK_KEY, EMPTY).set(TILE_MARK_KEY, EMPTY)
      .set(IP_MARK_KEY, EMPTY);
  }
  op = op.set(entryKey(last.index), encodeEntry({ ...last, endsCommit: true }).value)
    .set(HEAD_KEY, encodeHead(head))
    .set(checkpointKey(head.size), utf8(checkpoint));
  return (await op.commit()).ok;
}
