/**
 * regledger — a verifiable audit ledger for regulated AI.
 *
 * - Six audit primitives (fairness, provenance, concordance, calibration,
 *   drift, disagreement), on plaintext or under CKKS homomorphic encryption
 *   (Microsoft SEAL through node-seal).
 * - Ed25519-signed audit envelopes with input commitments, verified against a
 *   trust store; legacy regaudit-fhe envelopes verify byte-exactly.
 * - A SHA-256 hash chain that is also an RFC 6962 Merkle tree on Deno KV,
 *   with C2SP signed checkpoints and `tlog-proof@v1` receipts, and the pure
 *   verifiers that check them anywhere.
 *
 * @example Audit, sign and verify
 * ```ts
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
 * if (!verdict.valid) throw new Error(verdict.reason);
 * ```
 *
 * The HTTP server (Hono app factory and `startServer`) is a separate entry
 * point, `@regledger/regledger/server`, so that library users who only verify
 * do not load it. Encrypted audits (CKKS on node-seal: keys with owner and
 * evaluator separated, the one-process runner, the split client/evaluator
 * flow) are `@regledger/regledger/fhe`, which loads the SEAL WebAssembly.
 *
 * @module
 */
export * from "./core/bytes.ts";
export * from "./core/errors.ts";
export * from "./core/envelope_types.ts";
export * from "./core/jcs.ts";
export * from "./core/json_text.ts";
export * from "./core/python_json.ts";
export * from "./core/ed25519.ts";
export * from "./core/keys.ts";
export * from "./core/trust_store.ts";
export * from "./core/envelope.ts";
export * from "./core/verify.ts";
export * from "./core/schemas.ts";
export {
  check as checkSchema,
  type CheckResult as SchemaCheckResult,
  type SchemaViolation,
  validate,
  withDefaults,
} from "./core/validate.ts";
export * from "./core/primitives/index.ts";
export * from "./core/audit/run.ts";
export * from "./core/audit/sign.ts";
export * from "./core/circuits/index.ts";
export * from "./core/dp/index.ts";
export * from "./ledger/index.ts";
export type * from "./ledger/store.ts";
export * from "./ledger/merkle/mod.ts";
export * from "./ledger/leaf.ts";
export * from "./ledger/note.ts";
export * from "./ledger/checkpoint.ts";
export * from "./ledger/tlog_proof.ts";
