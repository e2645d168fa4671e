/**
 * Entry bundle N and envelope bundle N are encodings of the same 256 stored
 * entries, and a client that audits or mirrors the log asks for both, at
 * about the same time. Reading them separately reads every entry twice
 * (each stored entry holds its leaf and its envelope): the remote audit's
 * profile had the server spending most of its time in those reads once the
 * client's checks got cheap.
 *
 * {@link twinBundleTiles} answers both from one read: the first request for
 * either full bundle N reads the 256 entries, keeps them until the other
 * bundle has been asked for too (or until `keep` newer pairs push them
 * out, or they would hold more than `maxHeldBytes` of leaves and envelopes
 * with the other kept reads), and each bundle is encoded from them exactly as `readBundle`
 * (ledger/tiles/store_tiles.ts) encodes it. Only full bundles are shared:
 * they are immutable, so a kept read can never be stale. Hash tiles and
 * partial bundles go to the ledger as before.
 *
 * @module
 */
import type { Ledger } from "../../ledger/ledger.ts";
import type { StoredEntry } from "../../ledger/store.ts";
import { encodeEntryBundle, encodeEnvelopeBundle } from "../../ledger/tiles/bundle.ts";
import { TILE_WIDTH } from "../../ledger/tiles/path.ts";

type TileArg = { level: number | "entries" | "envelopes"; n: number; width: number };

interface Pair {
  entries: Promise<StoredEntry[]>;
  asked: Set<string>;
  /** Bytes of leaves and envelopes held, once read (0 before). */
  bytes: number;
}

/**
 * `ledger.tile`, with the two full bundles of each N read once (see the
 * module documentation). `keep` bounds the number of reads held for a twin
 * not yet asked for, `maxHeldBytes` their leaf and envelope bytes (envelopes
 * may be up to 512 KiB each: 32 bundles of them would be gigabytes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLedger } from "../../ledger/ledger.ts";
 * import { MemoryStore } from "../../ledger/memory_store.ts";
 * import { Ed25519NoteSigner } from "../../ledger/note.ts";
 * import { twinBundleTiles } from "./tiles_twins.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const tile = twinBundleTiles(ledger);
 * assert.equal(await tile({ level: "entries", n: 0, width: 256 }), null); // beyond the tree
 * await ledger.close();
 * ```
 */
export function twinBundleTiles(
  ledger: Ledger,
  keep = 32,
  maxHeldBytes = 32 * 1024 * 1024,
): (tile: TileArg) => Promise<Uint8Array | null> {
  const pending = new Map<number, Pair>();
  let held = 0;
  const drop = (n: number, pair: Pair) => {
    if (pending.get(n) !== pair) return;
    pending.delete(n);
    held -= pair.bytes;
  };
  const trim = () => {
    for (const [n, pair] of pending) {
      if (pending.size <= keep && held <= maxHeldBytes) break;
      drop(n, pair);
    }
  };
  return async (tile: TileArg): Promise<Uint8Array | null> => {
    const kind = tile.level;
    if (
      typeof kind === "number" || tile.width !== TILE_WIDTH || !Number.isSafeInteger(tile.n) ||
      tile.n < 0
    ) {
      return await ledger.tile(tile);
    }
    const start = tile.n * TILE_WIDTH;
    let pair = pending.get(tile.n);
    if (pair === undefined) {
      const { head } = await ledger.store.readHead();
      if (start + TILE_WIDTH > head.size) return null; // not a full bundle of this tree
      // Another request may have started the read while the head was read.
      pair = pending.get(tile.n);
      if (pair === undefined) {
        const p: Pair = {
          entries: ledger.store.readEntries(start, start + TILE_WIDTH),
          asked: new Set(),
          bytes: 0,
        };
        p.entries.then((entries) => {
          // Held bytes are known once read; a read still waiting for its twin counts.
          if (pending.get(tile.n) !== p) return;
          p.bytes = entries.reduce((b, e) => b + e.leaf.length + e.envelope.length, 0);
          held += p.bytes;
          trim();
        }, () => {});
        pair = p;
        pending.set(tile.n, pair);
        trim();
      }
    }
    pair.asked.add(kind);
    if (pair.asked.size === 2) drop(tile.n, pair);
    let entries: StoredEntry[];
    try {
      entries = await pair.entries;
    } catch (e) {
      drop(tile.n, pair);
      throw e;
    }
    // As readBundle: a full bundle without all its entries is not served.
    if (entries.length !== TILE_WIDTH) return null;
    return kind === "entries"
      ? encodeEntryBundle(entries.map((e) => e.leaf))
      : encodeEnvelopeBundle(entries.map((e) => e.envelope), {
        maxEnvelopeBytes: ledger.store.limits.maxEnvelopeBytes,
      });
  };
}
