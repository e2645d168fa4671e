/**
 * Ed25519 checkpoint cosignatures, C2SP `tlog-cosignature` version
 * `cosignature/v1` (signature type 0x04, https://c2sp.org/tlog-cosignature).
 *
 * A cosignature is an ordinary signed-note signature line on a checkpoint.
 * Its key ID is `SHA-256(name || 0x0A || 0x04 || public key)[:4]`, its
 * signature bytes are `timestamp (u64, big-endian) || Ed25519 signature`, and
 * the Ed25519 signature covers
 *
 * ```
 * cosignature/v1
 * time <timestamp, decimal>
 * <the whole checkpoint note text, extension lines included>
 * ```
 *
 * {@link Ed25519CosignatureSigner} and {@link Ed25519CosignatureVerifier}
 * implement `NoteSigner`/`NoteVerifier`, so `signNote`/`openNote` (and
 * therefore `signCheckpoint`/`openCheckpoint`) produce and check
 * cosignatures unchanged.
 *
 * @module
 */
import { concatBytes, utf8 } from "../../core/bytes.ts";
import { Ed25519PrivateKey, Ed25519PublicKey } from "../../core/ed25519.ts";
import { isValidKeyName, noteKeyId, type NoteSigner, type NoteVerifier } from "../note.ts";
import { signerKeyText, verifierKeyText } from "../note_keys.ts";
import {
  checkedTimestamp,
  CosignatureError,
  encodeTimestamp,
  type SecondsClock,
  splitTimestamped,
  systemSeconds,
} from "./timestamp.ts";

/** Signature type byte of Ed25519 `cosignature/v1` cosignatures. */
export const ALG_COSIGNATURE_V1 = 0x04;

/** Length of a `cosignature/v1` signature: 8-byte timestamp + 64-byte Ed25519 signature. */
export const COSIGNATURE_V1_SIZE = 72;

function checkName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new CosignatureError("invalid-name", "key name must be non-empty with no spaces or '+'");
  }
}

function typed(alg: number, key: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([alg]), key);
}

/**
 * The message a `cosignature/v1` cosigner signs: `cosignature/v1\n`,
 * `time <timestamp>\n`, then the checkpoint note text (ending in a newline).
 */
export function cosignatureV1Message(noteText: Uint8Array, timestamp: bigint): Uint8Array {
  return concatBytes(utf8(`cosignature/v1\ntime ${timestamp}\n`), noteText);
}

/**
 * The verifier key `<name>+<key ID>+<base64(0x04 || public key)>` of an
 * Ed25519 cosigner.
 *
 * @throws {CosignatureError} `invalid-name` or `malformed-key`.
 */
export function cosignatureV1VerifierKey(name: string, publicKey: Uint8Array): string {
  checkName(name);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new CosignatureError("malformed-key", "Ed25519 public key must be 32 bytes");
  }
  return verifierKeyText(name, typed(ALG_COSIGNATURE_V1, publicKey));
}

/** Verifies `cosignature/v1` cosignatures of one Ed25519 cosigner key. */
export class Ed25519CosignatureVerifier implements NoteVerifier {
  /** The cosigner name. */
  readonly name: string;
  /** The key ID (type byte 0x04). */
  readonly keyId: number;
  /** The cosigner's Ed25519 public key. */
  readonly publicKey: Ed25519PublicKey;

  /**
   * A verifier from a cosigner name and its 32-byte public key.
   * @throws {CosignatureError} `invalid-name`; {TypeError} for a bad key.
   */
  constructor(name: string, publicKey: Uint8Array) {
    checkName(name);
    this.publicKey = Ed25519PublicKey.fromRaw(publicKey);
    this.name = name;
    this.keyId = noteKeyId(name, typed(ALG_COSIGNATURE_V1, publicKey));
  }

  /**
   * Whether `sig` (timestamp || Ed25519 signature) is this cosigner's
   * cosignature on note text `msg`. A wrong length or a timestamp above
   * 2^63 - 1 is `false`.
   */
  verify(msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
    const parts = splitTimestamped(sig, 64);
    if (parts === undefined) return Promise.resolve(false);
    return this.publicKey.verify(parts.signature, cosignatureV1Message(msg, parts.timestamp));
  }

  /** The verifier key string. */
  toString(): string {
    return cosignatureV1VerifierKey(this.name, this.publicKey.raw);
  }
}

/** Options of {@link Ed25519CosignatureSigner}. */
export interface CosignerOptions {
  /**
   * Where the cosignature timestamp comes from (POSIX seconds, ≥ 1).
   * @default the system clock
   */
  clock?: SecondsClock;
}

/**
 * Makes `cosignature/v1` cosignatures with one Ed25519 key. The seed never
 * appears in `JSON.stringify` or inspection.
 */
export class Ed25519CosignatureSigner implements NoteSigner {
  /** The cosigner name. */
  readonly name: string;
  /** The key ID (type byte 0x04). */
  readonly keyId: number;
  /** The private key. */
  readonly privateKey: Ed25519PrivateKey;
  #seed: Uint8Array;
  #clock: SecondsClock;

  private constructor(name: string, seed: Uint8Array, key: Ed25519PrivateKey, clock: SecondsClock) {
    this.name = name;
    this.#seed = seed;
    this.#clock = clock;
    this.privateKey = key;
    this.keyId = noteKeyId(name, typed(ALG_COSIGNATURE_V1, key.publicKey.raw));
  }

  /**
   * A cosigner from its name and 32-byte Ed25519 seed.
   * @throws {CosignatureError} `invalid-name` or `malformed-key`.
   */
  static async fromSeed(
    name: string,
    seed: Uint8Array,
    options: CosignerOptions = {},
  ): Promise<Ed25519CosignatureSigner> {
    checkName(name);
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new CosignatureError("malformed-key", "Ed25519 seed must be 32 bytes");
    }
    const s = seed.slice();
    const key = await Ed25519PrivateKey.fromSeed(s);
    return new Ed25519CosignatureSigner(name, s, key, options.clock ?? systemSeconds);
  }

  /** A cosigner with a fresh random key. */
  static generate(name: string, options: CosignerOptions = {}): Promise<Ed25519CosignatureSigner> {
    return Ed25519CosignatureSigner.fromSeed(
      name,
      crypto.getRandomValues(new Uint8Array(32)),
      options,
    );
  }

  /**
   * The cosignature (timestamp || Ed25519 signature) of note text `msg`, timestamped now.
   * @throws {CosignatureError} `timestamp` when the clock gives a time outside [1, 2^63-1].
   */
  async sign(msg: Uint8Array): Promise<Uint8Array> {
    const t = checkedTimestamp(this.#clock);
    const sig = await this.privateKey.sign(cosignatureV1Message(msg, t));
    return concatBytes(encodeTimestamp(t), sig);
  }

  /** The matching verifier key string. */
  verifierKey(): string {
    return cosignatureV1VerifierKey(this.name, this.privateKey.publicKey.raw);
  }

  /** The matching verifier. */
  verifier(): Ed25519CosignatureVerifier {
    return new Ed25519CosignatureVerifier(this.name, this.privateKey.publicKey.raw);
  }

  /**
   * The secret key string `PRIVATE+KEY+<name>+<key ID>+<base64(0x04 || seed)>`
   * (Go's signer-key layout with this type byte). Write it only to a 0600 file.
   */
  toSignerKey(): string {
    return signerKeyText(this.name, this.keyId, typed(ALG_COSIGNATURE_V1, this.#seed));
  }

  /** Shows only the public key. */
  toJSON(): { type: "Ed25519CosignatureSigner"; verifierKey: string } {
    return { type: "Ed25519CosignatureSigner", verifierKey: this.verifierKey() };
  }

  /** Deno's inspector: only the public key. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Ed25519CosignatureSigner { ${this.verifierKey()} }`;
  }
}
