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
 * @module
 */
import { concatBytes, fromBase64, sha256, toBase64, utf8 } from "../core/bytes.ts";
import { Ed25519PrivateKey, Ed25519PublicKey } from "../core/ed25519.ts";
import { RegledgerError } from "../core/errors.ts";

/** Signature type byte of Ed25519 in C2SP signed-note. */
export const ALG_ED25519 = 0x01;

/** Most signature lines {@link openNote} reads (Go's limit). */
export const MAX_NOTE_SIGNATURES = 100;

/**
 * A signed note or a note key was rejected. `rule` names what failed:
 * `malformed-note`, `unverified-note` (no signature from a known key),
 * `invalid-signature` (a known key's signature does not verify),
 * `ambiguous-key`, `malformed-key`, `key-id-mismatch`, `unknown-algorithm`,
 * `invalid-name`.
 */
export class NoteError extends RegledgerError {
  /** The rule that failed. */
  readonly rule: string;
  /** Build a note error. */
  constructor(rule: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.rule = rule;
  }
}

/** Verifies signatures of one key (Go's `note.Verifier`). */
export interface NoteVerifier {
  /** The key name. */
  readonly name: string;
  /** The 32-bit key ID. */
  readonly keyId: number;
  /** Whether `sig` is a valid signature of `msg` by this key. */
  verify(msg: Uint8Array, sig: Uint8Array): Promise<boolean>;
}

/** Signs with one key (Go's `note.Signer`). */
export interface NoteSigner {
  /** The key name. */
  readonly name: string;
  /** The 32-bit key ID. */
  readonly keyId: number;
  /** The signature of `msg`. */
  sign(msg: Uint8Array): Promise<Uint8Array>;
}

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

// Go's unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space property.
const SPACE_RE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/**
 * Whether `name` is a valid key name: non-empty, well-formed, no Unicode
 * space and no `+` (C2SP signed-note; Go's `isValidName`).
 */
export function isValidKeyName(name: string): boolean {
  return typeof name === "string" && name !== "" && isWellFormed(name) && !SPACE_RE.test(name) &&
    !name.includes("+");
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/**
 * The C2SP key ID: the first 4 bytes, big-endian, of
 * `SHA-256(name || 0x0A || typedKey)` where `typedKey` is the signature type
 * byte followed by the public key.
 */
export function noteKeyId(name: string, typedKey: Uint8Array): number {
  const h = sha256(utf8(name), new Uint8Array([0x0a]), typedKey);
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, "0");
}

function keyIdBytes(id: number): Uint8Array {
  return new Uint8Array([id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]);
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new NoteError(
      "invalid-name",
      "key name must be non-empty and contain no spaces or '+'",
    );
  }
}

/**
 * The verifier key string `<name>+<8 hex key ID>+<base64(0x01 || publicKey)>`
 * of an Ed25519 public key (Go's `note.NewEd25519VerifierKey`).
 *
 * @throws {NoteError} for an invalid name or a key that is not 32 bytes.
 */
export function ed25519VerifierKey(name: string, publicKey: Uint8Array): string {
  checkName(name);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new NoteError("malformed-key", "Ed25519 public key must be 32 bytes");
  }
  const typed = concatBytes(new Uint8Array([ALG_ED25519]), publicKey);
  return `${name}+${hex8(noteKeyId(name, typed))}+${toBase64(typed)}`;
}

/** A {@link NoteVerifier} for one Ed25519 key. */
export class Ed25519NoteVerifier implements NoteVerifier {
  /** The key name. */
  readonly name: string;
  /** The key ID. */
  readonly keyId: number;
  /** The public key. */
  readonly publicKey: Ed25519PublicKey;

  /** Build from a name and a 32-byte public key (key ID computed per C2SP). */
  constructor(name: string, publicKey: Uint8Array) {
    checkName(name);
    this.publicKey = Ed25519PublicKey.fromRaw(publicKey);
    this.name = name;
    this.keyId = noteKeyId(name, concatBytes(new Uint8Array([ALG_ED25519]), publicKey));
  }

  /** Whether `sig` is a valid Ed25519 signature of `msg`. */
  verify(msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
    return this.publicKey.verify(sig, msg);
  }

  /** The verifier key string (Go note format). */
  toString(): string {
    return ed25519VerifierKey(this.name, this.publicKey.raw);
  }
}

/**
 * Parse a verifier key `<name>+<hash>+<base64(0x01 || key)>` (Go's
 * `note.NewVerifier`): the hash must be 8 hex digits equal to the C2SP key ID.
 *
 * @throws {NoteError} `malformed-key`, `key-id-mismatch` or `unknown-algorithm`.
 */
export function parseVerifierKey(vkey: string): Ed25519NoteVerifier {
  if (typeof vkey !== "string") throw new NoteError("malformed-key", "verifier key must be text");
  // A trailing newline (as served in text/plain) is tolerated, as Go's base64 decoder does.
  const [name, rest] = chop(vkey.endsWith("\n") ? vkey.slice(0, -1) : vkey, "+");
  const [hash16, key64] = chop(rest, "+");
  const key = decodeB64(key64);
  if (
    !/^[0-9a-fA-F]{8}$/.test(hash16) || key === undefined || !isValidKeyName(name) ||
    key.length === 0
  ) {
    throw new NoteError("malformed-key", "malformed verifier key (want name+hash+base64key)");
  }
  if (parseInt(hash16, 16) !== noteKeyId(name, key)) {
    throw new NoteError("key-id-mismatch", "verifier key hash does not match its name and key");
  }
  if (key[0] !== ALG_ED25519) {
    throw new NoteError("unknown-algorithm", `unknown signature type 0x${key[0].toString(16)}`);
  }
  if (key.length !== 33) throw new NoteError("malformed-key", "Ed25519 key must be 32 bytes");
  return new Ed25519NoteVerifier(name, key.subarray(1));
}

/**
 * A {@link NoteSigner} for one Ed25519 key. Its seed never appears in
 * `JSON.stringify` or inspection; only {@link Ed25519NoteSigner.toSignerKey}
 * reveals it.
 */
export class Ed25519NoteSigner implements NoteSigner {
  /** The key name. */
  readonly name: string;
  /** The key ID. */
  readonly keyId: number;
  /** The private key (its public half is `privateKey.publicKey`). */
  readonly privateKey: Ed25519PrivateKey;
  #seed: Uint8Array;

  private constructor(name: string, seed: Uint8Array, key: Ed25519PrivateKey) {
    this.name = name;
    this.#seed = seed;
    this.privateKey = key;
    this.keyId = noteKeyId(name, concatBytes(new Uint8Array([ALG_ED25519]), key.publicKey.raw));
  }

  /**
   * A signer from a key name and a 32-byte RFC 8032 seed.
   * @throws {NoteError} for an invalid name or seed.
   */
  static async fromSeed(name: string, seed: Uint8Array): Promise<Ed25519NoteSigner> {
    checkName(name);
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new NoteError("malformed-key", "Ed25519 seed must be 32 bytes");
    }
    const s = seed.slice();
    return new Ed25519NoteSigner(name, s, await Ed25519PrivateKey.fromSeed(s));
  }

  /** A signer with a fresh random key. */
  static generate(name: string): Promise<Ed25519NoteSigner> {
    return Ed25519NoteSigner.fromSeed(name, crypto.getRandomValues(new Uint8Array(32)));
  }

  /** The Ed25519 signature of `msg`. */
  sign(msg: Uint8Array): Promise<Uint8Array> {
    return this.privateKey.sign(msg);
  }

  /** The matching verifier key string. */
  verifierKey(): string {
    return ed25519VerifierKey(this.name, this.privateKey.publicKey.raw);
  }

  /** The matching verifier. */
  verifier(): Ed25519NoteVerifier {
    return new Ed25519NoteVerifier(this.name, this.privateKey.publicKey.raw);
  }

  /**
   * The secret signer key string `PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>`
   * (Go's `note.GenerateKey` format). Write it only to a 0600 file.
   */
  toSignerKey(): string {
    const typed = concatBytes(new Uint8Array([ALG_ED25519]), this.#seed);
    return `PRIVATE+KEY+${this.name}+${hex8(this.keyId)}+${toBase64(typed)}`;
  }

  /** Shows only the public key. */
  toJSON(): { type: "Ed25519NoteSigner"; verifierKey: string } {
    return { type: "Ed25519NoteSigner", verifierKey: this.verifierKey() };
  }

  /** Deno's inspector: only the public key. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Ed25519NoteSigner { ${this.verifierKey()} }`;
  }
}

/**
 * Parse a signer key `PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>`
 * (Go's `note.NewSigner`); the hash must match the derived public key.
 *
 * @throws {NoteError} `malformed-key`, `key-id-mismatch` or `unknown-algorithm`
 *   (the message never contains key material).
 */
export async function parseSignerKey(skey: string): Promise<Ed25519NoteSigner> {
  if (typeof skey !== "string") throw new NoteError("malformed-key", "signer key must be text");
  const [priv1, r1] = chop(skey, "+");
  const [priv2, r2] = chop(r1, "+");
  const [name, r3] = chop(r2, "+");
  const [hash16, key64] = chop(r3, "+");
  const key = decodeB64(key64);
  if (
    priv1 !== "PRIVATE" || priv2 !== "KEY" || !/^[0-9a-fA-F]{8}$/.test(hash16) ||
    key === undefined || !isValidKeyName(name) || key.length === 0
  ) {
    throw new NoteError("malformed-key", "malformed signer key (want PRIVATE+KEY+name+hash+key)");
  }
  if (key[0] !== ALG_ED25519) {
    throw new NoteError("unknown-algorithm", `unknown signature type 0x${key[0].toString(16)}`);
  }
  if (key.length !== 33) throw new NoteError("malformed-key", "Ed25519 seed must be 32 bytes");
  const signer = await Ed25519NoteSigner.fromSeed(name, key.subarray(1));
  if (parseInt(hash16, 16) !== signer.keyId) {
    throw new NoteError("key-id-mismatch", "signer key hash does not match its name and key");
  }
  return signer;
}

function chop(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + sep.length)];
}

function decodeB64(s: string): Uint8Array | undefined {
  try {
    return fromBase64(s);
  } catch {
    return undefined;
  }
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
 * const signer = await Ed25519NoteSigner.generate("example.com/log");
 * const msg = await signNote("hello\n", [signer]);
 * const opened = await openNote(msg, [signer.verifier()]);
 * if (opened.text !== "hello\n") throw new Error("round trip failed");
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
