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
import { ApiError } from "../errors.ts";
import { type AppEnv, decodeUtf8, onlyParams, readJsonBody } from "../http.ts";

/** The route's path. */
export const CKKS_EVALUATE_PATH = "/v1/ckks/evaluate";

/** Evaluate in this thread (what `createApp` uses when its deps give no evaluator). */
export async function evaluateInThread(request: unknown): Promise<unknown> {
  // Loaded on first use: the SEAL WebAssembly is not needed by any other route.
  const { evaluateEncryptedAudit } = await import("../../core/fhe/split.ts");
  return await evaluateEncryptedAudit(request);
}

/** The route handler; `evaluate` is `null` unless the server runs with `REGLEDGER_CKKS=1`. */
export function ckksEvaluateRoute(
  evaluate: ((request: unknown) => Promise<unknown>) | null,
): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    onlyParams(c, []);
    if (evaluate === null) {
      throw new ApiError(404, "the CKKS evaluator is not offered by this server", {
        hint: "the server offers CKKS only when started with REGLEDGER_CKKS=1",
      });
    }
    const text = decodeUtf8(await readJsonBody(c));
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (e) {
      throw new ApiError(400, `the body is not JSON: ${(e as Error).message.slice(0, 200)}`);
    }
    return c.json(await evaluate(request) as Record<string, unknown>);
  };
}
