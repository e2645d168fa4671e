/**
 * `POST /v1/ckks/evaluate`: the evaluator's half of the split encrypted
 * flow. The body is a `regledger.ckks-request.v1` (the client's public,
 * relinearization and Galois keys and its ciphertexts; never a secret key);
 * the answer is a `regledger.ckks-response.v1` with encrypted outputs that
 * only the client can decrypt. Nothing is appended: the client decrypts,
 * signs its envelope and submits it with `POST /v1/envelopes`.
 *
 * Offered only when the server runs with `REGLEDGER_CKKS=1`; requests are
 * megabytes (Galois keys), so the route has its own body limit
 * (`REGLEDGER_CKKS_BODY_LIMIT`).
 *
 * @module
 */
import type { Context } from "hono";
import { parseJson } from "../../core/json_text.ts";
import type { PolyModulusDegree } from "../../core/fhe/ring_degrees.ts";
import { ApiError } from "../errors.ts";
import { type AppEnv, onlyParams, readJsonBody } from "../http.ts";

/** The route's path. */
export const CKKS_EVALUATE_PATH = "/v1/ckks/evaluate";

/** What the route evaluates with (the runner's worker, or this thread). */
export interface CkksEvaluator {
  /**
   * The refusal a request would get now (a full queue: an error answered 503
   * with `Retry-After`), or null. Asked before the body is read.
   */
  busy(): Error | null;
  /** Parse a request body (hostile-input parser, `maxBytes`) and evaluate it. */
  evaluate(
    body: Uint8Array,
    limits: { maxBytes: number; maxDegree: PolyModulusDegree },
  ): Promise<unknown>;
}

/** Evaluate in this thread (what `createApp` uses when its deps give no evaluator). */
export const evaluateInThread: CkksEvaluator = {
  busy: () => null,
  evaluate: async (body, limits) => {
    const request = parseJson(body, { maxBytes: limits.maxBytes });
    // Loaded on first use: the SEAL WebAssembly is not needed by any other route.
    const { evaluateEncryptedAudit } = await import("../../core/fhe/split.ts");
    return await evaluateEncryptedAudit(request, { maxDegree: limits.maxDegree });
  },
};

/**
 * The route handler; `evaluator` is `null` unless the server runs with
 * `REGLEDGER_CKKS=1`. A full queue is refused (503, `Retry-After`) before
 * the body is read; the body is parsed with the hostile-input parser (deep
 * nesting, duplicate keys, invalid UTF-8 are 400s).
 */
export function ckksEvaluateRoute(
  evaluator: CkksEvaluator | null,
  limits: { maxBytes: number; maxDegree: PolyModulusDegree },
): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    onlyParams(c, []);
    if (evaluator === null) {
      throw new ApiError(404, "the CKKS evaluator is not offered by this server", {
        hint: "the server offers CKKS only when started with REGLEDGER_CKKS=1",
      });
    }
    const refused = evaluator.busy();
    if (refused) throw refused;
    const body = await readJsonBody(c);
    return c.json(await evaluator.evaluate(body, limits) as Record<string, unknown>);
  };
}
