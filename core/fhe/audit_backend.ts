/**
 * The CKKS backend of `core/fhe` behind the primitives' {@linkcode AuditBackend}
 * seam, so `runAuditWith` (and the CLI's `audit --backend ckks` and the
 * server's `?backend=ckks`) run the same circuit on SEAL. node-seal is loaded
 * on first use only: importing this module costs nothing.
 *
 * Each run is CPU-heavy synchronous WebAssembly (keys, encryption,
 * evaluation, decryption in one process): it blocks the event loop for the
 * run's duration.
 *
 * @module
 */
import type { JsonObject } from "../envelope.ts";
import type { AuditBackend } from "../primitives/audit.ts";
import type { KeyGenProgressCallback } from "./keys.ts";

/** Options of {@linkcode ckksAuditBackend}. */
export interface CkksAuditBackendOptions {
  /** Told of each key-generation stage (never key material). */
  onProgress?: KeyGenProgressCallback;
}

/** The `seal-ckks` audit backend (fresh keys per run; see `runEncryptedAudit`). */
export function ckksAuditBackend(options: CkksAuditBackendOptions = {}): AuditBackend {
  return {
    name: "seal-ckks",
    async run(primitive, circuit, input) {
      const { runEncryptedAudit } = await import("./run.ts");
      const r = await runEncryptedAudit(primitive, input, {
        circuit,
        onProgress: options.onProgress,
      });
      return {
        result: r.result,
        stats: r.stats,
        depth: r.depth,
        parameterSet: r.parameterSet as unknown as JsonObject,
      };
    },
  };
}
