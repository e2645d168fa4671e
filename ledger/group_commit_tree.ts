/**
 * The tree side of the group commit (`group_commit.ts`): a batch's leaves,
 * the stored hashes it adds on top of the head it was built on, the new
 * root, the store entries that carry them, and an append's receipt.
 *
 * @module
 */
import { toBase64 } from "../core/bytes.ts";
import { encodeLeaf, LEAF_VERSION } from "./leaf.ts";
import {
  type HashReader,
  leafHash,
  storedHashesForBatch,
  storedHashIndex,
  treeHash,
} from "./merkle/mod.ts";
import type { LogHead, NewEntry } from "./store.ts";
import type { PreparedAppend } from "./group_commit_input.ts";
import { formatTlogProof } from "./tlog_proof.ts";
import type { AppendResult } from "./wire.ts";

/** A batch's new tree, built on a head and not yet committed. */
export interface BatchTree {
  /** The head's size: the index of the batch's first leaf. */
  n0: number;
  /** The new tree's size. */
  size: number;
  /** The new tree's root. */
  root: Uint8Array;
  /** The encoded leaves, in order. */
  leaves: Uint8Array[];
  /** Their leaf hashes. */
  leafHashes: Uint8Array[];
  /** The stored hashes the batch adds, in stored-hash order. */
  fresh: Uint8Array[];
  /** The store's hashes with the batch's on top. */
  reader: HashReader;
  /** The new head. */
  head: LogHead;
}

/** Build the tree of `todo` appended on `head` of `store`. */
export async function buildBatchTree(
  store: HashReader,
  head: LogHead,
  todo: readonly PreparedAppend[],
): Promise<BatchTree> {
  const n0 = head.size;
  const leaves: Uint8Array[] = [];
  const leafHashes: Uint8Array[] = [];
  let prev = head.lastLeafHash;
  todo.forEach((p, i) => {
    const leaf = encodeLeaf({
      envelope_sha256: toBase64(p.sha),
      index: n0 + i,
      issued_at: p.issuedAt,
      issuer: p.issuer,
      key_id: p.keyId,
      prev: toBase64(prev),
      primitive: p.primitive,
      v: LEAF_VERSION,
    });
    leaves.push(leaf);
    prev = leafHash(leaf);
    leafHashes.push(prev);
  });
  const fresh = await storedHashesForBatch(n0, leafHashes, store);
  const base = storedHashIndex(0, n0);
  const reader = overlay(store, base, fresh);
  const size = n0 + todo.length;
  const root = await treeHash(size, reader);
  return {
    n0,
    size,
    root,
    leaves,
    leafHashes,
    fresh,
    reader,
    head: { size, root, lastLeafHash: prev },
  };
}

/** The store entries of `todo` in `tree`: one commit, ending at the last. */
export function batchEntries(tree: BatchTree, todo: readonly PreparedAppend[]): NewEntry[] {
  const { n0, leaves, fresh } = tree;
  const entries: NewEntry[] = [];
  let off = 0;
  todo.forEach((p, i) => {
    const count = storedHashIndex(0, n0 + i + 1) - storedHashIndex(0, n0 + i);
    entries.push({
      index: n0 + i,
      leaf: leaves[i],
      hashes: fresh.slice(off, off + count),
      endsCommit: i === todo.length - 1,
      envelope: p.canonical,
      envelopeSha256: p.sha,
      bodySha256: p.body,
      issuer: p.issuer,
      primitive: p.primitive,
      issuedAt: p.issuedAt,
    });
    off += count;
  });
  return entries;
}

/** The receipt of entry `index` in a tree of `size` under `checkpoint`. */
export function appendResult(
  index: number,
  size: number,
  leaf: Uint8Array,
  lh: Uint8Array,
  sha: Uint8Array,
  checkpoint: string,
  proof: Uint8Array[],
  existing: boolean,
): AppendResult {
  return {
    index,
    tree_size: size,
    leaf_hash: toBase64(lh),
    envelope_sha256: toBase64(sha),
    checkpoint,
    inclusion_proof: proof.map((h) => toBase64(h)),
    tlog_proof: formatTlogProof({ extra: leaf, index, proof, checkpoint }),
    existing,
  };
}

function overlay(store: HashReader, base: number, fresh: Uint8Array[]): HashReader {
  return {
    async readHashes(indexes: number[]): Promise<Uint8Array[]> {
      const old = indexes.filter((i) => i < base);
      const got = old.length > 0 ? await store.readHashes(old) : [];
      let j = 0;
      return indexes.map((i) => {
        if (i < base) return got[j++];
        const h = fresh[i - base];
        if (!h) throw new RangeError(`no stored hash at index ${i}`);
        return h;
      });
    },
  };
}
