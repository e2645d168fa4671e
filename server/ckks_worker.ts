/**
 * Worker half of {@linkcode CkksRunner} (server/ckks_runner.ts): runs CKKS
 * work (seconds of synchronous WebAssembly) off the server's event loop.
 * Messages in: `{id, type: "audit", primitive, input}` (the whole encrypted
 * audit in this worker: keys, encryption, evaluation, decryption) or
 * `{id, type: "evaluate", body, maxBytes, maxDegree}` (the split flow's
 * evaluator: the request body's bytes, transferred, parsed here with the
 * hostile-input parser so that the server's thread never holds the parsed
 * copy). Out: `{id, ok: true, value}` or
 * `{id, ok: false, name, message, pointer?, rule?, offset?}`.
 *
 * @module
 */
import { CIRCUITS } from "../core/circuits/index.ts";
import type { PrimitiveName } from "../core/envelope_types.ts";
import { InputValidationError, JsonParseError } from "../core/errors.ts";
import { ckksAuditBackend } from "../core/audit/index.ts";
import { parseJson } from "../core/json_text.ts";
import type { PolyModulusDegree } from "../core/fhe/ring_degrees.ts";

/** Messages the runner sends. */
export type CkksJob =
  | { id: number; type: "audit"; primitive: PrimitiveName; input: unknown }
  | {
    id: number;
    type: "evaluate";
    body: ArrayBuffer;
    maxBytes: number;
    maxDegree: PolyModulusDegree;
  };

/** Messages the worker answers. */
export type CkksAnswer =
  | { id: number; ok: true; value: unknown }
  | {
    id: number;
    ok: false;
    name: string;
    message: string;
    pointer?: string;
    rule?: string;
    offset?: number;
  };

interface WorkerScope {
  onmessage: ((e: MessageEvent<CkksJob>) => void) | null;
  postMessage(m: CkksAnswer): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = async (e: MessageEvent<CkksJob>) => {
  const job = e.data;
  try {
    if (job.type === "evaluate") {
      const request = parseJson(new Uint8Array(job.body), { maxBytes: job.maxBytes });
      const { evaluateEncryptedAudit } = await import("../core/fhe/split.ts");
      const value = await evaluateEncryptedAudit(request, { maxDegree: job.maxDegree });
      scope.postMessage({ id: job.id, ok: true, value });
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
    } else if (err instanceof JsonParseError) {
      scope.postMessage({
        ...base,
        name: "JsonParseError",
        message: err.message,
        rule: err.rule,
        offset: err.offset,
      });
    } else {
      const x = err as Error;
      scope.postMessage({ ...base, name: x?.name ?? "Error", message: String(x?.message ?? x) });
    }
  }
};
