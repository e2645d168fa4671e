/**
 * regledger — a verifiable audit ledger for regulated AI.
 *
 * - Six audit primitives (fairness, provenance, concordance, calibration,
 *   drift, disagreement), on plaintext or under CKKS homomorphic encryption.
 * - Ed25519-signed audit envelopes with input commitments, verified against a
 *   trust store (legacy regaudit-fhe envelopes verify byte-exactly).
 * - A SHA-256 hash chain that is also an RFC 6962 Merkle tree on Deno KV,
 *   with C2SP signed checkpoints and `tlog-proof@v1` receipts.
 *
 * @module
 */
export * from "./core/bytes.ts";
export * from "./core/errors.ts";
export * from "./core/envelope_types.ts";
export * from "./core/circuits/slots.ts";
