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
 * An issuer key file (what `regledger keygen` writes) is a PKCS#8 PEM
 * preceded by RFC 7468 §2 explanatory text naming the issuer and the key id
 * ({@linkcode formatIssuerKeyFile}, {@linkcode parseIssuerKeyFile}), so the
 * file alone says how to sign, and OpenSSL still reads it as a plain PEM.
 *
 * @module
 */
import { Ed25519PrivateKey, Ed25519PublicKey } from "./ed25519.ts";
import { SignerError } from "./errors.ts";

/**
 * Something that signs envelope bodies with an Ed25519 key.
 *
 * @example Any provider signs bytes that verify under its published key
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ed25519PublicKey } from "./ed25519.ts";
 * import { InProcessKeyProvider, type KeyProvider } from "./keys.ts";
 * const provider: KeyProvider = await InProcessKeyProvider.generate("acme-1");
 * assert.equal(provider.keyId, "acme-1");
 * assert.ok(provider.publicKeyPem.startsWith("-----BEGIN PUBLIC KEY-----"));
 * const body = new TextEncoder().encode("body");
 * const signature = await provider.sign(body);
 * assert.equal(signature.length, 64);
 * assert.ok(await Ed25519PublicKey.fromPem(provider.publicKeyPem).verify(signature, body));
 * ```
 */
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

/**
 * An Ed25519 key held in this process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InProcessKeyProvider } from "./keys.ts";
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const again = await InProcessKeyProvider.fromPkcs8Pem("acme-1", key.privateKey.toPkcs8Pem());
 * assert.equal(again.publicKeyPem, key.publicKeyPem);
 * const body = new TextEncoder().encode("body");
 * assert.ok(await key.privateKey.publicKey.verify(await key.sign(body), body));
 * ```
 */
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
    const text = await Deno.readTextFile(path);
    try {
      return await InProcessKeyProvider.fromPkcs8Pem(keyId, parseIssuerKeyFile(text).pem);
    } catch (e) {
      throw new TypeError(`${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Sign with the runtime's Web Crypto Ed25519 (noble where it is missing). */
  sign(message: Uint8Array): Promise<Uint8Array> {
    return this.privateKey.sign(message);
  }
}

/** An issuer key file's contents: the key and, when the file names them, its issuer and key id. */
export interface IssuerKeyFile {
  /** The PKCS#8 `PRIVATE KEY` PEM block alone. */
  pem: string;
  /** The issuer the key signs for (`issuer` of its envelopes), when recorded. */
  issuer?: string;
  /** The key id (`receipt.key_id`, as in trust stores), when recorded. */
  keyId?: string;
}

const BEGIN_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----";
const END_PRIVATE_KEY = "-----END PRIVATE KEY-----";
const KEY_FILE_HEADER = "regledger issuer key (Ed25519, PKCS#8). Keep this file secret.";
/** Explanatory-text lines that carry metadata; values are JSON strings (any characters). */
const META_LINE = /^(Issuer|Key-Id): (.*)$/;

/**
 * The text of an issuer key file: `pkcs8Pem` preceded by explanatory text
 * (RFC 7468 §2, which PEM parsers such as OpenSSL skip) naming the issuer and
 * the key id as JSON strings, so any name survives on one line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatIssuerKeyFile, InProcessKeyProvider, parseIssuerKeyFile } from "./keys.ts";
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const text = formatIssuerKeyFile(key.privateKey.toPkcs8Pem(), {
 *   issuer: "Acme Bank",
 *   keyId: "acme-1",
 * });
 * const file = parseIssuerKeyFile(text);
 * assert.equal(file.issuer, "Acme Bank");
 * assert.equal(file.keyId, "acme-1");
 * assert.equal(file.pem, key.privateKey.toPkcs8Pem());
 * ```
 *
 * @throws {TypeError} when `pkcs8Pem` is not one PEM `PRIVATE KEY` block, or a name is empty.
 */
export function formatIssuerKeyFile(
  pkcs8Pem: string,
  meta: { issuer: string; keyId: string },
): string {
  const pem = pkcs8Pem.trim();
  if (!pem.startsWith(BEGIN_PRIVATE_KEY) || !pem.endsWith(END_PRIVATE_KEY)) {
    throw new TypeError(`pkcs8Pem must be one ${BEGIN_PRIVATE_KEY} block`);
  }
  checkKeyId(meta.keyId);
  if (typeof meta.issuer !== "string" || meta.issuer.length === 0) {
    throw new TypeError("issuer must be a non-empty string");
  }
  return `${KEY_FILE_HEADER}\nIssuer: ${JSON.stringify(meta.issuer)}\nKey-Id: ${
    JSON.stringify(meta.keyId)
  }\n${pem}\n`;
}

/**
 * Read an issuer key file: the `PRIVATE KEY` PEM block, and the issuer and
 * key id from the explanatory text before it when present. A bare PEM (a key
 * file from before keys remembered their names) has neither.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InProcessKeyProvider, parseIssuerKeyFile } from "./keys.ts";
 * const pem = (await InProcessKeyProvider.generate("k")).privateKey.toPkcs8Pem();
 * const file = parseIssuerKeyFile(pem);
 * assert.equal(file.pem, pem);
 * assert.equal(file.keyId, undefined);
 * ```
 *
 * @throws {TypeError} when there is no `PRIVATE KEY` block, or a metadata line is malformed or repeated.
 */
export function parseIssuerKeyFile(text: string): IssuerKeyFile {
  if (typeof text !== "string") throw new TypeError("key file text must be a string");
  const lines = text.split(/\r?\n/);
  const begin = lines.findIndex((l) => l.trimEnd() === BEGIN_PRIVATE_KEY);
  const end = lines.findIndex((l, i) => i > begin && l.trimEnd() === END_PRIVATE_KEY);
  if (begin === -1 || end === -1) {
    throw new TypeError(`no ${BEGIN_PRIVATE_KEY} … ${END_PRIVATE_KEY} block`);
  }
  const out: IssuerKeyFile = { pem: lines.slice(begin, end + 1).join("\n") + "\n" };
  for (const line of lines.slice(0, begin)) {
    const m = META_LINE.exec(line.trimEnd());
    if (!m) continue; // other explanatory text
    const field = m[1] === "Issuer" ? "issuer" : "keyId";
    let value: unknown;
    try {
      value = JSON.parse(m[2]);
    } catch {
      value = undefined;
    }
    if (typeof value !== "string" || value.length === 0) {
      throw new TypeError(`${m[1]} line must hold a non-empty JSON string, got ${m[2]}`);
    }
    if (out[field] !== undefined) throw new TypeError(`${m[1]} line given twice`);
    out[field] = value;
  }
  return out;
}

/**
 * What a KMS/HSM integration supplies to {@linkcode externalKeyProvider}.
 *
 * @example A signer whose callback fails is reported as a SignerError
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ed25519PrivateKey } from "./ed25519.ts";
 * import { SignerError } from "./errors.ts";
 * import { type ExternalSigner, externalKeyProvider } from "./keys.ts";
 * const kmsKey = await Ed25519PrivateKey.generate(); // stands in for a KMS key
 * const signer: ExternalSigner = {
 *   keyId: "kms-1",
 *   publicKeyPem: kmsKey.publicKey.toPem(),
 *   sign: () => Promise.reject(new Error("KMS unavailable")),
 * };
 * const provider = externalKeyProvider(signer);
 * assert.equal(provider.keyId, "kms-1");
 * await assert.rejects(provider.sign(new Uint8Array([1])), SignerError);
 * ```
 */
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
 * import assert from "node:assert/strict";
 * import { externalKeyProvider } from "./keys.ts";
 * import { Ed25519PrivateKey } from "./ed25519.ts";
 * import { SignerError } from "./errors.ts";
 * const hsm = await Ed25519PrivateKey.generate(); // stands in for a KMS key
 * const body = new TextEncoder().encode("body");
 * const provider = externalKeyProvider({
 *   keyId: "kms-1",
 *   publicKeyPem: hsm.publicKey.toPem(),
 *   sign: (m) => hsm.sign(m),
 * });
 * assert.ok(await hsm.publicKey.verify(await provider.sign(body), body));
 * // A signer that returns a bad signature is caught before anything is signed with it.
 * const faulty = externalKeyProvider({
 *   keyId: "kms-1",
 *   publicKeyPem: hsm.publicKey.toPem(),
 *   sign: () => Promise.resolve(new Uint8Array(64)),
 * });
 * await assert.rejects(faulty.sign(body), SignerError);
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
