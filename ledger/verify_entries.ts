/**
 * The per-entry CPU of the local audit (`verifyLog`) for one range of
 * entries: the entry check (canonical leaf naming its index, hash chain,
 * envelope hash) and the signed-body hash recomputed from the stored
 * envelope. The same function runs on the audit's thread or in its worker
 * (`ledger/verify_entries_worker.ts`), so both give the same answers and
 * the same messages.
 *
 * @module
 */
import { storedSignedBodySha256 } from "../core/envelope_stored.ts";
import { checkEntry, EntryCheckError } from "./entry_check.ts";

/** What a range's entries computed, up to the first fault (hashes packed, 32 bytes each). */
export interface RangeChecked {
  /** Entries from the start of the range that passed the entry check. */
  ok: number;
  /** Entries from the start whose signed body hashed (`ok` or `ok - 1`). */
  bodies: number;
  /** Leaf hashes of the first `ok` entries. */
  leafHashes: Uint8Array;
  /** Envelope SHA-256 of the first `ok` entries. */
  envelopeHashes: Uint8Array;
  /** Signed-body SHA-256 of the first `bodies` entries. */
  bodyHashes: Uint8Array;
  /** The first `ok` entries' leaf fields the audit needs. */
  issuer: string[];
  primitive: string[];
  issuedAt: string[];
  /**
   * The first fault, at entry `start + ok` ("entry": its check failed;
   * "error": it threw something else) or `start + bodies` ("body").
   */
  fault?: { kind: "entry" | "body" | "error"; message: string };
}

/**
 * Check entries `start …` (`leaves[i]`, `envelopes[i]`), the first one
 * against `prev`; stops at the first fault. Returns the last leaf hash
 * checked too (the next range's `prev`).
 */
export function checkRange(
  start: number,
  prev: Uint8Array,
  leaves: readonly Uint8Array[],
  envelopes: readonly Uint8Array[],
): { checked: RangeChecked; last: Uint8Array } {
  const count = leaves.length;
  const leafHashes = new Uint8Array(32 * count);
  const envelopeHashes = new Uint8Array(32 * count);
  const bodyHashes = new Uint8Array(32 * count);
  const issuer: string[] = [];
  const primitive: string[] = [];
  const issuedAt: string[] = [];
  let fault: RangeChecked["fault"];
  let ok = 0;
  let bodies = 0;
  for (let i = 0; i < count; i++) {
    const n = start + i;
    try {
      const c = checkEntry(n, leaves[i], envelopes[i], prev);
      leafHashes.set(c.leafHash, 32 * i);
      envelopeHashes.set(c.envelopeSha256, 32 * i);
      issuer.push(c.fields.issuer);
      primitive.push(c.fields.primitive);
      issuedAt.push(c.fields.issued_at);
      prev = c.leafHash;
      ok++;
    } catch (err) {
      fault = err instanceof EntryCheckError
        ? { kind: "entry", message: err.message }
        : { kind: "error", message: (err as Error).message };
      break;
    }
    try {
      bodyHashes.set(storedSignedBodySha256(envelopes[i]), 32 * i);
      bodies++;
    } catch (err) {
      fault = {
        kind: "body",
        message: `entry ${n}: stored envelope is not an envelope: ${(err as Error).message}`,
      };
      break;
    }
  }
  return {
    checked: {
      ok,
      bodies,
      leafHashes,
      envelopeHashes,
      bodyHashes,
      issuer,
      primitive,
      issuedAt,
      ...(fault ? { fault } : {}),
    },
    last: prev,
  };
}

/** A range sent to the worker: leaves and envelopes packed, `ends` their end offsets. */
export interface RangeRequest {
  id: number;
  start: number;
  /** The previous entry's leaf hash; absent: the worker's last one (ranges come in order). */
  prev?: Uint8Array;
  leaves: Uint8Array;
  leafEnds: Uint32Array;
  envelopes: Uint8Array;
  envelopeEnds: Uint32Array;
}

/** Pack `parts` into one buffer with their end offsets. */
export function pack(
  parts: readonly Uint8Array[],
): { bytes: Uint8Array<ArrayBuffer>; ends: Uint32Array<ArrayBuffer> } {
  let total = 0;
  for (const p of parts) total += p.length;
  const bytes = new Uint8Array(total);
  const ends = new Uint32Array(parts.length);
  let o = 0;
  for (let i = 0; i < parts.length; i++) {
    bytes.set(parts[i], o);
    o += parts[i].length;
    ends[i] = o;
  }
  return { bytes, ends };
}

/** The parts {@link pack} packed (views of `bytes`). */
export function unpack(bytes: Uint8Array, ends: Uint32Array): Uint8Array[] {
  const out: Uint8Array[] = new Array(ends.length);
  let o = 0;
  for (let i = 0; i < ends.length; i++) {
    out[i] = bytes.subarray(o, ends[i]);
    o = ends[i];
  }
  return out;
}
