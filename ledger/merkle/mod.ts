/**
 * RFC 6962 Merkle tree math for the ledger, storage-agnostic and pure.
 *
 * Follows Go's `golang.org/x/mod/sumdb/tlog` name for name and splits by
 * concept as transparency-dev/merkle does: hashing (`hash.ts`), the dense
 * stored-hash numbering and the one-method {@link HashReader} (`stored.ts`),
 * tree hashes and proofs over a reader (`prove.ts`), one verifier per proof
 * kind (`verify.ts`), the compact range appends and root computations share
 * (`compact.ts`) and an in-memory store (`memory.ts`). Proofs are exactly
 * RFC 6962 §2.1.1 audit paths and §2.1.2 consistency proofs, so Go's
 * `tlog.CheckRecord` / `tlog.CheckTree` accept them and vice versa.
 *
 * @example
 * ```ts
 * import { leafHash, MemoryHashStore, proveRecord, treeHash, verifyInclusion } from "./mod.ts";
 * const store = new MemoryHashStore();
 * for (const s of ["a", "b", "c"]) await store.append(new TextEncoder().encode(s));
 * const root = await treeHash(3, store);
 * verifyInclusion(leafHash(new TextEncoder().encode("c")), 2, 3, await proveRecord(3, 2, store), root);
 * ```
 *
 * @module
 */
export { EMPTY_TREE_HASH, HASH_SIZE, leafHash, nodeHash } from "./hash.ts";
export { MAX_TREE_SIZE } from "./size.ts";
export {
  type HashReader,
  splitStoredHashIndex,
  storedHashCount,
  storedHashes,
  storedHashesForBatch,
  storedHashesForLeafHash,
  storedHashIndex,
} from "./stored.ts";
export { proveRecord, proveTree, treeHash } from "./prove.ts";
export { type ProofCheck, ProofError, verifyConsistency, verifyInclusion } from "./verify.ts";
export { CompactRange } from "./compact.ts";
export { MemoryHashStore } from "./memory.ts";
