/**
 * Running and signing audits: the orchestration layer above the primitives'
 * exact statistics (`core/primitives`), their circuits (`core/circuits`),
 * the CKKS backend (`core/fhe`) and differential privacy (`core/dp`).
 * {@linkcode runAudit} validates an input, computes the statistic, checks it
 * against the circuit and applies DP; {@linkcode runAuditWith} runs the
 * circuit on another {@linkcode AuditBackend} (e.g. {@linkcode ckksAuditBackend});
 * {@linkcode signAuditRun} turns a run into a signed envelope.
 *
 * The folders below import nothing from this one, so none of them imports
 * another back.
 *
 * @module
 */
export * from "./run.ts";
export * from "./sign.ts";
export * from "./ckks_backend.ts";
