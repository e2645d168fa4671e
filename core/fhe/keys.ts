/**
 * CKKS keys with owner/evaluator separation.
 *
 * - {@linkcode OwnerKeys}: the data owner's side. Holds the secret key (it
 *   never leaves this object: there is no export of it), encrypts, decrypts,
 *   and makes evaluation keys.
 * - {@linkcode EvaluatorKeys}: what an evaluator holds: the public key (to
 *   make encryptions of zero), relinearization keys and Galois keys for
 *   exactly the rotation steps a circuit uses. No secret key.
 *
 * Evaluation keys serialize (zstd, base64) for transport; keys generated for
 * transport are SEAL's seeded "serializable" form, about half the size.
 * Every SEAL object here is deleted by `dispose()` (WebAssembly memory is
 * not garbage collected).
 *
 * @module
 */
import type {
  Ciphertext,
  GaloisKeys,
  KeyGenerator,
  PublicKey,
  RelinKeys,
  SEALContext,
} from "node-seal";
import { InputValidationError } from "../errors.ts";
import { fromBase64, toBase64 } from "../bytes.ts";
import type { CkksParameterSet } from "./params.ts";
import { createSealContext, validateParameterSet } from "./params.ts";
import type { SealModule } from "./seal.ts";
import { loadSeal, sealCall, SealError } from "./seal.ts";

/** A stage of key generation, reported to a progress callback. */
export interface KeyGenProgress {
  /** What was just generated. */
  stage: "secret-key" | "public-key" | "relin-keys" | "galois-keys";
  /** Stages completed so far. */
  completed: number;
  /** Stages in this call. */
  total: number;
  /** For `galois-keys`: how many rotation steps they cover. */
  rotationSteps?: number;
}

/** Receives key-generation progress (never key material). */
export type KeyGenProgressCallback = (progress: KeyGenProgress) => void;

/** Evaluation keys as transported in JSON (zstd-compressed SEAL bytes, standard base64). */
export interface SerializedEvaluationKeys {
  /** Public key (lets the evaluator encrypt zeros). */
  public_key: string;
  /** Relinearization keys. */
  relin_keys: string;
  /** Galois keys for `rotation_steps`, or null when the circuit never rotates. */
  galois_keys: string | null;
  /** Canonical rotation steps (in [1, slots)) the Galois keys cover, ascending. */
  rotation_steps: number[];
}

/**
 * The canonical form of a rotation step: `steps mod slots`, in [0, slots).
 * Left rotation by `k` and by `k - slots` is the same Galois automorphism,
 * so both use one key.
 */
export function canonicalRotationStep(steps: number, slots: number): number {
  if (!Number.isInteger(steps)) {
    throw new InputValidationError(
      "/rotation_steps",
      "integer",
      `rotation step must be an integer, got ${steps}`,
    );
  }
  return ((steps % slots) + slots) % slots;
}

/** Canonical, distinct, non-zero rotation steps, ascending. */
export function canonicalRotationSteps(steps: Iterable<number>, slots: number): number[] {
  const set = new Set<number>();
  for (const s of steps) {
    const c = canonicalRotationStep(s, slots);
    if (c !== 0) set.add(c);
  }
  return [...set].sort((a, b) => a - b);
}

/** Options for making evaluation keys. */
export interface EvaluationKeyOptions {
  /** Rotation steps the circuit uses (any integers; normalized mod slots). */
  rotationSteps: Iterable<number>;
  /** Progress callback for the (slow) Galois key generation. */
  onProgress?: KeyGenProgressCallback;
}

/** The data owner's keys: secret, public; encrypts and decrypts. */
export class OwnerKeys {
  /**
   * The SEAL runtime.
   * @internal (SEAL handle)
   */
  readonly seal: SealModule;
  /** The parameters the keys belong to. */
  readonly params: CkksParameterSet;
  /**
   * The owner's SEAL context.
   * @internal (SEAL handle)
   */
  readonly context: SEALContext;
  readonly #keygen: KeyGenerator;
  readonly #publicKey: PublicKey;
  #disposed = false;

  private constructor(
    seal: SealModule,
    params: CkksParameterSet,
    context: SEALContext,
    keygen: KeyGenerator,
    pk: PublicKey,
  ) {
    this.seal = seal;
    this.params = params;
    this.context = context;
    this.#keygen = keygen;
    this.#publicKey = pk;
  }

  /**
   * Generate a fresh secret and public key for `params`.
   *
   * @throws {InputValidationError} if the parameters are invalid.
   */
  static async generate(
    params: CkksParameterSet,
    options: { onProgress?: KeyGenProgressCallback } = {},
  ): Promise<OwnerKeys> {
    const seal = await loadSeal();
    const context = createSealContext(seal, params);
    const keygen = sealCall("KeyGenerator", () => new seal.KeyGenerator(context));
    options.onProgress?.({ stage: "secret-key", completed: 1, total: 2 });
    const pk = sealCall("createPublicKey", () => keygen.createPublicKey());
    options.onProgress?.({ stage: "public-key", completed: 2, total: 2 });
    return new OwnerKeys(seal, structuredClone(params), context, keygen, pk);
  }

  #live(): void {
    if (this.#disposed) throw new SealError("OwnerKeys", "keys were disposed");
  }

  /**
   * A new Encryptor (public and secret key: the owner encrypts symmetrically,
   * about 2.4x faster than public-key encryption and half the transport size
   * when seeded) and Decryptor (secret key); the caller deletes both.
   * @internal (SEAL handle)
   */
  createCryptors(): {
    encryptor: import("node-seal").Encryptor;
    decryptor: import("node-seal").Decryptor;
  } {
    this.#live();
    const sk = this.#keygen.secretKey();
    try {
      const encryptor = new this.seal.Encryptor(this.context, this.#publicKey, sk);
      const decryptor = new this.seal.Decryptor(this.context, sk);
      return { encryptor, decryptor };
    } finally {
      sk.delete();
    }
  }

  /**
   * Evaluation keys held in memory, for an evaluator in the same process.
   * Galois keys cover exactly the canonical `rotationSteps`.
   */
  evaluationKeys(options: EvaluationKeyOptions): EvaluatorKeys {
    this.#live();
    const steps = canonicalRotationSteps(options.rotationSteps, this.params.slots);
    const total = steps.length > 0 ? 2 : 1;
    const relin = sealCall("createRelinKeys", () => this.#keygen.createRelinKeys());
    options.onProgress?.({ stage: "relin-keys", completed: 1, total });
    let galois: GaloisKeys | null = null;
    if (steps.length > 0) {
      galois = sealCall(
        "createGaloisKeysWithSteps",
        () => this.#keygen.createGaloisKeysWithSteps(Int32Array.from(steps)),
      );
      options.onProgress?.({
        stage: "galois-keys",
        completed: 2,
        total,
        rotationSteps: steps.length,
      });
    }
    // A copy shares SEAL's precomputed chain (building a context costs seconds at N = 2^15).
    const context = this.context.copy();
    return new EvaluatorKeys(
      this.seal,
      this.params,
      context,
      this.#publicKey.copy(),
      relin,
      galois,
      steps,
    );
  }

  /**
   * Keys for an owner-side backend that only encrypts and decrypts: a
   * context and the public key, no relinearization or Galois keys (no
   * key-switching work).
   */
  encryptionOnlyKeys(): EvaluatorKeys {
    this.#live();
    return new EvaluatorKeys(
      this.seal,
      this.params,
      this.context.copy(),
      this.#publicKey.copy(),
      new this.seal.RelinKeys(),
      null,
      [],
    );
  }

  /**
   * Evaluation keys for transport: SEAL's seeded serializable form, zstd,
   * base64. Nothing secret is included.
   */
  exportEvaluationKeys(options: EvaluationKeyOptions): SerializedEvaluationKeys {
    this.#live();
    const steps = canonicalRotationSteps(options.rotationSteps, this.params.slots);
    const zstd = this.seal.ComprModeType.zstd;
    const total = steps.length > 0 ? 2 : 1;
    const pkBytes = this.#publicKey.saveToArray(zstd) as Uint8Array;
    const relin = sealCall(
      "createRelinKeysSerializable",
      () => this.#keygen.createRelinKeysSerializable(),
    );
    let relinBytes: Uint8Array;
    try {
      relinBytes = relin.saveToArray(zstd) as Uint8Array;
    } finally {
      relin.delete();
    }
    options.onProgress?.({ stage: "relin-keys", completed: 1, total });
    let galoisB64: string | null = null;
    if (steps.length > 0) {
      const g = sealCall(
        "createGaloisKeysSerializableWithSteps",
        () => this.#keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(steps)),
      );
      try {
        galoisB64 = toBase64(g.saveToArray(zstd) as Uint8Array);
      } finally {
        g.delete();
      }
      options.onProgress?.({
        stage: "galois-keys",
        completed: 2,
        total,
        rotationSteps: steps.length,
      });
    }
    return {
      public_key: toBase64(pkBytes),
      relin_keys: toBase64(relinBytes),
      galois_keys: galoisB64,
      rotation_steps: steps,
    };
  }

  /** Delete every SEAL object (the secret key with them). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#publicKey.delete();
    this.#keygen.delete();
    this.context.delete();
  }
}

/** An evaluator's keys: public, relinearization and Galois keys; no secret key. */
export class EvaluatorKeys {
  /**
   * The SEAL runtime.
   * @internal (SEAL handle)
   */
  readonly seal: SealModule;
  /** The parameters the keys belong to. */
  readonly params: CkksParameterSet;
  /**
   * The evaluator's own SEAL context.
   * @internal (SEAL handle)
   */
  readonly context: SEALContext;
  /**
   * Public key (for encryptions of zero).
   * @internal (SEAL handle)
   */
  readonly publicKey: PublicKey;
  /**
   * Relinearization keys.
   * @internal (SEAL handle)
   */
  readonly relinKeys: RelinKeys;
  /**
   * Galois keys, or null when no rotation steps were requested.
   * @internal (SEAL handle)
   */
  readonly galoisKeys: GaloisKeys | null;
  /** Canonical rotation steps the Galois keys cover. */
  readonly rotationSteps: readonly number[];
  #disposed = false;

  /**

   * Wrap already-made keys (used by {@linkcode OwnerKeys.evaluationKeys}).

   * @internal (SEAL handle)

   */
  constructor(
    seal: SealModule,
    params: CkksParameterSet,
    context: SEALContext,
    publicKey: PublicKey,
    relinKeys: RelinKeys,
    galoisKeys: GaloisKeys | null,
    rotationSteps: readonly number[],
  ) {
    this.seal = seal;
    this.params = params;
    this.context = context;
    this.publicKey = publicKey;
    this.relinKeys = relinKeys;
    this.galoisKeys = galoisKeys;
    this.rotationSteps = Object.freeze([...rotationSteps]);
  }

  /**
   * Load transported evaluation keys for `params` (validated first).
   *
   * @throws {InputValidationError} for a bad parameter set or undecodable keys.
   */
  static async fromSerialized(
    params: CkksParameterSet,
    keys: SerializedEvaluationKeys,
  ): Promise<EvaluatorKeys> {
    validateParameterSet(params);
    const seal = await loadSeal();
    const context = createSealContext(seal, params);
    const made: { delete(): void }[] = [];
    try {
      const steps = keys.rotation_steps;
      if (
        !Array.isArray(steps) ||
        steps.some((s, i) =>
          !Number.isInteger(s) || s < 1 || s >= params.slots || (i > 0 && s <= steps[i - 1])
        )
      ) {
        throw new InputValidationError(
          "/evaluation_keys/rotation_steps",
          "canonical",
          "rotation_steps must be ascending distinct integers in [1, slots)",
        );
      }
      const pk = new seal.PublicKey();
      made.push(pk);
      loadKey(
        "public_key",
        () => pk.loadFromArray(context, decodeField("public_key", keys.public_key)),
      );
      const rk = new seal.RelinKeys();
      made.push(rk);
      loadKey(
        "relin_keys",
        () => rk.loadFromArray(context, decodeField("relin_keys", keys.relin_keys)),
      );
      let gk: GaloisKeys | null = null;
      if (steps.length > 0) {
        if (typeof keys.galois_keys !== "string") {
          throw new InputValidationError(
            "/evaluation_keys/galois_keys",
            "required",
            "galois_keys are required when rotation_steps is not empty",
          );
        }
        const g = new seal.GaloisKeys();
        made.push(g);
        const bytes = decodeField("galois_keys", keys.galois_keys);
        loadKey("galois_keys", () => g.loadFromArray(context, bytes));
        gk = g;
      }
      return new EvaluatorKeys(seal, structuredClone(params), context, pk, rk, gk, steps);
    } catch (e) {
      for (const m of made) m.delete();
      context.delete();
      throw e;
    }
  }

  /** Whether a Galois key exists for a rotation by `steps` (0 needs none). */
  canRotate(steps: number): boolean {
    const c = canonicalRotationStep(steps, this.params.slots);
    return c === 0 || this.rotationSteps.includes(c);
  }

  /** Delete every SEAL object. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.publicKey.delete();
    this.relinKeys.delete();
    this.galoisKeys?.delete();
    this.context.delete();
  }
}

function decodeField(field: string, b64: unknown): Uint8Array {
  if (typeof b64 !== "string") {
    throw new InputValidationError(
      `/evaluation_keys/${field}`,
      "base64",
      `${field} must be a base64 string`,
    );
  }
  try {
    return fromBase64(b64);
  } catch (e) {
    throw new InputValidationError(
      `/evaluation_keys/${field}`,
      "base64",
      `${field} is not valid base64`,
      { cause: e },
    );
  }
}

function loadKey(field: string, fn: () => void): void {
  try {
    sealCall(`load ${field}`, fn);
  } catch (e) {
    throw new InputValidationError(
      `/evaluation_keys/${field}`,
      "seal-key",
      `${field} is not a SEAL key for these parameters (${(e as Error).message})`,
      { cause: e },
    );
  }
}

/** Serialize a ciphertext for transport: zstd-compressed SEAL bytes, standard base64. */
export function saveCiphertext(seal: SealModule, ct: Ciphertext): string {
  return toBase64(ct.saveToArray(seal.ComprModeType.zstd) as Uint8Array);
}

/**
 * Load a transported ciphertext into `context` (SEAL checks it belongs to
 * these parameters). The caller owns the result.
 *
 * @throws {InputValidationError} naming `pointer` if it is not a valid ciphertext.
 */
export function loadCiphertext(
  seal: SealModule,
  context: SEALContext,
  b64: unknown,
  pointer: string,
): Ciphertext {
  if (typeof b64 !== "string") {
    throw new InputValidationError(pointer, "base64", "ciphertext must be a base64 string");
  }
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(b64);
  } catch (e) {
    throw new InputValidationError(pointer, "base64", "ciphertext is not valid base64", {
      cause: e,
    });
  }
  const ct = new seal.Ciphertext();
  try {
    sealCall("load ciphertext", () => ct.loadFromArray(context, bytes));
  } catch (e) {
    ct.delete();
    throw new InputValidationError(
      pointer,
      "seal-ciphertext",
      `not a SEAL ciphertext for these parameters`,
      { cause: e },
    );
  }
  return ct;
}
