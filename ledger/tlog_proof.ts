/**
 * Receipts: C2SP transparency-log proofs (https://c2sp.org/tlog-proof),
 * verifiable offline by whoever holds the envelope and the log's key.
 *
 * ```
 * c2sp.org/tlog-proof@v1
 * extra <base64 of the entry's exact leaf bytes>
 * index <N>
 * <base64 inclusion-proof hash, leaf's sibling first>   (zero or more lines)
 *
 * <the signed checkpoint, verbatim>
 * ```
 *
 * The `extra` data is not trusted by itself: {@link verifyTlogProof} hashes
 * it as the RFC 6962 leaf, proves its inclusion at `index` under the signed
 * checkpoint, and only then reads which envelope hash the leaf names.
 *
 * @module
 */
import { bytesEqual, fromBase64, fromHex, toBase64 } from "../core/bytes.ts";
import { RegledgerError } from "../core/errors.ts";
import {
  checkCheckpointConsistency,
  CheckpointError,
  openCheckpoint,
  type VerifiedCheckpoint,
} from "./checkpoint.ts";
import { decodeLeaf, LeafError, type LeafFields } from "./leaf.ts";
import { HASH_SIZE, leafHash, MAX_TREE_SIZE, ProofError, verifyInclusion } from "./merkle/mod.ts";
import { type NoteVerifier, parseVerifierKey } from "./note.ts";

/** First line of every `tlog-proof@v1` text. */
export const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";

/** Largest receipt text accepted, in UTF-16 code units (a real one is a few KiB). */
export const MAX_TLOG_PROOF_CHARS = 1 << 20;

/** Most inclusion-proof lines accepted (a tree below 2^52 needs at most 52). */
export const MAX_PROOF_HASHES = 64;

/**
 * The parts of a `tlog-proof@v1` text.
 *
 * @example The parts of a ledger's receipt
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { formatTlogProof, parseTlogProof, type TlogProof } from "./tlog_proof.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * const envelope = await signAuditRun(run, key, { issuer: "acme" });
 * const { tlog_proof } = await ledger.append(parseEnvelopeValue(envelope));
 * await ledger.close();
 * const parts: TlogProof = parseTlogProof(tlog_proof);
 * assert.equal(parts.index, 0);
 * assert.deepEqual(parts.proof, []); // a one-entry tree: the root is the leaf hash
 * assert.ok(parts.checkpoint.startsWith("example.org/log\n1\n"));
 * assert.equal(JSON.parse(new TextDecoder().decode(parts.extra)).issuer, "acme"); // the leaf
 * assert.equal(formatTlogProof(parts), tlog_proof);
 * ```
 */
export interface TlogProof {
  /** The `extra` data (our leaf bytes), if present. */
  extra?: Uint8Array;
  /** Index of the entry. */
  index: number;
  /** Inclusion proof hashes, leaf's sibling first. */
  proof: Uint8Array[];
  /** The signed checkpoint note, verbatim (ends with a newline). */
  checkpoint: string;
}

/**
 * A receipt failed. `rule` names what: `malformed` (the text), `checkpoint`
 * (signature or origin; cause: CheckpointError), `inclusion` (cause:
 * ProofError), `leaf` (the extra data is not a valid leaf; cause:
 * LeafError), `missing-leaf`, `leaf-mismatch` (extra differs from the leaf
 * given), `index-mismatch` (the leaf names another index),
 * `envelope-mismatch` (the leaf names another envelope), `inconsistent`.
 *
 * @example Each failure names its rule
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { TlogProofError, verifyTlogProof } from "./tlog_proof.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * const envelope = await signAuditRun(run, key, { issuer: "acme" });
 * const { tlog_proof } = await ledger.append(parseEnvelopeValue(envelope));
 * await ledger.close();
 * const otherLog = (await Ed25519NoteSigner.generate("example.org/log")).verifierKey();
 * const rule = (e: unknown) => e instanceof TlogProofError ? e.rule : "not a TlogProofError";
 * await assert.rejects(
 *   verifyTlogProof(tlog_proof, otherLog),
 *   (e) => rule(e) === "checkpoint",
 * );
 * await assert.rejects(
 *   verifyTlogProof(tlog_proof, logKey.verifierKey(), { envelopeSha256: "00".repeat(32) }),
 *   (e) => rule(e) === "envelope-mismatch",
 * );
 * await assert.rejects(verifyTlogProof("not a receipt", logKey.verifierKey()), (e) =>
 *   rule(e) === "malformed");
 * ```
 */
export class TlogProofError extends RegledgerError {
  /** The rule that failed. */
  readonly rule: string;
  /** Build a receipt error. */
  constructor(rule: string, message: string, options?: ErrorOptions) {
    super(`tlog-proof: ${message}`, options);
    this.rule = rule;
  }
}

/**
 * Build a `tlog-proof@v1` text.
 *
 * @example
 * ```ts
 * import { formatTlogProof, parseTlogProof } from "./tlog_proof.ts";
 * import assert from "node:assert/strict";
 * const checkpoint = "example.com/log\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— sig\n";
 * const text = formatTlogProof({ extra: new Uint8Array([1]), index: 0, proof: [], checkpoint });
 * assert.equal(text, "c2sp.org/tlog-proof@v1\nextra AQ==\nindex 0\n\n" + checkpoint);
 * assert.deepEqual(parseTlogProof(text).extra, new Uint8Array([1]));
 * ```
 *
 * @throws {RangeError} for a bad index, hash or checkpoint.
 */
export function formatTlogProof(p: TlogProof): string {
  if (!Number.isSafeInteger(p.index) || p.index < 0 || p.index >= MAX_TREE_SIZE) {
    throw new RangeError(`index must be an integer in [0, 2^52), got ${p.index}`);
  }
  if (p.proof.length > MAX_PROOF_HASHES) throw new RangeError("proof has too many hashes");
  let text = TLOG_PROOF_HEADER + "\n";
  if (p.extra !== undefined) text += `extra ${toBase64(p.extra)}\n`;
  text += `index ${p.index}\n`;
  p.proof.forEach((h, i) => {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
      throw new RangeError(`proof[${i}] must be a 32-byte hash`);
    }
    text += toBase64(h) + "\n";
  });
  if (typeof p.checkpoint !== "string" || !p.checkpoint.endsWith("\n")) {
    throw new RangeError("checkpoint must be a signed note ending with a newline");
  }
  return text + "\n" + p.checkpoint;
}

/**
 * Parse a `tlog-proof@v1` text strictly (header, optional `extra`,
 * `index` without leading zeros, 32-byte base64 hashes, blank line,
 * checkpoint). Nothing is verified: see {@link verifyTlogProof}.
 *
 * @example
 * ```ts
 * import { parseTlogProof, TlogProofError } from "./tlog_proof.ts";
 * import assert from "node:assert/strict";
 * const hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
 * const p = parseTlogProof(`c2sp.org/tlog-proof@v1\nindex 3\n${hash}\n\ncheckpoint note\n`);
 * assert.equal(p.index, 3);
 * assert.equal(p.proof.length, 1);
 * assert.equal(p.checkpoint, "checkpoint note\n");
 * assert.throws(() => parseTlogProof("c2sp.org/tlog-proof@v1\nindex 03\n\nx\n"), TlogProofError);
 * ```
 *
 * @throws {TlogProofError} `malformed`, naming the line.
 */
export function parseTlogProof(text: string): TlogProof {
  if (typeof text !== "string") throw new TlogProofError("malformed", "proof must be text");
  if (text.length > MAX_TLOG_PROOF_CHARS) {
    throw new TlogProofError(
      "malformed",
      `proof is longer than ${MAX_TLOG_PROOF_CHARS} characters`,
    );
  }
  const bad = (msg: string, cause?: unknown): never => {
    throw new TlogProofError("malformed", msg, cause === undefined ? undefined : { cause });
  };
  let pos = 0;
  const nextLine = (): string => {
    const i = text.indexOf("\n", pos);
    if (i < 0) bad("unexpected end of text");
    const line = text.slice(pos, i);
    pos = i + 1;
    return line;
  };
  if (nextLine() !== TLOG_PROOF_HEADER) bad(`first line must be ${TLOG_PROOF_HEADER}`);
  let line = nextLine();
  let extra: Uint8Array | undefined;
  if (line.startsWith("extra ")) {
    try {
      extra = fromBase64(line.slice(6));
    } catch (e) {
      bad("extra line is not standard base64", e);
    }
    line = nextLine();
  }
  const m = /^index (0|[1-9][0-9]{0,15})$/.exec(line);
  if (!m) bad("expected 'index N' (decimal, no leading zeros)");
  const index = Number(m![1]);
  if (index >= MAX_TREE_SIZE) bad("index exceeds 2^52");
  const proof: Uint8Array[] = [];
  for (;;) {
    line = nextLine();
    if (line === "") break;
    if (proof.length === MAX_PROOF_HASHES) bad("too many proof hashes");
    let h: Uint8Array | undefined;
    try {
      h = fromBase64(line);
    } catch (e) {
      bad(`proof line ${proof.length} is not standard base64`, e);
    }
    if (h!.length !== HASH_SIZE) bad(`proof line ${proof.length} is not a 32-byte hash`);
    proof.push(h!);
  }
  const checkpoint = text.slice(pos);
  if (checkpoint === "") bad("missing checkpoint");
  const out: TlogProof = { index, proof, checkpoint };
  if (extra !== undefined) out.extra = extra;
  return out;
}

/** Options of {@link verifyTlogProof}. */
export interface VerifyTlogProofOptions {
  /**
   * The leaf bytes, when the caller has them; must equal the `extra` data
   * if both are present. One of the two is required.
   */
  leaf?: Uint8Array;
  /**
   * The envelope's SHA-256 the leaf must name: 32 bytes, 64 hex digits (as
   * in envelope receipts) or standard base64 (as in leaves).
   */
  envelopeSha256?: Uint8Array | string;
  /**
   * The checkpoint's expected origin.
   * @default the log key's name
   */
  origin?: string;
  /**
   * A checkpoint the caller has already verified (`signed`: its exact
   * text; `checkpoint`: what {@link openCheckpoint} returned for it): the
   * receipt's checkpoint must be byte-identical to it, and its signatures
   * are not checked again (an evidence pack checks one checkpoint, then
   * thousands of receipts against it).
   */
  verifiedCheckpoint?: { signed: string; checkpoint: VerifiedCheckpoint };
}

/**
 * What a verified receipt proves.
 *
 * @example Verify a receipt offline, tied to the envelope it was issued for
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { envelopeSha256Hex, parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { type VerifiedTlogProof, verifyTlogProof } from "./tlog_proof.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * const envelope = await signAuditRun(run, key, { issuer: "acme" });
 * const { tlog_proof } = await ledger.append(parseEnvelopeValue(envelope));
 * await ledger.close();
 * const proven: VerifiedTlogProof = await verifyTlogProof(tlog_proof, logKey.verifierKey(), {
 *   envelopeSha256: envelopeSha256Hex(parseEnvelopeValue(envelope)), // what the ledger logged
 * });
 * assert.equal(proven.index, 0);
 * assert.equal(proven.checkpoint.origin, "example.org/log");
 * assert.equal(proven.checkpoint.size, 1);
 * assert.equal(proven.fields.issuer, "acme");
 * assert.equal(proven.fields.key_id, "acme-1");
 * ```
 */
export interface VerifiedTlogProof {
  /** The entry's index. */
  index: number;
  /** The entry's exact leaf bytes. */
  leaf: Uint8Array;
  /** The parsed leaf. */
  fields: LeafFields;
  /** The verified checkpoint the entry is included in. */
  checkpoint: VerifiedCheckpoint;
  /** The inclusion proof. */
  proof: Uint8Array[];
}

function toVerifiers(key: string | NoteVerifier | readonly NoteVerifier[]): NoteVerifier[] {
  if (typeof key === "string") return [parseVerifierKey(key)];
  return Array.isArray(key) ? [...key] : [key as NoteVerifier];
}

function envelopeHashBytes(v: Uint8Array | string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (/^[0-9a-f]{64}$/.test(v)) return fromHex(v);
  return fromBase64(v);
}

/**
 * Verify a receipt offline: the checkpoint's signature by the log key (a
 * verifier key string or verifiers), the RFC 6962 inclusion of
 * `SHA-256(0x00 || leaf)` at `index` under the checkpoint's root, that the
 * leaf is a valid regledger leaf naming that index and (if given) the
 * envelope hash.
 *
 * @example
 * ```ts
 * import { formatTlogProof, TlogProofError, verifyTlogProof } from "./tlog_proof.ts";
 * import { signCheckpoint } from "./checkpoint.ts";
 * import { encodeLeaf, LEAF_VERSION, prevFor } from "./leaf.ts";
 * import { leafHash } from "./merkle/mod.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { toBase64 } from "../core/bytes.ts";
 * import assert from "node:assert/strict";
 * const envelopeSha256 = new Uint8Array(32).fill(7);
 * const leaf = encodeLeaf({
 *   envelope_sha256: toBase64(envelopeSha256),
 *   index: 0,
 *   issued_at: "2026-11-21T12:00:00Z",
 *   issuer: "acme",
 *   key_id: "acme-1",
 *   prev: prevFor(null),
 *   primitive: "drift",
 *   v: LEAF_VERSION,
 * });
 * // A one-entry log: the root is the leaf hash and the proof is empty.
 * const log = await Ed25519NoteSigner.generate("example.com/log");
 * const checkpoint = await signCheckpoint(
 *   { origin: "example.com/log", size: 1, root: leafHash(leaf) },
 *   [log],
 * );
 * const receipt = formatTlogProof({ extra: leaf, index: 0, proof: [], checkpoint });
 * const ok = await verifyTlogProof(receipt, log.verifierKey(), { envelopeSha256 });
 * assert.equal(ok.fields.issuer, "acme");
 * await assert.rejects(
 *   verifyTlogProof(receipt, log.verifierKey(), { envelopeSha256: new Uint8Array(32) }),
 *   (e) => e instanceof TlogProofError && e.rule === "envelope-mismatch",
 * );
 * ```
 *
 * @throws {TlogProofError} naming the rule that failed.
 */
export async function verifyTlogProof(
  text: string,
  logKey: string | NoteVerifier | readonly NoteVerifier[],
  options: VerifyTlogProofOptions = {},
): Promise<VerifiedTlogProof> {
  const p = parseTlogProof(text);
  const verifiers = toVerifiers(logKey);
  let checkpoint: VerifiedCheckpoint;
  try {
    const pre = options.verifiedCheckpoint;
    if (pre !== undefined && p.checkpoint !== pre.signed) {
      throw new TlogProofError("checkpoint", "the receipt's checkpoint is not the one given");
    }
    checkpoint = pre?.checkpoint ??
      await openCheckpoint(p.checkpoint, verifiers, { origin: options.origin });
  } catch (e) {
    if (e instanceof CheckpointError) {
      throw new TlogProofError("checkpoint", e.message, { cause: e });
    }
    throw e;
  }
  const leaf = p.extra ?? options.leaf;
  if (leaf === undefined) {
    throw new TlogProofError("missing-leaf", "no extra data and no leaf given");
  }
  if (options.leaf !== undefined && !bytesEqual(options.leaf, leaf)) {
    throw new TlogProofError("leaf-mismatch", "extra data is not the given leaf");
  }
  try {
    verifyInclusion(leafHash(leaf), p.index, checkpoint.size, p.proof, checkpoint.root);
  } catch (e) {
    if (e instanceof ProofError) throw new TlogProofError("inclusion", e.message, { cause: e });
    throw e;
  }
  let fields: LeafFields;
  try {
    fields = decodeLeaf(leaf);
  } catch (e) {
    if (e instanceof LeafError) throw new TlogProofError("leaf", e.message, { cause: e });
    throw e;
  }
  if (fields.index !== p.index) {
    throw new TlogProofError("index-mismatch", `leaf names index ${fields.index}, not ${p.index}`);
  }
  if (options.envelopeSha256 !== undefined) {
    let want: Uint8Array;
    try {
      want = envelopeHashBytes(options.envelopeSha256);
    } catch (e) {
      throw new RangeError("envelopeSha256 must be 32 bytes, 64 hex digits or base64", {
        cause: e,
      });
    }
    if (!bytesEqual(fromBase64(fields.envelope_sha256), want)) {
      throw new TlogProofError("envelope-mismatch", "leaf names a different envelope hash");
    }
  }
  return { index: p.index, leaf, fields, checkpoint, proof: p.proof };
}

/**
 * Check that a newer signed checkpoint extends the checkpoint inside a
 * receipt, given the consistency proof between their sizes (RFC 6962
 * §2.1.2). Verifies the newer checkpoint's signature too, and returns it.
 * The receipt itself should be verified with {@link verifyTlogProof}.
 *
 * @example
 * ```ts
 * import { formatTlogProof, verifyReceiptConsistency } from "./tlog_proof.ts";
 * import { signCheckpoint } from "./checkpoint.ts";
 * import { MemoryHashStore, proveTree, treeHash } from "./merkle/mod.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import assert from "node:assert/strict";
 * const log = await Ed25519NoteSigner.generate("example.com/log");
 * const store = new MemoryHashStore();
 * for (const b of [1, 2, 3]) await store.append(new Uint8Array([b]));
 * const sign = async (size: number) =>
 *   signCheckpoint({ origin: "example.com/log", size, root: await treeHash(size, store) }, [log]);
 * // (The receipt's leaf is not checked here, only its checkpoint.)
 * const receipt = formatTlogProof({ index: 0, proof: [], checkpoint: await sign(2) });
 * const newer = await verifyReceiptConsistency(
 *   receipt,
 *   await sign(3),
 *   await proveTree(3, 2, store),
 *   log.verifierKey(),
 * );
 * assert.equal(newer.size, 3);
 * ```
 *
 * @throws {TlogProofError} `checkpoint` or `inconsistent`.
 */
export async function verifyReceiptConsistency(
  receipt: string,
  newerCheckpoint: string,
  consistencyProof: readonly Uint8Array[],
  logKey: string | NoteVerifier | readonly NoteVerifier[],
  options: { origin?: string } = {},
): Promise<VerifiedCheckpoint> {
  const p = parseTlogProof(receipt);
  const verifiers = toVerifiers(logKey);
  let older: VerifiedCheckpoint;
  let newer: VerifiedCheckpoint;
  try {
    older = await openCheckpoint(p.checkpoint, verifiers, options);
    newer = await openCheckpoint(newerCheckpoint, verifiers, options);
  } catch (e) {
    if (e instanceof CheckpointError) {
      throw new TlogProofError("checkpoint", e.message, { cause: e });
    }
    throw e;
  }
  try {
    checkCheckpointConsistency(older, newer, consistencyProof);
  } catch (e) {
    if (e instanceof CheckpointError) {
      throw new TlogProofError("inconsistent", e.message, { cause: e });
    }
    throw e;
  }
  return newer;
}

// The leaf format receipts prove (docs/formats.md §3.1), for readers of entry bundles.
export { LEAF_VERSION, type LeafFields } from "./leaf.ts";
