/**
 * The `timestamped_signature` structure shared by both C2SP
 * `tlog-cosignature` types (https://c2sp.org/tlog-cosignature): a big-endian
 * u64 POSIX timestamp (at most 2^63 - 1) followed by the signature bytes.
 *
 * @module
 */
import { RegledgerError } from "../../core/errors.ts";

/** Largest timestamp the spec allows (2^63 - 1). */
export const MAX_COSIGNATURE_TIMESTAMP: bigint = (1n << 63n) - 1n;

/**
 * A cosignature key, message or signature was rejected. `rule` names what
 * failed: `malformed-key`, `key-id-mismatch`, `unknown-algorithm`,
 * `invalid-name`, `timestamp`, `extension-lines`, `malformed-checkpoint`.
 */
export class CosignatureError extends RegledgerError {
  /** The rule that failed. */
  readonly rule: string;
  /** Build a cosignature error. */
  constructor(rule: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.rule = rule;
  }
}

/** A clock giving POSIX seconds (injectable for tests). */
export type SecondsClock = () => number | bigint;

/** The system clock in whole POSIX seconds. */
export function systemSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * A timestamp from `clock`, checked: an integer in [1, 2^63 - 1] (the
 * witness protocol forbids a zero timestamp on checkpoint cosignatures).
 *
 * @throws {CosignatureError} `timestamp` for anything else.
 */
export function checkedTimestamp(clock: SecondsClock): bigint {
  const t = clock();
  if (typeof t === "number" && !Number.isSafeInteger(t)) {
    throw new CosignatureError("timestamp", `clock gave a non-integer time ${t}`);
  }
  const b = BigInt(t);
  if (b < 1n || b > MAX_COSIGNATURE_TIMESTAMP) {
    throw new CosignatureError("timestamp", `timestamp ${b} is outside [1, 2^63-1]`);
  }
  return b;
}

/** `timestamp` as 8 big-endian bytes. */
export function encodeTimestamp(timestamp: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, timestamp);
  return out;
}

/**
 * Split a `timestamped_signature` of `sigLength` signature bytes into its
 * timestamp and signature, or `undefined` when the length is wrong or the
 * timestamp exceeds 2^63 - 1.
 */
export function splitTimestamped(
  sig: Uint8Array,
  sigLength: number,
): { timestamp: bigint; signature: Uint8Array } | undefined {
  if (!(sig instanceof Uint8Array) || sig.length !== 8 + sigLength) return undefined;
  const timestamp = new DataView(sig.buffer, sig.byteOffset, 8).getBigUint64(0);
  if (timestamp > MAX_COSIGNATURE_TIMESTAMP) return undefined;
  return { timestamp, signature: sig.subarray(8) };
}
