/**
 * Witnesses, cosignatures, trust policies and ML-DSA-44 checkpoint
 * signatures (C2SP tlog-witness, tlog-cosignature, tlog-policy,
 * signed-note), as pure functions and `NoteSigner`/`NoteVerifier`
 * implementations that plug into `signNote`/`openNote` and
 * `signCheckpoint`/`openCheckpoint`.
 *
 * @module
 */
export {
  type AddCheckpointAccepted,
  type AddCheckpointDecision,
  AddCheckpointFormatError,
  type AddCheckpointRefused,
  type AddCheckpointRequest,
  cosignatureLines,
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  MAX_PROOF_LINES,
  mergeCosignatures,
  originHash,
  parseAddCheckpointRequest,
  parseConflictBody,
  TEXT_CONTENT_TYPE,
  TLOG_SIZE_CONTENT_TYPE,
  verifyCosignatureResponse,
  type WitnessLog,
  type WitnessLogState,
} from "./add_checkpoint.ts";
export {
  type AddCheckpointOutcome,
  parseWitnessArg,
  readAddCheckpointResponse,
  WitnessConfigError,
  type WitnessEndpoint,
  witnessEndpoints,
  witnessQuorum,
} from "./client.ts";
export {
  ALG_COSIGNATURE_V1,
  COSIGNATURE_V1_SIZE,
  cosignatureV1Message,
  cosignatureV1VerifierKey,
  type CosignerOptions,
  Ed25519CosignatureSigner,
  Ed25519CosignatureVerifier,
} from "./cosignature.ts";
export {
  type AnyNoteSigner,
  type ParsedVerifierKey,
  parseNoteSignerKey,
  parseNoteVerifierKey,
} from "./keys.ts";
export {
  ALG_ML_DSA_44,
  ML_DSA_44_PUBLIC_KEY_SIZE,
  ML_DSA_44_SIGNATURE_SIZE,
  type MlDsa44Engine,
  MlDsa44NoteSigner,
  MlDsa44NoteVerifier,
  type MlDsa44SignerOptions,
  mlDsa44VerifierKey,
  nobleMlDsa44,
  subtreeMessage,
  type SubtreeStatement,
} from "./mldsa.ts";
export {
  MAX_POLICY_ITEMS,
  parsePolicy,
  PolicyError,
  type PolicyFailure,
  type PolicyGroup,
  type PolicyLog,
  type PolicyVerdict,
  type PolicyWitness,
  quorumMet,
  type TrustPolicy,
  verifyCheckpointPolicy,
} from "./policy.ts";
export {
  CosignatureError,
  MAX_COSIGNATURE_TIMESTAMP,
  type SecondsClock,
  systemSeconds,
} from "./timestamp.ts";
