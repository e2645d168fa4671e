/**
 * ML-DSA-44 checkpoint signatures in the C2SP form: the timestamped
 * ML-DSA-44 (sub)tree cosignature of https://c2sp.org/tlog-cosignature
 * (signed-note type byte 0x06), which https://c2sp.org/tlog-checkpoint
 * recommends logs use for their own checkpoint signature and
 * https://c2sp.org/tlog-witness recommends witnesses return.
 *
 * - Key ID: `SHA-256(name || 0x0A || 0x06 || 1312-byte public key)[:4]`;
 *   verifier key `<name>+<key ID>+<base64(0x06 || public key)>`.
 * - Signature bytes: `timestamp (u64, big-endian) || 2420-byte ML-DSA-44 signature`.
 * - Signed message: the `cosigned_message` structure
 *   `"subtree/v1\n\0" || u8 len || name || u64 timestamp || u8 len || origin
 *   || u64 start (0) || u64 end (tree size) || 32-byte root`.
 *   ML-DSA-44 here is FIPS 204 ML-DSA.Sign / ML-DSA.Verify ("pure", external
 *   interface) with an empty context string.
 *
 * Choices where the specs leave room (documented for docs/formats.md):
 * - Signing is hedged (FIPS 204's default: fresh 32 random bytes per
 *   signature), not deterministic: FIPS 204 §3.4 recommends the hedged
 *   variant against fault and side-channel attacks, and nothing in the
 *   C2SP protocols needs reproducible signature bytes. `deterministic: true`
 *   exists for tests.
 * - The timestamp is the signing time, never zero, also when a log signs its
 *   own checkpoint: the log does assert that this is the largest tree it has
 *   at that time, and one signer then serves logs and witnesses alike.
 * - The message does not cover checkpoint extension lines, so this signer
 *   refuses a checkpoint that has any, and the verifier rejects one: a note
 *   text whose only ML-DSA signature left lines unsigned would otherwise
 *   come out of `openNote` as if verified.
 * - The ML-DSA-44 implementation is pluggable ({@link MlDsa44Engine}):
 *   @noble/post-quantum by default, liboqs via `./mldsa_liboqs.ts`. Both
 *   implement the same FIPS 204 functions, so signatures are interchangeable.
 * - Secret keys are the 32-byte FIPS 204 key-generation seed ξ, written as
 *   `PRIVATE+KEY+<name>+<key ID>+<base64(0x06 || seed)>` (Go's signer-key
 *   layout; the spec defines no private format).
 *
 * @module
 */
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import { concatBytes, utf8 } from "../../core/bytes.ts";
import { nobleMlDsaOperations } from "../../core/ml_dsa_engine.ts";
import { type Checkpoint, parseCheckpointText } from "../checkpoint.ts";
import { isValidKeyName, noteKeyId, type NoteSigner, type NoteVerifier } from "../note.ts";
import { hex8, signerKeyText, verifierKeyText } from "../note_keys.ts";
import {
  checkedTimestamp,
  CosignatureError,
  encodeTimestamp,
  type SecondsClock,
  splitTimestamped,
  systemSeconds,
} from "./timestamp.ts";

/** Signature type byte of timestamped ML-DSA-44 (sub)tree cosignatures. */
export const ALG_ML_DSA_44 = 0x06;
/** ML-DSA-44 public key size in bytes. */
export const ML_DSA_44_PUBLIC_KEY_SIZE = 1312;
/** ML-DSA-44 signature size in bytes. */
export const ML_DSA_44_SIGNATURE_SIZE = 2420;

const LABEL = utf8("subtree/v1\n\0");

/**
 * An ML-DSA-44 implementation: FIPS 204 ML-DSA.Sign / ML-DSA.Verify (pure,
 * external interface, empty context) over FIPS 204 encoded keys. The
 * default is @noble/post-quantum; `./mldsa_liboqs.ts` provides liboqs's
 * (WebAssembly, several times faster) for witnesses and logs that sign a lot.
 */
export interface MlDsa44Engine {
  /** Engine name, for metrics and benchmarks. */
  readonly name: string;
  /** Whether {@link MlDsa44Engine.sign} can sign deterministically. */
  readonly supportsDeterministic: boolean;
  /** Sign hedged (`deterministic` false) or deterministically. */
  sign(message: Uint8Array, secretKey: Uint8Array, deterministic: boolean): Uint8Array;
  /** Verify; never throws for bad input. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/** The default engine: @noble/post-quantum's ml_dsa44. */
export const nobleMlDsa44: MlDsa44Engine = {
  ...nobleMlDsaOperations(ml_dsa44),
  supportsDeterministic: true,
};

function u64(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function opaque8(what: string, s: string): Uint8Array {
  const b = utf8(s);
  if (b.length < 1 || b.length > 255) {
    throw new CosignatureError("malformed-checkpoint", `${what} must be 1 to 255 bytes`);
  }
  return concatBytes(new Uint8Array([b.length]), b);
}

/** What an ML-DSA-44 (sub)tree cosignature signs. */
export interface SubtreeStatement {
  /** The cosigner's (or log's) key name. */
  cosignerName: string;
  /** POSIX seconds; 0 only for subtrees with `start > 0`. */
  timestamp: bigint;
  /** The log's origin line. */
  origin: string;
  /** First leaf index (0 for a checkpoint). */
  start: number;
  /** One past the last leaf index (the tree size for a checkpoint). */
  end: number;
  /** The (sub)tree root hash, 32 bytes. */
  hash: Uint8Array;
}

/**
 * The `cosigned_message` bytes of tlog-cosignature for `s`.
 *
 * @throws {CosignatureError} `malformed-checkpoint` when a field does not fit.
 */
export function subtreeMessage(s: SubtreeStatement): Uint8Array {
  if (!(s.hash instanceof Uint8Array) || s.hash.length !== 32) {
    throw new CosignatureError("malformed-checkpoint", "hash must be 32 bytes");
  }
  if (s.start !== 0 && s.timestamp !== 0n) {
    throw new CosignatureError("timestamp", "a subtree with start > 0 must have timestamp 0");
  }
  return concatBytes(
    LABEL,
    opaque8("cosigner name", s.cosignerName),
    u64(s.timestamp),
    opaque8("log origin", s.origin),
    u64(s.start),
    u64(s.end),
    s.hash,
  );
}

function checkpointOf(msg: Uint8Array): Checkpoint | undefined {
  try {
    const cp = parseCheckpointText(new TextDecoder("utf-8", { fatal: true }).decode(msg));
    return cp.extensions === undefined ? cp : undefined;
  } catch {
    return undefined;
  }
}

function typed(key: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([ALG_ML_DSA_44]), key);
}

function checkName(name: string): void {
  if (!isValidKeyName(name) || utf8(name).length > 255) {
    throw new CosignatureError(
      "invalid-name",
      "key name must be 1-255 bytes with no spaces or '+'",
    );
  }
}

/**
 * The verifier key `<name>+<key ID>+<base64(0x06 || public key)>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mlDsa44VerifierKey, MlDsa44NoteSigner } from "./mldsa.ts";
 * const signer = MlDsa44NoteSigner.generate("example.com/log");
 * const vkey = mlDsa44VerifierKey("example.com/log", signer.publicKey);
 * assert.equal(vkey, signer.verifierKey());
 * assert.match(vkey, /^example\.com\/log\+[0-9a-f]{8}\+B[g-v]/); // base64 of 0x06 starts "B"
 * ```
 *
 * @throws {CosignatureError} `invalid-name` or `malformed-key`.
 */
export function mlDsa44VerifierKey(name: string, publicKey: Uint8Array): string {
  checkName(name);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ML_DSA_44_PUBLIC_KEY_SIZE) {
    throw new CosignatureError("malformed-key", "ML-DSA-44 public key must be 1312 bytes");
  }
  return verifierKeyText(name, typed(publicKey));
}

/**
 * Verifies ML-DSA-44 checkpoint signatures (type 0x06) of one key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MlDsa44NoteSigner, MlDsa44NoteVerifier } from "./mldsa.ts";
 * const signer = MlDsa44NoteSigner.generate("example.com/log");
 * const verifier = new MlDsa44NoteVerifier("example.com/log", signer.publicKey);
 * const text = new TextEncoder().encode(`example.com/log\n1\n${btoa("\0".repeat(32))}\n`);
 * const sig = await signer.sign(text);
 * assert.equal(await verifier.verify(text, sig), true);
 * sig[100] ^= 1;
 * assert.equal(await verifier.verify(text, sig), false);
 * ```
 */
export class MlDsa44NoteVerifier implements NoteVerifier {
  /** The key name. */
  readonly name: string;
  /** The key ID (type byte 0x06). */
  readonly keyId: number;
  /** The 1312-byte public key. */
  readonly publicKey: Uint8Array;
  #engine: MlDsa44Engine;

  /**
   * A verifier from a key name and a 1312-byte ML-DSA-44 public key.
   * @throws {CosignatureError} `invalid-name` or `malformed-key`.
   */
  constructor(name: string, publicKey: Uint8Array, engine: MlDsa44Engine = nobleMlDsa44) {
    this.#engine = engine;
    checkName(name);
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== ML_DSA_44_PUBLIC_KEY_SIZE) {
      throw new CosignatureError("malformed-key", "ML-DSA-44 public key must be 1312 bytes");
    }
    this.name = name;
    this.publicKey = publicKey.slice();
    this.keyId = noteKeyId(name, typed(publicKey));
  }

  /**
   * Whether `sig` (timestamp || ML-DSA-44 signature) signs checkpoint note
   * text `msg` (start 0, end = its size). `false` for a wrong length, a
   * timestamp above 2^63 - 1, text that is not a checkpoint, or a
   * checkpoint with extension lines (which the signature would not cover).
   * A zero timestamp is accepted (the spec lets a signer make no
   * "largest tree" statement); witnesses never produce one.
   */
  verify(msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
    const parts = splitTimestamped(sig, ML_DSA_44_SIGNATURE_SIZE);
    const cp = checkpointOf(msg);
    if (parts === undefined || cp === undefined) {
      return Promise.resolve(false);
    }
    try {
      const m = subtreeMessage({
        cosignerName: this.name,
        timestamp: parts.timestamp,
        origin: cp.origin,
        start: 0,
        end: cp.size,
        hash: cp.root,
      });
      return Promise.resolve(this.#engine.verify(parts.signature, m, this.publicKey));
    } catch {
      return Promise.resolve(false);
    }
  }

  /** The verifier key string. */
  toString(): string {
    return mlDsa44VerifierKey(this.name, this.publicKey);
  }
}

/** Options of {@link MlDsa44NoteSigner}. */
export interface MlDsa44SignerOptions {
  /**
   * Where the timestamp comes from (POSIX seconds, ≥ 1).
   * @default the system clock
   */
  clock?: SecondsClock;
  /**
   * Sign deterministically (FIPS 204 deterministic variant) instead of hedged.
   * @default false
   */
  deterministic?: boolean;
  /**
   * The ML-DSA-44 implementation that signs (keys are always derived by FIPS
   * 204 ML-DSA.KeyGen from the seed, so every engine holds the same key).
   * @default nobleMlDsa44
   */
  engine?: MlDsa44Engine;
}

/**
 * Signs checkpoints with an ML-DSA-44 key in the tlog-cosignature form (a
 * log signing its own checkpoint or a witness cosigning one). The seed and
 * secret key never appear in `JSON.stringify` or inspection.
 *
 * @example A checkpoint signed by the log's Ed25519 and ML-DSA-44 keys
 * ```ts
 * import assert from "node:assert/strict";
 * import { MlDsa44NoteSigner } from "./mldsa.ts";
 * import { Ed25519NoteSigner } from "../note.ts";
 * import { openCheckpoint, signCheckpoint } from "../checkpoint.ts";
 * const ed = await Ed25519NoteSigner.generate("example.com/log");
 * const pq = MlDsa44NoteSigner.generate("example.com/log");
 * const signed = await signCheckpoint(
 *   { origin: "example.com/log", size: 1, root: new Uint8Array(32) },
 *   [ed, pq],
 * );
 * const cp = await openCheckpoint(signed, [ed.verifier(), pq.verifier()]);
 * assert.equal(cp.note.sigs.length, 2);
 * assert.ok(!JSON.stringify(pq).includes(pq.toSignerKey().slice(-20)));
 * ```
 */
export class MlDsa44NoteSigner implements NoteSigner {
  /** The key name. */
  readonly name: string;
  /** The key ID (type byte 0x06). */
  readonly keyId: number;
  /** The 1312-byte public key. */
  readonly publicKey: Uint8Array;
  #seed: Uint8Array;
  #secretKey: Uint8Array;
  #clock: SecondsClock;
  #deterministic: boolean;
  #engine: MlDsa44Engine;

  private constructor(name: string, seed: Uint8Array, options: MlDsa44SignerOptions) {
    const keys = ml_dsa44.keygen(seed);
    this.name = name;
    this.#seed = seed;
    this.#secretKey = keys.secretKey;
    this.publicKey = keys.publicKey;
    this.keyId = noteKeyId(name, typed(keys.publicKey));
    this.#clock = options.clock ?? systemSeconds;
    this.#deterministic = options.deterministic ?? false;
    this.#engine = options.engine ?? nobleMlDsa44;
  }

  /**
   * A signer from a key name and the 32-byte FIPS 204 key-generation seed ξ.
   * @throws {CosignatureError} `invalid-name` or `malformed-key`;
   *   {RangeError} for `deterministic` with an engine that cannot.
   */
  static fromSeed(
    name: string,
    seed: Uint8Array,
    options: MlDsa44SignerOptions = {},
  ): MlDsa44NoteSigner {
    checkName(name);
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new CosignatureError("malformed-key", "ML-DSA-44 seed must be 32 bytes");
    }
    if (options.deterministic && options.engine && !options.engine.supportsDeterministic) {
      throw new RangeError(`engine ${options.engine.name} cannot sign deterministically`);
    }
    return new MlDsa44NoteSigner(name, seed.slice(), options);
  }

  /** A signer with a fresh random key. */
  static generate(name: string, options: MlDsa44SignerOptions = {}): MlDsa44NoteSigner {
    return MlDsa44NoteSigner.fromSeed(name, crypto.getRandomValues(new Uint8Array(32)), options);
  }

  /**
   * The signature (timestamp || ML-DSA-44 signature) of checkpoint note text `msg`.
   * @throws {CosignatureError} `malformed-checkpoint` when `msg` is not a
   *   checkpoint, `extension-lines` when it has extension lines, `timestamp`
   *   for a bad clock.
   */
  sign(msg: Uint8Array): Promise<Uint8Array> {
    let cp: Checkpoint;
    try {
      cp = parseCheckpointText(new TextDecoder("utf-8", { fatal: true }).decode(msg));
    } catch (e) {
      return Promise.reject(
        new CosignatureError("malformed-checkpoint", "only checkpoints can be signed", {
          cause: e,
        }),
      );
    }
    if (cp.extensions !== undefined) {
      return Promise.reject(
        new CosignatureError("extension-lines", "ML-DSA-44 signatures do not cover extensions"),
      );
    }
    try {
      const t = checkedTimestamp(this.#clock);
      const m = subtreeMessage({
        cosignerName: this.name,
        timestamp: t,
        origin: cp.origin,
        start: 0,
        end: cp.size,
        hash: cp.root,
      });
      const sig = this.#engine.sign(m, this.#secretKey, this.#deterministic);
      return Promise.resolve(concatBytes(encodeTimestamp(t), sig));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The matching verifier key string. */
  verifierKey(): string {
    return mlDsa44VerifierKey(this.name, this.publicKey);
  }

  /** The matching verifier (same engine). */
  verifier(): MlDsa44NoteVerifier {
    return new MlDsa44NoteVerifier(this.name, this.publicKey, this.#engine);
  }

  /** The secret key string `PRIVATE+KEY+<name>+<key ID>+<base64(0x06 || seed)>` (0600 files only). */
  toSignerKey(): string {
    return signerKeyText(this.name, this.keyId, typed(this.#seed));
  }

  /** Shows only the key name and ID. */
  toJSON(): { type: "MlDsa44NoteSigner"; name: string; keyId: string } {
    return { type: "MlDsa44NoteSigner", name: this.name, keyId: hex8(this.keyId) };
  }

  /** Deno's inspector: only the key name and ID. */
  [Symbol.for("Deno.customInspect")](): string {
    return `MlDsa44NoteSigner { ${this.name}+${hex8(this.keyId)} }`;
  }
}
