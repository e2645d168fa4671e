/**
 * Signed audit envelopes (`docs/formats.md` §2, canonical forms §1): parsing with canonical bytes and
 * the bytes verification works on. Re-exports the input commitments
 * (`commitments.ts`) and the builder (`envelope_build.ts`).
 *
 * Native envelopes (`regledger.envelope.v1`) are canonicalized with RFC 8785
 * JCS. Legacy envelopes (`regaudit-fhe.report.v1`) keep the canonical form
 * regaudit-fhe 0.0.8 signed: Python's `json.dumps(body, sort_keys=True,
 * separators=(",", ":"), ensure_ascii=False)` with every number written as
 * received. In both, `receipt.sha256` is the hex SHA-256 of the canonical
 * signed body (the envelope without `receipt` and `timestamp`) and the
 * Ed25519 signature covers those same canonical bytes (established against
 * the regaudit-fhe fixtures: not the digest, not its hex).
 *
 * @module
 */
import { fromHex, sha256, sha256Hex, utf8 } from "./bytes.ts";
import { type JsonObject, parameterSetHash } from "./commitments.ts";
import {
  type Envelope,
  type JsonValue,
  LEGACY_SCHEMA,
  NATIVE_SCHEMA,
  type ParsedEnvelope,
  type PrimitiveName,
  PRIMITIVES,
} from "./envelope_types.ts";
import { dpBlockProblem } from "./dp/budgets.ts";
import { EnvelopeFormatError, InputValidationError } from "./errors.ts";
import { canonicalize, pointerToken } from "./jcs.ts";
import { type JsonLimits, type LosslessJsonValue, parseJson, parseJsonText } from "./json_text.ts";
import { compareCodePoints, pythonDumps } from "./python_json.ts";

export * from "./commitments.ts";
export * from "./envelope_build.ts";

/** What verification needs that parsing already computed (kept off the public object). */
interface Derived {
  /** Canonical bytes of the signed body. */
  body: Uint8Array;
  /** Hex SHA-256 of `body`. */
  bodySha256: string;
  /** Hex SHA-256 of JCS(parameter_set) for native envelopes. */
  parameterSetHash?: string;
}

// Parsed envelopes are deep-frozen, so what parsing derived stays true for them.
const derived = new WeakMap<ParsedEnvelope, Derived>();

/** The envelope members outside the signed body. */
export const UNSIGNED: ReadonlySet<string> = new Set(["receipt", "timestamp"]);

/**
 * Parse an envelope from its JSON text or UTF-8 bytes, with hostile-input
 * limits, and compute its canonical bytes and identity. Native envelopes
 * are canonicalized with JCS; legacy ones with Python's form, numbers as
 * received. The result is deep-frozen.
 *
 * @throws {JsonParseError} when the text is not acceptable JSON.
 * @throws {EnvelopeFormatError} when the JSON is not an envelope (unknown
 * `schema`, missing or mistyped field), naming the field's JSON pointer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope, parseEnvelopeText } from "./envelope.ts";
 * import { canonicalize } from "./jcs.ts";
 * import { EnvelopeFormatError } from "./errors.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 * // Whitespace and member order of the text do not matter: the canonical bytes are JCS.
 * const parsed = parseEnvelopeText(JSON.stringify(envelope, null, 2));
 * assert.equal(new TextDecoder().decode(parsed.canonical), canonicalize(envelope));
 * assert.throws(() => parseEnvelopeText('{"schema":"other.v1"}'), EnvelopeFormatError);
 * ```
 */
export function parseEnvelopeText(input: string | Uint8Array, limits?: JsonLimits): ParsedEnvelope {
  // Python writes NaN/Infinity by default, so legacy text may hold them;
  // JCS then rejects them in native envelopes. Native envelopes need plain
  // numbers only; a legacy one is parsed again keeping each number's text.
  const lim = { allowNonFinite: true, ...limits };
  const plain = parseJson(input, lim);
  if (!isPlain(plain)) {
    throw new EnvelopeFormatError("", "object", "an envelope must be a JSON object");
  }
  const schema = plain.schema;
  if (schema === NATIVE_SCHEMA) return fromNativeValue(plain as JsonObject);
  if (schema === LEGACY_SCHEMA) {
    const tree = parseJsonText(input, lim) as { [key: string]: LosslessJsonValue };
    const value = plain as JsonObject;
    checkShape(value, "legacy");
    const [canonical, body] = canonicalPair(tree, compareCodePoints, (v) => pythonDumps(v));
    return finish("legacy", value, canonical, { body, bodySha256: sha256Hex(body) });
  }
  throw new EnvelopeFormatError(
    "/schema",
    "enum",
    `unknown envelope schema ${
      JSON.stringify(schema)
    } (expected ${NATIVE_SCHEMA} or ${LEGACY_SCHEMA})`,
  );
}

/**
 * A native envelope that is already a JS object (e.g. from
 * {@linkcode buildEnvelope}) as a {@linkcode ParsedEnvelope}. Legacy
 * envelopes must come from {@linkcode parseEnvelopeText}, because their
 * canonical form needs each number's source text.
 *
 * @throws {EnvelopeFormatError} when `envelope` is not a well-formed native envelope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope, parseEnvelopeValue } from "./envelope.ts";
 * import { EnvelopeFormatError } from "./errors.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 * const parsed = parseEnvelopeValue(envelope);
 * assert.equal(parsed.kind, "native");
 * assert.ok(Object.isFrozen(parsed.value));
 * const { issuer: _, ...missing } = envelope;
 * assert.throws(() => parseEnvelopeValue(missing), EnvelopeFormatError);
 * ```
 */
export function parseEnvelopeValue(envelope: unknown): ParsedEnvelope {
  if (!isPlain(envelope)) {
    throw new EnvelopeFormatError("", "object", "an envelope must be a JSON object");
  }
  if (envelope.schema === LEGACY_SCHEMA) {
    throw new EnvelopeFormatError(
      "/schema",
      "lossless-text",
      "legacy envelopes must be parsed from their JSON text (parseEnvelopeText)",
    );
  }
  if (envelope.schema !== NATIVE_SCHEMA) {
    throw new EnvelopeFormatError(
      "/schema",
      "enum",
      `unknown envelope schema ${JSON.stringify(envelope.schema)}`,
    );
  }
  // A private deep copy, so later changes to the caller's object cannot reach it.
  let copy: JsonObject;
  try {
    copy = JSON.parse(canonicalize(envelope));
  } catch (e) {
    throw asFormatError(e);
  }
  return fromNativeValue(copy);
}

function fromNativeValue(value: JsonObject): ParsedEnvelope {
  checkShape(value, "native");
  let pair: [Uint8Array, Uint8Array];
  let psText: string | undefined;
  try {
    // JCS(parameter_set) is written once, as a member, and hashed from there.
    pair = canonicalPair(value, undefined, canonicalize, (k, text) => {
      if (k === "parameter_set") psText = text;
    });
  } catch (e) {
    throw asFormatError(e);
  }
  return finish("native", value, pair[0], {
    body: pair[1],
    bodySha256: sha256Hex(pair[1]),
    parameterSetHash: psText === undefined
      ? parameterSetHash(value.parameter_set as JsonObject)
      : sha256Hex(psText),
  });
}

function tail(message: string): string {
  return message.slice(message.indexOf(": ") + 2);
}

function asFormatError(e: unknown): unknown {
  if (e instanceof InputValidationError && !(e instanceof EnvelopeFormatError)) {
    return new EnvelopeFormatError(e.pointer, e.rule, tail(e.message), { cause: e });
  }
  return e;
}

function finish(
  kind: "native" | "legacy",
  value: JsonObject,
  canonical: Uint8Array,
  d: Derived,
): ParsedEnvelope {
  deepFreeze(value);
  const parsed: ParsedEnvelope = Object.freeze({
    kind,
    value: value as unknown as Envelope,
    canonical,
    sha256: sha256(canonical),
  });
  derived.set(parsed, d);
  return parsed;
}

/**
 * Canonical bytes of the whole envelope and of its signed body, writing each
 * member once (`written`, when given, sees each member's value text). `order`
 * undefined means UTF-16 code-unit order (JCS).
 */
function canonicalPair<T>(
  obj: { [key: string]: T },
  order: ((a: string, b: string) => number) | undefined,
  write: (v: T) => string,
  written?: (key: string, text: string) => void,
): [Uint8Array, Uint8Array] {
  const keys = Object.keys(obj).sort(order);
  const all: string[] = [];
  const signed: string[] = [];
  for (const k of keys) {
    let member: string;
    try {
      const text = write(obj[k]);
      written?.(k, text);
      member = JSON.stringify(k) + ":" + text;
    } catch (e) {
      if (e instanceof InputValidationError) {
        throw new InputValidationError("/" + pointerToken(k) + e.pointer, e.rule, tail(e.message));
      }
      throw e;
    }
    all.push(member);
    if (!UNSIGNED.has(k)) signed.push(member);
  }
  return [utf8("{" + all.join(",") + "}"), utf8("{" + signed.join(",") + "}")];
}

/** Whether `v` is a plain JSON object. */
export function isPlain(v: unknown): v is { [key: string]: LosslessJsonValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
}

function deepFreeze(v: unknown): void {
  if (typeof v !== "object" || v === null || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
}

const RECEIPT_FIELDS = ["sha256", "signature_alg", "signature_b64", "key_id", "public_key_pem"];
/** A hybrid issuer's ML-DSA-65 half (§2.7): all three or none, native envelopes only. */
const PQ_RECEIPT_FIELDS = ["pq_signature_alg", "pq_signature_b64", "pq_public_key_pem"];

/**
 * Check the fields verification relies on (the JSON Schemas check the rest).
 * @throws {EnvelopeFormatError} naming the field.
 */
export function checkShape(v: JsonObject, kind: "native" | "legacy"): void {
  const fail = (pointer: string, rule: string, msg: string): never => {
    throw new EnvelopeFormatError(pointer, rule, msg);
  };
  const r = v.receipt;
  if (!isPlain(r)) fail("/receipt", "object", "receipt must be an object");
  const receipt = r as JsonObject;
  for (const f of RECEIPT_FIELDS) {
    if (typeof receipt[f] !== "string") {
      fail(`/receipt/${f}`, "string", `receipt.${f} must be a string`);
    }
  }
  const pq = PQ_RECEIPT_FIELDS.filter((f) => receipt[f] !== undefined);
  if (pq.length > 0) {
    if (kind === "legacy") {
      fail(`/receipt/${pq[0]}`, "no-extra-members", "legacy envelopes have no ML-DSA-65 signature");
    }
    for (const f of PQ_RECEIPT_FIELDS) {
      if (typeof receipt[f] !== "string") {
        fail(
          `/receipt/${f}`,
          "string",
          `receipt.${f} must be a string (a hybrid receipt has ${PQ_RECEIPT_FIELDS.join(", ")})`,
        );
      }
    }
  }
  // The receipt is outside the signed body: admit nothing there that the
  // signatures cannot vouch for.
  for (const f of Object.keys(receipt)) {
    if (!RECEIPT_FIELDS.includes(f) && !(kind === "native" && PQ_RECEIPT_FIELDS.includes(f))) {
      fail(
        `/receipt/${pointerToken(f)}`,
        "no-extra-members",
        `unknown receipt member ${JSON.stringify(f)}`,
      );
    }
  }
  if (!isPlain(v.parameter_set)) {
    fail("/parameter_set", "object", "parameter_set must be an object");
  }
  if (typeof v.parameter_set_hash !== "string") {
    fail("/parameter_set_hash", "string", "parameter_set_hash must be a string");
  }
  // regaudit-fhe writes `"timestamp": null` when no time-stamping authority was used.
  const nullOk = kind === "legacy" && v.timestamp === null;
  if (v.timestamp !== undefined && !nullOk && !isPlain(v.timestamp)) {
    fail("/timestamp", "object", "timestamp must be an object");
  }
  if (kind === "legacy") return;
  for (const f of ["primitive", "backend", "issued_at", "issuer"]) {
    if (typeof v[f] !== "string") fail(`/${f}`, "string", `${f} must be a string`);
  }
  if (!PRIMITIVES.includes(v.primitive as PrimitiveName)) {
    fail("/primitive", "enum", `unknown primitive ${JSON.stringify(v.primitive)}`);
  }
  if (!isPlain(v.result)) fail("/result", "object", "result must be an object");
  if (!Array.isArray(v.regulations) || !v.regulations.every((x) => typeof x === "string")) {
    fail("/regulations", "string-array", "regulations must be an array of strings");
  }
  const ic = v.input_commitments;
  if (!Array.isArray(ic)) fail("/input_commitments", "array", "input_commitments must be an array");
  (ic as JsonValue[]).forEach((c, i) => {
    if (!isPlain(c) || typeof c.name !== "string" || typeof c.sha256 !== "string") {
      fail(`/input_commitments/${i}`, "commitment", "a commitment is {name, sha256} strings");
    }
  });
  const db = v.depth_budget;
  if (!isPlain(db) || typeof db.declared !== "number" || typeof db.consumed !== "number") {
    fail("/depth_budget", "object", "depth_budget must be {declared, consumed} numbers");
  }
  if (v.dp !== undefined && !isPlain(v.dp)) fail("/dp", "object", "dp must be an object");
  const dpBad = dpBlockProblem(v.dp);
  if (dpBad) fail(dpBad.pointer, "dp", dpBad.message);
}

/**
 * The canonical bytes of the whole envelope (receipt and timestamp
 * included): what the ledger stores and what `parsed.sha256` hashes.
 */
export function canonicalEnvelopeBytes(parsed: ParsedEnvelope): Uint8Array {
  return parsed.canonical;
}

/**
 * Lowercase hex of `parsed.sha256`, the envelope's identity in the ledger.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope, envelopeSha256Hex, parseEnvelopeValue } from "./envelope.ts";
 * import { sha256Hex, toHex } from "./bytes.ts";
 * import { canonicalize } from "./jcs.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 * const parsed = parseEnvelopeValue(envelope);
 * assert.equal(envelopeSha256Hex(parsed), sha256Hex(canonicalize(envelope)));
 * assert.equal(envelopeSha256Hex(parsed), toHex(parsed.sha256));
 * ```
 */
export function envelopeSha256Hex(parsed: ParsedEnvelope): string {
  return sha256Hex(parsed.canonical);
}

/**
 * The canonical bytes of the signed body (the envelope without `receipt`
 * and `timestamp`): what `receipt.sha256` hashes and the signature covers.
 */
export function signedBodyBytes(parsed: ParsedEnvelope): Uint8Array {
  return resolveEnvelope(parsed).body;
}

/**
 * SHA-256 of the canonical signed body (32 bytes; `receipt.sha256` is its hex
 * once verified): the envelope's identity for deduplication in the ledger
 * (`docs/formats.md` §2.6). Members outside the signature (`receipt`,
 * `timestamp`) do not change it, so one signed body is one log entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEnvelope, parseEnvelopeValue, signedBodySha256 } from "./envelope.ts";
 * import { toHex } from "./bytes.ts";
 * import { InProcessKeyProvider } from "./keys.ts";
 *
 * const key = await InProcessKeyProvider.generate("k1");
 * const envelope = await buildEnvelope({
 *   primitive: "drift", backend: "plaintext", parameterSet: {}, regulations: [],
 *   result: { cvm: 0.1 }, inputs: {}, depthBudget: { declared: 1, consumed: 1 }, issuer: "acme",
 * }, key);
 * const parsed = parseEnvelopeValue(envelope);
 * assert.equal(toHex(signedBodySha256(parsed)), envelope.receipt.sha256);
 * // A timestamp block added later changes the whole envelope, not the signed body.
 * const stamped = parseEnvelopeValue({ ...envelope, timestamp: { token_b64: "AAAA" } });
 * assert.notDeepEqual(stamped.sha256, parsed.sha256);
 * assert.deepEqual(signedBodySha256(stamped), signedBodySha256(parsed));
 * ```
 *
 * @throws {JsonParseError | EnvelopeFormatError} when `parsed` was not made
 * by this module and its `canonical` bytes are not an envelope.
 */
export function signedBodySha256(parsed: ParsedEnvelope): Uint8Array {
  return fromHex(resolveEnvelope(parsed).bodySha256);
}

/** An envelope whose derived bytes come from this module, with those bytes. */
export interface ResolvedEnvelope {
  /** The envelope (re-parsed from `canonical` if it was not made by this module). */
  envelope: ParsedEnvelope;
  /** Canonical bytes of the signed body. */
  body: Uint8Array;
  /** Hex SHA-256 of `body`, computed when the envelope was parsed. */
  bodySha256: string;
  /** Hex SHA-256 of JCS(parameter_set), native envelopes only. */
  parameterSetHash?: string;
}

/**
 * What verification works on. A {@linkcode ParsedEnvelope} made by this
 * module is deep-frozen, so the bytes derived when it was parsed still hold;
 * one made elsewhere is re-parsed from its `canonical` bytes (which are what
 * the ledger stores and hashes), and its `value` is not trusted.
 *
 * @throws {JsonParseError | EnvelopeFormatError} when `canonical` is not an envelope.
 */
export function resolveEnvelope(parsed: ParsedEnvelope): ResolvedEnvelope {
  let d = derived.get(parsed);
  let envelope = parsed;
  if (!d) {
    envelope = parseEnvelopeText(parsed.canonical);
    d = derived.get(envelope)!;
  }
  return {
    envelope,
    body: d.body,
    bodySha256: d.bodySha256,
    parameterSetHash: d.parameterSetHash,
  };
}
