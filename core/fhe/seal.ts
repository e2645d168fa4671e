/**
 * Loading Microsoft SEAL (node-seal 7, WebAssembly) and translating its
 * exceptions into JavaScript errors.
 *
 * The WebAssembly module is instantiated once per process and shared: it
 * holds no keys or data of its own (every key, ciphertext and context is an
 * object that the caller creates, owns and deletes).
 *
 * @module
 */
import SEAL from "node-seal";
import type { MainModule } from "node-seal";
import { RegledgerError } from "../errors.ts";

/** The node-seal runtime (Emscripten bindings to SEAL 4.1). */
export type SealModule = MainModule;

/** The node-seal package version this backend is built and tested against. */
export const NODE_SEAL_VERSION = "7.0.0";
/** The SEAL version node-seal 7.0.0 wraps. */
export const SEAL_LIBRARY = "Microsoft SEAL 4.1";

let loading: Promise<SealModule> | undefined;

/**
 * The SEAL runtime, instantiated on first use (about 70 ms) and shared by
 * every context of the process. The runtime is stateless apart from the
 * objects its callers create.
 */
export function loadSeal(): Promise<SealModule> {
  loading ??= SEAL();
  return loading;
}

/** A SEAL operation failed (wrong key, missing Galois key, mismatched parameters...). */
export class SealError extends RegledgerError {
  /** Build the error from the operation name and SEAL's message. */
  constructor(operation: string, message: string, options?: ErrorOptions) {
    super(`SEAL ${operation} failed: ${message}`, options);
  }
}

/**
 * Run a SEAL call, turning the `WebAssembly.Exception` that Emscripten
 * throws (its message is `[type, what]`) into a {@linkcode SealError}.
 */
export function sealCall<T>(operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RegledgerError) throw e; // already ours (a typed check inside fn)
    throw new SealError(operation, describeSealException(e), { cause: e });
  }
}

function describeSealException(e: unknown): string {
  if (e instanceof Error) return e.message;
  const msg = (e as { message?: unknown } | null)?.message;
  if (Array.isArray(msg)) return msg.map(String).join(": ");
  if (typeof msg === "string") return msg;
  return String(e);
}
