/**
 * Keys of C2SP signed notes (https://c2sp.org/signed-note) in the exact
 * formats of Go's `golang.org/x/mod/sumdb/note`: key names, key IDs,
 * verifier keys `<name>+<8 hex key ID>+<base64(0x01 || public key)>` and
 * signer keys `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || seed)>`,
 * with Ed25519 signers and verifiers. Signing and opening notes is
 * `./note.ts`, which re-exports everything here.
 *
 * @module
 */
import { concatBytes, fromBase64, sha256, toBase64, utf8 } from "../core/bytes.ts";
import { Ed25519PrivateKey, Ed25519PublicKey } from "../core/ed25519.ts";
import { RegledgerError } from "../core/errors.ts";

/** Signature type byte of Ed25519 in C2SP signed-note. */
export const ALG_ED25519 = 0x01;

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

// Go's unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space property.
const SPACE_RE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/**
 * Whether `name` is a valid key name: non-empty, well-formed, no Unicode
 * space and no `+` (C2SP signed-note; Go's `isValidName`).
 *
 * @example
 * ```ts
 * import { isValidKeyName } from "./note.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isValidKeyName("example.com/log"), true);
 * assert.equal(isValidKeyName("has space"), false);
 * assert.equal(isValidKeyName("a+b"), false);
 * ```
 */
export function isValidKeyName(name: string): boolean {
  return typeof name === "string" && name !== "" && isWellFormed(name) && !SPACE_RE.test(name) &&
    !name.includes("+");
}

/** @internal shared with ./note.ts */
export function isWellFormed(s: string): boolean {
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
 *
 * @example
 * ```ts
 * import { noteKeyId } from "./note.ts";
 * import { fromBase64 } from "../core/bytes.ts";
 * import assert from "node:assert/strict";
 * // Go's note_test.go vector: PeterNeumann's key has ID c74f20a3.
 * const typedKey = fromBase64("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * assert.equal(noteKeyId("PeterNeumann", typedKey), 0xc74f20a3);
 * ```
 */
export function noteKeyId(name: string, typedKey: Uint8Array): number {
  const h = sha256(utf8(name), new Uint8Array([0x0a]), typedKey);
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

/** @internal shared with ./note.ts */
export function hex8(id: number): string {
  return id.toString(16).padStart(8, "0");
}

/**
 * @internal The verifier key text `<name>+<8 hex key ID>+<base64(typedKey)>`
 * of a typed key (signature type byte || public key), as every signature
 * type writes it (Ed25519 here, `cosignature/v1` and ML-DSA-44 in
 * `./witness/`). The caller checks the name and the key.
 */
export function verifierKeyText(name: string, typedKey: Uint8Array): string {
  return `${name}+${hex8(noteKeyId(name, typedKey))}+${toBase64(typedKey)}`;
}

/**
 * @internal The signer key text
 * `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(typedSecret)>` (Go's signer-key
 * layout; `typedSecret` is the signature type byte || the seed), as every
 * signature type writes it.
 */
export function signerKeyText(name: string, keyId: number, typedSecret: Uint8Array): string {
  return `PRIVATE+KEY+${name}+${hex8(keyId)}+${toBase64(typedSecret)}`;
}

/** @internal shared with ./note.ts */
export function keyIdBytes(id: number): Uint8Array {
  return new Uint8Array([id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]);
}

/** @internal shared with ./note.ts */
export function checkName(name: string): void {
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
 * @example
 * ```ts
 * import { ed25519VerifierKey, parseSignerKey } from "./note.ts";
 * import assert from "node:assert/strict";
 * const signer = await parseSignerKey("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
 * const raw = signer.privateKey.publicKey.raw;
 * assert.equal(ed25519VerifierKey("PeterNeumann", raw), "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * ```
 *
 * @throws {NoteError} for an invalid name or a key that is not 32 bytes.
 */
export function ed25519VerifierKey(name: string, publicKey: Uint8Array): string {
  checkName(name);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new NoteError("malformed-key", "Ed25519 public key must be 32 bytes");
  }
  return verifierKeyText(name, concatBytes(new Uint8Array([ALG_ED25519]), publicKey));
}

/**
 * A {@link NoteVerifier} for one Ed25519 key (C2SP signed-note, signature
 * type 0x01).
 *
 * @example
 * ```ts
 * import { Ed25519NoteVerifier } from "./note.ts";
 * import { fromBase64 } from "../core/bytes.ts";
 * import assert from "node:assert/strict";
 * const typedKey = fromBase64("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * const v = new Ed25519NoteVerifier("PeterNeumann", typedKey.subarray(1));
 * assert.equal(v.keyId, 0xc74f20a3);
 * assert.equal(v.toString(), "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * ```
 */
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
 * @example
 * ```ts
 * import { NoteError, parseVerifierKey } from "./note.ts";
 * import assert from "node:assert/strict";
 * const v = parseVerifierKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * assert.equal(v.name, "PeterNeumann");
 * assert.equal(v.keyId, 0xc74f20a3);
 * // A key ID that does not match the name and key is refused.
 * assert.throws(
 *   () => parseVerifierKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW".replace("c74f20a3", "c74f20a4")),
 *   (e) => e instanceof NoteError && e.rule === "key-id-mismatch",
 * );
 * ```
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
 *
 * @example
 * ```ts
 * import { Ed25519NoteSigner } from "./note.ts";
 * import assert from "node:assert/strict";
 * const signer = await Ed25519NoteSigner.generate("example.com/log");
 * const msg = new TextEncoder().encode("hello\n");
 * assert.equal(await signer.verifier().verify(msg, await signer.sign(msg)), true);
 * assert.ok(!JSON.stringify(signer).includes("PRIVATE"));
 * ```
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
    return signerKeyText(this.name, this.keyId, typed);
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
 * @example
 * ```ts
 * import { parseSignerKey } from "./note.ts";
 * import assert from "node:assert/strict";
 * const signer = await parseSignerKey("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
 * assert.equal(signer.verifierKey(), "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 * assert.equal(signer.toSignerKey(), "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
 * ```
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

/** @internal shared with ./note.ts */
export function chop(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + sep.length)];
}

/** @internal shared with ./note.ts */
export function decodeB64(s: string): Uint8Array | undefined {
  try {
    return fromBase64(s);
  } catch {
    return undefined;
  }
}
