/**
 * The input side of the group commit (`group_commit.ts`): what one queued
 * append carries, and the checks an envelope passes before it is queued
 * (size, the leaf fields' lengths, the primitive, the `dp` block), with the
 * bytes derived from its canonical form.
 *
 * @module
 */
import { sha256, utf8Length } from "../core/bytes.ts";
import { resolveEnvelope, signedBodySha256 } from "../core/envelope.ts";
import { type ParsedEnvelope, PRIMITIVES } from "../core/envelope_types.ts";
import { datasetRelease, DpBlockError } from "../core/dp/budgets.ts";
import { LedgerInputError } from "./errors.ts";
import type { EntrySize } from "./store.ts";
import type { BudgetCharge } from "./privacy_budget.ts";
import type { AppendResult } from "./wire.ts";

/** One queued append. */
export interface Pending {
  env: ParsedEnvelope;
  /** SHA-256 of the whole canonical envelope (the leaf's `envelope_sha256`). */
  sha: Uint8Array;
  /** SHA-256 of the canonical signed body: the dedup key. */
  body: Uint8Array;
  canonical: Uint8Array;
  issuer: string;
  primitive: string;
  issuedAt: string;
  keyId: string;
  /** What it charges to a privacy budget (`privacy_budget.ts`). */
  charge: BudgetCharge;
  size: EntrySize;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/** A checked append before it is queued (no caller to answer yet). */
export type PreparedAppend = Omit<Pending, "resolve" | "reject">;

const MAX_FIELD_BYTES = { issuer: 512, primitive: 64, issued_at: 64, key_id: 512 } as const;

function fieldString(v: Record<string, unknown>, name: keyof typeof MAX_FIELD_BYTES): string {
  const pointer = name === "key_id" ? "/receipt/key_id" : `/${name}`;
  const x = name === "key_id"
    ? (v.receipt as Record<string, unknown> | undefined)?.key_id
    : v[name];
  if (typeof x !== "string" || x.length === 0) {
    throw new LedgerInputError(pointer, "must be a non-empty string");
  }
  if (utf8Length(x) > MAX_FIELD_BYTES[name]) {
    throw new LedgerInputError(pointer, `must be at most ${MAX_FIELD_BYTES[name]} UTF-8 bytes`);
  }
  return x;
}

/**
 * Check `env` for a store that holds envelopes of at most `maxEnvelopeBytes`
 * canonical bytes and derive what its append needs.
 * @throws {LedgerInputError} when the envelope is too large or a field is too long.
 */
export function prepareAppend(env: ParsedEnvelope, maxEnvelopeBytes: number): PreparedAppend {
  if (!env || !(env.canonical instanceof Uint8Array)) {
    throw new LedgerInputError("", "not a parsed envelope (use parseEnvelopeText)");
  }
  const max = maxEnvelopeBytes;
  if (env.canonical.length > max) {
    throw new LedgerInputError(
      "",
      `envelope is ${env.canonical.length} canonical bytes; the ledger stores at most ${max}`,
    );
  }
  // Trust only bytes derived by core/envelope.ts from the canonical form.
  const resolved = resolveEnvelope(env).envelope;
  const v = resolved.value as unknown as Record<string, unknown>;
  const canonical = resolved.canonical;
  const issuer = fieldString(v, "issuer");
  const primitive = fieldString(v, "primitive");
  if (!(PRIMITIVES as readonly string[]).includes(primitive)) {
    throw new LedgerInputError("/primitive", `must be one of ${PRIMITIVES.join(", ")}`);
  }
  const issuedAt = fieldString(v, "issued_at");
  const keyId = fieldString(v, "key_id");
  let release;
  try {
    release = datasetRelease(v);
  } catch (e) {
    if (e instanceof DpBlockError) throw new LedgerInputError(e.pointer, e.message);
    throw e;
  }
  return {
    charge: { issuer, release },
    env: resolved,
    sha: sha256(canonical),
    body: signedBodySha256(resolved),
    canonical,
    issuer,
    primitive,
    issuedAt,
    keyId,
    size: {
      envelopeBytes: canonical.length,
      fieldBytes: utf8Length(issuer) + utf8Length(primitive) + utf8Length(issuedAt) +
        utf8Length(keyId),
    },
  };
}
