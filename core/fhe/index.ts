/**
 * Encrypted audits on CKKS (Microsoft SEAL 4.1 through node-seal 7): the
 * slot backend, parameters, keys with owner/evaluator separation, the
 * one-process runner and the split flow. See `core/fhe/README.md`.
 *
 * @module
 */
export { NODE_SEAL_VERSION, SEAL_LIBRARY, SealError } from "./seal.ts";
export {
  chooseParameters,
  type CkksParameterSet,
  MAX_COEFF_MODULUS_BITS,
  type ParameterRequest,
  POLY_MODULUS_DEGREES,
  type PolyModulusDegree,
  validateParameterSet,
} from "./params.ts";
export {
  canonicalRotationStep,
  canonicalRotationSteps,
  type EvaluationKeyOptions,
  EvaluatorKeys,
  type KeyGenProgress,
  type KeyGenProgressCallback,
  OwnerKeys,
  type SerializedEvaluationKeys,
} from "./keys.ts";
export {
  MissingKeyError,
  SealBackend,
  type SealBackendOptions,
  type SealEvaluationStats,
} from "./backend.ts";
export { SealVector } from "./vector.ts";
export {
  type CkksKeyring,
  createKeyring,
  disposeKeyring,
  encryptedAuditEnvelope,
  type EncryptedAuditOptions,
  type EncryptedAuditRun,
  type EncryptedEnvelopeOptions,
  parametersFor,
  runEncryptedAudit,
} from "./run.ts";
export {
  EncryptedAuditClient,
  type EncryptedAuditClientOptions,
  type EncryptedAuditRequest,
  type EncryptedAuditResponse,
  evaluateEncryptedAudit,
  REQUEST_VERSION,
  RESPONSE_VERSION,
} from "./split.ts";
export { CKKS_TOLERANCES, DECISION_MARGIN } from "./tolerances.ts";
