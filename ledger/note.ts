/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, in the
 * exact formats of Go's `golang.org/x/mod/sumdb/note`: verifier keys
 * `<name>+<8 hex key ID>+<base64(0x01 || public key)>`, signer keys
 * `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || seed)>`, and notes
 * `text` + blank line + `— <name> <base64(key ID || signature)>` lines.
 *
 * {@link openNote} follows Go's `note.Open` rule for rule: UTF-8 without
 * control characters other than newline, the text ends at the last blank
 * line, signatures from unknown keys are ignored, a known key's signature
 * must verify, and at least one must be present. Base64 is decoded strictly
 * (canonical standard alphabet), which is stricter than Go for malformed
 * input but never rejects anything Go's `note.Sign` produces.
 *
 * Keys (names, IDs, verifier and signer key strings) are `./note_keys.ts`,
 * re-exported here.
 *
 * @module
 */
import { concatBytes, toBase64, utf8 } from "../core/bytes.ts";
import {
  checkName,
  chop,
  decodeB64,
  hex8,
  isValidKeyName,
  isWellFormed,
  keyIdBytes,
  NoteError,
  type NoteSigner,
  type NoteVerifier,
} from "./note_keys.ts";

export {
  ALG_ED25519,
  Ed25519NoteSigner,
  Ed25519NoteVerifier,
  ed25519VerifierKey,
  isValidKeyName,
  NoteError,
  noteKeyId,
  type NoteSigner,
  type NoteVerifier,
  parseSignerKey,
  parseVerifierKey,
} from "./note_keys.ts";

/** Most signature lines {@link openNote} reads (Go's limit). */
export const MAX_NOTE_SIGNATURES = 100;

/** One signature line of a note. */
export interface NoteSignature {
  /** Key name. */
  name: string;
  /** Key ID. */
  keyId: number;
  /** base64(key ID || signature), as on the line. */
  base64: string;
}

/** A note opened by {@link openNote}. */
export interface OpenedNote {
  /** The signed text, ending in a newline. */
  text: string;
  /** Signatures verified by a known key. */
  sigs: NoteSignature[];
  /** Signatures from unknown keys (ignored, as the spec requires). */
  unverifiedSigs: NoteSignature[];
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Checks the whole-note rule: well-formed UTF-8, no control characters but newline. */
function checkNoteChars(s: string, what: string): void {
  if (!isWellFormed(s)) throw new NoteError("malformed-note", `${what} is not well-formed UTF-8`);
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x09\x0b-\x1f]/.test(s)) {
    throw new NoteError(
      "malformed-note",
      `${what} contains a control character other than newline`,
    );
  }
}

/**
 * Sign `text` with every signer and return the signed note (Go's
 * `note.Sign` for a new note). `text` must end with a newline and contain no
 * control characters other than newline.
 *
 * @example
 * ```ts
 * import { Ed25519NoteSigner, openNote, signNote } from "./note.ts";
 * import assert from "node:assert/strict";
 * const signer = await Ed25519NoteSigner.generate("example.com/log");
 * const msg = await signNote("hello\n", [signer]);
 * assert.match(msg, /^hello\n\n— example\.com\/log [A-Za-z0-9+/]+=*\n$/);
 * const opened = await openNote(msg, [signer.verifier()]);
 * assert.equal(opened.text, "hello\n");
 * ```
 *
 * @throws {NoteError} `malformed-note` for bad text, `invalid-name` for a bad signer name.
 */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  if (typeof text !== "string" || !text.endsWith("\n")) {
    throw new NoteError("malformed-note", "note text must end with a newline");
  }
  checkNoteChars(text, "note text");
  const msg = utf8(text);
  let sigs = "";
  for (const s of signers) {
    checkName(s.name);
    const sig = await s.sign(msg);
    sigs += `— ${s.name} ${toBase64(concatBytes(keyIdBytes(s.keyId), sig))}\n`;
  }
  return text + "\n" + sigs;
}

/**
 * Open a signed note: check its form and verify the signatures of known
 * keys (Go's `note.Open`). Signatures from unknown keys are returned in
 * `unverifiedSigs`; a repeated known signature is checked once.
 *
 * @example
 * ```ts
 * import { NoteError, openNote, parseVerifierKey } from "./note.ts";
 * import assert from "node:assert/strict";
 * // Go's note_test.go vector, signed by PeterNeumann.
 * const text = "If you think cryptography is the answer to your problem,\n" +
 *   "then you don't know what your problem is.\n";
 * const msg = text + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1" +
 *   "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
 * const peter = parseVerifierKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * const opened = await openNote(msg, [peter]);
 * assert.equal(opened.text, text);
 * assert.equal(opened.sigs[0].name, "PeterNeumann");
 * // A changed text no longer verifies.
 * await assert.rejects(
 *   openNote(msg.replace("answer", "ANSWER"), [peter]),
 *   (e) => e instanceof NoteError && e.rule === "invalid-signature",
 * );
 * ```
 *
 * @throws {NoteError} `malformed-note`; `ambiguous-key` when two verifiers
 *   share a name and key ID; `invalid-signature` when a known key's signature
 *   fails; `unverified-note` when no known key signed it.
 */
export async function openNote(
  msg: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): Promise<OpenedNote> {
  let s: string;
  if (typeof msg === "string") {
    s = msg;
  } else {
    try {
      s = decoder.decode(msg);
    } catch (e) {
      throw new NoteError("malformed-note", "note is not valid UTF-8", { cause: e });
    }
  }
  checkNoteChars(s, "note");
  const split = s.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("malformed-note", "note has no blank line before signatures");
  const text = s.slice(0, split + 1);
  let sigs = s.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith("\n")) {
    throw new NoteError("malformed-note", "signature block must be non-empty and end with newline");
  }
  const textBytes = utf8(text);
  const byKey = new Map<string, NoteVerifier[]>();
  for (const v of verifiers) {
    const k = `${v.name}+${v.keyId}`;
    byKey.set(k, [...(byKey.get(k) ?? []), v]);
  }
  const out: OpenedNote = { text, sigs: [], unverifiedSigs: [] };
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  let numSig = 0;
  while (sigs.length > 0) {
    const i = sigs.indexOf("\n");
    let line = sigs.slice(0, i);
    sigs = sigs.slice(i + 1);
    if (!line.startsWith("— ")) {
      throw new NoteError("malformed-note", "signature line must start with '— '");
    }
    line = line.slice(2);
    const [name, b64] = chop(line, " ");
    const raw = decodeB64(b64);
    if (raw === undefined || !isValidKeyName(name) || b64 === "" || raw.length < 5) {
      throw new NoteError("malformed-note", "malformed signature line");
    }
    const keyId = ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0;
    const sig = raw.subarray(4);
    if (++numSig > MAX_NOTE_SIGNATURES) {
      throw new NoteError("malformed-note", `more than ${MAX_NOTE_SIGNATURES} signatures`);
    }
    const k = `${name}+${keyId}`;
    const vs = byKey.get(k);
    if (vs === undefined) {
      if (!seenUnverified.has(line)) {
        seenUnverified.add(line);
        out.unverifiedSigs.push({ name, keyId, base64: b64 });
      }
      continue;
    }
    if (vs.length > 1) {
      throw new NoteError("ambiguous-key", `ambiguous key ${name}+${hex8(keyId)}`);
    }
    if (seen.has(k)) continue;
    seen.add(k);
    if (!(await vs[0].verify(textBytes, sig))) {
      throw new NoteError("invalid-signature", `invalid signature for key ${name}+${hex8(keyId)}`);
    }
    out.sigs.push({ name, keyId, base64: b64 });
  }
  if (out.sigs.length === 0) {
    throw new NoteError("unverified-note", "note has no verifiable signatures");
  }
  return out;
}
