/**
 * The builder of native `regledger.envelope.v1` envelopes (`docs/formats.md` §2):
 * commit the inputs, hash the parameter set, write the signed body as JCS,
 * hash it into `receipt.sha256` and sign the same bytes through a
 * {@linkcode KeyProvider} (with both halves of a hybrid Ed25519 + ML-DSA-65
 * key, §2.7).
 *
 * @module
 */
import { sha256Hex } from "./bytes.ts";
import { commitInputs, type JsonObject } from "./commitments.ts";
import { encodeSignatureBase64 } from "./ed25519.ts";
import {
  type Envelope,
  type EnvelopeReceipt,
  type InputCommitment,
  type JsonValue,
  NATIVE_SCHEMA,
  type PrimitiveName,
  PRIMITIVES,
} from "./envelope_types.ts";
import { InputValidationError } from "./errors.ts";
import { canonicalBytes, canonicalize, withPointerPrefix } from "./jcs.ts";
import type { KeyProvider } from "./keys.ts";
import { encodeMlDsa65SignatureBase64, ML_DSA_65_ALG } from "./ml_dsa65.ts";
import { dateTimeProblem, formatDateTime } from "./rfc3339.ts";

// A backend reuses one parameter-set object for every envelope: remember the
// hash of its JCS text. The text is recomputed and compared on every build,
// so a changed object is hashed again; keys are the caller's objects (weak).
const parameterSetMemo = new WeakMap<object, { text: string; hash: string }>();

/**
 * What {@linkcode buildEnvelope} puts in a native envelope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope, type BuildEnvelopeOptions } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 *
 * // Commit to inputs the signer never sees by passing precomputed commitments.
 * const options: BuildEnvelopeOptions = {
 *   primitive: "fairness",
 *   backend: "plaintext",
 *   parameterSet: { backend: "plaintext" },
 *   regulations: ["EU_AI_ACT_ART10"],
 *   result: { gap: 0.02 },
 *   inputCommitments: [{ name: "y_true", sha256: "ab".repeat(32) }],
 *   depthBudget: { declared: 2, consumed: 1 },
 *   issuer: "acme",
 *   issuedAt: new Date(Date.UTC(2026, 3, 1)),
 * };
 * const env = await buildEnvelope(options, await InProcessKeyProvider.generate("k1"));
 * assert.equal(env.issued_at, "2026-04-01T00:00:00.000Z");
 * assert.deepEqual(env.input_commitments, options.inputCommitments);
 * ```
 */
export interface BuildEnvelopeOptions {
  /** The primitive that produced `result`. */
  primitive: PrimitiveName;
  /** `plaintext` or `seal-ckks`. */
  backend: string;
  /** The backend's parameter set (its JCS hash becomes `parameter_set_hash`). */
  parameterSet: JsonObject;
  /** Regulation tags. */
  regulations: string[];
  /** The audit result (must be I-JSON: no NaN, no Infinity). */
  result: JsonObject;
  /** The inputs, committed with {@linkcode commitInputs} (exactly one of `inputs`, `inputCommitments`). */
  inputs?: Record<string, JsonValue>;
  /** Commitments computed earlier with {@linkcode commitInputs}. */
  inputCommitments?: InputCommitment[];
  /** Declared and consumed multiplicative depth. */
  depthBudget: { declared: number; consumed: number };
  /** Optional differential-privacy block (signed). */
  dp?: JsonObject;
  /**
   * Optional timestamp block (not signed), or a function that gets the
   * canonical signed body and returns the block (an RFC 3161 TSA hook).
   */
  timestamp?: JsonObject | ((signedBody: Uint8Array) => Promise<JsonObject>);
  /** Issuer name. */
  issuer: string;
  /**
   * RFC 3339 issue time, checked by the one rule of `core/rfc3339.ts` (the
   * schema's `date-time` format): a string the envelope schema would reject
   * is refused with {@linkcode InputValidationError}.
   * @default {new Date().toISOString()}
   */
  issuedAt?: string | Date;
}

/**
 * Build and sign a native `regledger.envelope.v1` envelope: commit the
 * inputs, hash the parameter set, canonicalize the signed body with JCS,
 * hash it into `receipt.sha256` and sign those same bytes with `signer`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope, type BuildEnvelopeOptions } from "./envelope.ts";
 * import { InputValidationError } from "./errors.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * const signer = await InProcessKeyProvider.generate("issuer-1");
 * const options: BuildEnvelopeOptions = {
 *   primitive: "drift", backend: "plaintext", parameterSet: { backend: "plaintext" },
 *   regulations: ["EU_AI_ACT_ART15"], result: { cvm: 0.25 }, inputs: { ref: [1, 2] },
 *   depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * };
 * const env = await buildEnvelope(options, signer);
 * assert.equal(env.receipt.key_id, "issuer-1");
 * assert.deepEqual(env.input_commitments.map((c) => c.name), ["ref"]);
 * // An issue time the envelope schema would reject is refused before signing.
 * await assert.rejects(
 *   buildEnvelope({ ...options, issuedAt: "2026-13-01T00:00:00Z" }, signer),
 *   InputValidationError,
 * );
 * ```
 *
 * The envelope holds `options`' own `parameterSet`, `result`, `regulations`
 * and `dp` objects (no copies, on the hot path): do not change them after
 * signing, or the envelope no longer verifies.
 *
 * @throws {InputValidationError} when an option is not I-JSON or mistyped (pointer names it).
 * @throws {SignerError} when an external signer fails closed.
 */
export async function buildEnvelope(
  options: BuildEnvelopeOptions,
  signer: KeyProvider,
): Promise<Envelope> {
  const o = options;
  if (!PRIMITIVES.includes(o.primitive)) {
    throw new InputValidationError("/primitive", "enum", `unknown primitive ${o.primitive}`);
  }
  for (const [field, v] of [["backend", o.backend], ["issuer", o.issuer]] as const) {
    if (typeof v !== "string" || v.length === 0) {
      throw new InputValidationError(`/${field}`, "non-empty-string", `${field} must be a string`);
    }
  }
  if ((o.inputs === undefined) === (o.inputCommitments === undefined)) {
    throw new InputValidationError(
      "/input_commitments",
      "one-of",
      "give exactly one of inputs and inputCommitments",
    );
  }
  const d = o.depthBudget;
  if (!d || !Number.isSafeInteger(d.declared) || !Number.isSafeInteger(d.consumed)) {
    throw new InputValidationError(
      "/depth_budget",
      "integer",
      "declared and consumed must be integers",
    );
  }
  const issuedAt = issuedAtText(o.issuedAt);
  const commitments = o.inputCommitments === undefined
    ? withPointerPrefix("/inputs", () => commitInputs(o.inputs!))
    : checkedCommitments(o.inputCommitments);
  const psText = withPointerPrefix("/parameter_set", () => canonicalize(o.parameterSet));
  const memo = parameterSetMemo.get(o.parameterSet);
  let psHash: string;
  if (memo !== undefined && memo.text === psText) {
    psHash = memo.hash;
  } else {
    psHash = sha256Hex(psText);
    parameterSetMemo.set(o.parameterSet, { text: psText, hash: psHash });
  }
  // Members inserted in JCS order, so the canonical writer takes its fast
  // path (JSON.stringify) for every member already in order.
  const env: JsonObject = {
    backend: o.backend,
    depth_budget: { consumed: d.consumed, declared: d.declared },
  };
  if (o.dp !== undefined) env.dp = o.dp;
  env.input_commitments = commitments as unknown as JsonValue[];
  env.issued_at = issuedAt;
  env.issuer = o.issuer;
  env.parameter_set = o.parameterSet;
  env.parameter_set_hash = psHash;
  env.primitive = o.primitive;
  env.regulations = o.regulations;
  env.result = o.result;
  env.schema = NATIVE_SCHEMA;
  const bodyBytes = canonicalBytes(env);
  // Start signing first: an external (KMS/HSM) signer answers remotely, so
  // hash the body meanwhile.
  const signing = signer.sign(bodyBytes);
  const pq = signer.mlDsa65;
  const pqSigning = pq?.sign(bodyBytes);
  const bodySha256 = sha256Hex(bodyBytes);
  const [signature, pqSignature] = await Promise.all([signing, pqSigning]);
  const receipt: EnvelopeReceipt = {
    sha256: bodySha256,
    signature_alg: "Ed25519",
    signature_b64: encodeSignatureBase64(signature),
    key_id: signer.keyId,
    public_key_pem: signer.publicKeyPem,
  };
  if (pq !== undefined) {
    // Both signatures cover the same canonical signed body (§2.7).
    receipt.pq_signature_alg = ML_DSA_65_ALG;
    receipt.pq_signature_b64 = encodeMlDsa65SignatureBase64(pqSignature!);
    receipt.pq_public_key_pem = pq.publicKeyPem;
  }
  const envelope = env as unknown as Envelope;
  envelope.receipt = receipt;
  if (o.timestamp !== undefined) {
    envelope.timestamp = typeof o.timestamp === "function"
      ? await o.timestamp(bodyBytes)
      : o.timestamp;
  }
  return envelope;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** `issued_at` text: now, a `Date`, or a string that passes the one RFC 3339 rule. */
function issuedAtText(given: Date | string | undefined): string {
  if (given === undefined) return formatDateTime(new Date());
  if (given instanceof Date) {
    try {
      return formatDateTime(given);
    } catch (e) {
      throw new InputValidationError("/issued_at", "rfc3339", `issuedAt ${(e as Error).message}`);
    }
  }
  const problem = dateTimeProblem(given);
  if (problem !== undefined) {
    throw new InputValidationError(
      "/issued_at",
      "rfc3339",
      `issuedAt must be an RFC 3339 date-time: ${problem}`,
    );
  }
  return given;
}

/** Copies of precomputed commitments, checked and sorted by name as {@linkcode commitInputs} sorts. */
function checkedCommitments(list: InputCommitment[]): InputCommitment[] {
  if (!Array.isArray(list)) {
    throw new InputValidationError(
      "/input_commitments",
      "array",
      "inputCommitments must be an array",
    );
  }
  const out = list.map((c, i) => {
    if (typeof c?.name !== "string" || typeof c.sha256 !== "string" || !HEX64.test(c.sha256)) {
      throw new InputValidationError(
        `/input_commitments/${i}`,
        "commitment",
        "a commitment is {name: string, sha256: 64 lowercase hex digits}",
      );
    }
    return { name: c.name, sha256: c.sha256 };
  }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < out.length; i++) {
    if (out[i].name === out[i - 1].name) {
      throw new InputValidationError(
        "/input_commitments",
        "unique-names",
        `input ${JSON.stringify(out[i].name)} is committed twice`,
      );
    }
  }
  return out;
}
