/**
 * `GET /v1/evidence?issuer=&primitive=&from=&to=`: the evidence pack of a
 * selection (docs/formats.md, "Evidence packs"), streamed as it is written:
 * the same bytes `regledger evidence export` writes for the same selection
 * and checkpoint.
 *
 * @module
 */
import type { Context } from "hono";
import { writeEvidencePack } from "../../ledger/evidence/export.ts";
import { localEvidenceSource } from "../../ledger/evidence/sources.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { type AppEnv, onlyParams } from "../http.ts";
import { textParam, timeParam } from "./log.ts";

/** `GET /v1/evidence`: `application/zip`, streamed. */
export function evidenceRoute(deps: ServerDeps): (c: Context<AppEnv>) => Response {
  return (c) => {
    onlyParams(c, ["issuer", "primitive", "from", "to"]);
    const selection = {
      issuer: textParam("issuer", c.req.query("issuer")),
      primitive: textParam("primitive", c.req.query("primitive")),
      from: timeParam("from", c.req.query("from")),
      to: timeParam("to", c.req.query("to")),
    };
    if (deps.log.tile === undefined) throw new ApiError(404, "this log serves no tiles");
    const source = localEvidenceSource(deps.log, deps.envelopes.trustStoreJson());
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const w = writable.getWriter();
    // Written while sent; a failure part-way aborts the stream (the client sees a truncated body).
    writeEvidencePack(source, selection, (chunk) => w.write(chunk))
      .then(() => w.close(), (e) => w.abort(e).catch(() => {}));
    return new Response(readable, {
      status: 200,
      headers: {
        "content-type": "application/zip",
        "content-disposition": 'attachment; filename="evidence.zip"',
        "cache-control": "no-store",
      },
    });
  };
}
