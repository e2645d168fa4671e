/**
 * Key providers: where envelope signatures come from.
 *
 * A {@linkcode KeyProvider} names its key (`keyId`), publishes its public key
 * and signs bytes. {@linkcode InProcessKeyProvider} holds an Ed25519 key in
 * memory (generated, or loaded from a PKCS#8 PEM file);
 * {@linkcode externalKeyProvider} wraps a KMS/HSM callback and fails closed:
 * every signature it returns is verified against its public key before it is
 * used, so a faulty or compromised signer cannot produce an envelope that
 * does not verify.
 *
 * @module
 */
import { Ed25519PrivateKey, Ed25519PublicKey } from "./ed25519.ts";
import { SignerError } from "./errors.ts";

/** Something that signs envelope bodies with an Ed25519 key. */
export interface KeyProvider {
  /** The key's identifier in trust stores (`receipt.key_id`). */
  readonly keyId: string;
  /** The key's RFC 8410 SPKI PEM (`receipt.public_key_pem`). */
  readonly publicKeyPem: string;
  /** The 64-byte Ed25519 signature of `message`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

function checkKeyId(keyId: string): void {
  if (typeof keyId !== "string" || keyId.length === 0 || keyId.length > 256) {
    throw new TypeError(`keyId must be a non-empty string of at most 256 characters`);
  }
}

/** An Ed25519 key held in this process. */
export class InProcessKeyProvider implements KeyProvider {
  /** The key's identifier. */
  readonly keyId: string;
  /** The key's SPKI PEM. */
  readonly publicKeyPem: string;
  /** The private key (its seed is never enumerable or printed). */
  readonly privateKey: Ed25519PrivateKey;

  /**
   * Wrap an existing private key.
   * @throws {TypeError} when `keyId` is empty or longer than 256 characters.
   */
  constructor(keyId: string, privateKey: Ed25519PrivateKey) {
    checkKeyId(keyId);
    this.keyId = keyId;
    this.privateKey = privateKey;
    this.publicKeyPem = privateKey.publicKey.toPem();
  }

  /** A provider with a freshly generated key. */
  static async generate(keyId: string): Promise<InProcessKeyProvider> {
    return new InProcessKeyProvider(keyId, await Ed25519PrivateKey.generate());
  }

  /**
   * A provider from an Ed25519 PKCS#8 PEM text.
   * @throws {TypeError} when the PEM is not an Ed25519 PKCS#8 private key.
   */
  static async fromPkcs8Pem(keyId: string, pem: string): Promise<InProcessKeyProvider> {
    return new InProcessKeyProvider(keyId, await Ed25519PrivateKey.fromPkcs8Pem(pem));
  }

  /**
   * A provider from an Ed25519 PKCS#8 PEM file (needs read permission).
   * @throws {TypeError} when the file is not an Ed25519 PKCS#8 private key.
   */
  static async fromFile(keyId: string, path: string): Promise<InProcessKeyProvider> {
    const pem = await Deno.readTextFile(path);
    try {
      return await InProcessKeyProvider.fromPkcs8Pem(keyId, pem);
    } catch (e) {
      throw new TypeError(`${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Sign with the runtime's Web Crypto Ed25519 (noble where it is missing). */
  sign(message: Uint8Array): Promise<Uint8Array> {
    return this.privateKey.sign(message);
  }
}

/** What a KMS/HSM integration supplies to {@linkcode externalKeyProvider}. */
export interface ExternalSigner {
  /** The key's identifier. */
  keyId: string;
  /** The key's SPKI PEM, as registered in trust stores. */
  publicKeyPem: string;
  /** Ask the KMS/HSM to sign `message` (Ed25519, 64-byte result). */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * A key provider backed by an external signer that fails closed: a callback
 * that throws, returns something other than 64 bytes, or returns a signature
 * that does not verify under `publicKeyPem` is a {@linkcode SignerError}, so
 * no envelope leaves with a bad signature.
 *
 * @example
 * ```ts
 * import { externalKeyProvider } from "./keys.ts";
 * import { Ed25519PrivateKey } from "./ed25519.ts";
 * const hsm = await Ed25519PrivateKey.generate(); // stands in for a KMS key
 * const provider = externalKeyProvider({
 *   keyId: "kms-1",
 *   publicKeyPem: hsm.publicKey.toPem(),
 *   sign: (m) => hsm.sign(m),
 * });
 * await provider.sign(new TextEncoder().encode("body"));
 * ```
 *
 * @throws {TypeError} when `publicKeyPem` is not an Ed25519 SPKI PEM or `keyId` is empty.
 */
export function externalKeyProvider(signer: ExternalSigner): KeyProvider {
  checkKeyId(signer.keyId);
  const publicKey = Ed25519PublicKey.fromPem(signer.publicKeyPem);
  const call = signer.sign;
  return {
    keyId: signer.keyId,
    publicKeyPem: signer.publicKeyPem,
    async sign(message: Uint8Array): Promise<Uint8Array> {
      let sig: unknown;
      try {
        sig = await call(message);
      } catch (e) {
        throw new SignerError(`external signer for key ${signer.keyId} failed`, { cause: e });
      }
      if (!(sig instanceof Uint8Array) || sig.length !== 64) {
        throw new SignerError(
          `external signer for key ${signer.keyId} returned ${
            sig instanceof Uint8Array ? `${sig.length} bytes` : typeof sig
          }, not a 64-byte Ed25519 signature`,
        );
      }
      const copy = sig.slice();
      if (!(await publicKey.verify(copy, message))) {
        throw new SignerError(
          `external signer for key ${signer.keyId} returned a signature that does not verify under its public key`,
        );
      }
      return copy;
    },
  };
}
