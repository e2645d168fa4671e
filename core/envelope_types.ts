/**
 * Types of signed audit envelopes (CONTRACT.md §3).
 *
 * @module
 */

/** Schema identifier of native regledger envelopes. */
export const NATIVE_SCHEMA = "regledger.envelope.v1";
/** Schema identifier of legacy envelopes made by the Python regaudit-fhe 0.0.8. */
export const LEGACY_SCHEMA = "regaudit-fhe.report.v1";

/** The six audit primitives. */
export type PrimitiveName =
  | "fairness"
  | "provenance"
  | "concordance"
  | "calibration"
  | "drift"
  | "disagreement";

/** All primitive names, in a fixed order. */
export const PRIMITIVES: readonly PrimitiveName[] = [
  "fairness",
  "provenance",
  "concordance",
  "calibration",
  "drift",
  "disagreement",
];

/** A JSON value as parsed by `JSON.parse`. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A commitment to one named input: sha256 over JCS(`{"name": n, "value": v}`), hex. */
export interface InputCommitment {
  /** Input field name. */
  name: string;
  /** Lowercase hex SHA-256. */
  sha256: string;
}

/** The signed receipt of an envelope. */
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
}

/** A signed audit envelope (native or legacy); extra legacy fields are allowed. */
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
  /** RFC 3161 style timestamp block (outside the signed body). */
  timestamp?: { [key: string]: JsonValue };
  /** The signature receipt. */
  receipt: EnvelopeReceipt;
  /** Other fields (legacy `schema_version`, `algorithm_version`). */
  [extra: string]: unknown;
}

/**
 * An envelope as received, with its canonical bytes. For legacy envelopes
 * the canonical bytes keep every number exactly as received.
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
