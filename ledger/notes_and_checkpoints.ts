/**
 * Signed notes and checkpoints: the `./note` entry point of the package.
 *
 * C2SP `signed-note` with Ed25519 keys in the formats of Go's
 * `golang.org/x/mod/sumdb/note` (`ledger/note.ts`), and C2SP
 * `tlog-checkpoint`, the signed tree heads a log publishes
 * (`ledger/checkpoint.ts`). Pure functions over text and keys: no storage,
 * no network, so they run in any JavaScript runtime with Web Crypto.
 *
 * @example Sign a checkpoint and open it with the published verifier key
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   Ed25519NoteSigner,
 *   openCheckpoint,
 *   parseVerifierKey,
 *   signCheckpoint,
 * } from "./notes_and_checkpoints.ts";
 *
 * const signer = await Ed25519NoteSigner.generate("example.com/log");
 * const text = await signCheckpoint(
 *   { origin: "example.com/log", size: 0, root: new Uint8Array(32) },
 *   [signer],
 * );
 * const verifier = parseVerifierKey(signer.verifierKey());
 * const cp = await openCheckpoint(text, [verifier]);
 * assert.equal(cp.size, 0);
 * ```
 *
 * @module
 */
export {
  ALG_ED25519,
  Ed25519NoteSigner,
  Ed25519NoteVerifier,
  ed25519VerifierKey,
  isValidKeyName,
  MAX_NOTE_SIGNATURES,
  NoteError,
  noteKeyId,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from "./note.ts";
export {
  checkCheckpointConsistency,
  type Checkpoint,
  CheckpointError,
  formatCheckpoint,
  openCheckpoint,
  type OpenCheckpointOptions,
  parseCheckpointText,
  signCheckpoint,
  type VerifiedCheckpoint,
} from "./checkpoint.ts";
// ML-DSA-44 checkpoint signatures (C2SP tlog-cosignature type 0x06): the
// log's second checkpoint key, and verifier keys of every type.
export {
  ALG_ML_DSA_44,
  type MlDsa44Engine,
  MlDsa44NoteSigner,
  MlDsa44NoteVerifier,
  type MlDsa44SignerOptions,
  mlDsa44VerifierKey,
  nobleMlDsa44,
} from "./witness/mldsa.ts";
export { type ParsedVerifierKey, parseNoteVerifierKey } from "./witness/keys.ts";
export { CosignatureError, type SecondsClock } from "./witness/timestamp.ts";
