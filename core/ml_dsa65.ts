/**
 * ML-DSA-65 (FIPS 204) keys and signatures for hybrid issuers
 * (`docs/formats.md` §2.7): the post-quantum half of an Ed25519 + ML-DSA-65
 * envelope signature.
 *
 * - Signatures are FIPS 204 ML-DSA.Sign / ML-DSA.Verify, the "pure"
 *   external interface with an empty context string, over the same
 *   canonical signed body the Ed25519 signature covers. Signing is hedged
 *   (fresh randomness, FIPS 204 §3.4's recommendation) unless
 *   `deterministic` is asked for.
 * - Public keys are 1952 bytes, written as an SPKI `PUBLIC KEY` PEM with the
 *   id-ml-dsa-65 OID 2.16.840.1.101.3.4.3.18 and no parameters (RFC 9881).
 * - Private keys are the 32-byte key-generation seed ξ, written as a PKCS#8
 *   `PRIVATE KEY` PEM whose privateKey is the `seed [0]` choice of RFC 9881.
 *
 * The implementation is pluggable ({@linkcode MlDsa65Engine}):
 * `@noble/post-quantum` by default; `./ml_dsa65_liboqs.ts` loads liboqs's.
 *
 * @module
 */
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { bytesEqual, concatBytes, fromBase64, fromHex, toBase64 } from "./bytes.ts";
import { nobleMlDsaOperations } from "./ml_dsa_engine.ts";
import { pemDecode, pemEncode } from "./pem.ts";

/** ML-DSA-65 public key size in bytes. */
export const ML_DSA_65_PUBLIC_KEY_SIZE = 1952;
/** ML-DSA-65 signature size in bytes. */
export const ML_DSA_65_SIGNATURE_SIZE = 3309;
/** The `pq_signature_alg` of hybrid receipts. */
export const ML_DSA_65_ALG = "ML-DSA-65";

// RFC 9881 DER: SubjectPublicKeyInfo with id-ml-dsa-65 (2.16.840.1.101.3.4.3.18),
// and PKCS#8 OneAsymmetricKey v1 whose privateKey holds `seed [0] IMPLICIT OCTET STRING (32)`.
const SPKI_PREFIX = fromHex("308207b2300b0609608648016503040312038207a100");
const PKCS8_SEED_PREFIX = fromHex("3034020100300b060960864801650304031204228020");

/**
 * An ML-DSA-65 implementation: FIPS 204 ML-DSA.Sign / ML-DSA.Verify (pure,
 * empty context) over FIPS 204 encoded keys.
 *
 * @example Both engines accept each other's signatures
 * ```ts
 * import assert from "node:assert/strict";
 * import { type MlDsa65Engine, MlDsa65PrivateKey, nobleMlDsa65 } from "./ml_dsa65.ts";
 * const engine: MlDsa65Engine = nobleMlDsa65;
 * const key = MlDsa65PrivateKey.generate();
 * const m = new TextEncoder().encode("body");
 * assert.ok(engine.verify(key.sign(m), m, key.publicKey.raw));
 * ```
 */
export interface MlDsa65Engine {
  /** Engine name, for benchmarks. */
  readonly name: string;
  /** Sign with the 4032-byte FIPS 204 secret key, hedged unless `deterministic`. */
  sign(message: Uint8Array, secretKey: Uint8Array, deterministic: boolean): Uint8Array;
  /** Verify; never throws for bad input. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/** The default engine: @noble/post-quantum's ml_dsa65. */
export const nobleMlDsa65: MlDsa65Engine = nobleMlDsaOperations(ml_dsa65);

function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  return a.length >= prefix.length && bytesEqual(a.subarray(0, prefix.length), prefix);
}

/**
 * An ML-DSA-65 public key (1952 bytes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MlDsa65PrivateKey, MlDsa65PublicKey } from "./ml_dsa65.ts";
 * const key = MlDsa65PrivateKey.generate();
 * const pub = MlDsa65PublicKey.fromPem(key.publicKey.pem);
 * assert.ok(pub.equals(key.publicKey));
 * const m = new TextEncoder().encode("body");
 * const sig = key.sign(m);
 * assert.equal(pub.verify(sig, m), true);
 * sig[0] ^= 1;
 * assert.equal(pub.verify(sig, m), false);
 * ```
 */
export class MlDsa65PublicKey {
  /** The 1952-byte FIPS 204 encoded public key. */
  readonly raw: Uint8Array;
  #pem: string | undefined;

  private constructor(raw: Uint8Array, pem?: string) {
    this.raw = raw;
    this.#pem = pem;
  }

  /**
   * A key from its 1952 encoded bytes.
   * @throws {TypeError} for any other length.
   */
  static fromRaw(raw: Uint8Array): MlDsa65PublicKey {
    if (!(raw instanceof Uint8Array) || raw.length !== ML_DSA_65_PUBLIC_KEY_SIZE) {
      throw new TypeError(`an ML-DSA-65 public key is ${ML_DSA_65_PUBLIC_KEY_SIZE} bytes`);
    }
    return new MlDsa65PublicKey(raw.slice());
  }

  /**
   * A key from its SPKI PEM (RFC 9881, id-ml-dsa-65).
   * @throws {TypeError} when the PEM is not an ML-DSA-65 SPKI public key.
   */
  static fromPem(pem: string): MlDsa65PublicKey {
    if (typeof pem !== "string") throw new TypeError("an ML-DSA-65 public key PEM is a string");
    const der = pemDecode(pem, "PUBLIC KEY");
    if (
      der.length !== SPKI_PREFIX.length + ML_DSA_65_PUBLIC_KEY_SIZE || !startsWith(der, SPKI_PREFIX)
    ) {
      throw new TypeError(
        "not an ML-DSA-65 SPKI public key (RFC 9881, OID 2.16.840.1.101.3.4.3.18)",
      );
    }
    return new MlDsa65PublicKey(der.slice(SPKI_PREFIX.length), pem);
  }

  /** The SPKI PEM, canonical (64-character lines). */
  toPem(): string {
    return pemEncode("PUBLIC KEY", concatBytes(SPKI_PREFIX, this.raw));
  }

  /** The PEM this key was read from, if any, else {@linkcode toPem}. */
  get pem(): string {
    return this.#pem ??= this.toPem();
  }

  /** Whether `other` is the same key. */
  equals(other: MlDsa65PublicKey): boolean {
    return other instanceof MlDsa65PublicKey && bytesEqual(this.raw, other.raw);
  }

  /** Whether `signature` is this key's ML-DSA-65 signature of `message` (pure, empty context). */
  verify(
    signature: Uint8Array,
    message: Uint8Array,
    engine: MlDsa65Engine = nobleMlDsa65,
  ): boolean {
    if (signature.length !== ML_DSA_65_SIGNATURE_SIZE) return false;
    return engine.verify(signature, message, this.raw);
  }
}

/**
 * Options of {@linkcode MlDsa65PrivateKey.sign}.
 *
 * @example Deterministic signatures repeat
 * ```ts
 * import assert from "node:assert/strict";
 * import { MlDsa65PrivateKey, type MlDsa65SignOptions } from "./ml_dsa65.ts";
 * const key = MlDsa65PrivateKey.generate();
 * const m = new TextEncoder().encode("body");
 * const options: MlDsa65SignOptions = { deterministic: true };
 * assert.deepEqual(key.sign(m, options), key.sign(m, options));
 * ```
 */
export interface MlDsa65SignOptions {
  /** Sign deterministically (FIPS 204's deterministic variant) instead of hedged. @default {false} */
  deterministic?: boolean;
  /** The implementation. @default {nobleMlDsa65} */
  engine?: MlDsa65Engine;
}

/**
 * An ML-DSA-65 private key held as its 32-byte seed ξ; neither the seed nor
 * the expanded key is enumerable, printed or serialized by `JSON.stringify`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MlDsa65PrivateKey } from "./ml_dsa65.ts";
 * const key = MlDsa65PrivateKey.fromSeed(new Uint8Array(32).fill(7));
 * const again = MlDsa65PrivateKey.fromPkcs8Pem(key.toPkcs8Pem());
 * assert.ok(again.publicKey.equals(key.publicKey));
 * assert.ok(!JSON.stringify(key).includes(key.toPkcs8Pem().split("\n")[1]));
 * ```
 */
export class MlDsa65PrivateKey {
  /** The matching public key. */
  readonly publicKey: MlDsa65PublicKey;
  #seed: Uint8Array;
  #secretKey: Uint8Array;

  private constructor(seed: Uint8Array) {
    const keys = ml_dsa65.keygen(seed);
    this.#seed = seed;
    this.#secretKey = keys.secretKey;
    this.publicKey = MlDsa65PublicKey.fromRaw(keys.publicKey);
  }

  /**
   * The key FIPS 204 ML-DSA.KeyGen derives from the 32-byte seed ξ.
   * @throws {TypeError} when `seed` is not 32 bytes.
   */
  static fromSeed(seed: Uint8Array): MlDsa65PrivateKey {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new TypeError("an ML-DSA-65 seed is 32 bytes");
    }
    return new MlDsa65PrivateKey(seed.slice());
  }

  /** A fresh random key. */
  static generate(): MlDsa65PrivateKey {
    return new MlDsa65PrivateKey(crypto.getRandomValues(new Uint8Array(32)));
  }

  /**
   * A key from its PKCS#8 PEM (RFC 9881 `seed` form).
   * @throws {TypeError} when the PEM is not an ML-DSA-65 seed PKCS#8 key.
   */
  static fromPkcs8Pem(pem: string): MlDsa65PrivateKey {
    const der = pemDecode(pem, "PRIVATE KEY");
    if (der.length !== PKCS8_SEED_PREFIX.length + 32 || !startsWith(der, PKCS8_SEED_PREFIX)) {
      throw new TypeError("not an ML-DSA-65 PKCS#8 private key in the RFC 9881 seed form");
    }
    return new MlDsa65PrivateKey(der.slice(PKCS8_SEED_PREFIX.length));
  }

  /** The PKCS#8 PEM (seed form). Secret: write it to 0600 files only. */
  toPkcs8Pem(): string {
    return pemEncode("PRIVATE KEY", concatBytes(PKCS8_SEED_PREFIX, this.#seed));
  }

  /** The 3309-byte ML-DSA-65 signature of `message` (pure, empty context). */
  sign(message: Uint8Array, options: MlDsa65SignOptions = {}): Uint8Array {
    const engine = options.engine ?? nobleMlDsa65;
    return engine.sign(message, this.#secretKey, options.deterministic ?? false);
  }

  /** Shows only the public half. */
  toJSON(): { type: "MlDsa65PrivateKey" } {
    return { type: "MlDsa65PrivateKey" };
  }

  /** Deno's inspector: no secret. */
  [Symbol.for("Deno.customInspect")](): string {
    return "MlDsa65PrivateKey {}";
  }
}

/**
 * The 3309 signature bytes of `pq_signature_b64`, or `undefined` when it is
 * not canonical standard base64 of that length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMlDsa65SignatureBase64 } from "./ml_dsa65.ts";
 * import { toBase64 } from "./bytes.ts";
 * assert.equal(decodeMlDsa65SignatureBase64(toBase64(new Uint8Array(3309)))?.length, 3309);
 * assert.equal(decodeMlDsa65SignatureBase64(toBase64(new Uint8Array(64))), undefined);
 * ```
 */
export function decodeMlDsa65SignatureBase64(b64: string): Uint8Array | undefined {
  // 3309 bytes are exactly 4412 characters with no padding.
  if (typeof b64 !== "string" || b64.length !== 4412) return undefined;
  try {
    // The runtime's decoder when it has one (several times faster on 4 KiB):
    // it skips whitespace, which the output length then catches, and
    // `strict` refuses padding bits.
    const sig = nativeFromBase64 ? nativeFromBase64(b64, STRICT) : fromBase64(b64);
    return sig.length === ML_DSA_65_SIGNATURE_SIZE ? sig : undefined;
  } catch {
    return undefined;
  }
}

const STRICT = { alphabet: "base64", lastChunkHandling: "strict" } as const;
const nativeFromBase64 = (Uint8Array as unknown as {
  fromBase64?: (s: string, o: typeof STRICT) => Uint8Array;
}).fromBase64;

/** Standard base64 of a signature (the form of `pq_signature_b64`). */
export function encodeMlDsa65SignatureBase64(signature: Uint8Array): string {
  return toBase64(signature);
}
