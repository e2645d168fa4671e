/**
 * Run an audit primitive encrypted, end to end in one process (the CLI and
 * server path): choose parameters for the circuit, generate keys (Galois
 * keys only for the circuit's rotation steps), pack and encrypt, evaluate
 * on an evaluator-only backend (no secret key), decrypt and finish.
 *
 * The owner and evaluator roles stay separate even here: evaluation runs on
 * a {@linkcode SealBackend} built without the owner's keys, exactly as on a
 * remote server (`split.ts`).
 *
 * @module
 */
import type { PrimitiveName } from "../envelope_types.ts";
import type { AnyCircuit } from "../circuits/circuit.ts";
import { CIRCUITS } from "../circuits/index.ts";
import type { InputOf, ResultOf } from "../primitives/registry.ts";
import { PRIMITIVE_SPECS } from "../primitives/registry.ts";
import { buildEnvelope } from "../envelope.ts";
import type { JsonObject } from "../envelope.ts";
import type { KeyProvider } from "../keys.ts";
import type { Envelope, JsonValue } from "../envelope_types.ts";
import { SealBackend, type SealEvaluationStats } from "./backend.ts";
import type { SealVector } from "./vector.ts";
import { type EvaluatorKeys, type KeyGenProgressCallback, OwnerKeys } from "./keys.ts";
import { chooseParameters, type CkksParameterSet, type PolyModulusDegree } from "./params.ts";

/** An owner's keys and the matching evaluation keys, reusable across runs. */
export interface CkksKeyring {
  /** The owner's keys (secret). */
  owner: OwnerKeys;
  /** Evaluation keys (public, relinearization, Galois). */
  evaluator: EvaluatorKeys;
}

/**
 * Generate a keyring for `params` with Galois keys for `rotationSteps`.
 * Dispose it with {@linkcode disposeKeyring}.
 */
export async function createKeyring(
  params: CkksParameterSet,
  rotationSteps: Iterable<number>,
  onProgress?: KeyGenProgressCallback,
): Promise<CkksKeyring> {
  const owner = await OwnerKeys.generate(params, { onProgress });
  try {
    return { owner, evaluator: owner.evaluationKeys({ rotationSteps, onProgress }) };
  } catch (e) {
    owner.dispose();
    throw e;
  }
}

/** Free a keyring's SEAL objects. */
export function disposeKeyring(keyring: CkksKeyring): void {
  keyring.evaluator.dispose();
  keyring.owner.dispose();
}

/** Options of {@linkcode runEncryptedAudit}. */
export interface EncryptedAuditOptions {
  /** Force a ring dimension (default: the smallest that fits the circuit's depth and slots). */
  polyModulusDegree?: PolyModulusDegree;
  /** Key-generation progress (stages only, never key material). */
  onProgress?: KeyGenProgressCallback;
  /** Use this circuit instead of the registry's (e.g. a calibration tie tolerance). */
  circuit?: AnyCircuit;
  /**
   * Reuse keys (tests, benchmarks, batch audits). Their parameters must hold
   * the circuit; their Galois keys must cover its rotation steps. Not
   * disposed by the run.
   */
  keyring?: CkksKeyring;
  /** Measure serialized ciphertext sizes (after the timed phases). @default true */
  measureBytes?: boolean;
}

/** What one encrypted run produced and used. */
export interface EncryptedAuditRun<O> {
  /** The audit result, finished by the owner from decrypted aggregates. */
  result: O;
  /** The live SEAL parameters (the envelope's `parameter_set`). */
  parameterSet: CkksParameterSet;
  /** Declared depth (the circuit's) and consumed depth (read from the modulus chain). */
  depth: { declared: number; consumed: number };
  /** Operation counts of the evaluation. */
  stats: SealEvaluationStats;
  /** Wall-clock milliseconds per phase (`keygen` is 0 when a keyring was given). */
  timings: { keygen: number; encrypt: number; evaluate: number; decrypt: number; finish: number };
  /** Serialized (zstd) bytes of the input and output ciphertexts (0 when not measured). */
  ciphertextBytes: { inputs: number; outputs: number };
}

/** The parameters an encrypted run of `circuit` on `input` uses. */
export function parametersFor(
  circuit: AnyCircuit,
  input: unknown,
  polyModulusDegree?: PolyModulusDegree,
): CkksParameterSet {
  return chooseParameters({
    depth: circuit.depth,
    slots: circuit.minSlots(input),
    polyModulusDegree,
  });
}

/**
 * Run `primitive` on a validated input under CKKS (owner and evaluator in
 * one process, with separate keys). Validate untrusted JSON first with
 * `PRIMITIVE_SPECS[primitive].parse`.
 *
 * @example
 * ```ts ignore
 * const run = await runEncryptedAudit("drift", { p: [1, 2, 3], q: [3, 2, 1] });
 * run.result.drift_bit; run.parameterSet.poly_modulus_degree; run.depth.consumed;
 * ```
 * @throws {InputValidationError} when no 128-bit parameter set holds the circuit.
 * @throws {MissingKeyError} when a given keyring lacks a rotation step.
 * @throws {DepthBudgetExceededError} if the circuit exceeds its declared depth.
 */
export async function runEncryptedAudit<P extends PrimitiveName>(
  primitive: P,
  input: InputOf<P>,
  options: EncryptedAuditOptions = {},
): Promise<EncryptedAuditRun<ResultOf<P>>> {
  const circuit = options.circuit ?? CIRCUITS[primitive];
  const wanted = parametersFor(circuit, input, options.polyModulusDegree);
  const params = options.keyring?.owner.params ?? wanted;
  if (params.multiplicative_depth < circuit.depth || params.slots < circuit.minSlots(input)) {
    throw new RangeError(`the keyring's parameters do not hold the ${primitive} circuit`);
  }
  const t0 = performance.now();
  const { vectors, layout } = circuit.prepare(input, params.slots);
  let keyring = options.keyring;
  const ownKeys = keyring === undefined;
  keyring ??= await createKeyring(params, circuit.rotationSteps(layout), options.onProgress);
  const t1 = performance.now();
  const owner = new SealBackend({
    evaluator: keyring.evaluator,
    owner: keyring.owner,
    depthBudget: circuit.depth,
  });
  const server = new SealBackend({ evaluator: keyring.evaluator, depthBudget: circuit.depth });
  try {
    const encrypted: Record<string, SealVector> = {};
    for (const [name, v] of Object.entries(vectors)) {
      const ct = owner.encrypt(v);
      // Hand the ciphertext to the evaluator as a copy it owns.
      encrypted[name] = server.adopt(ct.ciphertext.copy());
    }
    const t2 = performance.now();
    const outputs = circuit.evaluate(server, encrypted, layout);
    const t3 = performance.now();
    const decrypted: Record<string, Float64Array> = {};
    let consumed = 0;
    for (const [name, v] of Object.entries(outputs)) {
      const mine = owner.adopt(v.ciphertext.copy());
      consumed = Math.max(consumed, mine.level);
      decrypted[name] = owner.decrypt(mine);
    }
    const t4 = performance.now();
    const result = circuit.finish(decrypted, layout, input) as ResultOf<P>;
    const t5 = performance.now();
    // Serialized sizes, measured outside the timed phases (zstd of MBs is not free).
    let inputBytes = 0;
    let outputBytes = 0;
    if (options.measureBytes !== false) {
      for (const v of Object.values(encrypted)) inputBytes += server.ciphertextBytes(v);
      for (const v of Object.values(outputs)) outputBytes += server.ciphertextBytes(v);
    }
    return {
      result,
      parameterSet: structuredClone(params),
      depth: { declared: circuit.depth, consumed },
      stats: server.stats(),
      timings: {
        keygen: ownKeys ? t1 - t0 : 0,
        encrypt: t2 - t1,
        evaluate: t3 - t2,
        decrypt: t4 - t3,
        finish: t5 - t4,
      },
      ciphertextBytes: { inputs: inputBytes, outputs: outputBytes },
    };
  } finally {
    server.dispose();
    owner.dispose();
    if (ownKeys) disposeKeyring(keyring);
  }
}

/** Options of {@linkcode encryptedAuditEnvelope}. */
export interface EncryptedEnvelopeOptions {
  /** The issuer's signing key. */
  signer: KeyProvider;
  /** Issuer name. */
  issuer: string;
  /** RFC 3339 issue time. @default now */
  issuedAt?: string | Date;
  /**
   * The inputs to commit, as received (so commitments match the plaintext
   * path's, which commits the raw JSON). @default the validated input
   */
  committedInputs?: Record<string, JsonValue>;
}

/**
 * Sign a native envelope for an encrypted run: backend `seal-ckks`,
 * `parameter_set` = the live SEAL parameters, `depth_budget.consumed` = the
 * depth the ciphertexts actually used, inputs committed.
 */
export function encryptedAuditEnvelope<P extends PrimitiveName>(
  primitive: P,
  input: InputOf<P>,
  run: EncryptedAuditRun<ResultOf<P>>,
  options: EncryptedEnvelopeOptions,
): Promise<Envelope> {
  return buildEnvelope({
    primitive,
    backend: "seal-ckks",
    parameterSet: run.parameterSet as unknown as JsonObject,
    regulations: [...PRIMITIVE_SPECS[primitive].regulations],
    result: run.result as unknown as JsonObject,
    inputs: options.committedInputs ?? (input as unknown as Record<string, JsonValue>),
    depthBudget: run.depth,
    issuer: options.issuer,
    issuedAt: options.issuedAt,
  }, options.signer);
}
