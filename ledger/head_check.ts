/**
 * Cheap checks of a store's head against what the store actually holds, run
 * before any work proportional to the head's size (audits) and before a
 * server says it is ready. One flipped byte in the head can make it claim
 * hundreds of billions of entries; that is corruption, named at once with
 * the first missing index, not a loop over entries that do not exist.
 *
 * @module
 */
import { bytesEqual } from "../core/bytes.ts";
import { openCheckpoint } from "./checkpoint.ts";
import { LedgerCorruptionError } from "./errors.ts";
import { parseVerifierKey } from "./note.ts";
import type { LedgerStore, LogHead } from "./store.ts";

async function present(store: LedgerStore, index: number): Promise<boolean> {
  try {
    return (await store.readEntry(index)) !== null;
  } catch (e) {
    // A stored but undecodable entry is present (the audit names it).
    if (e instanceof LedgerCorruptionError) return true;
    throw e;
  }
}

/**
 * Null when entry `size - 1` of `head` is stored; otherwise the first
 * missing index (found by binary search: O(log size) reads) and a reason.
 */
export async function missingBelowHead(
  store: LedgerStore,
  head: LogHead,
): Promise<{ index: number; reason: string } | null> {
  const size = head.size;
  if (size === 0 || await present(store, size - 1)) return null;
  // Invariant: entries below lo are assumed present (lo = 0 trivially); hi is missing.
  let lo = 0;
  let hi = size - 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (await present(store, mid)) lo = mid + 1;
    else hi = mid;
  }
  return {
    index: lo,
    reason: `head: it claims ${size} entries but entry ${lo} is not stored ` +
      `(the store holds at most ${lo}); the head record is corrupt`,
  };
}

/**
 * The start-up checks of a store: the head's last entry exists, the next one
 * does not, and the checkpoint for the head's size exists, verifies under
 * `verifierKey` and names the head's size and root.
 *
 * @throws {LedgerCorruptionError} naming the check and the index.
 */
export async function checkStoreAtStartup(
  store: LedgerStore,
  verifierKey: string,
  origin: string,
): Promise<void> {
  let { head } = await store.readHead();
  const missing = await missingBelowHead(store, head);
  if (missing) throw new LedgerCorruptionError(missing.reason, missing.index);
  if (await present(store, head.size)) {
    // Another process may have appended meanwhile: only a head that stays behind is bad.
    const again = (await store.readHead()).head;
    if (again.size === head.size) {
      throw new LedgerCorruptionError(
        `head: it claims ${head.size} entries but entry ${head.size} is stored beyond it`,
        head.size,
      );
    }
    head = again;
  }
  if (head.size === 0) return;
  const cp = await store.readCheckpoint(head.size);
  if (cp === null) {
    throw new LedgerCorruptionError(
      `head: no checkpoint is stored for its size ${head.size}`,
      head.size - 1,
    );
  }
  try {
    const c = await openCheckpoint(cp, parseVerifierKey(verifierKey), { origin });
    if (c.size !== head.size || !bytesEqual(c.root, head.root)) {
      throw new Error("it names another size or root than the head");
    }
  } catch (e) {
    throw new LedgerCorruptionError(
      `head: the checkpoint for size ${head.size} does not verify: ${(e as Error).message}`,
      head.size - 1,
    );
  }
}
