/**
 * Worker half of {@linkcode CkksRunner} (server/ckks_runner.ts): runs CKKS
 * work (seconds of synchronous WebAssembly) off the server's event loop.
 * Messages in: `{id, type: "audit", primitive, input}` (the whole encrypted
 * audit in this worker: keys, encryption, evaluation, decryption) or
 * `{id, type: "evaluate", request}` (the split flow's evaluator). Out:
 * `{id, ok: true, value}` or `{id, ok: false, name, message, pointer?, rule?}`.
 *
 * @module
 */
import { CIRCUITS } from "../core/circuits/index.ts";
import type { PrimitiveName } from "../core/envelope_types.ts";
import { InputValidationError } from "../core/errors.ts";
import { ckksAuditBackend } from "../core/audit/index.ts";

/** Messages the runner sends. */
export type CkksJob =
  | { id: number; type: "audit"; primitive: PrimitiveName; input: unknown }
  | { id: number; type: "evaluate"; request: unknown };

/** Messages the worker answers. */
export type CkksAnswer =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; name: string; message: string; pointer?: string; rule?: string };

interface WorkerScope {
  onmessage: ((e: MessageEvent<CkksJob>) => void) | null;
  postMessage(m: CkksAnswer): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = async (e: MessageEvent<CkksJob>) => {
  const job = e.data;
  try {
    if (job.type === "evaluate") {
      const { evaluateEncryptedAudit } = await import("../core/fhe/split.ts");
      scope.postMessage({ id: job.id, ok: true, value: await evaluateEncryptedAudit(job.request) });
      return;
    }
    const value = await ckksAuditBackend().run(
      job.primitive,
      CIRCUITS[job.primitive] as never,
      job.input as never,
    );
    scope.postMessage({ id: job.id, ok: true, value });
  } catch (err) {
    const base = { id: job.id, ok: false as const };
    if (err instanceof InputValidationError) {
      scope.postMessage({
        ...base,
        name: err.name,
        message: err.message,
        pointer: err.pointer,
        rule: err.rule,
      });
    } else {
      const x = err as Error;
      scope.postMessage({ ...base, name: x?.name ?? "Error", message: String(x?.message ?? x) });
    }
  }
};
