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
 * A hybrid issuer's file (`keygen --pq`) holds a second PKCS#8 block after
 * it, the ML-DSA-65 seed key (RFC 9881): readers that take the first block
 * still find the Ed25519 key.
 *
 * A hybrid provider ({@linkcode KeyProvider.mlDsa65}) also signs every
 * envelope body with ML-DSA-65 (`docs/formats.md` §2.7).
 *
 * @module
 */
import { Ed25519PrivateKey, Ed25519PublicKey } from "./ed25519.ts";
import { SignerError } from "./errors.ts";
import { ML_DSA_65_SIGNATURE_SIZE, MlDsa65PrivateKey, MlDsa65PublicKey } from "./ml_dsa65.ts";

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
  /** A hybrid issuer's ML-DSA-65 half: every envelope then carries both signatures. */
  readonly mlDsa65?: MlDsa65Signer;
}

/**
 * The ML-DSA-65 half of a hybrid issuer key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InProcessKeyProvider, type MlDsa65Signer } from "./keys.ts";
 * import { MlDsa65PublicKey } from "./ml_dsa65.ts";
 * const key = await InProcessKeyProvider.generate("acme-1", { pq: true });
 * const pq: MlDsa65Signer = key.mlDsa65!;
 * const body = new TextEncoder().encode("body");
 * assert.ok(MlDsa65PublicKey.fromPem(pq.publicKeyPem).verify(await pq.sign(body), body));
 * ```
 */
export interface MlDsa65Signer {
  /** The ML-DSA-65 SPKI PEM (`receipt.pq_public_key_pem`). */
  readonly publicKeyPem: string;
  /** The 3309-byte ML-DSA-65 signature of `message` (pure, empty context). */
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
 * assert.equal(key.mlDsa65, undefined); // Ed25519 only; generate(id, { pq: true }) is hybrid
 * ```
 */
export class InProcessKeyProvider implements KeyProvider {
  /** The key's identifier. */
  readonly keyId: string;
  /** The key's SPKI PEM. */
  readonly publicKeyPem: string;
  /** The private key (its seed is never enumerable or printed). */
  readonly privateKey: Ed25519PrivateKey;
  /** A hybrid key's ML-DSA-65 private key (never enumerable or printed). */
  readonly mlDsa65PrivateKey?: MlDsa65PrivateKey;
  /** A hybrid key's ML-DSA-65 signer. */
  readonly mlDsa65?: MlDsa65Signer;

  /**
   * Wrap an existing private key, and for a hybrid issuer its ML-DSA-65 key.
   * @throws {TypeError} when `keyId` is empty or longer than 256 characters.
   */
  constructor(keyId: string, privateKey: Ed25519PrivateKey, mlDsa65Key?: MlDsa65PrivateKey) {
    checkKeyId(keyId);
    this.keyId = keyId;
    this.privateKey = privateKey;
    this.publicKeyPem = privateKey.publicKey.toPem();
    if (mlDsa65Key !== undefined) {
      this.mlDsa65PrivateKey = mlDsa65Key;
      const publicKeyPem = mlDsa65Key.publicKey.toPem();
      this.mlDsa65 = {
        publicKeyPem,
        sign: (message) => {
          try {
            return Promise.resolve(mlDsa65Key.sign(message));
          } catch (e) {
            return Promise.reject(e);
          }
        },
      };
    }
  }

  /** A provider with a freshly generated key; `pq: true` makes it hybrid (Ed25519 + ML-DSA-65). */
  static async generate(
    keyId: string,
    options: { pq?: boolean } = {},
  ): Promise<InProcessKeyProvider> {
    const pq = options.pq ? MlDsa65PrivateKey.generate() : undefined;
    return new InProcessKeyProvider(keyId, await Ed25519PrivateKey.generate(), pq);
  }

  /**
   * A provider from an issuer key file's contents ({@linkcode parseIssuerKeyFile}):
   * hybrid when the file holds an ML-DSA-65 block.
   * @throws {TypeError} when a block is not the key it should be.
   */
  static async fromIssuerKeyFile(
    keyId: string,
    file: IssuerKeyFile,
  ): Promise<InProcessKeyProvider> {
    const pq = file.mlDsa65Pem === undefined
      ? undefined
      : MlDsa65PrivateKey.fromPkcs8Pem(file.mlDsa65Pem);
    return new InProcessKeyProvider(keyId, await Ed25519PrivateKey.fromPkcs8Pem(file.pem), pq);
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
      return await InProcessKeyProvider.fromIssuerKeyFile(keyId, parseIssuerKeyFile(text));
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
  /** A hybrid key's second `PRIVATE KEY` block: the ML-DSA-65 seed key (RFC 9881). */
  mlDsa65Pem?: string;
}

const BEGIN_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----";
const END_PRIVATE_KEY = "-----END PRIVATE KEY-----";
const KEY_FILE_HEADER = "regledger issuer key (Ed25519, PKCS#8). Keep this file secret.";
const HYBRID_KEY_FILE_HEADER =
  "regledger hybrid issuer key (Ed25519 then ML-DSA-65, PKCS#8). Keep this file secret.";
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
  meta: { issuer: string; keyId: string; mlDsa65Pem?: string },
): string {
  const oneBlock = (text: string, what: string) => {
    const pem = text.trim();
    if (
      !pem.startsWith(BEGIN_PRIVATE_KEY) || !pem.endsWith(END_PRIVATE_KEY) ||
      pem.indexOf(BEGIN_PRIVATE_KEY, 1) !== -1
    ) {
      throw new TypeError(`${what} must be one ${BEGIN_PRIVATE_KEY} block`);
    }
    return pem;
  };
  const pem = oneBlock(pkcs8Pem, "pkcs8Pem");
  const pq = meta.mlDsa65Pem === undefined ? "" : oneBlock(meta.mlDsa65Pem, "mlDsa65Pem") + "\n";
  checkKeyId(meta.keyId);
  if (typeof meta.issuer !== "string" || meta.issuer.length === 0) {
    throw new TypeError("issuer must be a non-empty string");
  }
  const header = pq === "" ? KEY_FILE_HEADER : HYBRID_KEY_FILE_HEADER;
  return `${header}\nIssuer: ${JSON.stringify(meta.issuer)}\nKey-Id: ${
    JSON.stringify(meta.keyId)
  }\n${pem}\n${pq}`;
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
  // A hybrid key's ML-DSA-65 block follows (nothing but blank lines between).
  const begin2 = lines.findIndex((l, i) => i > end && l.trimEnd() === BEGIN_PRIVATE_KEY);
  if (begin2 !== -1) {
    const end2 = lines.findIndex((l, i) => i > begin2 && l.trimEnd() === END_PRIVATE_KEY);
    if (end2 === -1) throw new TypeError(`second ${BEGIN_PRIVATE_KEY} block is not closed`);
    if (lines.slice(end2 + 1).some((l) => l.includes(BEGIN_PRIVATE_KEY))) {
      throw new TypeError(`more than two ${BEGIN_PRIVATE_KEY} blocks`);
    }
    out.mlDsa65Pem = lines.slice(begin2, end2 + 1).join("\n") + "\n";
  }
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
  /**
   * A hybrid issuer's ML-DSA-65 half, when a KMS/HSM holds it: its SPKI PEM
   * and a callback returning the 3309-byte signature (pure, empty context).
   */
  mlDsa65?: MlDsa65Signer;
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
 * The ML-DSA-65 half ({@linkcode ExternalSigner.mlDsa65}) fails closed the
 * same way: its signature must be 3309 bytes and verify under its key.
 *
 * @throws {TypeError} when `publicKeyPem` is not an Ed25519 SPKI PEM, the
 * ML-DSA-65 PEM is not an ML-DSA-65 SPKI PEM, or `keyId` is empty.
 */
export function externalKeyProvider(signer: ExternalSigner): KeyProvider {
  checkKeyId(signer.keyId);
  const publicKey = Ed25519PublicKey.fromPem(signer.publicKeyPem);
  const call = signer.sign;
  const mlDsa65 = signer.mlDsa65 === undefined
    ? undefined
    : externalMlDsa65(signer.keyId, signer.mlDsa65);
  return {
    keyId: signer.keyId,
    publicKeyPem: signer.publicKeyPem,
    ...(mlDsa65 === undefined ? {} : { mlDsa65 }),
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

function externalMlDsa65(keyId: string, pq: MlDsa65Signer): MlDsa65Signer {
  const publicKey = MlDsa65PublicKey.fromPem(pq.publicKeyPem);
  const call = pq.sign;
  return {
    publicKeyPem: pq.publicKeyPem,
    async sign(message: Uint8Array): Promise<Uint8Array> {
      let sig: unknown;
      try {
        sig = await call(message);
      } catch (e) {
        throw new SignerError(`external ML-DSA-65 signer for key ${keyId} failed`, { cause: e });
      }
      if (!(sig instanceof Uint8Array) || sig.length !== ML_DSA_65_SIGNATURE_SIZE) {
        throw new SignerError(
          `external ML-DSA-65 signer for key ${keyId} returned ${
            sig instanceof Uint8Array ? `${sig.length} bytes` : typeof sig
          }, not a ${ML_DSA_65_SIGNATURE_SIZE}-byte ML-DSA-65 signature`,
        );
      }
      const copy = sig.slice();
      if (!publicKey.verify(copy, message)) {
        throw new SignerError(
          `external ML-DSA-65 signer for key ${keyId} returned a signature that does not verify under its public key`,
        );
      }
      return copy;
    },
  };
}
