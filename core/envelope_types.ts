/**
 * Types of signed audit envelopes (`docs/formats.md` §2.1).
 *
 * @module
 */

/** Schema identifier of native regledger envelopes. */
export const NATIVE_SCHEMA = "regledger.envelope.v1";
/** Schema identifier of legacy envelopes made by the Python regaudit-fhe 0.0.8. */
export const LEGACY_SCHEMA = "regaudit-fhe.report.v1";

/**
 * The six audit primitives.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type PrimitiveName, PRIMITIVES } from "./envelope_types.ts";
 *
 * const p: PrimitiveName = "fairness";
 * assert.ok(PRIMITIVES.includes(p));
 * ```
 */
export type PrimitiveName =
  | "fairness"
  | "provenance"
  | "concordance"
  | "calibration"
  | "drift"
  | "disagreement";

/**
 * All primitive names, in a fixed order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRIMITIVES } from "./envelope_types.ts";
 *
 * assert.deepEqual(PRIMITIVES, [
 *   "fairness", "provenance", "concordance", "calibration", "drift", "disagreement",
 * ]);
 * ```
 */
export const PRIMITIVES: readonly PrimitiveName[] = [
  "fairness",
  "provenance",
  "concordance",
  "calibration",
  "drift",
  "disagreement",
];

/**
 * A JSON value as parsed by `JSON.parse`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { JsonValue } from "./envelope_types.ts";
 *
 * const v: JsonValue = { cvm: 0.25, groups: ["a", "b"], drift: null };
 * assert.deepEqual(JSON.parse(JSON.stringify(v)), v);
 * ```
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * A commitment to one named input: sha256 over JCS(`{"name": n, "value": v}`), hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commitInput } from "./commitments.ts";
 * import type { InputCommitment } from "./envelope_types.ts";
 *
 * const c: InputCommitment = commitInput("p", [1, 2]);
 * assert.equal(c.name, "p");
 * assert.match(c.sha256, /^[0-9a-f]{64}$/);
 * ```
 */
export interface InputCommitment {
  /** Input field name. */
  name: string;
  /** Lowercase hex SHA-256. */
  sha256: string;
}

/**
 * The signed receipt of an envelope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope } from "./envelope.ts";
 * import type { EnvelopeReceipt } from "./envelope_types.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: { p: [1, 2] }, depthBudget: { declared: 1, consumed: 1 },
 *   issuer: "acme", issuedAt: "2026-04-01T12:00:00Z",
 * }, key);
 * const receipt: EnvelopeReceipt = envelope.receipt;
 * assert.equal(receipt.signature_alg, "Ed25519");
 * assert.equal(receipt.key_id, "k1");
 * assert.equal(receipt.public_key_pem, key.publicKeyPem);
 * ```
 */
export interface EnvelopeReceipt {
  /** Lowercase hex SHA-256 of the canonical signed body. */
  sha256: string;
  /** Always "Ed25519". */
  signature_alg: "Ed25519";
  /** Standard base64 Ed25519 signature over the canonical signed body bytes. */
  signature_b64: string;
  /** The issuer's key identifier in the trust store. */
  key_id: string;
  /** The issuer's SPKI PEM public key. */
  public_key_pem: string;
  /** Hybrid issuers only: always "ML-DSA-65" (`docs/formats.md` §2.7). */
  pq_signature_alg?: "ML-DSA-65";
  /** Hybrid issuers only: standard base64 ML-DSA-65 signature over the same canonical signed body bytes. */
  pq_signature_b64?: string;
  /** Hybrid issuers only: the issuer's ML-DSA-65 SPKI PEM public key (RFC 9881). */
  pq_public_key_pem?: string;
}

/**
 * A signed audit envelope (native or legacy); extra legacy fields are allowed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope } from "./envelope.ts";
 * import { type Envelope, NATIVE_SCHEMA } from "./envelope_types.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: { p: [1, 2] }, depthBudget: { declared: 1, consumed: 1 },
 *   issuer: "acme", issuedAt: "2026-04-01T12:00:00Z",
 * }, key);
 * const e: Envelope = envelope;
 * assert.equal(e.schema, NATIVE_SCHEMA);
 * assert.equal(e.issued_at, "2026-04-01T12:00:00Z");
 * assert.deepEqual(e.input_commitments.map((c) => c.name), ["p"]);
 * ```
 */
export interface Envelope {
  /** `regledger.envelope.v1` or `regaudit-fhe.report.v1`. */
  schema: string;
  /** Which primitive produced `result`. */
  primitive: PrimitiveName;
  /** `plaintext` or `seal-ckks`. */
  backend: string;
  /** Encryption / backend parameters. */
  parameter_set: { [key: string]: JsonValue };
  /** Lowercase hex SHA-256 of JCS(parameter_set). */
  parameter_set_hash: string;
  /** Regulation tags. */
  regulations: string[];
  /** The audit result. */
  result: { [key: string]: JsonValue };
  /** Commitments to every input field. */
  input_commitments: InputCommitment[];
  /** Declared and consumed multiplicative depth. */
  depth_budget: { declared: number; consumed: number };
  /** RFC 3339 issue time. */
  issued_at: string;
  /** Issuer name. */
  issuer: string;
  /** Differential-privacy block (inside the signed body). */
  dp?: { [key: string]: JsonValue };
  /** RFC 3161 style timestamp block (outside the signed body); a legacy envelope may carry `null` (no TSA used). */
  timestamp?: { [key: string]: JsonValue };
  /** The signature receipt. */
  receipt: EnvelopeReceipt;
  /** Other fields (legacy `schema_version`, `algorithm_version`). */
  [extra: string]: unknown;
}

/**
 * An envelope as received, with its canonical bytes. For legacy envelopes
 * the canonical bytes keep every number exactly as received.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope, parseEnvelopeText } from "./envelope.ts";
 * import type { ParsedEnvelope } from "./envelope_types.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: { p: [1, 2] }, depthBudget: { declared: 1, consumed: 1 },
 *   issuer: "acme", issuedAt: "2026-04-01T12:00:00Z",
 * }, key);
 * const parsed: ParsedEnvelope = parseEnvelopeText(JSON.stringify(envelope));
 * assert.equal(parsed.kind, "native");
 * assert.equal(parsed.value.issuer, "acme");
 * assert.equal(parsed.sha256.length, 32);
 * ```
 */
export interface ParsedEnvelope {
  /** `native` (JCS) or `legacy` (Python json.dumps form). */
  kind: "native" | "legacy";
  /** The envelope as a plain object (numbers as JS numbers; display only for legacy). */
  value: Envelope;
  /** Canonical bytes of the whole envelope (what the ledger stores and hashes). */
  canonical: Uint8Array;
  /** SHA-256 of `canonical`: the envelope's identity in the ledger. */
  sha256: Uint8Array;
}
