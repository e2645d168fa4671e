/** Shared helpers of the Merkle tests. */
import { toHex } from "../../core/bytes.ts";

/** Hex strings of hashes, for readable deepEqual failures. */
export const hexes = (hs: Uint8Array[]): string[] => hs.map(toHex);

/** `n` distinct leaves, different for each seed. */
export function leavesOf(n: number, seed = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`leaf ${seed}:${i}`));
}
