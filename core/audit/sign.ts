/**
 * Turn an audit run into a signed envelope: the one place where a result,
 * its inputs, parameter set, depth and `dp` block become envelope fields.
 *
 * @module
 */
import { buildEnvelope, type JsonObject } from "../envelope.ts";
import type { Envelope, JsonValue, PrimitiveName } from "../envelope_types.ts";
import type { KeyProvider } from "../keys.ts";
import type { AuditRun } from "./run.ts";

/**
 * Who signs an audit, and when.
 *
 * @example Pin the issue time and commit only some inputs
 * ```ts
 * import assert from "node:assert/strict";
 * import { InProcessKeyProvider } from "../keys.ts";
 * import { runAudit } from "./run.ts";
 * import { type SignAuditOptions, signAuditRun } from "./sign.ts";
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const options: SignAuditOptions = {
 *   issuer: "acme",
 *   issuedAt: new Date("2026-01-02T03:04:05Z"),
 *   inputs: { p: [5, 3, 2] },
 * };
 * const envelope = await signAuditRun(runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] }), key, options);
 * assert.equal(envelope.issuer, "acme");
 * assert.ok(envelope.issued_at.startsWith("2026-01-02T03:04:05"));
 * assert.deepEqual(envelope.input_commitments.map((c) => c.name), ["p"]);
 * ```
 */
export interface SignAuditOptions {
  /** Issuer name recorded in the envelope. */
  issuer: string;
  /** RFC 3339 issue time. @default {new Date().toISOString()} */
  issuedAt?: string | Date;
  /**
   * The inputs to commit. @default the run's validated input (defaults
   * filled in), which is what the statistic was computed from
   */
  inputs?: Record<string, JsonValue>;
  /** Optional timestamp block, or a hook that gets the signed body (RFC 3161 TSA). */
  timestamp?: JsonObject | ((signedBody: Uint8Array) => Promise<JsonObject>);
}

/**
 * Sign the result of {@linkcode runAudit} (or `runAuditWith`) as a native
 * `regledger.envelope.v1` envelope: backend, parameter set, regulation tags,
 * result, input commitments, depth used and the `dp` block all come from the
 * run.
 *
 * @example
 * ```ts
 * import { InProcessKeyProvider } from "../keys.ts";
 * import { runAudit } from "./run.ts";
 * import { signAuditRun } from "./sign.ts";
 * import assert from "node:assert/strict";
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const envelope = await signAuditRun(runAudit("drift", { p: [1, 2], q: [2, 1] }), key, {
 *   issuer: "acme",
 * });
 * assert.equal(envelope.primitive, "drift");
 * assert.equal(envelope.issuer, "acme");
 * assert.equal(envelope.receipt.key_id, "acme-1");
 * ```
 *
 * @throws {InputValidationError} when the run holds a value that is not I-JSON.
 * @throws {SignerError} when an external signer fails closed.
 */
export function signAuditRun<P extends PrimitiveName>(
  run: AuditRun<P>,
  signer: KeyProvider,
  options: SignAuditOptions,
): Promise<Envelope> {
  return buildEnvelope({
    primitive: run.primitive,
    backend: run.backend,
    parameterSet: run.parameterSet,
    regulations: run.regulations,
    // Results and inputs are plain JSON records by construction (validated input, computed result).
    result: run.result as unknown as JsonObject,
    inputs: options.inputs ?? (run.input as unknown as Record<string, JsonValue>),
    depthBudget: run.depth,
    dp: run.dp as unknown as JsonObject | undefined,
    issuer: options.issuer,
    issuedAt: options.issuedAt,
    timestamp: options.timestamp,
  }, signer);
}
