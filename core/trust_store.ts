/**
 * Trust stores: the issuer keys a verifier accepts, with revocation and
 * parameter-set pins (`docs/formats.md` §2.5).
 *
 * Two file shapes are accepted: the full
 * `{"keys": {key_id: PEM}, "revoked": [key_id], "parameter_set_pins": {key_id: hex}}`
 * and a bare `{key_id: PEM}` mapping. A hybrid issuer's entry lists both its
 * public keys, `{"public_key_pem": Ed25519 PEM, "pq_public_key_pem": ML-DSA-65
 * PEM}` (`docs/formats.md` §2.7), in place of the PEM string. Every key is
 * parsed when the store is built, so verification never re-parses PEM.
 *
 * @module
 */
import { toBase64 } from "./bytes.ts";
import { Ed25519PublicKey } from "./ed25519.ts";
import { JsonParseError, TrustStoreError } from "./errors.ts";
import { type JsonLimits, parseJson } from "./json_text.ts";
import { MlDsa65PublicKey } from "./ml_dsa65.ts";

/**
 * A hybrid issuer's trust-store entry: both public keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type HybridKeyEntry, TrustStore } from "./trust_store.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * const key = await InProcessKeyProvider.generate("k1", { pq: true });
 * const entry: HybridKeyEntry = {
 *   public_key_pem: key.publicKeyPem,
 *   pq_public_key_pem: key.mlDsa65!.publicKeyPem,
 * };
 * const store = TrustStore.fromObject({ keys: { k1: entry } });
 * assert.ok(store.mlDsa65PublicKey("k1"));
 * ```
 */
export interface HybridKeyEntry {
  /** SPKI PEM of the Ed25519 public key. */
  public_key_pem: string;
  /** SPKI PEM of the ML-DSA-65 public key (RFC 9881). */
  pq_public_key_pem: string;
}

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
  /** key_id → SPKI PEM of an Ed25519 public key, or a hybrid issuer's two keys. */
  keys: Record<string, string | HybridKeyEntry>;
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
  readonly #pqKeys: ReadonlyMap<string, MlDsa65PublicKey>;
  readonly #revoked: ReadonlySet<string>;
  readonly #pins: ReadonlyMap<string, string>;
  // Revocation and pins follow the keys, not the id naming them (CONTRACT §3):
  // both are also kept per raw public key (each of a hybrid issuer's two), so
  // a key listed under several ids is revoked or pinned under all of them.
  readonly #revokedKeys: ReadonlySet<string>;
  readonly #keyPins: ReadonlyMap<string, string>;
  readonly #identityCache = new Map<string, string[]>();

  private constructor(
    keys: Map<string, Ed25519PublicKey>,
    pqKeys: Map<string, MlDsa65PublicKey>,
    revoked: Set<string>,
    pins: Map<string, string>,
  ) {
    this.#keys = keys;
    this.#pqKeys = pqKeys;
    this.#revoked = revoked;
    this.#pins = pins;
    this.#revokedKeys = new Set([...revoked].flatMap((id) => this.#identities(id)));
    const keyPins = new Map<string, string>();
    for (const [id, hex] of [...pins].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const raw of this.#identities(id)) {
        const other = keyPins.get(raw);
        if (other !== undefined && other !== hex) throw twoPins(id);
        keyPins.set(raw, hex);
      }
    }
    this.#keyPins = keyPins;
    // An id whose two keys are pinned differently (through other ids) has no one pin.
    for (const id of keys.keys()) {
      const found = new Set(this.#identities(id).map((r) => keyPins.get(r)));
      found.delete(undefined);
      if (found.size > 1) throw twoPins(id);
    }
  }

  /** The keys of `id`, each tagged with its algorithm. */
  #identities(id: string): string[] {
    let out = this.#identityCache.get(id);
    if (out === undefined) {
      out = [`ed25519:${toBase64(this.#keys.get(id)!.raw)}`];
      const pq = this.#pqKeys.get(id);
      if (pq !== undefined) out.push(`ml-dsa-65:${toBase64(pq.raw)}`);
      this.#identityCache.set(id, out);
    }
    return out;
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
    const pqKeys = new Map<string, MlDsa65PublicKey>();
    for (const id of ids) {
      if (id.length === 0) throw new TrustStoreError("trust store has an empty key_id");
      let pem = rawKeys[id];
      if (isRecord(pem)) {
        const entry = pem;
        const extra = Object.keys(entry).filter(
          (k) => k !== "public_key_pem" && k !== "pq_public_key_pem",
        );
        if (extra.length > 0 || typeof entry.pq_public_key_pem !== "string") {
          throw new TrustStoreError(
            `trust store key ${
              JSON.stringify(id)
            } must be a PEM string or {"public_key_pem", "pq_public_key_pem"} (a hybrid issuer's two keys)`,
          );
        }
        try {
          pqKeys.set(id, MlDsa65PublicKey.fromPem(entry.pq_public_key_pem));
        } catch (e) {
          throw new TrustStoreError(
            `trust store key ${
              JSON.stringify(id)
            }: pq_public_key_pem is not an ML-DSA-65 public key: ${(e as Error).message}`,
            { cause: e },
          );
        }
        pem = entry.public_key_pem;
      }
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
    return new TrustStore(keys, pqKeys, new Set(rawRevoked), pins);
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

  /**
   * Whether `keyId` is revoked: listed in `revoked`, or one of its keys (the
   * Ed25519 key, or a hybrid issuer's ML-DSA-65 key) is revoked under another id.
   */
  isRevoked(keyId: string): boolean {
    if (this.#revoked.has(keyId)) return true;
    if (!this.#keys.has(keyId) || this.#revokedKeys.size === 0) return false;
    return this.#identities(keyId).some((r) => this.#revokedKeys.has(r));
  }

  /** The registered (Ed25519) public key of `keyId`, if any. */
  publicKey(keyId: string): Ed25519PublicKey | undefined {
    return this.#keys.get(keyId);
  }

  /**
   * The registered ML-DSA-65 public key of `keyId` when it is a hybrid
   * issuer's: its envelopes must then carry a valid ML-DSA-65 signature too.
   */
  mlDsa65PublicKey(keyId: string): MlDsa65PublicKey | undefined {
    return this.#pqKeys.get(keyId);
  }

  /** The pinned parameter-set hash of `keyId`'s keys (pinned under this id or any other), if any. */
  parameterSetPin(keyId: string): string | undefined {
    if (!this.#keys.has(keyId) || this.#keyPins.size === 0) return undefined;
    for (const r of this.#identities(keyId)) {
      const pin = this.#keyPins.get(r);
      if (pin !== undefined) return pin;
    }
    return undefined;
  }

  /** The full JSON shape (keys re-encoded as canonical PEM). */
  toJSON(): TrustStoreJson {
    const keys: Record<string, string | HybridKeyEntry> = {};
    for (const id of this.keyIds) {
      const ed = this.#keys.get(id)!.toPem();
      const pq = this.#pqKeys.get(id);
      keys[id] = pq === undefined ? ed : { public_key_pem: ed, pq_public_key_pem: pq.toPem() };
    }
    return {
      keys,
      revoked: [...this.#revoked].sort(),
      parameter_set_pins: Object.fromEntries([...this.#pins].sort()),
    };
  }
}

function twoPins(id: string): TrustStoreError {
  return new TrustStoreError(
    `trust store pins two parameter-set hashes for one key (key_id ${
      JSON.stringify(id)
    } and another id with the same public key): a pin applies to the key under every id`,
  );
}
