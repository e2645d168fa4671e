/**
 * `POST /v1/envelopes` (verify, then append) and `POST /v1/verify`.
 *
 * @module
 */
import type { Context } from "hono";
import { EnvelopeVerificationError, TimestampInvalid } from "../../core/errors.ts";
import { toBase64 } from "../../core/bytes.ts";
import { signedBodySha256 } from "../../core/envelope.ts";
import type { ParsedEnvelope } from "../../core/envelope_types.ts";
import type { ServerDeps } from "../deps.ts";
import { type AppEnv, decodeUtf8, onlyParams, readJsonBody } from "../http.ts";
import { ApiError } from "../errors.ts";
import type { ServerMetrics } from "../metrics.ts";

/** Read and parse an envelope from the request body (4xx on any malformation). */
export async function readEnvelope(c: Context<AppEnv>, deps: ServerDeps): Promise<ParsedEnvelope> {
  const text = decodeUtf8(await readJsonBody(c));
  return deps.envelopes.parse(text);
}

/** Verify, with the typed failure counted before it propagates as a 422. */
async function verifyCounted(
  deps: ServerDeps,
  metrics: ServerMetrics,
  parsed: ParsedEnvelope,
  forStorage = false,
) {
  try {
    const v = await deps.envelopes.verify(parsed);
    if (forStorage && v.timestamp === "not-checked") {
      // The ledger stores a timestamp block only when a verifier accepted it.
      throw new TimestampInvalid(
        "timestamp block present but the server has no timestamp verifier: " +
          "an unchecked timestamp is not stored",
        v.key_id,
      );
    }
    return v;
  } catch (e) {
    if (e instanceof EnvelopeVerificationError) metrics.rejections.inc({ reason: e.name });
    throw e;
  }
}

/**
 * The `wait` parameter of `POST /v1/envelopes`: absent, or `witnessed`
 * (400 otherwise, and when the server has no witnesses).
 */
function waitParam(c: Context<AppEnv>, deps: ServerDeps): boolean {
  const wait = c.req.query("wait");
  if (wait === undefined) return false;
  if (wait !== "witnessed") {
    throw new ApiError(400, "parameter 'wait' must be 'witnessed'", { parameter: "wait" });
  }
  if (!deps.witnessing) {
    throw new ApiError(
      400,
      "wait=witnessed: this server has no witnesses (start it with serve --witness URL=VKEY)",
      { parameter: "wait" },
    );
  }
  return true;
}

/**
 * `POST /v1/envelopes[?wait=witnessed]`: 201 with a receipt, 200 when
 * already logged, 422 when not trusted. With `wait=witnessed` the receipt
 * is against a checkpoint the witness quorum cosigned; when none covers the
 * entry in time, 504 `{error, reason: "NotWitnessed", receipt, witnessing}`
 * with the entry appended all the same and its unwitnessed receipt.
 */
export function submitEnvelope(
  deps: ServerDeps,
  metrics: ServerMetrics,
): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const submittedAt = performance.now();
    onlyParams(c, ["wait"]);
    const wait = waitParam(c, deps);
    const parsed = await readEnvelope(c, deps);
    try {
      await verifyCounted(deps, metrics, parsed, true);
    } catch (e) {
      // The timestamp is the last check, so only it is at fault here; when
      // the signed body is logged, the answer is its existing entry (one
      // signed body is one entry) and the refused block is not stored.
      if (!(e instanceof TimestampInvalid) || !(await loggedBody(deps, parsed))) throw e;
    }
    const { existing, ...receipt } = await deps.log.append(parsed);
    metrics.appends.inc({ outcome: existing ? "existing" : "new" });
    if (!wait) return c.json(receipt, existing ? 200 : 201);
    const witnessed = await deps.witnessing!.witnessedReceipt(receipt, { submittedAt });
    if (witnessed === undefined) {
      throw new ApiError(
        504,
        `entry ${receipt.index} is in the log, but no checkpoint cosigned by the witness quorum ` +
          `covered it within ${deps.witnessing!.waitTimeoutMs} ms; submit the same envelope ` +
          `with wait=witnessed again later for a witnessed receipt`,
        { reason: "NotWitnessed", receipt, witnessing: deps.witnessing!.status() },
      );
    }
    return c.json(witnessed, existing ? 200 : 201);
  };
}

async function loggedBody(deps: ServerDeps, parsed: ParsedEnvelope): Promise<boolean> {
  if (!deps.log.findBySignedBody) return false;
  return (await deps.log.findBySignedBody(signedBodySha256(parsed))) !== undefined;
}

/** `POST /v1/verify`: 200 `{valid: true, ...}` or 200 `{valid: false, reason, error}`. */
export function verifyRoute(deps: ServerDeps): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    onlyParams(c, []);
    const parsed = await readEnvelope(c, deps);
    const envelope_sha256 = toBase64(parsed.sha256);
    let logged: number | null = null;
    // The entry holding this signed body (the ledger's identity), else this exact envelope.
    if (deps.log.findBySignedBody) {
      logged = (await deps.log.findBySignedBody(signedBodySha256(parsed))) ?? null;
    } else if (deps.log.findByEnvelopeHash) {
      logged = (await deps.log.findByEnvelopeHash(parsed.sha256)) ?? null;
    }
    try {
      const v = await deps.envelopes.verify(parsed);
      return c.json({
        valid: true,
        kind: v.kind,
        key_id: v.key_id,
        timestamp: v.timestamp,
        envelope_sha256,
        logged_index: logged,
      });
    } catch (e) {
      if (!(e instanceof EnvelopeVerificationError)) throw e;
      return c.json({
        valid: false,
        reason: e.name,
        error: e.message,
        kind: parsed.kind,
        key_id: e.keyId ?? null,
        envelope_sha256,
        logged_index: logged,
      });
    }
  };
}
