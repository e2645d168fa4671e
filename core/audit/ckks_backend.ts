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
import type { AuditBackend } from "./run.ts";
import type { KeyGenProgressCallback } from "../fhe/keys.ts";
import type { EncryptedAuditRequest, EncryptedAuditResponse } from "../fhe/split.ts";

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
      const { runEncryptedAudit } = await import("../fhe/run.ts");
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

/**
 * Sends a split-flow request to an evaluator and returns its answer (for
 * example `POST /v1/ckks/evaluate` on a regledger server). The request holds
 * evaluation keys and ciphertexts only; the answer is checked by the client.
 */
export type CkksEvaluatorTransport = (request: EncryptedAuditRequest) => Promise<unknown>;

/**
 * The split flow behind the {@linkcode AuditBackend} seam: this process (the
 * data owner) generates keys, encrypts and sends the request through
 * `evaluate`; the evaluator computes on ciphertexts without any secret key;
 * this process decrypts and finishes the statistic. Depth used is read from
 * the returned ciphertexts; operation counts are the evaluator's own report.
 */
export function splitCkksAuditBackend(
  evaluate: CkksEvaluatorTransport,
  options: CkksAuditBackendOptions = {},
): AuditBackend {
  return {
    name: "seal-ckks",
    async run(primitive, _circuit, input) {
      const { EncryptedAuditClient } = await import("../fhe/split.ts");
      const client = await EncryptedAuditClient.create(primitive, input, {
        onProgress: options.onProgress,
      });
      try {
        const response = await evaluate(client.request);
        const run = client.finish(response);
        const s = (response as EncryptedAuditResponse).stats;
        const count = (
          n: unknown,
        ) => (Number.isSafeInteger(n) && (n as number) >= 0 ? n as number : 0);
        return {
          result: run.result,
          stats: {
            depthDeclared: run.depth.declared,
            depthConsumed: run.depth.consumed,
            ops: {
              add: count(s?.add),
              mulPlain: count(s?.mul_plain),
              mul: count(s?.mul),
              rotate: count(s?.rotate),
              rescale: count(s?.rescale),
            },
            rotationSteps: [...client.request.evaluation_keys.rotation_steps],
          },
          depth: run.depth,
          parameterSet: run.parameterSet as unknown as JsonObject,
        };
      } finally {
        client.dispose();
      }
    },
  };
}
