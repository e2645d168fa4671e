/**
 * Ed25519 (RFC 8032) keys, signatures and their PEM encodings (RFC 8410).
 *
 * Signing and verification go through the runtime's Web Crypto `Ed25519`
 * when it has it (the hot path; imported `CryptoKey`s are cached on the key
 * objects so nothing is re-imported or re-parsed per call) and through
 * `@noble/ed25519` otherwise. Both engines can be chosen explicitly, which
 * the tests use to cross-check them on the RFC 8032 vectors.
 *
 * @module
 */
import * as noble from "@noble/ed25519";
import { bytesEqual, concatBytes, fromHex, toBase64 } from "./bytes.ts";
import { pemDecode, pemEncode } from "./pem.ts";

/**
 * Which Ed25519 implementation performs an operation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Ed25519Engine, Ed25519PrivateKey } from "./ed25519.ts";
 *
 * // Both engines make the same (deterministic) signature.
 * const key = await Ed25519PrivateKey.generate();
 * const message = new TextEncoder().encode("hello");
 * const engines: Ed25519Engine[] = ["webcrypto", "noble"];
 * const [a, b] = await Promise.all(engines.map((e) => key.sign(message, e)));
 * assert.deepEqual(a, b);
 * ```
 */
export type Ed25519Engine = "webcrypto" | "noble";

// DER prefixes of RFC 8410 SubjectPublicKeyInfo and PKCS#8 (v1) Ed25519 keys.
const SPKI_PREFIX = fromHex("302a300506032b6570032100");
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");
// PKCS#8 v2 (OneAsymmetricKey) with the public key attached as [1].
const PKCS8_V2_PREFIX = fromHex("3051020101300506032b657004220420");
const PKCS8_V2_PUB = fromHex("812100");

let webCryptoProbe: Promise<boolean> | undefined;

/**
 * Whether this runtime's Web Crypto implements Ed25519 (checked once by
 * verifying the RFC 8032 §7.1 TEST 1 signature).
 */
export function webCryptoHasEd25519(): Promise<boolean> {
  webCryptoProbe ??= (async () => {
    try {
      const key = await crypto.subtle.importKey("raw", ab(TEST1_PUBLIC), "Ed25519", false, [
        "verify",
      ]);
      return await crypto.subtle.verify("Ed25519", key, ab(TEST1_SIGNATURE), new Uint8Array(0));
    } catch {
      return false;
    }
  })();
  return webCryptoProbe;
}

const TEST1_PUBLIC = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const TEST1_SIGNATURE = fromHex(
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
);

/** Web Crypto's typing wants ArrayBuffer-backed views; ours always are. */
function ab(u: Uint8Array): Uint8Array<ArrayBuffer> {
  return u as Uint8Array<ArrayBuffer>;
}

async function resolveEngine(engine: Ed25519Engine | undefined): Promise<Ed25519Engine> {
  if (engine) return engine;
  return (await webCryptoHasEd25519()) ? "webcrypto" : "noble";
}

function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  return a.length >= prefix.length && bytesEqual(a.subarray(0, prefix.length), prefix);
}

/**
 * An Ed25519 public key (32 bytes), with its verifying `CryptoKey` cached after first use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ed25519PrivateKey, Ed25519PublicKey } from "./ed25519.ts";
 * import { fromHex } from "./bytes.ts";
 *
 * // RFC 8032 §7.1 TEST 1.
 * const seed = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
 * const signature = fromHex(
 *   "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
 * );
 * const publicKey = Ed25519PublicKey.fromPem((await Ed25519PrivateKey.fromSeed(seed)).publicKey.pem);
 * assert.equal(await publicKey.verify(signature, new Uint8Array()), true);
 * assert.equal(await publicKey.verify(signature, new Uint8Array([0])), false);
 * ```
 */
export class Ed25519PublicKey {
  /** The 32-byte public key. */
  readonly raw: Uint8Array;
  #cryptoKey: Promise<CryptoKey> | undefined;
  #verifyKey: CryptoKey | undefined;
  #pem: string | undefined;

  private constructor(raw: Uint8Array) {
    this.raw = raw;
  }

  /**
   * A key from its 32 raw bytes.
   * @throws {TypeError} when `raw` is not 32 bytes.
   */
  static fromRaw(raw: Uint8Array): Ed25519PublicKey {
    if (!(raw instanceof Uint8Array) || raw.length !== 32) {
      throw new TypeError(`Ed25519 public key must be 32 bytes, got ${raw?.length}`);
    }
    return new Ed25519PublicKey(raw.slice());
  }

  /**
   * A key from an RFC 8410 SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
   * @throws {TypeError} when `pemText` is not PEM or not an Ed25519 key.
   */
  static fromPem(pemText: string): Ed25519PublicKey {
    if (typeof pemText !== "string") throw new TypeError("public key PEM must be a string");
    const der = pemDecode(pemText, "PUBLIC KEY");
    if (der.length !== 44 || !startsWith(der, SPKI_PREFIX)) {
      throw new TypeError("PEM public key is not an Ed25519 SubjectPublicKeyInfo (RFC 8410)");
    }
    const key = new Ed25519PublicKey(der.slice(12));
    key.#pem = pemText;
    return key;
  }

  /** RFC 8410 SPKI PEM, 64-column base64, trailing newline (as Python's `cryptography` writes it). */
  toPem(): string {
    return pemEncode("PUBLIC KEY", concatBytes(SPKI_PREFIX, this.raw));
  }

  /** Whether `other` is the same public key. */
  equals(other: Ed25519PublicKey): boolean {
    return bytesEqual(this.raw, other.raw);
  }

  /**
   * Whether `signature` is a valid Ed25519 signature of `message` under this key.
   * Never throws for a bad signature: a wrong length or an undecodable
   * signature is `false`.
   */
  verify(
    signature: Uint8Array,
    message: Uint8Array,
    engine?: Ed25519Engine,
  ): Promise<boolean> {
    if (signature.length !== 64) return Promise.resolve(false);
    // Hot path: the key was imported before, go straight to Web Crypto.
    const key = this.#verifyKey;
    if (key !== undefined && engine !== "noble") {
      return crypto.subtle.verify("Ed25519", key, ab(signature), ab(message)).catch(() => false);
    }
    return this.#verifySlow(signature, message, engine);
  }

  async #verifySlow(
    signature: Uint8Array,
    message: Uint8Array,
    engine: Ed25519Engine | undefined,
  ): Promise<boolean> {
    if ((await resolveEngine(engine)) === "webcrypto") {
      this.#cryptoKey ??= crypto.subtle.importKey("raw", ab(this.raw), "Ed25519", false, [
        "verify",
      ]);
      try {
        this.#verifyKey = await this.#cryptoKey;
        return await crypto.subtle.verify("Ed25519", this.#verifyKey, ab(signature), ab(message));
      } catch {
        return false;
      }
    }
    try {
      // zip215: false is RFC 8032 strict verification, as Web Crypto does.
      return await noble.verifyAsync(signature, message, this.raw, { zip215: false });
    } catch {
      return false;
    }
  }

  /** The PEM this key was read from, if any, else {@linkcode toPem}. */
  get pem(): string {
    return this.#pem ??= this.toPem();
  }
}

/**
 * An Ed25519 private key. The 32-byte seed stays inside the object: it is not
 * an enumerable property, and inspecting or printing the key shows only its
 * public half.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ed25519PrivateKey } from "./ed25519.ts";
 * import { fromHex } from "./bytes.ts";
 *
 * // RFC 8032 §7.1 TEST 1.
 * const seed = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
 * const signature = fromHex(
 *   "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
 * );
 * const key = await Ed25519PrivateKey.fromSeed(seed);
 * assert.deepEqual(await key.sign(new Uint8Array()), signature);
 * // PKCS#8 PEM round trip (keep the PEM secret).
 * const again = await Ed25519PrivateKey.fromPkcs8Pem(key.toPkcs8Pem());
 * assert.ok(again.publicKey.equals(key.publicKey));
 * ```
 */
export class Ed25519PrivateKey {
  /** The matching public key. */
  readonly publicKey: Ed25519PublicKey;
  #seed: Uint8Array;
  #cryptoKey: Promise<CryptoKey> | undefined;
  #signKey: CryptoKey | undefined;

  private constructor(seed: Uint8Array, publicKey: Ed25519PublicKey) {
    this.#seed = seed;
    this.publicKey = publicKey;
  }

  /**
   * A key from its 32-byte RFC 8032 seed (the "private key" of RFC 8032).
   * @throws {TypeError} when `seed` is not 32 bytes.
   */
  static async fromSeed(seed: Uint8Array): Promise<Ed25519PrivateKey> {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new TypeError(`Ed25519 private key seed must be 32 bytes, got ${seed?.length}`);
    }
    const s = seed.slice();
    const pub = await noble.getPublicKeyAsync(s);
    return new Ed25519PrivateKey(s, Ed25519PublicKey.fromRaw(pub));
  }

  /** A fresh key from the system CSPRNG. */
  static generate(): Promise<Ed25519PrivateKey> {
    return Ed25519PrivateKey.fromSeed(crypto.getRandomValues(new Uint8Array(32)));
  }

  /**
   * A key from an RFC 8410 PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), v1 or
   * v2 (with the public key attached, which must match).
   * @throws {TypeError} when `pemText` is not an unencrypted Ed25519 PKCS#8 PEM.
   */
  static async fromPkcs8Pem(pemText: string): Promise<Ed25519PrivateKey> {
    if (typeof pemText !== "string") throw new TypeError("private key PEM must be a string");
    const der = pemDecode(pemText, "PRIVATE KEY");
    let attached: Uint8Array | undefined;
    if (der.length === 48 && startsWith(der, PKCS8_PREFIX)) {
      // v1: seed only.
    } else if (
      der.length === 83 && startsWith(der, PKCS8_V2_PREFIX) &&
      bytesEqual(der.subarray(48, 51), PKCS8_V2_PUB)
    ) {
      attached = der.subarray(51);
    } else {
      throw new TypeError("PEM private key is not an unencrypted Ed25519 PKCS#8 key (RFC 8410)");
    }
    const key = await Ed25519PrivateKey.fromSeed(der.subarray(16, 48));
    if (attached && !bytesEqual(attached, key.publicKey.raw)) {
      throw new TypeError("PKCS#8 attached public key does not match the private key");
    }
    return key;
  }

  /** RFC 8410 PKCS#8 v1 PEM of this key (secret: write it only to a 0600 file). */
  toPkcs8Pem(): string {
    return pemEncode("PRIVATE KEY", concatBytes(PKCS8_PREFIX, this.#seed));
  }

  /** The Ed25519 signature (64 bytes) of `message`. */
  sign(message: Uint8Array, engine?: Ed25519Engine): Promise<Uint8Array> {
    // Hot path: the key was imported before, go straight to Web Crypto.
    const key = this.#signKey;
    if (key !== undefined && engine !== "noble") {
      return crypto.subtle.sign("Ed25519", key, ab(message)).then((b) => new Uint8Array(b));
    }
    return this.#signSlow(message, engine);
  }

  async #signSlow(message: Uint8Array, engine: Ed25519Engine | undefined): Promise<Uint8Array> {
    if ((await resolveEngine(engine)) === "webcrypto") {
      this.#cryptoKey ??= crypto.subtle.importKey(
        "pkcs8",
        ab(concatBytes(PKCS8_PREFIX, this.#seed)),
        "Ed25519",
        false,
        ["sign"],
      );
      this.#signKey = await this.#cryptoKey;
      return new Uint8Array(await crypto.subtle.sign("Ed25519", this.#signKey, ab(message)));
    }
    return await noble.signAsync(message, this.#seed);
  }

  /** Shows only the public key, never the seed. */
  toJSON(): { type: "Ed25519PrivateKey"; publicKey: string } {
    return { type: "Ed25519PrivateKey", publicKey: this.publicKey.toPem() };
  }

  /** Deno's inspector: only the public key, never the seed. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Ed25519PrivateKey { publicKey: ${toBase64(this.publicKey.raw)} }`;
  }
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/**
 * Standard base64 (RFC 4648 §4, padded) of a 64-byte Ed25519 signature: the
 * form of `receipt.signature_b64`. Equal to `toBase64` from `bytes.ts`,
 * without its general-purpose overhead on the signing hot path.
 *
 * @throws {TypeError} when `signature` is not 64 bytes.
 */
export function encodeSignatureBase64(signature: Uint8Array): string {
  if (signature.length !== 64) throw new TypeError("an Ed25519 signature is 64 bytes");
  let out = "";
  let i = 0;
  for (; i < 63; i += 3) {
    const n = (signature[i] << 16) | (signature[i + 1] << 8) | signature[i + 2];
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  const last = signature[63];
  return out + B64[last >> 2] + B64[(last & 3) << 4] + "==";
}

/**
 * Decode `receipt.signature_b64`: exactly 88 characters of canonical
 * standard base64 (RFC 4648 §4, padded, no whitespace, zero padding bits)
 * for 64 bytes. Anything else is `undefined`, so one signature has one text.
 */
export function decodeSignatureBase64(b64: string): Uint8Array | undefined {
  if (typeof b64 !== "string" || b64.length !== 88 || !b64.endsWith("==")) return undefined;
  const out = new Uint8Array(64);
  let o = 0;
  for (let i = 0; i < 84; i += 4) {
    const a = b64.charCodeAt(i), b = b64.charCodeAt(i + 1);
    const c = b64.charCodeAt(i + 2), d = b64.charCodeAt(i + 3);
    if ((a | b | c | d) > 127) return undefined;
    const va = B64_VALUE[a], vb = B64_VALUE[b], vc = B64_VALUE[c], vd = B64_VALUE[d];
    if ((va | vb | vc | vd) < 0) return undefined;
    const n = (va << 18) | (vb << 12) | (vc << 6) | vd;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  const a = b64.charCodeAt(84), b = b64.charCodeAt(85);
  if ((a | b) > 127) return undefined;
  const va = B64_VALUE[a], vb = B64_VALUE[b];
  if ((va | vb) < 0 || (vb & 15) !== 0) return undefined;
  out[63] = (va << 2) | (vb >> 4);
  return out;
}
