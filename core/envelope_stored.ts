/**
 * The signed-body hash of an envelope as the ledger stores it (its
 * canonical bytes), fast: audits recompute it for every entry.
 *
 * @module
 */
import { sha256, utf8 } from "./bytes.ts";
import type { JsonObject } from "./commitments.ts";
import { checkShape, isPlain, parseEnvelopeText, signedBodySha256, UNSIGNED } from "./envelope.ts";
import { NATIVE_SCHEMA } from "./envelope_types.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * `signedBodySha256(parseEnvelopeText(bytes))`, several times faster for
 * what the ledger stores: when `bytes` are already the canonical (RFC 8785)
 * text of a native envelope of the right shape, the signed body is those
 * bytes without the `receipt` and `timestamp` members, hashed without
 * building a {@linkcode ParsedEnvelope}. Anything else (legacy envelopes,
 * non-canonical text, a shape or limit `parseEnvelopeText` refuses) takes
 * the full parse, so the result and the errors are the same for every input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope, parseEnvelopeValue, signedBodySha256 } from "./envelope.ts";
 * import { storedSignedBodySha256 } from "./envelope_stored.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 * const parsed = parseEnvelopeValue(envelope);
 * assert.deepEqual(storedSignedBodySha256(parsed.canonical), signedBodySha256(parsed));
 * // Not canonical (a space): the full parse gives the same answer.
 * const spaced = new TextEncoder().encode(JSON.stringify(envelope, null, 1));
 * assert.deepEqual(storedSignedBodySha256(spaced), signedBodySha256(parsed));
 * ```
 *
 * @throws {JsonParseError | EnvelopeFormatError} when `bytes` are not an envelope.
 */
export function storedSignedBodySha256(bytes: Uint8Array): Uint8Array {
  return canonicalNativeBodySha256(bytes) ?? signedBodySha256(parseEnvelopeText(bytes));
}

/**
 * The signed body's SHA-256 when `bytes` are the canonical text of a native
 * envelope that `parseEnvelopeText` accepts (its body is then these bytes
 * without the unsigned members), else null.
 */
function canonicalNativeBodySha256(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length > 16 * 1024 * 1024 || bytes[0] !== 0x7b) return null;
  let v: unknown;
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
    v = JSON.parse(text);
  } catch {
    return null;
  }
  // A lone surrogate can only be written as an escape (the bytes are valid
  // UTF-8); JSON.stringify would write it back the same, JCS refuses it.
  if (!isPlain(v) || v.schema !== NATIVE_SCHEMA || LONE_SURROGATE_ESCAPE.test(text)) return null;
  const members: string[] = [];
  const unsigned: boolean[] = [];
  let prev: string | undefined;
  for (const k in v) {
    // Keys in text order (JSON.parse keeps it, except integer-like keys,
    // which then fail the comparison below): strictly ascending is JCS order.
    if ((prev !== undefined && !(prev < k)) || k === "__proto__") return null;
    prev = k;
    const x = v[k];
    if (!jcsOrdered(x, 1)) return null;
    members.push(JSON.stringify(k) + ":" + JSON.stringify(x));
    unsigned.push(UNSIGNED.has(k));
  }
  // JSON.stringify writes strings and numbers as JCS does; with the keys
  // already sorted, equal text means the bytes are canonical.
  if ("{" + members.join(",") + "}" !== text) return null;
  try {
    checkShape(v as JsonObject, "native");
  } catch {
    return null;
  }
  const signed = members.filter((_, i) => !unsigned[i]);
  if (bytes.length !== text.length) return sha256(utf8("{" + signed.join(",") + "}"));
  // ASCII: the body is byte ranges of `bytes` (member texts at known offsets).
  const length = signed.reduce((n, m) => n + m.length, 0) + Math.max(0, signed.length - 1);
  const body = new Uint8Array(length + 2);
  body[0] = 0x7b;
  let at = 1;
  let from = 1;
  members.forEach((m, i) => {
    if (!unsigned[i]) {
      if (at > 1) body[at++] = 0x2c;
      body.set(bytes.subarray(from, from + m.length), at);
      at += m.length;
    }
    from += m.length + 1;
  });
  body[at] = 0x7d;
  return sha256(body);
}

const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** Whether the objects in `v` are nested within the parse limits, with their keys in JCS order. */
function jcsOrdered(v: unknown, depth: number): boolean {
  if (typeof v !== "object" || v === null) return true;
  if (depth >= 48) return false; // well within the parser's nesting limit
  if (Array.isArray(v)) return v.every((x) => jcsOrdered(x, depth + 1));
  let prev: string | undefined;
  for (const k in v) {
    if ((prev !== undefined && !(prev < k)) || k === "__proto__") return false;
    prev = k;
    if (!jcsOrdered((v as Record<string, unknown>)[k], depth + 1)) return false;
  }
  return true;
}
