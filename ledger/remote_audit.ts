/**
 * A full audit of a log read through its C2SP tiles (docs/tiles.md), by a
 * client that trusts nothing the server says: the checkpoint is verified
 * against the log key; every level-0 hash tile is authenticated up to the
 * checkpoint's root by `TileHashReader` (partial tiles against the root,
 * full tiles against their parents); every entry of every entry bundle must
 * hash to its tile hash, and passes the one entry checker
 * (`ledger/entry_check.ts`) with its envelope from the envelope bundle —
 * canonical leaf, index, hash chain, envelope hash. So the entries checked
 * are exactly the tree the checkpoint signs.
 *
 * Most bundles never reach `checkEntry`: `remote_audit_fast.ts` vouches for
 * a bundle whose every entry it can see passes those same checks (byte-level,
 * one native SHA-256 call per hash); a bundle it cannot vouch for goes
 * through the reference check, which gives the verdict and names the entry.
 *
 * Requests: one checkpoint, about size/256 hash tiles (+ one per level up),
 * size/256 entry bundles and size/256 envelope bundles; none per entry.
 *
 * @module
 */
import { RegledgerError } from "../core/errors.ts";
import { type Checkpoint, openCheckpoint } from "./checkpoint.ts";
import { checkEntry, EntryCheckError } from "./entry_check.ts";
import { ZERO_PREV } from "./leaf.ts";
import type { NoteVerifier } from "./note.ts";
import { bundleCertainlyPasses } from "./remote_audit_fast.ts";
import {
  decodeEntryBundle,
  decodeEnvelopeBundle,
  DEFAULT_MAX_ENVELOPE_BYTES,
} from "./tiles/bundle.ts";
import { bundlesForSize } from "./tiles/layout.ts";
import { formatTilePath, type Tile } from "./tiles/path.ts";
import { TileHashReader } from "./tiles/reader.ts";

/** What a remote audit found (the shape of the local `verifyLog` result). */
export interface TileAuditResult {
  /** True when every check passed. */
  ok: boolean;
  /** Tree size of the signed checkpoint that was audited. */
  size: number;
  /** First entry that failed, when one did. */
  first_bad_index?: number;
  /** What failed. */
  reason?: string;
}

/** Inputs of {@link auditThroughTiles}. */
export interface TileAuditOptions {
  /** The log's latest checkpoint text (`GET /checkpoint`). */
  checkpoint: string;
  /** The log's verifier. */
  verifier: NoteVerifier;
  /** Read a tile or bundle path (`tile/…`); throws when the server cannot answer it. */
  fetchTile: (path: string) => Promise<Uint8Array>;
  /** Called after each bundle with entries checked so far and the size. */
  onProgress?: (checked: number, total: number) => void;
  /** Bundles fetched ahead of the one being checked. @default {8} */
  window?: number;
  /** Largest envelope accepted in an envelope bundle. @default {524288} */
  maxEnvelopeBytes?: number;
  /**
   * Let `remote_audit_fast.ts` vouch for a bundle before the reference
   * check (same verdicts and messages either way; `false` checks every entry
   * through `checkEntry` only: the baseline of tests and benchmarks).
   * @default {true}
   */
  fastPath?: boolean;
}

interface Fetched {
  tile: Uint8Array;
  entries: Uint8Array;
  envelopes: Uint8Array;
}

/** Audit a log through its tiles; see the module documentation. */
export async function auditThroughTiles(opts: TileAuditOptions): Promise<TileAuditResult> {
  let cp: Checkpoint;
  try {
    cp = await openCheckpoint(opts.checkpoint, opts.verifier);
  } catch (e) {
    return { ok: false, size: 0, reason: `checkpoint: ${(e as Error).message}` };
  }
  const size = cp.size;
  const reader = new TileHashReader(size, cp.root, opts.fetchTile);
  const bundles = bundlesForSize(size);
  const get = (b: Tile): Promise<Fetched> =>
    Promise.all([
      reader.readTile(0, b.n),
      opts.fetchTile(formatTilePath(b)),
      opts.fetchTile(formatTilePath({ ...b, level: "envelopes" })),
    ]).then(([tile, entries, envelopes]) => ({ tile, entries, envelopes }));
  const window = opts.window ?? 8;
  const ahead: Promise<Fetched>[] = [];
  // Keep the failures of prefetched bundles from being unhandled while waiting.
  const queue = (k: number) => {
    if (k < bundles.length) {
      const p = get(bundles[k]);
      p.catch(() => {});
      ahead.push(p);
    }
  };
  for (let k = 0; k < window; k++) queue(k);
  let prev = ZERO_PREV;
  for (let k = 0; k < bundles.length; k++) {
    const b = bundles[k];
    const first = b.n * 256;
    let got: Fetched;
    try {
      got = await ahead.shift()!;
    } catch (e) {
      if (e instanceof RegledgerError) {
        return { ok: false, size, first_bad_index: first, reason: `tiles: ${e.message}` };
      }
      throw e;
    }
    queue(k + window);
    // The common case, cheaply: a bundle the fast path vouches for is one the
    // reference check below passes (remote_audit_fast.ts); any doubt takes it.
    if (
      opts.fastPath !== false && bundleCertainlyPasses({
        first,
        width: b.width,
        entries: got.entries,
        envelopes: got.envelopes,
        tile: got.tile,
        prev,
        maxEnvelopeBytes: opts.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES,
      })
    ) {
      prev = got.tile.slice((b.width - 1) * 32, b.width * 32);
      opts.onProgress?.(first + b.width, size);
      continue;
    }
    let leaves: Uint8Array[];
    let envelopes: Uint8Array[];
    try {
      leaves = decodeEntryBundle(got.entries, b.width);
      envelopes = decodeEnvelopeBundle(got.envelopes, b.width, {
        maxEnvelopeBytes: opts.maxEnvelopeBytes,
      });
    } catch (e) {
      if (!(e instanceof RegledgerError)) throw e;
      return { ok: false, size, first_bad_index: first, reason: `bundle: ${e.message}` };
    }
    for (let i = 0; i < b.width; i++) {
      const index = first + i;
      let h: Uint8Array;
      try {
        h = checkEntry(index, leaves[i], envelopes[i], prev).leafHash;
      } catch (e) {
        if (!(e instanceof EntryCheckError)) throw e;
        return { ok: false, size, first_bad_index: index, reason: e.message };
      }
      const o = i * 32;
      for (let j = 0; j < 32; j++) {
        if (h[j] !== got.tile[o + j]) {
          return {
            ok: false,
            size,
            first_bad_index: index,
            reason: `entry ${index}: leaf does not hash to the tree's leaf hash (level-0 tile)`,
          };
        }
      }
      prev = h;
    }
    opts.onProgress?.(first + b.width, size);
  }
  return { ok: true, size };
}
