/**
 * The split flow of an encrypted audit, across a trust boundary.
 *
 * 1. Client (data owner): {@linkcode EncryptedAuditClient.create} generates
 *    its own keys, packs and encrypts the input, and produces a JSON request
 *    `{parameter_set, depth_budget, evaluation_keys, layout, ciphertexts}`.
 *    The secret key never leaves the client.
 * 2. Evaluator (a server): {@linkcode evaluateEncryptedAudit} validates the
 *    request, loads the evaluation keys (no secret key exists on its side),
 *    runs the primitive's circuit and returns encrypted aggregates.
 * 3. Client: {@linkcode EncryptedAuditClient.finish} decrypts, finishes the
 *    statistic, and {@linkcode EncryptedAuditClient.envelope} signs a
 *    `seal-ckks` envelope whose `depth_budget.consumed` is read from the
 *    returned ciphertexts' positions in the modulus chain (not from the
 *    server's word).
 *
 * What the evaluator learns: the parameter set, the layout (sizes; for
 * provenance the public bucket of each row, for calibration the public
 * quantiles, for disagreement the public coefficients, for concordance the
 * number of bit planes) and ciphertexts.
 *
 * @module
 */
import type { Envelope, JsonValue, PrimitiveName } from "../envelope_types.ts";
import { PRIMITIVES } from "../envelope_types.ts";
import { CIRCUITS } from "../circuits/index.ts";
import type { AnyCircuit, BaseLayout } from "../circuits/circuit.ts";
import type { InputOf, ResultOf } from "../primitives/registry.ts";
import { InputValidationError } from "../errors.ts";
import { SealBackend } from "./backend.ts";
import type { SealVector } from "./vector.ts";
import {
  EvaluatorKeys,
  type KeyGenProgressCallback,
  loadCiphertext,
  OwnerKeys,
  saveCiphertext,
  type SerializedEvaluationKeys,
} from "./keys.ts";
import { type CkksParameterSet, type PolyModulusDegree, validateParameterSet } from "./params.ts";
import {
  encryptedAuditEnvelope,
  type EncryptedAuditRun,
  type EncryptedEnvelopeOptions,
  parametersFor,
} from "./run.ts";

/** Request format identifier. */
export const REQUEST_VERSION = "regledger.ckks-request.v1";
/** Response format identifier. */
export const RESPONSE_VERSION = "regledger.ckks-response.v1";

/** What the client sends: no secret key, no plaintext data beyond the public layout. */
export interface EncryptedAuditRequest {
  /** `regledger.ckks-request.v1`. */
  v: typeof REQUEST_VERSION;
  /** The primitive to evaluate. */
  primitive: PrimitiveName;
  /** The client's SEAL parameters. */
  parameter_set: CkksParameterSet;
  /** The circuit's declared depth. */
  depth_budget: number;
  /** Public, relinearization and Galois keys. */
  evaluation_keys: SerializedEvaluationKeys;
  /** The circuit's public layout. */
  layout: { [key: string]: JsonValue };
  /** Encrypted input vectors by name (zstd SEAL bytes, base64). */
  ciphertexts: Record<string, string>;
}

/** What the evaluator returns. */
export interface EncryptedAuditResponse {
  /** `regledger.ckks-response.v1`. */
  v: typeof RESPONSE_VERSION;
  /** The primitive evaluated. */
  primitive: PrimitiveName;
  /** Encrypted outputs by name. */
  ciphertexts: Record<string, string>;
  /** The evaluator's operation counts (informative; the client reads depth from the ciphertexts). */
  stats: {
    depth_consumed: number;
    add: number;
    mul_plain: number;
    mul: number;
    rotate: number;
    rescale: number;
  };
}

/** Options of {@linkcode EncryptedAuditClient.create}. */
export interface EncryptedAuditClientOptions {
  /** Force a ring dimension. */
  polyModulusDegree?: PolyModulusDegree;
  /** Key-generation progress. */
  onProgress?: KeyGenProgressCallback;
}

/** The data owner's side of a split encrypted audit. Dispose it when done. */
export class EncryptedAuditClient<P extends PrimitiveName> {
  /** The JSON-serializable request to send to the evaluator. */
  readonly request: EncryptedAuditRequest;
  readonly #primitive: P;
  readonly #input: InputOf<P>;
  readonly #circuit: AnyCircuit;
  readonly #owner: OwnerKeys;
  readonly #layout: BaseLayout;

  private constructor(
    primitive: P,
    input: InputOf<P>,
    circuit: AnyCircuit,
    owner: OwnerKeys,
    layout: BaseLayout,
    request: EncryptedAuditRequest,
  ) {
    this.#primitive = primitive;
    this.#input = input;
    this.#circuit = circuit;
    this.#owner = owner;
    this.#layout = layout;
    this.request = request;
  }

  /** Generate keys, pack and encrypt a validated input, and build the request. */
  static async create<P extends PrimitiveName>(
    primitive: P,
    input: InputOf<P>,
    options: EncryptedAuditClientOptions = {},
  ): Promise<EncryptedAuditClient<P>> {
    const circuit = CIRCUITS[primitive] as AnyCircuit;
    const params = parametersFor(circuit, input, options.polyModulusDegree);
    const owner = await OwnerKeys.generate(params, { onProgress: options.onProgress });
    try {
      const { vectors, layout } = circuit.prepare(input, params.slots);
      const evaluationKeys = owner.exportEvaluationKeys({
        rotationSteps: circuit.rotationSteps(layout),
        onProgress: options.onProgress,
      });
      const ek = owner.encryptionOnlyKeys();
      const backend = new SealBackend({ evaluator: ek, owner, depthBudget: circuit.depth });
      const ciphertexts: Record<string, string> = {};
      try {
        for (const [name, v] of Object.entries(vectors)) {
          ciphertexts[name] = backend.encryptForTransport(v);
        }
      } finally {
        backend.dispose();
        ek.dispose();
      }
      const request: EncryptedAuditRequest = {
        v: REQUEST_VERSION,
        primitive,
        parameter_set: structuredClone(params),
        depth_budget: circuit.depth,
        evaluation_keys: evaluationKeys,
        layout: JSON.parse(JSON.stringify(layout)),
        ciphertexts,
      };
      return new EncryptedAuditClient(primitive, input, circuit, owner, layout, request);
    } catch (e) {
      owner.dispose();
      throw e;
    }
  }

  /**
   * Decrypt the evaluator's response and finish the statistic.
   *
   * @throws {InputValidationError} if the response is malformed, for another
   *   primitive, or its ciphertexts are not valid for the client's parameters.
   */
  finish(response: unknown): EncryptedAuditRun<ResultOf<P>> {
    const r = response as Partial<EncryptedAuditResponse> | null;
    if (r === null || typeof r !== "object" || r.v !== RESPONSE_VERSION) {
      throw new InputValidationError("/v", "const", `response must be ${RESPONSE_VERSION}`);
    }
    if (r.primitive !== this.#primitive) {
      throw new InputValidationError(
        "/primitive",
        "same-primitive",
        `response is for ${r.primitive}`,
      );
    }
    if (r.ciphertexts === null || typeof r.ciphertexts !== "object") {
      throw new InputValidationError("/ciphertexts", "object", "ciphertexts must be an object");
    }
    const ek = this.#owner.encryptionOnlyKeys();
    const backend = new SealBackend({
      evaluator: ek,
      owner: this.#owner,
      depthBudget: this.#circuit.depth,
    });
    try {
      const t0 = performance.now();
      const decrypted: Record<string, Float64Array> = {};
      let consumed = 0;
      let bytes = 0;
      for (const [name, b64] of Object.entries(r.ciphertexts)) {
        const pointer = `/ciphertexts/${name}`;
        const v = backend.adopt(loadCiphertext(ek.seal, ek.context, b64, pointer), pointer);
        consumed = Math.max(consumed, v.level);
        bytes += typeof b64 === "string" ? b64.length : 0;
        decrypted[name] = backend.decrypt(v);
      }
      const t1 = performance.now();
      const result = this.#circuit.finish(decrypted, this.#layout, this.#input) as ResultOf<P>;
      return {
        result,
        parameterSet: structuredClone(this.#owner.params),
        depth: { declared: this.#circuit.depth, consumed },
        stats: { ...backend.stats(), depthConsumed: consumed },
        timings: {
          keygen: 0,
          encrypt: 0,
          evaluate: 0,
          decrypt: t1 - t0,
          finish: performance.now() - t1,
        },
        ciphertextBytes: { inputs: 0, outputs: Math.floor((bytes * 3) / 4) },
      };
    } finally {
      backend.dispose();
      ek.dispose();
    }
  }

  /** Sign a `seal-ckks` envelope for a finished run (inputs committed on the client). */
  envelope(
    run: EncryptedAuditRun<ResultOf<P>>,
    options: EncryptedEnvelopeOptions,
  ): Promise<Envelope> {
    return encryptedAuditEnvelope(this.#primitive, this.#input, run, options);
  }

  /** Delete the client's keys (the secret key with them). */
  dispose(): void {
    this.#owner.dispose();
  }
}

/**
 * The evaluator's side: validate a request, load its evaluation keys (there
 * is no secret key to load), run the primitive's circuit on the ciphertexts
 * and return the encrypted outputs. What a server runs for
 * `POST /v1/audit/{primitive}?backend=ckks` in the split flow.
 *
 * `options.maxDegree` refuses larger ring dimensions before any key is loaded
 * (an evaluator's body limit is derived from it: core/fhe/request_bound.ts).
 *
 * @throws {InputValidationError} naming the field and rule for any bad part of the request.
 */
export async function evaluateEncryptedAudit(
  request: unknown,
  options: { maxDegree?: PolyModulusDegree } = {},
): Promise<EncryptedAuditResponse> {
  const req = request as Partial<EncryptedAuditRequest> | null;
  if (req === null || typeof req !== "object" || req.v !== REQUEST_VERSION) {
    throw new InputValidationError("/v", "const", `request must be ${REQUEST_VERSION}`);
  }
  if (!PRIMITIVES.includes(req.primitive as PrimitiveName)) {
    throw new InputValidationError("/primitive", "enum", `unknown primitive ${req.primitive}`);
  }
  const primitive = req.primitive as PrimitiveName;
  const circuit = CIRCUITS[primitive] as AnyCircuit;
  validateParameterSet(req.parameter_set);
  const params = req.parameter_set;
  if (options.maxDegree !== undefined && params.poly_modulus_degree > options.maxDegree) {
    throw new InputValidationError(
      "/parameter_set/poly_modulus_degree",
      "max-degree",
      `this evaluator accepts ring dimensions up to ${options.maxDegree}, ` +
        `not ${params.poly_modulus_degree}`,
    );
  }
  if (req.depth_budget !== circuit.depth || params.multiplicative_depth < circuit.depth) {
    throw new InputValidationError(
      "/depth_budget",
      "circuit-depth",
      `${primitive} declares depth ${circuit.depth}; the parameters must hold it`,
    );
  }
  const layout = validateLayout(primitive, req.layout, params.slots);
  const names = inputNames(primitive, layout);
  const cts = req.ciphertexts as Record<string, unknown> | undefined;
  if (
    cts === null || typeof cts !== "object" ||
    Object.keys(cts).sort().join() !== [...names].sort().join()
  ) {
    throw new InputValidationError(
      "/ciphertexts",
      "names",
      `ciphertexts must be exactly: ${names.join(", ")}`,
    );
  }
  const keys = await EvaluatorKeys.fromSerialized(
    params,
    req.evaluation_keys as SerializedEvaluationKeys,
  );
  const backend = new SealBackend({ evaluator: keys, depthBudget: circuit.depth });
  try {
    const missing = circuit.rotationSteps(layout).filter((s) => !keys.canRotate(s));
    if (missing.length > 0) {
      throw new InputValidationError(
        "/evaluation_keys/rotation_steps",
        "covers-circuit",
        `Galois keys lack the circuit's rotation steps ${missing.join(", ")}`,
      );
    }
    const encrypted: Record<string, SealVector> = {};
    for (const name of names) {
      const pointer = `/ciphertexts/${name}`;
      encrypted[name] = backend.adopt(
        loadCiphertext(keys.seal, keys.context, cts[name], pointer),
        pointer,
      );
    }
    const outputs = circuit.evaluate(backend, encrypted, layout);
    const out: Record<string, string> = {};
    for (const [name, v] of Object.entries(outputs)) {
      out[name] = saveCiphertext(keys.seal, v.ciphertext);
    }
    const st = backend.stats();
    return {
      v: RESPONSE_VERSION,
      primitive,
      ciphertexts: out,
      stats: {
        depth_consumed: st.depthConsumed,
        add: st.ops.add,
        mul_plain: st.ops.mulPlain,
        mul: st.ops.mul,
        rotate: st.ops.rotate,
        rescale: st.ops.rescale,
      },
    };
  } finally {
    backend.dispose();
    keys.dispose();
  }
}

// ---- layout validation (the evaluator trusts nothing it is sent) -----------

function inputNames(primitive: PrimitiveName, layout: Record<string, unknown>): string[] {
  switch (primitive) {
    case "fairness":
      return ["groups", "labels", "predictions"];
    case "provenance":
      return ["attributions"];
    case "concordance": {
      const bits = layout.bits as number;
      return Array.from({ length: bits }, (_, k) => [`a${k}`, `b${k}`]).flat();
    }
    case "calibration":
      return ["scores"];
    case "drift":
      return ["p", "q"];
    case "disagreement":
      return ["x"];
  }
}

function validateLayout(
  primitive: PrimitiveName,
  value: unknown,
  slots: number,
): BaseLayout & Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InputValidationError("/layout", "object", "layout must be an object");
  }
  const l = value as Record<string, unknown>;
  const int = (field: string, min: number, max: number): number => {
    const v = l[field];
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) {
      throw new InputValidationError(
        `/layout/${field}`,
        "range",
        `${field} must be an integer in [${min}, ${max}]`,
      );
    }
    return v as number;
  };
  const pow2 = (field: string, min: number, max: number): number => {
    const v = int(field, min, max);
    if ((v & (v - 1)) !== 0) {
      throw new InputValidationError(
        `/layout/${field}`,
        "power-of-two",
        `${field} must be a power of two`,
      );
    }
    return v;
  };
  const finiteArray = (field: string, length: number): unknown[] => {
    const a = l[field];
    if (!Array.isArray(a) || a.length !== length) {
      throw new InputValidationError(
        `/layout/${field}`,
        "length",
        `${field} must be an array of ${length}`,
      );
    }
    return a;
  };
  if (l.slots !== slots) {
    throw new InputValidationError("/layout/slots", "const", `layout.slots must be ${slots}`);
  }
  switch (primitive) {
    case "fairness": {
      const block = pow2("block", 1, slots / 8);
      int("n", 1, block);
      break;
    }
    case "provenance": {
      const block = pow2("block", 1, slots);
      const n = int("n", 1, block);
      const nb = int("n_buckets", 1, Math.floor(slots / block));
      finiteArray("buckets", n).forEach((b, i) => {
        if (!Number.isSafeInteger(b) || (b as number) < 0 || (b as number) >= nb) {
          throw new InputValidationError(
            `/layout/buckets/${i}`,
            "range",
            `bucket must be an integer in [0, ${nb})`,
          );
        }
      });
      break;
    }
    case "concordance": {
      const half = pow2("half", 1, slots / 2);
      const n = int("n", 1, Math.floor(Math.sqrt(half)));
      if (n * n > half) {
        throw new InputValidationError("/layout/n", "range", "n^2 must fit in half");
      }
      int("bits", 1, 8);
      break;
    }
    case "calibration": {
      const n = int("n", 1, slots);
      finiteArray("quantiles", n).forEach((q, i) => {
        if (typeof q !== "number" || !Number.isFinite(q)) {
          throw new InputValidationError(
            `/layout/quantiles/${i}`,
            "finite",
            "quantile must be a finite number",
          );
        }
      });
      const t = l.tieTolerance;
      if (typeof t !== "number" || !Number.isFinite(t) || t < 0) {
        throw new InputValidationError(
          "/layout/tieTolerance",
          "range",
          "tieTolerance must be finite and >= 0",
        );
      }
      break;
    }
    case "drift": {
      const block = pow2("block", 1, slots / 2);
      int("n", 1, block);
      break;
    }
    case "disagreement": {
      const block = pow2("block", 1, slots);
      int("n", 1, block);
      const mb = pow2("modelBlocks", 4, Math.floor(slots / block));
      const m = int("models", 3, mb);
      finiteArray("coefficients", m).forEach((c, i) => {
        if (
          !Array.isArray(c) || c.length !== 4 ||
          !c.every((x) => typeof x === "number" && Number.isFinite(x))
        ) {
          throw new InputValidationError(
            `/layout/coefficients/${i}`,
            "cubic",
            "each model needs 4 finite coefficients",
          );
        }
      });
      break;
    }
  }
  return l as BaseLayout & Record<string, unknown>;
}
