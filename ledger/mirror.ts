/**
 * `ledger mirror`: copy a log into a Deno KV ledger from its C2SP tiles
 * alone (the checkpoint, level-0 hash tiles, entry and envelope bundles; no
 * request per entry), trusting nothing the server says.
 *
 * 1. The server's checkpoint must verify under the pinned log key.
 * 2. Against what the mirror already holds (size M, root R): a smaller
 *    checkpoint is a rollback, the same size with another root or a larger
 *    tree that does not contain R (consistency proof read from the tiles,
 *    authenticated against the new root) is a fork: refused, nothing written.
 * 3. Entries are checked as the remote audit checks them (the one entry
 *    checker, each leaf against its authenticated tile hash), staged beyond
 *    the head (`kv_import.ts`), and one commit moves the head and stores the
 *    copied checkpoint. Entries staged by an interrupted run are kept when
 *    their leaf hashes match the new tree's tiles: a restart continues where
 *    the last run stopped.
 *
 * @module
 */
import { bytesEqual, toHex } from "../core/bytes.ts";
import { storedSignedBodySha256 } from "../core/envelope_stored.ts";
import { RegledgerError } from "../core/errors.ts";
import { checkCheckpointConsistency, type Checkpoint, openCheckpoint } from "./checkpoint.ts";
import { checkEntry, EntryCheckError } from "./entry_check.ts";
import { commitStaged, stagedCount, stageEntries, unstage } from "./kv_import.ts";
import { indexIssuerPrimitive } from "./kv_migrate.ts";
import type { KvStore } from "./kv_store.ts";
import { ZERO_PREV } from "./leaf.ts";
import {
  type HashReader,
  proveTree,
  storedHashesForBatch,
  storedHashIndex,
  treeHash,
} from "./merkle/mod.ts";
import { parseVerifierKey } from "./note.ts";
import type { NewEntry, StoredTile } from "./store.ts";
import { decodeEntryBundle, decodeEnvelopeBundle } from "./tiles/bundle.ts";
import { formatTilePath } from "./tiles/path.ts";
import { TileHashReader } from "./tiles/reader.ts";
import { tilesForCommit } from "./tiles/store_tiles.ts";

/** The record of a mirror in its data directory (`DIR/mirror.json`). */
export const MIRROR_FILE = "mirror.json";

/** What `DIR/mirror.json` holds. */
export interface MirrorRecord {
  /** The server mirrored (first run). */
  server: string;
  /** The pinned log key (Go note verifier key). */
  verifier_key: string;
  /** How it was pinned: given with `--key`, or trusted on first use. */
  pinned_by: "key-file" | "first-use";
}

/**
 * Read `DIR/mirror.json`: null when `dir` is not a mirror.
 * @throws {TypeError} when the file is not a mirror record.
 */
export async function readMirrorRecord(dir: string): Promise<MirrorRecord | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/${MIRROR_FILE}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  let r: MirrorRecord;
  try {
    r = JSON.parse(text);
  } catch {
    throw new TypeError(`${dir}/${MIRROR_FILE} is not JSON`);
  }
  if (typeof r?.verifier_key !== "string") {
    throw new TypeError(`${dir}/${MIRROR_FILE} is not a mirror record (no verifier_key)`);
  }
  return r;
}

/** Where a mirror reads the log: a server's C2SP paths. */
export interface MirrorSource {
  /** `GET /checkpoint`. */
  checkpoint(): Promise<string>;
  /** `GET /<path>` for a `tile/…` path. */
  tile(path: string): Promise<Uint8Array>;
}

/** Options of {@link mirrorLog}. */
export interface MirrorOptions {
  /** The log's Ed25519 verifier key (Go note format): the checkpoint must verify under it. */
  verifierKey: string;
  /** Called after each bundle with entries copied so far and the target size. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called when a staging write has landed: entries `[0, held)` are then on
   * disk, and a run interrupted after this call (even by SIGKILL) keeps
   * them; `total` is the target size.
   */
  onStaged?: (held: number, total: number) => void;
  /** Bundles fetched ahead. @default {4} */
  window?: number;
}

/** What a mirror run did. */
export interface MirrorResult {
  /** Entries held before the run. */
  from: number;
  /** Entries held now (the copied checkpoint's size). */
  size: number;
  /** Entries a previous, interrupted run had staged and this one kept. */
  resumed: number;
  /** Entry bundles this run fetched. */
  bundles: number;
}

/**
 * Why a mirror refused the server's log: `rule` is `signature`, `key`,
 * `rollback`, `fork` or `entry`, or `empty` for a log with no entries yet (a
 * mirror holds at least one: its copied checkpoint is what it serves, and
 * only the log key can sign the empty tree's).
 */
export class MirrorRefusedError extends RegledgerError {
  /** What failed. */
  readonly rule: "signature" | "key" | "rollback" | "fork" | "entry" | "empty";
  /** Build the error. */
  constructor(rule: MirrorRefusedError["rule"], message: string, options?: ErrorOptions) {
    super(message, options);
    this.rule = rule;
  }
}

const short = (h: Uint8Array) => toHex(h).slice(0, 16);

/**
 * Bring `store` up to the server's latest checkpoint; see the module documentation.
 * @throws {MirrorRefusedError} for a bad signature, another log, a rollback,
 *   a fork, or an entry that fails its checks (nothing is committed then).
 */
export async function mirrorLog(
  source: MirrorSource,
  store: KvStore,
  opts: MirrorOptions,
): Promise<MirrorResult> {
  const verifier = parseVerifierKey(opts.verifierKey);
  const origin = verifier.name;
  const text = await source.checkpoint();
  let cp: Checkpoint;
  try {
    cp = await openCheckpoint(text, [verifier], { origin });
  } catch (e) {
    throw new MirrorRefusedError(
      "signature",
      `the server's checkpoint does not verify under the pinned log key: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const meta = await store.readMeta();
  if (meta && (meta.origin !== origin || meta.verifierKey !== opts.verifierKey)) {
    throw new MirrorRefusedError(
      "key",
      `this mirror holds log ${JSON.stringify(meta.origin)} with key ${meta.verifierKey}, ` +
        `not ${opts.verifierKey}`,
    );
  }
  // A mirror written before the issuer+primitive index gets it now (index rows only),
  // so the entries this run adds, which carry their rows, do not leave it half built.
  await indexIssuerPrimitive(store);
  const { head, version } = await store.readHead();
  const m = head.size;
  const n = cp.size;
  const held = `the mirror holds ${m} entries (root ${short(head.root)})`;
  const served = `the server's checkpoint has ${n} entries (root ${short(cp.root)})`;
  if (n < m) {
    throw new MirrorRefusedError("rollback", `log rolled back: ${served}, but ${held}`);
  }
  if (n === 0) {
    throw new MirrorRefusedError(
      "empty",
      `the server's log is empty: nothing to mirror yet (run again once it has entries)`,
    );
  }
  if (n === m) {
    if (!bytesEqual(cp.root, head.root)) {
      throw new MirrorRefusedError("fork", `log forked: ${served}, but ${held} with another root`);
    }
    return { from: m, size: m, resumed: 0, bundles: 0 };
  }
  const reader = new TileHashReader(n, cp.root, (p) => source.tile(p));
  if (m > 0) {
    try {
      const proof = await proveTree(n, m, reader);
      checkCheckpointConsistency({ origin, size: m, root: head.root }, cp, proof);
    } catch (e) {
      throw new MirrorRefusedError(
        "fork",
        `log forked: ${served} and does not contain the tree ${held}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  // Entries an interrupted run staged: kept where they are the new tree's.
  await unstage(store, n);
  let staged = await stagedCount(store, m, n - m);
  for (let t = Math.floor(m / 256); t * 256 < m + staged; t++) {
    const tile = await reader.readTile(0, t);
    const rows = await store.readEntries(Math.max(m, t * 256), Math.min(m + staged, t * 256 + 256));
    const bad = rows.findIndex((e) =>
      !bytesEqual(e.hashes[0], tile.subarray((e.index % 256) * 32, (e.index % 256) * 32 + 32))
    );
    if (bad >= 0) {
      staged = rows[bad].index - m;
      await unstage(store, rows[bad].index);
      break;
    }
  }
  const from = m + staged;
  let prev = from === 0
    ? ZERO_PREV
    : from === m
    ? head.lastLeafHash
    : (await store.readEntry(from - 1))!.hashes[0];
  const copied = await copyBundles(source, store, reader, from, n, prev, opts);
  prev = copied.prev;
  // Guard: the store's tree is the checkpoint's.
  const last = (await store.readEntry(n - 1))!;
  if (!bytesEqual(await treeHash(n, store), cp.root)) {
    throw new MirrorRefusedError("entry", `the copied tree's root is not the checkpoint's`);
  }
  const ok = await commitStaged(
    store,
    version,
    last,
    { size: n, root: cp.root, lastLeafHash: last.hashes[0] },
    text,
    { origin, verifierKey: opts.verifierKey },
  );
  if (!ok) throw new Error("the mirror's store changed meanwhile (is another mirror running?)");
  return { from: m, size: n, resumed: staged, bundles: copied.bundles };
}

/** Fetch, check and stage entries [from, n). */
async function copyBundles(
  source: MirrorSource,
  store: KvStore,
  reader: TileHashReader,
  from: number,
  n: number,
  prev: Uint8Array,
  opts: MirrorOptions,
): Promise<{ prev: Uint8Array; bundles: number }> {
  const first = Math.floor(from / 256);
  const count = Math.ceil(n / 256) - first;
  const fetchBundle = (k: number) => {
    const b = {
      level: "entries" as const,
      n: first + k,
      width: Math.min(256, n - (first + k) * 256),
    };
    const p = Promise.all([
      reader.readTile(0, b.n),
      source.tile(formatTilePath(b)),
      source.tile(formatTilePath({ ...b, level: "envelopes" })),
    ]);
    p.catch(() => {});
    return { b, p };
  };
  const window = opts.window ?? 4;
  const ahead = Array.from({ length: Math.min(window, count) }, (_, k) => fetchBundle(k));
  let batch: NewEntry[] = [];
  let budget = store.commitBudget();
  // One staging write in flight while the next batch is checked; its hashes
  // are read from memory until it lands.
  let inflight: Promise<void> = Promise.resolve();
  let landing: { base: number; hashes: Uint8Array[] } = {
    base: storedHashIndex(0, from),
    hashes: [],
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const prepared = await prepare(store, batch, landing);
    await inflight;
    const b = batch;
    const held = b[b.length - 1].index + 1;
    inflight = stageEntries(store, b, prepared.tiles).then(() => opts.onStaged?.(held, n));
    inflight.catch(() => {}); // surfaces at the next await
    landing = prepared.landing;
    batch = [];
    budget = store.commitBudget();
  };
  for (let k = 0; k < count; k++) {
    const { b, p } = ahead.shift()!;
    if (k + window < count) ahead.push(fetchBundle(k + window));
    const [tile, entryBytes, envelopeBytes] = await p;
    let leaves: Uint8Array[];
    let envelopes: Uint8Array[];
    try {
      leaves = decodeEntryBundle(entryBytes, b.width);
      envelopes = decodeEnvelopeBundle(envelopeBytes, b.width, {
        maxEnvelopeBytes: store.limits.maxEnvelopeBytes,
      });
    } catch (e) {
      throw new MirrorRefusedError("entry", `bundle ${b.n}: ${(e as Error).message}`, { cause: e });
    }
    for (let i = Math.max(0, from - b.n * 256); i < b.width; i++) {
      const index = b.n * 256 + i;
      let e: NewEntry;
      try {
        const c = checkEntry(index, leaves[i], envelopes[i], prev);
        if (!bytesEqual(c.leafHash, tile.subarray(i * 32, i * 32 + 32))) {
          throw new EntryCheckError(index, "leaf", "leaf does not hash to the tree's leaf hash");
        }
        e = {
          index,
          leaf: leaves[i],
          hashes: [c.leafHash],
          endsCommit: false,
          envelope: envelopes[i],
          envelopeSha256: c.envelopeSha256,
          bodySha256: storedSignedBodySha256(envelopes[i]),
          issuer: c.fields.issuer,
          primitive: c.fields.primitive,
          issuedAt: c.fields.issued_at,
        };
        prev = c.leafHash;
      } catch (err) {
        throw new MirrorRefusedError("entry", (err as Error).message, { cause: err });
      }
      const size = {
        envelopeBytes: e.envelope.length,
        fieldBytes: e.issuer.length + e.primitive.length + e.issuedAt.length + 64,
      };
      if (!budget.add(size)) {
        await flush();
        budget.add(size);
      }
      batch.push(e);
    }
    opts.onProgress?.(b.n * 256 + b.width, n);
  }
  await flush();
  await inflight;
  return { prev, bundles: count };
}

/**
 * A batch's stored hashes (set on its entries) and the tiles it completes or
 * grows, reading older hashes from the store, or from `landing` (the batch
 * whose write may still be in flight).
 */
async function prepare(
  store: KvStore,
  batch: NewEntry[],
  landing: { base: number; hashes: Uint8Array[] },
): Promise<{ tiles: StoredTile[]; landing: { base: number; hashes: Uint8Array[] } }> {
  const n0 = batch[0].index;
  const base = storedHashIndex(0, n0);
  const older: HashReader = {
    async readHashes(idx) {
      const fromStore = idx.filter((i) => i < landing.base);
      const got = fromStore.length ? await store.readHashes(fromStore) : [];
      let j = 0;
      return idx.map((i) => {
        if (i < landing.base) return got[j++];
        const h = landing.hashes[i - landing.base];
        if (h === undefined || i >= base) throw new RangeError(`no stored hash ${i}`);
        return h;
      });
    },
  };
  const fresh = await storedHashesForBatch(n0, batch.map((e) => e.hashes[0]), older);
  let off = 0;
  for (const e of batch) {
    const c = storedHashIndex(0, e.index + 1) - storedHashIndex(0, e.index);
    e.hashes = fresh.slice(off, off + c);
    off += c;
  }
  const reader: HashReader = {
    async readHashes(idx) {
      const old = idx.filter((i) => i < base);
      const got = old.length ? await older.readHashes(old) : [];
      let j = 0;
      return idx.map((i) => (i < base ? got[j++] : fresh[i - base]));
    },
  };
  const tiles = await tilesForCommit(n0, n0 + batch.length, reader);
  return { tiles, landing: { base, hashes: fresh } };
}
