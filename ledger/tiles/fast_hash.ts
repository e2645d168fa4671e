/**
 * SHA-256 for the audit's hot loops, without an allocation per call:
 * `node:crypto`'s one-shot `hash` with hex output (no Buffer is built per
 * call, which made the Buffer-returning form several times slower per small
 * message under load), decoded into a caller's buffer; `core/bytes.ts`
 * `sha256` where the runtime has no `node:crypto` (browsers). Same hash, same
 * bytes: only the cost per call differs.
 *
 * Used by the remote audit's fast path (ledger/remote_audit_fast.ts) and by
 * the Merkle hash of a run of tile hashes (`merkleRootOfRun`, behind
 * `fullTileHash` in layout.ts), which authenticates every level-0 tile.
 *
 * @module
 */
import { sha256 } from "../../core/bytes.ts";
import { HASH_SIZE } from "../merkle/mod.ts";

type NodeCrypto = { hash?: (alg: string, data: Uint8Array, encoding: "hex") => string };

/** `node:crypto`'s `hash`, reached as core/bytes.ts reaches `createHash` (no `node:` import). */
const oneShot: NodeCrypto["hash"] = (() => {
  const proc = (globalThis as {
    process?: { getBuiltinModule?: (id: string) => NodeCrypto | undefined };
  }).process;
  try {
    const f = proc?.getBuiltinModule?.("crypto")?.hash;
    return typeof f === "function" ? f : undefined;
  } catch {
    return undefined;
  }
})();

const NIBBLE = new Uint8Array(128);
for (let c = 0; c < 16; c++) NIBBLE["0123456789abcdef".charCodeAt(c)] = c;

/**
 * SHA-256 of `data` written into `out[at…at+32)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256 } from "../../core/bytes.ts";
 * import { sha256Into } from "./fast_hash.ts";
 * const out = new Uint8Array(32);
 * sha256Into(new Uint8Array([1, 2, 3]), out);
 * assert.deepEqual(out, sha256(new Uint8Array([1, 2, 3])));
 * ```
 */
export function sha256Into(data: Uint8Array, out: Uint8Array, at = 0): void {
  if (!oneShot) {
    out.set(sha256(data), at);
    return;
  }
  const hex = oneShot("sha256", data, "hex");
  for (let j = 0; j < 32; j++) {
    out[at + j] = (NIBBLE[hex.charCodeAt(2 * j)] << 4) | NIBBLE[hex.charCodeAt(2 * j + 1)];
  }
}

/**
 * RFC 6962 Merkle tree hash of the power-of-two run of hashes
 * `data[start..end)` (32 bytes each): level by level, each pair's
 * `SHA-256(0x01 ‖ left ‖ right)` in place in one work buffer. The caller
 * checks the bounds and that `end - start` is a power of two.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nodeHash } from "../merkle/mod.ts";
 * import { merkleRootOfRun } from "./fast_hash.ts";
 * const data = new Uint8Array(64).map((_, i) => i);
 * assert.deepEqual(merkleRootOfRun(data, 0, 2), nodeHash(data.subarray(0, 32), data.subarray(32)));
 * ```
 */
export function merkleRootOfRun(data: Uint8Array, start: number, end: number): Uint8Array {
  let n = end - start;
  const work = data.slice(start * HASH_SIZE, end * HASH_SIZE);
  const pair = new Uint8Array(1 + 2 * HASH_SIZE);
  pair[0] = 1;
  while (n > 1) {
    for (let i = 0; i < n; i += 2) {
      pair.set(work.subarray(i * HASH_SIZE, (i + 2) * HASH_SIZE), 1);
      sha256Into(pair, work, (i / 2) * HASH_SIZE);
    }
    n /= 2;
  }
  return work.slice(0, HASH_SIZE);
}
