/**
 * regledger — a verifiable audit ledger for regulated AI.
 *
 * This entry point is what a user of the library needs, by task:
 *
 * - **Audit and sign**: {@linkcode runAudit} runs one of the six primitives
 *   (fairness, provenance, concordance, calibration, drift, disagreement);
 *   {@linkcode signAuditRun} turns the run into a signed envelope;
 *   {@linkcode buildEnvelope} signs any result you computed yourself.
 * - **Envelopes**: {@linkcode parseEnvelopeText} / {@linkcode parseEnvelopeValue}
 *   read native and legacy (regaudit-fhe) envelopes; the types describe them.
 * - **Verify**: {@linkcode TrustStore} holds the trusted issuer keys;
 *   {@linkcode checkEnvelope} / {@linkcode verifyEnvelope} check an envelope
 *   against it and name the failure (`UntrustedIssuer`, `HashMismatch`, …).
 * - **Ledger**: {@linkcode openLedger} opens a log on Deno KV (run with
 *   `--unstable-kv`); {@linkcode verifyLog} audits a whole log;
 *   {@linkcode LogClient} talks to a regledger server.
 * - **Receipts**: {@linkcode verifyTlogProof} checks a C2SP `tlog-proof@v1`
 *   receipt offline against the log's verifier key.
 *
 * Subpath exports hold the pure verifiers and the rest: `./merkle` (RFC 6962
 * hashing and proofs), `./note` (signed notes and checkpoints), `./receipt`
 * (`tlog-proof@v1`), `./jcs` (RFC 8785), `./server` (the Hono app and
 * `startServer`), `./fhe` (CKKS audits, which load the SEAL WebAssembly),
 * `./cli` (the `regledger` command) and `./pq` (the ML-DSA-65 keys of hybrid
 * post-quantum issuers).
 *
 * @example Audit, sign and verify
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   checkEnvelope,
 *   InProcessKeyProvider,
 *   parseEnvelopeValue,
 *   runAudit,
 *   signAuditRun,
 *   TrustStore,
 * } from "./mod.ts";
 *
 * const key = await InProcessKeyProvider.generate("acme-2026");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * const envelope = await signAuditRun(run, key, { issuer: "acme-bank" });
 * const store = TrustStore.fromObject({ keys: { "acme-2026": key.publicKeyPem } });
 * const verdict = await checkEnvelope(parseEnvelopeValue(envelope), store);
 * assert.equal(verdict.valid, true);
 * assert.equal(verdict.issuer, "acme-bank");
 * ```
 *
 * @module
 */

// Envelopes: build, sign, parse.
export { buildEnvelope, type BuildEnvelopeOptions } from "./core/envelope_build.ts";
export { envelopeSha256Hex, parseEnvelopeText, parseEnvelopeValue } from "./core/envelope.ts";
export { commitInput, type JsonObject } from "./core/commitments.ts";
export {
  type Envelope,
  type EnvelopeReceipt,
  type InputCommitment,
  type JsonValue,
  type ParsedEnvelope,
  type PrimitiveName,
  PRIMITIVES,
} from "./core/envelope_types.ts";
export type { JsonLimits } from "./core/json_text.ts";
export { fromBase64, toBase64 } from "./core/bytes.ts";

// Issuer keys.
export {
  externalKeyProvider,
  type ExternalSigner,
  InProcessKeyProvider,
  type KeyProvider,
} from "./core/keys.ts";
export { type Ed25519Engine, Ed25519PrivateKey, Ed25519PublicKey } from "./core/ed25519.ts";
// Hybrid (post-quantum) issuer keys: the ML-DSA-65 half (docs/formats.md §2.7);
// its key classes are in the `./pq` subpath.
export { type MlDsa65Signer } from "./core/keys.ts";

// Trust store and verification.
export { type HybridKeyEntry, TrustStore, type TrustStoreJson } from "./core/trust_store.ts";
export { readTrustStoreFile } from "./core/trust_store_file.ts";
export {
  checkEnvelope,
  type CheckResult as EnvelopeCheckResult,
  type TimestampStatus,
  type TimestampVerifier,
  type VerificationResult,
  verifyEnvelope,
  type VerifyOptions,
} from "./core/verify.ts";

// Errors: the base class, bad input, and the typed verification failures.
export {
  EnvelopeVerificationError,
  HashMismatch,
  InputValidationError,
  InvalidSignature,
  RegledgerError,
  RevokedIssuer,
  TimestampInvalid,
  UntrustedIssuer,
  WrongParameterSet,
} from "./core/errors.ts";

// The bundled JSON Schemas.
export { getSchema, type JsonSchema, SCHEMA_NAMES, type SchemaName } from "./core/schemas.ts";
export {
  check as checkSchema,
  type CheckResult as SchemaCheckResult,
  type SchemaViolation,
  validate,
} from "./core/validate.ts";

// Audits.
export {
  type AuditDpOptions,
  type AuditOptions,
  type AuditRun,
  type CircuitCheck,
  runAudit,
  type SignAuditOptions,
  signAuditRun,
} from "./core/audit/index.ts";
export type { EvaluationStats } from "./core/circuits/slots.ts";
export type { DpBlock } from "./core/dp/release.ts";

// The ledger, its audit, and the client of a remote log.
export {
  type AppendResult,
  type CommitInfo,
  Ledger,
  LedgerInputError,
  type LogEntry,
  openLedger,
  type OpenLedgerOptions,
  type QueryOptions,
  type QueryResult,
} from "./ledger/ledger.ts";
export {
  verifyLog,
  type VerifyLogOptions,
  type VerifyLogResult,
  type VerifyProgress,
} from "./ledger/verify_log.ts";
export { LedgerCorruptionError } from "./ledger/errors.ts";
export { LedgerBudgetExceededError, type PrivacyBudgetStatus } from "./ledger/privacy_budget.ts";
export { MemoryStore, type MemoryStoreOptions } from "./ledger/memory_store.ts";
export {
  LogClient,
  LogClientError,
  type LogClientOptions,
  type RemoteVerifyResult,
} from "./ledger/client.ts";

// Receipts (the same verifiers are the `./receipt` subpath).
export {
  parseTlogProof,
  type TlogProof,
  TlogProofError,
  type VerifiedTlogProof,
  verifyReceiptConsistency,
  verifyTlogProof,
} from "./ledger/tlog_proof.ts";
