/**
 * C2SP transparency-log checkpoints (https://c2sp.org/tlog-checkpoint): a
 * signed note whose text is
 *
 * ```
 * <origin>
 * <tree size, decimal, no leading zeros>
 * <base64 RFC 6962 root hash>
 * [extension lines, each non-empty]
 * ```
 *
 * signed by the log's Ed25519 note key (./note.ts). The log's key name is
 * the origin (the spec's SHOULD), which {@link openCheckpoint} checks by
 * default.
 *
 * @module
 */
import { fromBase64, toBase64 } from "../core/bytes.ts";
import { RegledgerError } from "../core/errors.ts";
import { HASH_SIZE, MAX_TREE_SIZE, ProofError, verifyConsistency } from "./merkle/mod.ts";
import {
  NoteError,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  openNote,
  signNote,
} from "./note.ts";

/** The tree head a checkpoint commits to. */
export interface Checkpoint {
  /** The log's origin line (its identity), e.g. `regledger.local/log`. */
  origin: string;
  /** Number of leaves in the tree. */
  size: number;
  /** RFC 6962 root hash of the tree (32 bytes). */
  root: Uint8Array;
  /** Optional extension lines (opaque, non-empty; NOT RECOMMENDED by the spec). */
  extensions?: string[];
}

/** A checkpoint whose signature was verified by {@link openCheckpoint}. */
export interface VerifiedCheckpoint extends Checkpoint {
  /** The exact note text that was signed. */
  text: string;
  /** The opened note (verified and ignored signatures). */
  note: OpenedNote;
}

/**
 * A checkpoint is malformed, badly signed, for another log, or inconsistent
 * with another checkpoint. `rule` names the failure: `malformed`, `origin`,
 * `signature` (the note did not verify; `cause` is the {@link NoteError}),
 * or `inconsistent` (`cause` is the {@link ProofError}).
 */
export class CheckpointError extends RegledgerError {
  /** The rule that failed. */
  readonly rule: string;
  /** Build a checkpoint error. */
  constructor(rule: string, message: string, options?: ErrorOptions) {
    super(`checkpoint: ${message}`, options);
    this.rule = rule;
  }
}

// deno-lint-ignore no-control-regex
const CONTROL_RE = /[\x00-\x1f]/;

/**
 * The note text of a checkpoint (what gets signed).
 *
 * @example
 * ```ts
 * import { formatCheckpoint } from "./checkpoint.ts";
 * import { EMPTY_TREE_HASH } from "./merkle/mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatCheckpoint({ origin: "example.com/log", size: 0, root: EMPTY_TREE_HASH }),
 *   "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
 * );
 * ```
 *
 * @throws {CheckpointError} `malformed` when a field would not round-trip.
 */
export function formatCheckpoint(cp: Checkpoint): string {
  if (typeof cp.origin !== "string" || cp.origin === "" || CONTROL_RE.test(cp.origin)) {
    throw new CheckpointError("malformed", "origin must be a non-empty line");
  }
  if (!Number.isSafeInteger(cp.size) || cp.size < 0 || cp.size >= MAX_TREE_SIZE) {
    throw new CheckpointError("malformed", `size must be an integer in [0, 2^52), got ${cp.size}`);
  }
  if (!(cp.root instanceof Uint8Array) || cp.root.length !== HASH_SIZE) {
    throw new CheckpointError("malformed", "root must be a 32-byte hash");
  }
  let text = `${cp.origin}\n${cp.size}\n${toBase64(cp.root)}\n`;
  for (const [i, ext] of (cp.extensions ?? []).entries()) {
    if (typeof ext !== "string" || ext === "" || CONTROL_RE.test(ext)) {
      throw new CheckpointError("malformed", `extension line ${i} must be a non-empty line`);
    }
    text += ext + "\n";
  }
  return text;
}

/**
 * Parse checkpoint note text (without signatures) strictly: at least three
 * lines, a non-empty origin, a decimal size without leading zeros, a
 * canonical base64 32-byte root, non-empty extension lines, final newline.
 *
 * @example
 * ```ts
 * import { CheckpointError, parseCheckpointText } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const cp = parseCheckpointText("example.com/log\n7\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
 * assert.equal(cp.origin, "example.com/log");
 * assert.equal(cp.size, 7);
 * assert.equal(cp.root.length, 32);
 * // Leading zeros would give one tree head two texts: refused.
 * assert.throws(
 *   () => parseCheckpointText("example.com/log\n07\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"),
 *   CheckpointError,
 * );
 * ```
 *
 * @throws {CheckpointError} `malformed`, naming the line.
 */
export function parseCheckpointText(text: string): Checkpoint {
  if (typeof text !== "string" || !text.endsWith("\n")) {
    throw new CheckpointError("malformed", "text must end with a newline");
  }
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw new CheckpointError("malformed", "needs origin, size and root lines");
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin === "") throw new CheckpointError("malformed", "origin line is empty");
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) {
    throw new CheckpointError("malformed", "size line must be a decimal without leading zeros");
  }
  const size = Number(sizeText);
  if (size >= MAX_TREE_SIZE) throw new CheckpointError("malformed", "size exceeds 2^52");
  let root: Uint8Array;
  try {
    root = fromBase64(rootText);
  } catch (e) {
    throw new CheckpointError("malformed", "root line is not standard base64", { cause: e });
  }
  if (root.length !== HASH_SIZE) throw new CheckpointError("malformed", "root is not 32 bytes");
  extensions.forEach((e, i) => {
    if (e === "") throw new CheckpointError("malformed", `extension line ${i} is empty`);
  });
  const cp: Checkpoint = { origin, size, root };
  if (extensions.length > 0) cp.extensions = extensions;
  return cp;
}

/**
 * Sign a checkpoint with the log's key (and any cosigners): the signed
 * note text of {@link formatCheckpoint} followed by signature lines.
 *
 * @example
 * ```ts
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { openCheckpoint, signCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const key = await Ed25519NoteSigner.generate("example.com/log");
 * const signed = await signCheckpoint(
 *   { origin: "example.com/log", size: 1, root: new Uint8Array(32) }, [key]);
 * assert.ok(signed.startsWith("example.com/log\n1\n"));
 * const cp = await openCheckpoint(signed, key.verifier());
 * assert.equal(cp.size, 1);
 * ```
 *
 * @throws {CheckpointError} `malformed` for a bad checkpoint.
 */
export function signCheckpoint(cp: Checkpoint, signers: readonly NoteSigner[]): Promise<string> {
  return signNote(formatCheckpoint(cp), signers);
}

/** Options of {@link openCheckpoint}. */
export interface OpenCheckpointOptions {
  /**
   * The origin the checkpoint must carry.
   * @default the name of the first verifier (the log's key name)
   */
  origin?: string;
}

/**
 * Verify a signed checkpoint with the log's verifier (and any other known
 * keys) and parse it. At least one known signature must verify, and the
 * origin must be the expected one.
 *
 * @example
 * ```ts
 * import { CheckpointError, openCheckpoint, signCheckpoint } from "./checkpoint.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { EMPTY_TREE_HASH } from "./merkle/mod.ts";
 * import assert from "node:assert/strict";
 * const log = await Ed25519NoteSigner.generate("example.com/log");
 * const signed = await signCheckpoint(
 *   { origin: "example.com/log", size: 0, root: EMPTY_TREE_HASH },
 *   [log],
 * );
 * const cp = await openCheckpoint(signed, log.verifier());
 * assert.equal(cp.text, "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
 * // Another log's key does not open it.
 * const other = await Ed25519NoteSigner.generate("example.com/log");
 * await assert.rejects(
 *   openCheckpoint(signed, other.verifier()),
 *   (e) => e instanceof CheckpointError && e.rule === "signature",
 * );
 * ```
 *
 * @throws {CheckpointError} `signature` (cause: {@link NoteError}),
 *   `malformed` or `origin`.
 */
export async function openCheckpoint(
  signed: string | Uint8Array,
  verifiers: NoteVerifier | readonly NoteVerifier[],
  options: OpenCheckpointOptions = {},
): Promise<VerifiedCheckpoint> {
  const list: readonly NoteVerifier[] = Array.isArray(verifiers)
    ? verifiers
    : [verifiers as NoteVerifier];
  if (list.length === 0) throw new RangeError("verifiers must name at least one key");
  let note: OpenedNote;
  try {
    note = await openNote(signed, list);
  } catch (e) {
    if (e instanceof NoteError) {
      throw new CheckpointError("signature", `signature check failed: ${e.message}`, { cause: e });
    }
    throw e;
  }
  const cp = parseCheckpointText(note.text);
  const origin = options.origin ?? list[0].name;
  if (cp.origin !== origin) {
    throw new CheckpointError("origin", `origin is not the expected log origin`);
  }
  return { ...cp, text: note.text, note };
}

/**
 * Check that `newer` extends `older` (same origin, and `proof` is an RFC
 * 6962 §2.1.2 consistency proof from older.size to newer.size). Both
 * checkpoints must already be signature-verified by the caller.
 *
 * @example
 * ```ts
 * import { CheckpointError, checkCheckpointConsistency } from "./checkpoint.ts";
 * import { MemoryHashStore, proveTree, treeHash } from "./merkle/mod.ts";
 * import assert from "node:assert/strict";
 * const store = new MemoryHashStore();
 * for (const b of [1, 2, 3]) await store.append(new Uint8Array([b]));
 * const origin = "example.com/log";
 * const older = { origin, size: 2, root: await treeHash(2, store) };
 * const newer = { origin, size: 3, root: await treeHash(3, store) };
 * const proof = await proveTree(3, 2, store);
 * checkCheckpointConsistency(older, newer, proof); // returns: consistent
 * assert.throws(
 *   () => checkCheckpointConsistency(older, { ...newer, root: older.root }, proof),
 *   (e) => e instanceof CheckpointError && e.rule === "inconsistent",
 * );
 * ```
 *
 * @throws {CheckpointError} `origin` or `inconsistent` (cause: {@link ProofError}).
 */
export function checkCheckpointConsistency(
  older: Checkpoint,
  newer: Checkpoint,
  proof: readonly Uint8Array[],
): void {
  if (older.origin !== newer.origin) {
    throw new CheckpointError("origin", "checkpoints are from different origins");
  }
  try {
    verifyConsistency(older.size, newer.size, proof, older.root, newer.root);
  } catch (e) {
    if (e instanceof ProofError) {
      throw new CheckpointError("inconsistent", `checkpoints are inconsistent: ${e.message}`, {
        cause: e,
      });
    }
    throw e;
  }
}
