/**
 * Timestamps on envelopes: the verifier interface, the status a verification
 * reports, and the one rule that decides whether a `timestamp` block counts
 * (docs/formats.md §2.5).
 *
 * @module
 */
import type { JsonValue, ParsedEnvelope } from "./envelope_types.ts";
import { TimestampInvalid } from "./errors.ts";

/**
 * Checks an envelope's `timestamp` block (e.g. an RFC 3161 token) against the
 * canonical signed body it should cover. Return `false` or throw to reject.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { TrustStore } from "./trust_store.ts";
 * import { type TimestampVerifier, verifyEnvelope } from "./verify.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = parseEnvelopeValue(await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 *   timestamp: { tsa: "example-tsa", token_b64: "AAAA" },
 * }, key));
 * // A real verifier checks an RFC 3161 token over `signedBody`; this one accepts one TSA.
 * const timestampVerifier: TimestampVerifier = (signedBody, ts) =>
 *   signedBody.length > 0 && ts.tsa === "example-tsa";
 * const store = TrustStore.fromObject({ k1: key.publicKeyPem });
 * const r = await verifyEnvelope(envelope, store, { timestampVerifier });
 * assert.equal(r.timestamp, "verified");
 * ```
 */
export type TimestampVerifier = (
  signedBody: Uint8Array,
  timestamp: { [key: string]: JsonValue },
) => boolean | Promise<boolean>;

/**
 * What verification says of an envelope's `timestamp` block.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TimestampStatus } from "./verify.ts";
 * const s: TimestampStatus = "not-checked";
 * assert.ok(["absent", "verified", "not-checked"].includes(s));
 * ```
 */
export type TimestampStatus = "absent" | "verified" | "not-checked";

/**
 * The timestamp rule of envelope verification: an absent block (or a legacy
 * `null`) is `absent`; a legacy block without a non-empty `token_b64` is
 * refused as regaudit-fhe 0.0.8 refuses it; any other block counts only when
 * the configured verifier accepts it (a legacy one without a verifier is
 * `not-checked`, and is refused for storage).
 * @throws {TimestampInvalid} naming what failed.
 */
export async function checkTimestamp(
  envelope: ParsedEnvelope,
  body: Uint8Array,
  options: { timestampVerifier?: TimestampVerifier; forStorage?: boolean },
  keyId: string,
): Promise<TimestampStatus> {
  const ts = envelope.value.timestamp as { [key: string]: JsonValue } | null | undefined;
  // regaudit-fhe writes no block, or null, when no time-stamping authority was used.
  if (ts === undefined || (ts === null && envelope.kind === "legacy")) return "absent";
  if (ts === null) throw new TimestampInvalid("timestamp must be an object", keyId);
  if (envelope.kind === "legacy" && (typeof ts.token_b64 !== "string" || ts.token_b64 === "")) {
    throw new TimestampInvalid(
      "timestamp block has no non-empty token_b64 (regaudit-fhe 0.0.8 rejects it)",
      keyId,
    );
  }
  if (!options.timestampVerifier) {
    if (envelope.kind === "legacy" && !options.forStorage) return "not-checked";
    throw new TimestampInvalid(
      "timestamp block present but no timestamp verifier is configured: " +
        "an unchecked timestamp is not accepted",
      keyId,
    );
  }
  let ok: boolean;
  try {
    ok = await options.timestampVerifier(body, ts);
  } catch (e) {
    throw new TimestampInvalid(
      `timestamp verifier rejected the token: ${(e as Error)?.message}`,
      keyId,
      {
        cause: e,
      },
    );
  }
  if (ok !== true) throw new TimestampInvalid("timestamp verifier rejected the token", keyId);
  return "verified";
}
