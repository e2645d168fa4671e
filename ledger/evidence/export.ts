/**
 * Writing an evidence pack (docs/formats.md, "Evidence packs"): the
 * selected envelopes with a receipt of each against ONE checkpoint, the
 * checkpoint as served, the log's verifier keys, the trust store in force,
 * `report.html` and `manifest.json`, as one ZIP archive written as a stream.
 *
 * One code path for every source: a pack is built from a log's query, its
 * C2SP tiles (entry and envelope bundles, hash tiles) and its checkpoint,
 * whether the log is a local ledger, the server's own ledger
 * (`GET /v1/evidence`) or a server reached over HTTP. The same selection
 * under the same checkpoint therefore gives the same bytes.
 *
 * @module
 */
import { sha256, sha256Hex, toBase64, utf8 } from "../../core/bytes.ts";
import { canonicalBytes } from "../../core/jcs.ts";
import { parseJson } from "../../core/json_text.ts";
import { resultSummary } from "../../core/primitives/breach.ts";
import { TrustStore, type TrustStoreJson } from "../../core/trust_store.ts";
import { openCheckpoint } from "../checkpoint.ts";
import { decodeLeaf } from "../leaf.ts";
import { leafHash, proveRecord, verifyInclusion } from "../merkle/mod.ts";
import { TILE_WIDTH } from "../tiles/path.ts";
import { decodeEntryBundle, decodeEnvelopeBundle } from "../tiles/bundle.ts";
import { formatTilePath } from "../tiles/path.ts";
import { TileHashReader } from "../tiles/reader.ts";
import { formatTlogProof } from "../tlog_proof.ts";
import { parseNoteVerifierKey } from "../witness/keys.ts";
import type { QueryOptions, QueryResult } from "../wire.ts";
import {
  BudgetCollector,
  buildBudgetStatements,
  renderBudgetSection,
  type SourceBudget,
} from "./budgets.ts";
import { type EntryFacts, renderReport } from "./report.ts";
import { MemoHashReader } from "./memo_hashes.ts";
import { ZipWriter } from "./zip.ts";

/** Format name in every manifest. */
export const PACK_FORMAT = "regledger-evidence-pack/v1";

/** The fixed files of a pack (entries add `envelopes/<index>.json` and `.receipt`). */
export const PACK_FILES = {
  report: "report.html",
  manifest: "manifest.json",
  checkpoint: "checkpoint.txt",
  logKeys: "log-keys.txt",
  trustStore: "trust-store.json",
} as const;

/** Which entries a pack holds (the options of `GET /v1/log/entries`). */
export interface EvidenceSelection {
  /** Only this issuer. */
  issuer?: string;
  /** Only this primitive. */
  primitive?: string;
  /** `issued_at >= from` (RFC 3339). */
  from?: string;
  /** `issued_at < to` (RFC 3339). */
  to?: string;
}

/** What a pack is built from: any log that answers queries, tiles and its checkpoint. */
export interface EvidenceSource {
  /** The latest signed checkpoint, as served (with cosignatures when present). */
  checkpoint(): Promise<string>;
  /** The log's verifier keys, Ed25519 first (`GET /v1/log/keys`). */
  verifierKeys(): Promise<readonly string[]>;
  /** The trust store in force. */
  trustStore(): Promise<TrustStoreJson>;
  /** A page of the log's query. */
  query(opts: QueryOptions): Promise<QueryResult>;
  /** A C2SP tile or bundle by path (`tile/entries/000`), as served. */
  tile(path: string): Promise<Uint8Array>;
  /**
   * Optional: the indexes `query` would list for `selection`, in the same
   * order, a page at a time (a local ledger reads them from its index
   * without reading every entry twice).
   */
  indexes?(selection: EvidenceSelection): AsyncIterable<number[]>;
  /** An issuer's budget on a dataset and its spending entries (`GET /v1/privacy/budget`). */
  privacyBudget?(issuer: string, dataset: string): Promise<SourceBudget>;
}

/** Progress of an export. */
export interface ExportProgress {
  /** Entries written so far. */
  entries: number;
  /** Bytes of the archive written so far. */
  bytes: number;
}

/** Options of {@link writeEvidencePack}. */
export interface ExportOptions {
  /** Called after every 1,000 entries and at the end. */
  onProgress?: (p: ExportProgress) => void;
}

/** What {@link writeEvidencePack} wrote. */
export interface ExportSummary {
  /** Entries in the pack. */
  entries: number;
  /** Tree size of the pack's checkpoint. */
  tree_size: number;
  /** Size of the archive in bytes. */
  bytes: number;
}

/** The log refused or could not serve part of the pack. */
export class EvidenceExportError extends Error {
  /** Build an export error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EvidenceExportError";
  }
}

const PAGE = 1000;
const BUNDLE_CACHE = 4;
/** Bundles (and their hash tile rows) read ahead of the one being written. */
const AHEAD = 2;

/**
 * Write the pack of `selection` from `source` to `sink` chunk by chunk:
 * entries are read a page at a time and written as they come; only a few
 * bundles and one small record per entry (for the report) stay in memory.
 *
 * @throws {EvidenceExportError} when the source's data does not add up
 *   (a checkpoint its own keys do not verify, a bundle that is not the
 *   leaf the tree holds).
 */
export async function writeEvidencePack(
  source: EvidenceSource,
  selection: EvidenceSelection,
  sink: (chunk: Uint8Array) => Promise<void>,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const checkpointText = await source.checkpoint();
  const keys = [...await source.verifierKeys()];
  if (keys.length === 0) throw new EvidenceExportError("the log names no verifier key");
  let cp;
  try {
    cp = await openCheckpoint(checkpointText, parseNoteVerifierKey(keys[0]).verifier);
  } catch (e) {
    throw new EvidenceExportError(`the log's checkpoint: ${(e as Error).message}`, { cause: e });
  }
  const size = cp.size;
  // One serialization whoever serves it: parsed, PEMs re-encoded, JCS.
  const trust = canonicalBytes(TrustStore.fromObject(await source.trustStore()).toJSON());
  const tiles = new MemoHashReader(new TileHashReader(size, cp.root, (p) => source.tile(p)), size);
  const bundles = new Map<number, Promise<{ leaves: Uint8Array[]; envelopes: Uint8Array[] }>>();
  const bundle = (n: number) => {
    let b = bundles.get(n);
    if (b === undefined) {
      const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
      const at = (level: "entries" | "envelopes") =>
        source.tile(formatTilePath({ level, n, width }));
      b = Promise.all([at("entries"), at("envelopes")]).then(([l, e]) => ({
        leaves: decodeEntryBundle(l, width),
        envelopes: decodeEnvelopeBundle(e, width, { maxEnvelopeBytes: 0xffffffff }),
      }));
      bundles.set(n, b);
      if (bundles.size > BUNDLE_CACHE) bundles.delete(bundles.keys().next().value!);
    }
    return b;
  };

  const zip = new ZipWriter(sink);
  const files: { path: string; sha256: string; bytes: number }[] = [];
  const add = async (path: string, data: Uint8Array) => {
    files.push({ path, sha256: sha256Hex(data), bytes: data.length });
    await zip.add(path, data);
  };
  const facts: EntryFacts[] = [];
  const indexes: number[] = [];
  const budgets = new BudgetCollector(); // privacy-budget statements (budgets.ts)
  const writeEntry = async (index: number): Promise<Uint8Array> => {
    const n = Math.floor(index / TILE_WIDTH);
    const b = await bundle(n);
    const leaf = b.leaves[index - n * TILE_WIDTH];
    const envelope = b.envelopes[index - n * TILE_WIDTH];
    const proof = await proveRecord(size, index, tiles);
    try {
      verifyInclusion(leafHash(leaf), index, size, proof, cp.root);
    } catch (e) {
      throw new EvidenceExportError(`entry ${index}: the served leaf is not in the tree`, {
        cause: e,
      });
    }
    const fields = decodeLeaf(leaf);
    if (fields.envelope_sha256 !== toBase64(sha256(envelope))) {
      throw new EvidenceExportError(`entry ${index}: the served envelope is not the logged one`);
    }
    const receipt = formatTlogProof({ extra: leaf, index, proof, checkpoint: checkpointText });
    await add(`envelopes/${index}.json`, envelope);
    await add(`envelopes/${index}.receipt`, utf8(receipt));
    budgets.note(index, envelope);
    return envelope;
  };
  for await (const page of selectedIndexes(source, selection)) {
    for (const index of page) {
      // Entries appended after the checkpoint are not in its tree: not in this pack.
      if (index >= size) continue;
      // Read the next bundles and their hashes while this one is written.
      const n = Math.floor(index / TILE_WIDTH);
      for (let next = n + 1; next <= n + AHEAD && next * TILE_WIDTH < size; next++) {
        bundle(next).catch(() => {});
        tiles.prefetchRow(next);
      }
      const envelope = await writeEntry(index);
      facts.push(entryFacts(index, envelope));
      indexes.push(index);
      if (indexes.length % 1000 === 0) {
        options.onProgress?.({ entries: indexes.length, bytes: zip.bytesWritten });
      }
    }
  }

  // --- privacy-budget statements (budgets.ts): every spending envelope of each pair released ---
  let statements;
  try {
    statements = await buildBudgetStatements(
      budgets,
      size,
      source.privacyBudget?.bind(source),
      async (i) => void await writeEntry(i),
    );
  } catch (e) {
    if (e instanceof EvidenceExportError) throw e;
    throw new EvidenceExportError(`privacy budgets: ${(e as Error).message}`, { cause: e });
  }
  for (const f of statements.files) await add(f.path, f.data);
  // --- end of privacy-budget statements ---
  await add(PACK_FILES.checkpoint, utf8(checkpointText));
  await add(PACK_FILES.logKeys, utf8(keys.map((k) => k + "\n").join("")));
  await add(PACK_FILES.trustStore, trust);
  await add(
    PACK_FILES.report,
    utf8(renderReport({
      selection,
      checkpoint: { origin: cp.origin, size },
      entries: facts,
      budgets: renderBudgetSection(statements.statements, statements.files.map((f) => f.path)),
    })),
  );
  const manifest = {
    format: PACK_FORMAT,
    selection: {
      issuer: selection.issuer ?? null,
      primitive: selection.primitive ?? null,
      from: selection.from ?? null,
      to: selection.to ?? null,
    },
    checkpoint: { origin: cp.origin, tree_size: size, root_hash: toBase64(cp.root) },
    entries: indexes,
    files,
    // The privacy-budget statements and the spending entries added for them (budgets.ts).
    privacy_budgets: statements.manifest,
  };
  await zip.add(
    PACK_FILES.manifest,
    utf8(new TextDecoder().decode(canonicalBytes(manifest)) + "\n"),
  );
  await zip.finish([
    PACK_FILES.report,
    PACK_FILES.manifest,
    PACK_FILES.checkpoint,
    PACK_FILES.logKeys,
    PACK_FILES.trustStore,
  ]);
  options.onProgress?.({ entries: indexes.length, bytes: zip.bytesWritten });
  return { entries: indexes.length, tree_size: size, bytes: zip.bytesWritten };
}

/** The selection's indexes, page by page: from the source's index when it has one, else its query. */
async function* selectedIndexes(
  source: EvidenceSource,
  selection: EvidenceSelection,
): AsyncGenerator<number[]> {
  if (source.indexes !== undefined) {
    yield* source.indexes(selection);
    return;
  }
  let cursor: string | undefined;
  do {
    const page = await source.query({ ...selection, limit: PAGE, cursor });
    yield page.entries.map((s) => s.index);
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** What the report needs of one envelope (read leniently: the verifier judges it). */
export function entryFacts(index: number, envelope: Uint8Array): EntryFacts {
  let v: Record<string, unknown> = {};
  try {
    let parsed: unknown;
    try {
      // Logged envelopes passed the strict parser: the engine's is the fast path.
      parsed = JSON.parse(decoder.decode(envelope));
    } catch {
      // Legacy envelopes may hold Python's NaN/Infinity: read them the way they were stored.
      parsed = parseJson(envelope, { allowNonFinite: true, maxBytes: envelope.length + 1 });
    }
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      v = parsed as Record<string, unknown>;
    }
  } catch {
    // An unreadable envelope still gets a row; verification names it.
  }
  const str = (x: unknown) => typeof x === "string" ? x : "";
  const primitive = str(v.primitive);
  const summary = resultSummary(primitive, v.result, v.input_commitments);
  return {
    index,
    issuer: str(v.issuer),
    primitive,
    issued_at: str(v.issued_at),
    regulations: Array.isArray(v.regulations)
      ? v.regulations.filter((r) => typeof r === "string")
      : [],
    breached: summary.breached,
    statistics: summary.statistics,
    thresholds: summary.thresholds,
  };
}
