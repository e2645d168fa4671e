/**
 * Trust stores: the issuer keys a verifier accepts, with revocation and
 * parameter-set pins (`docs/formats.md` §2.5).
 *
 * Two file shapes are accepted: the full
 * `{"keys": {key_id: PEM}, "revoked": [key_id], "parameter_set_pins": {key_id: hex}}`
 * and a bare `{key_id: PEM}` mapping. Every key is parsed as an Ed25519 SPKI
 * PEM when the store is built, so verification never re-parses PEM.
 *
 * @module
 */
import { toBase64 } from "./bytes.ts";
import { Ed25519PublicKey } from "./ed25519.ts";
import { JsonParseError, TrustStoreError } from "./errors.ts";
import { type JsonLimits, parseJson } from "./json_text.ts";

/**
 * The JSON form of a trust store (the full shape).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TrustStore, type TrustStoreJson } from "./trust_store.ts";
 * import { Ed25519PrivateKey } from "./ed25519.ts";
 *
 * const k = await Ed25519PrivateKey.generate();
 * const json: TrustStoreJson = { keys: { k1: k.publicKey.pem }, revoked: ["k1"] };
 * const store = TrustStore.fromObject(json);
 * assert.equal(store.isRevoked("k1"), true);
 * assert.deepEqual(store.toJSON().revoked, ["k1"]);
 * ```
 */
export interface TrustStoreJson {
  /** key_id → SPKI PEM of an Ed25519 public key. */
  keys: Record<string, string>;
  /** Revoked key ids (each must be in `keys`). */
  revoked?: string[];
  /** key_id → pinned lowercase hex `parameter_set_hash` (each must be in `keys`). */
  parameter_set_pins?: Record<string, string>;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * An immutable set of trusted Ed25519 issuer keys with revocations and pins.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TrustStore } from "./trust_store.ts";
 * import { Ed25519PrivateKey } from "./ed25519.ts";
 * import { TrustStoreError } from "./errors.ts";
 *
 * const k = await Ed25519PrivateKey.generate();
 * // A bare key_id → PEM mapping is a trust store too.
 * const store = TrustStore.fromJsonText(JSON.stringify({ "acme-2026": k.publicKey.pem }));
 * assert.deepEqual(store.keyIds, ["acme-2026"]);
 * assert.ok(store.publicKey("acme-2026")?.equals(k.publicKey));
 * assert.throws(() => TrustStore.fromObject({ keys: { k1: "not a PEM" } }), TrustStoreError);
 * ```
 */
export class TrustStore {
  readonly #keys: ReadonlyMap<string, Ed25519PublicKey>;
  readonly #revoked: ReadonlySet<string>;
  readonly #pins: ReadonlyMap<string, string>;
  // Revocation and pins follow the key, not the id naming it (CONTRACT §3):
  // both are also kept per raw public key, so a key listed under several ids
  // is revoked or pinned under all of them.
  readonly #revokedKeys: ReadonlySet<string>;
  readonly #keyPins: ReadonlyMap<string, string>;

  private constructor(
    keys: Map<string, Ed25519PublicKey>,
    revoked: Set<string>,
    pins: Map<string, string>,
  ) {
    this.#keys = keys;
    this.#revoked = revoked;
    this.#pins = pins;
    const rawOf = (id: string) => toBase64(keys.get(id)!.raw);
    this.#revokedKeys = new Set([...revoked].map(rawOf));
    const keyPins = new Map<string, string>();
    for (const [id, hex] of [...pins].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const raw = rawOf(id);
      const other = keyPins.get(raw);
      if (other !== undefined && other !== hex) {
        throw new TrustStoreError(
          `trust store pins two parameter-set hashes for one key (key_id ${
            JSON.stringify(id)
          } and another id with the same public key): a pin applies to the key under every id`,
        );
      }
      keyPins.set(raw, hex);
    }
    this.#keyPins = keyPins;
  }

  /**
   * Build a trust store from either shape of `docs/formats.md` §2.5. An object with a
   * `keys` member that is an object is the full shape; anything else is read
   * as a bare key_id → PEM mapping.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TrustStore } from "./trust_store.ts";
   * import { Ed25519PrivateKey } from "./ed25519.ts";
   * const k = await Ed25519PrivateKey.generate();
   * const store = TrustStore.fromObject({ keys: { "k1": k.publicKey.toPem() }, revoked: [] });
   * assert.equal(store.has("k1"), true);
   * ```
   *
   * @throws {TrustStoreError} naming the problem: not an object, no keys, a
   * key that is not a PEM string or not Ed25519, `revoked` or
   * `parameter_set_pins` malformed or naming an unknown key id, a pin that
   * is not 64 hex digits, two different pins for one public key (listed
   * under two ids), or an unknown top-level member.
   */
  static fromObject(input: unknown): TrustStore {
    if (!isRecord(input)) throw new TrustStoreError("trust store must be a JSON object");
    let rawKeys: Record<string, unknown>;
    let rawRevoked: unknown = [];
    let rawPins: unknown = {};
    if (isRecord(input.keys)) {
      for (const k of Object.keys(input)) {
        if (k !== "keys" && k !== "revoked" && k !== "parameter_set_pins") {
          throw new TrustStoreError(
            `trust store has unknown member ${
              JSON.stringify(k)
            } (expected keys, revoked, parameter_set_pins)`,
          );
        }
      }
      rawKeys = input.keys;
      rawRevoked = input.revoked ?? [];
      rawPins = input.parameter_set_pins ?? {};
    } else {
      if ("keys" in input && typeof input.keys !== "string") {
        throw new TrustStoreError("trust store member 'keys' must be an object");
      }
      rawKeys = input;
    }
    const ids = Object.keys(rawKeys);
    if (ids.length === 0) {
      throw new TrustStoreError("trust store declares no keys (need at least one key_id → PEM)");
    }
    const keys = new Map<string, Ed25519PublicKey>();
    for (const id of ids) {
      const pem = rawKeys[id];
      if (id.length === 0) throw new TrustStoreError("trust store has an empty key_id");
      if (typeof pem !== "string" || !pem.includes("-----BEGIN PUBLIC KEY-----")) {
        throw new TrustStoreError(`trust store key ${JSON.stringify(id)} is not a PEM public key`);
      }
      try {
        keys.set(id, Ed25519PublicKey.fromPem(pem));
      } catch (e) {
        throw new TrustStoreError(
          `trust store key ${JSON.stringify(id)} is not an Ed25519 public key: ${
            (e as Error).message
          }`,
          { cause: e },
        );
      }
    }
    if (!Array.isArray(rawRevoked) || !rawRevoked.every((r) => typeof r === "string")) {
      throw new TrustStoreError("trust store 'revoked' must be a list of key_id strings");
    }
    const unknownRevoked = rawRevoked.filter((r) => !keys.has(r));
    if (unknownRevoked.length > 0) {
      throw new TrustStoreError(
        `trust store 'revoked' names unknown key_id(s): ${JSON.stringify(unknownRevoked.sort())}`,
      );
    }
    if (!isRecord(rawPins)) {
      throw new TrustStoreError("trust store 'parameter_set_pins' must be an object");
    }
    const pins = new Map<string, string>();
    const unknownPins = Object.keys(rawPins).filter((id) => !keys.has(id));
    if (unknownPins.length > 0) {
      throw new TrustStoreError(
        `trust store 'parameter_set_pins' names unknown key_id(s): ${
          JSON.stringify(unknownPins.sort())
        }`,
      );
    }
    for (const [id, hex] of Object.entries(rawPins)) {
      if (typeof hex !== "string" || !HEX64.test(hex)) {
        throw new TrustStoreError(
          `trust store pin for ${JSON.stringify(id)} must be 64 hex digits (a SHA-256)`,
        );
      }
      pins.set(id, hex.toLowerCase());
    }
    return new TrustStore(keys, new Set(rawRevoked), pins);
  }

  /**
   * Build a trust store from JSON text (parsed with the hostile-input limits).
   * @throws {TrustStoreError} when the text is not JSON or the store is malformed.
   */
  static fromJsonText(text: string | Uint8Array, limits?: JsonLimits): TrustStore {
    let value: unknown;
    try {
      value = parseJson(text, { maxBytes: 4 * 1024 * 1024, ...limits });
    } catch (e) {
      if (e instanceof JsonParseError) {
        throw new TrustStoreError(`trust store is not valid JSON: ${e.message}`, { cause: e });
      }
      throw e;
    }
    return TrustStore.fromObject(value);
  }

  /** The trusted key ids, sorted. */
  get keyIds(): string[] {
    return [...this.#keys.keys()].sort();
  }

  /** Whether `keyId` is in the store (revoked or not). */
  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  /** Whether `keyId` is revoked: listed in `revoked`, or its key is revoked under another id. */
  isRevoked(keyId: string): boolean {
    if (this.#revoked.has(keyId)) return true;
    const key = this.#keys.get(keyId);
    return key !== undefined && this.#revokedKeys.has(toBase64(key.raw));
  }

  /** The registered public key of `keyId`, if any. */
  publicKey(keyId: string): Ed25519PublicKey | undefined {
    return this.#keys.get(keyId);
  }

  /** The pinned parameter-set hash of `keyId`'s key (pinned under this id or any other), if any. */
  parameterSetPin(keyId: string): string | undefined {
    const key = this.#keys.get(keyId);
    return key === undefined ? undefined : this.#keyPins.get(toBase64(key.raw));
  }

  /** The full JSON shape (keys re-encoded as canonical PEM). */
  toJSON(): TrustStoreJson {
    const keys: Record<string, string> = {};
    for (const id of this.keyIds) keys[id] = this.#keys.get(id)!.toPem();
    return {
      keys,
      revoked: [...this.#revoked].sort(),
      parameter_set_pins: Object.fromEntries([...this.#pins].sort()),
    };
  }
}
