/**
 * One parser for every note key type regledger uses (C2SP signed-note
 * verifier keys and Go-style signer keys), dispatching on the signature
 * type byte:
 *
 * | byte | what | verifier |
 * | --- | --- | --- |
 * | 0x01 | Ed25519 note signature (the log's key; Go's `note`) | `Ed25519NoteVerifier` |
 * | 0x04 | Ed25519 `cosignature/v1` (witnesses) | {@link Ed25519CosignatureVerifier} |
 * | 0x06 | timestamped ML-DSA-44 (sub)tree signature (log or witness) | {@link MlDsa44NoteVerifier} |
 *
 * `ledger/note.ts`'s `parseVerifierKey` stays Ed25519-only (and Go-exact);
 * this module is where the other types join it.
 *
 * @module
 */
import { fromBase64 } from "../../core/bytes.ts";
import {
  ALG_ED25519,
  type Ed25519NoteSigner,
  isValidKeyName,
  noteKeyId,
  type NoteVerifier,
  parseSignerKey,
  parseVerifierKey,
} from "../note.ts";
import {
  ALG_COSIGNATURE_V1,
  Ed25519CosignatureSigner,
  Ed25519CosignatureVerifier,
} from "./cosignature.ts";
import {
  ALG_ML_DSA_44,
  ML_DSA_44_PUBLIC_KEY_SIZE,
  MlDsa44NoteSigner,
  MlDsa44NoteVerifier,
} from "./mldsa.ts";
import { CosignatureError, type SecondsClock } from "./timestamp.ts";

/** A verifier of any supported type, with its type byte and raw public key. */
export interface ParsedVerifierKey {
  /** The verifier (usable with `openNote`). */
  verifier: NoteVerifier;
  /** The signature type byte. */
  type: number;
  /** The public key material after the type byte. */
  publicKey: Uint8Array;
  /** The key string, without a trailing newline. */
  vkey: string;
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

/**
 * Parse a verifier key `<name>+<8 hex key ID>+<base64(type || key)>` of type
 * 0x01, 0x04 or 0x06. The key ID must equal `SHA-256(name || 0x0A || type || key)[:4]`.
 *
 * @example
 * ```ts
 * import { MlDsa44NoteSigner } from "./mldsa.ts";
 * import { parseNoteVerifierKey } from "./keys.ts";
 * const signer = MlDsa44NoteSigner.generate("example.com/log");
 * const parsed = parseNoteVerifierKey(signer.verifierKey());
 * if (parsed.type !== 0x06 || parsed.verifier.keyId !== signer.keyId) throw new Error("bad");
 * ```
 *
 * @throws {CosignatureError} `malformed-key`, `key-id-mismatch` or `unknown-algorithm`.
 */
export function parseNoteVerifierKey(vkey: string): ParsedVerifierKey {
  if (typeof vkey !== "string") throw new CosignatureError("malformed-key", "key must be text");
  const text = vkey.endsWith("\n") ? vkey.slice(0, -1) : vkey;
  const [name, rest] = chop(text, "+");
  const [hash16, key64] = chop(rest, "+");
  const key = decodeB64(key64);
  if (
    !/^[0-9a-fA-F]{8}$/.test(hash16) || key === undefined || key.length < 2 ||
    !isValidKeyName(name)
  ) {
    throw new CosignatureError("malformed-key", "malformed verifier key (want name+hash+base64)");
  }
  if (parseInt(hash16, 16) !== noteKeyId(name, key)) {
    throw new CosignatureError("key-id-mismatch", "verifier key hash does not match its key");
  }
  const type = key[0];
  const publicKey = key.subarray(1);
  let verifier: NoteVerifier;
  switch (type) {
    case ALG_ED25519:
      verifier = parseVerifierKey(text);
      break;
    case ALG_COSIGNATURE_V1:
      if (publicKey.length !== 32) {
        throw new CosignatureError("malformed-key", "Ed25519 key must be 32 bytes");
      }
      verifier = new Ed25519CosignatureVerifier(name, publicKey);
      break;
    case ALG_ML_DSA_44:
      if (publicKey.length !== ML_DSA_44_PUBLIC_KEY_SIZE) {
        throw new CosignatureError("malformed-key", "ML-DSA-44 key must be 1312 bytes");
      }
      verifier = new MlDsa44NoteVerifier(name, publicKey);
      break;
    default:
      throw new CosignatureError(
        "unknown-algorithm",
        `unsupported signature type 0x${type.toString(16).padStart(2, "0")}`,
      );
  }
  return { verifier, type, publicKey: publicKey.slice(), vkey: text };
}

/** A signer of any supported type. */
export type AnyNoteSigner = Ed25519NoteSigner | Ed25519CosignatureSigner | MlDsa44NoteSigner;

/**
 * Parse a signer key `PRIVATE+KEY+<name>+<key ID>+<base64(type || seed)>`
 * of type 0x01, 0x04 or 0x06 (32-byte seeds). Cosigning signers take their
 * timestamps from `clock`. Error messages never contain key material.
 *
 * @throws {CosignatureError} `malformed-key`, `key-id-mismatch` or `unknown-algorithm`.
 */
export async function parseNoteSignerKey(
  skey: string,
  options: { clock?: SecondsClock } = {},
): Promise<AnyNoteSigner> {
  if (typeof skey !== "string") throw new CosignatureError("malformed-key", "key must be text");
  const text = skey.endsWith("\n") ? skey.slice(0, -1) : skey;
  // The base64 key may itself contain '+': split off the first four fields only.
  const parts: string[] = [];
  let rest = text;
  for (let i = 0; i < 4; i++) {
    const [head, tail] = chop(rest, "+");
    parts.push(head);
    rest = tail;
  }
  parts.push(rest);
  const key = decodeB64(parts[4]);
  if (
    parts[0] !== "PRIVATE" || parts[1] !== "KEY" ||
    !isValidKeyName(parts[2]) || !/^[0-9a-fA-F]{8}$/.test(parts[3]) || key === undefined ||
    key.length !== 33
  ) {
    throw new CosignatureError("malformed-key", "malformed signer key (want PRIVATE+KEY+...)");
  }
  const [, , name, hash16] = parts;
  const seed = key.subarray(1);
  let signer: AnyNoteSigner;
  switch (key[0]) {
    case ALG_ED25519:
      signer = await parseSignerKey(text);
      break;
    case ALG_COSIGNATURE_V1:
      signer = await Ed25519CosignatureSigner.fromSeed(name, seed, options);
      break;
    case ALG_ML_DSA_44:
      signer = MlDsa44NoteSigner.fromSeed(name, seed, options);
      break;
    default:
      throw new CosignatureError("unknown-algorithm", "unsupported signer key type");
  }
  if (parseInt(hash16, 16) !== signer.keyId) {
    throw new CosignatureError("key-id-mismatch", "signer key hash does not match its key");
  }
  return signer;
}
