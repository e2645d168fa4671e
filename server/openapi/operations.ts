/**
 * What the OpenAPI document says about each operation of the route table
 * (`routes/table.ts`): summary, parameters, request and response bodies.
 * Bodies that a bundled schema describes point at its component; the few
 * answers no bundled schema describes (the entries page, the bundle, probes,
 * the CKKS evaluator's wire format) are written here, once.
 *
 * @module
 */
import type { PrimitiveName } from "../../core/envelope_types.ts";
import type { OperationId } from "../routes/table.ts";
import { type Obj, schemaRef } from "./components.ts";

/** One operation's documentation, without `operationId` and `security` (from the table). */
export interface OperationDoc {
  /** One line. */
  summary: string;
  /** More, when one line is not enough. */
  description?: string;
  /** Path and query parameters. */
  parameters?: Obj[];
  /** The request body. */
  requestBody?: Obj;
  /** Answers by status. */
  responses: Record<string, Obj>;
}

/** `application/json` content with `schema`. */
export const json = (schema: Obj): Obj => ({ "application/json": { schema } });
const text = (description: string): Obj => ({
  description,
  content: { "text/plain": { schema: { type: "string" } } },
});
/** An error answer described by the bundled `error` schema. */
export const err = (description: string): Obj => ({
  description,
  content: json(schemaRef("error")),
});

const notModified: Obj = { description: "Not modified: `If-None-Match` named the `ETag`." };

function tileDoc(summary: string, path: string): OperationDoc {
  return {
    summary,
    description: "Full tiles: `Cache-Control: public, max-age=31536000, immutable`; partial " +
      "tiles: `public, max-age=60`. A strong `ETag` of the bytes; `If-None-Match` → 304.",
    parameters: [{
      name: "path",
      in: "path",
      required: true,
      description: path,
      schema: { type: "string" },
    }],
    responses: {
      "200": {
        description: "The tile's bytes.",
        content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
      },
      "304": notModified,
      "400": err("Not a canonical C2SP tile path."),
      "404": err("The tree does not (yet) have the whole tile."),
    },
  };
}

const indexParam = (name: string, where: "path" | "query", required: boolean, d: string) => ({
  name,
  in: where,
  required,
  description: d,
  schema: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
});
const strParam = (name: string, description: string, format?: string) => ({
  name,
  in: "query",
  required: false,
  description,
  schema: format ? { type: "string", format } : { type: "string", minLength: 1, maxLength: 256 },
});

const B64 = { type: "string", contentEncoding: "base64" };
const ENVELOPE = schemaRef("envelope");
const INDEX_PATH = indexParam("index", "path", true, "entry index");

/** The documentation of every operation but the audit, which is documented per primitive. */
export const OPERATIONS: Record<Exclude<OperationId, "runAudit">, OperationDoc> = {
  getHealth: {
    summary: "Liveness",
    responses: {
      "200": {
        description: "Alive.",
        content: json({
          type: "object",
          required: ["status"],
          properties: { status: { const: "ok" } },
        }),
      },
    },
  },
  getReadiness: {
    summary: "Readiness",
    responses: {
      "200": {
        description: "Ready.",
        content: json({
          type: "object",
          required: ["ready", "tree_size"],
          properties: {
            ready: { const: true },
            tree_size: { type: "integer", minimum: 0 },
            witnessing: {
              type: "object",
              description: "With witnesses (`serve --witness`): quorum, log_size, " +
                "witnessed_size, lag, split_view, and per witness name, url, size, " +
                "cosigned_size, lag, state (ok, pending, failing, refused, split-view), " +
                "failures, last_error. A split view does not make the server unready.",
            },
          },
        }),
      },
      "503": {
        description: "Starting or shutting down.",
        content: json({
          type: "object",
          required: ["ready", "error"],
          properties: { ready: { const: false }, error: { type: "string" } },
        }),
      },
    },
  },
  getVersion: {
    summary: "Version and log identity",
    responses: {
      "200": {
        description: "Version, log origin and verifier key, backends and primitives.",
        content: json({
          type: "object",
          required: ["name", "version", "origin", "verifier_key", "backends", "primitives"],
          properties: {
            name: { const: "regledger" },
            version: { type: "string" },
            origin: { type: "string" },
            verifier_key: { type: "string" },
            backends: { type: "array", items: { type: "string" } },
            primitives: { type: "array", items: { type: "string" } },
            runtime: { type: "string" },
          },
        }),
      },
    },
  },
  getOpenApi: {
    summary: "This document",
    responses: {
      "200": { description: "OpenAPI 3.1.", content: json({ type: "object" }) },
    },
  },
  getCheckpoint: {
    summary: "The latest signed checkpoint",
    responses: { "200": text("C2SP tlog-checkpoint signed note.") },
  },
  getVerifierKey: {
    summary: "The log's verifier key (Go note format)",
    responses: { "200": text("`<name>+<key id>+<base64 key>`, one line.") },
  },
  getVerifierKeys: {
    summary: "Every verifier key of the log (Ed25519, then ML-DSA-44)",
    responses: {
      "200": text(
        "One `<name>+<key id>+<base64 key>` per line: the Ed25519 key (as `/v1/log/key`) " +
          "first, then the ML-DSA-44 key (type byte 0x06). Each checkpoint carries a " +
          "signature by each.",
      ),
    },
  },
  getTileCheckpoint: {
    summary: "The latest signed checkpoint (C2SP tlog-tiles)",
    description: "Same text as `/v1/log/checkpoint`, at the tlog-tiles location, with " +
      "`Cache-Control: public, max-age=5` and a strong `ETag` (`If-None-Match` → 304). " +
      "With witnesses (`serve --witness`): the newest checkpoint the witness quorum " +
      "cosigned, cosignature lines included (it may be behind `/v1/log/checkpoint`).",
    responses: { "200": text("C2SP tlog-checkpoint signed note."), "304": notModified },
  },
  getHashTile: tileDoc(
    "A hash tile (C2SP tlog-tiles)",
    "`<L>/<N>[.p/<W>]`: level 0-63, index in `x`-prefixed 3-digit groups, optional partial " +
      "width 1-255. The body is W hashes of 32 bytes.",
  ),
  getEntryTile: tileDoc(
    "An entry bundle (C2SP tlog-tiles)",
    "`<N>[.p/<W>]`: the W leaves of entries N·256 …, each as a big-endian uint16 length and " +
      "the leaf bytes. Needs `ledger:read` unless the server serves bundles publicly " +
      "(`REGLEDGER_PUBLIC_BUNDLES=1`).",
  ),
  getEnvelopeTile: tileDoc(
    "An envelope bundle (regledger, docs/tiles.md)",
    "`<N>[.p/<W>]`: the W envelopes of entries N·256 …, each as a big-endian uint32 length " +
      "and the envelope's canonical bytes. Needs `ledger:read` unless the server serves " +
      "bundles publicly (`REGLEDGER_PUBLIC_BUNDLES=1`).",
  ),
  submitEnvelope: {
    summary: "Verify an envelope against the trust store and append it",
    parameters: [{
      name: "wait",
      in: "query",
      required: false,
      description: "`witnessed`: answer once a checkpoint cosigned by the server's witness " +
        "quorum includes the entry; the receipt is against that checkpoint. 400 when the " +
        "server has no witnesses.",
      schema: { type: "string", enum: ["witnessed"] },
    }],
    requestBody: { required: true, content: json(ENVELOPE) },
    responses: {
      "201": { description: "Appended.", content: json(schemaRef("append-response")) },
      "200": {
        description: "Already in the log: the existing entry.",
        content: json(schemaRef("append-response")),
      },
      "422": err(
        "Typed verification failure; `reason` names it. `PrivacyBudgetExceeded`: the release " +
          "would exceed the issuer's privacy budget on the dataset its `dp` block names " +
          "(with `issuer`, `dataset`, `budget`, `would_spend`); nothing was appended.",
      ),
      "504": err(
        "`wait=witnessed` and no quorum-cosigned checkpoint covered the entry in time: " +
          "`reason` is `NotWitnessed`; the entry IS appended, `receipt` is its unwitnessed " +
          "receipt and `witnessing` the witnesses' state. Submit it again to wait again.",
      ),
    },
  },
  queryEntries: {
    summary:
      "Entries by issuer, primitive, issue time, threshold breach, key id and regulation, paginated",
    description: "A page filtered by `breached`, `key_id` or `regulation` reads at most 2,000 " +
      "index hits: it may hold fewer than `limit` entries with a non-null `next_cursor`; only a " +
      "null `next_cursor` means the end.",
    parameters: [
      strParam("issuer", "exact issuer"),
      strParam("primitive", "exact primitive"),
      strParam("from", "issued_at ≥ from (RFC 3339)", "date-time"),
      strParam("to", "issued_at < to (RFC 3339)", "date-time"),
      {
        name: "breached",
        in: "query",
        required: false,
        description:
          "`true`: only entries whose result breaches its threshold; `false`: only those that do not",
        schema: { type: "string", enum: ["true", "false"] },
      },
      strParam("key_id", "exact issuer key id (`receipt.key_id`)"),
      strParam("regulation", "exact regulation tag listed in the envelope's `regulations`"),
      strParam("cursor", "next_cursor of the previous page (opaque)"),
      indexParam("limit", "query", false, "page size (1–1000, default 100)"),
    ],
    responses: {
      "200": {
        description: "Entry summaries in (issued_at, index) order, each with its regulations " +
          "and result summary (statistics, breach bit, thresholds).",
        content: json(schemaRef("entries-page")),
      },
    },
  },
  getEntry: {
    summary: "One entry: leaf bytes, leaf hash and the envelope as stored",
    parameters: [INDEX_PATH],
    responses: {
      "200": {
        description: "The entry; `envelope` is the stored canonical text, numbers as received.",
        content: json(schemaRef("log-entry")),
      },
      "404": err("No such entry."),
    },
  },
  getEntryBundle: {
    summary: "Entry, inclusion proof, latest checkpoint and tlog-proof in one answer",
    parameters: [INDEX_PATH],
    responses: {
      "200": {
        description: "Everything needed to check the entry offline.",
        content: json({
          type: "object",
          properties: {
            index: { type: "integer", minimum: 0 },
            tree_size: { type: "integer", minimum: 1 },
            leaf: B64,
            leaf_hash: B64,
            inclusion_proof: { type: "array", items: B64 },
            checkpoint: { type: "string" },
            tlog_proof: { type: "string" },
            verifier_key: { type: "string" },
            envelope: ENVELOPE,
          },
        }),
      },
      "404": err("No such entry."),
    },
  },
  getInclusionProof: {
    summary: "RFC 6962 inclusion proof",
    parameters: [
      indexParam("index", "query", true, "entry index"),
      indexParam("tree_size", "query", false, "tree size (default: current)"),
    ],
    responses: {
      "200": { description: "Audit path.", content: json(schemaRef("inclusion-proof")) },
    },
  },
  getConsistencyProof: {
    summary: "RFC 6962 consistency proof",
    parameters: [
      indexParam("first", "query", true, "older tree size"),
      indexParam("second", "query", false, "newer tree size (default: current)"),
    ],
    responses: {
      "200": {
        description: "Consistency path.",
        content: json(schemaRef("consistency-proof")),
      },
    },
  },
  getPrivacyBudget: {
    summary: "An issuer's privacy budget on a dataset, what the log spent of it, and where",
    description: "Computed from the log's own entries: those whose signed `dp` block names the " +
      "dataset, composed as `spent.composition` says (basic, or Rényi DP for a budget with " +
      "δ > 0). `budget` and `remaining` are null when no budget is configured (unlimited).",
    parameters: [
      {
        name: "issuer",
        in: "query",
        required: true,
        schema: { type: "string", minLength: 1, maxLength: 512 },
        description: "The envelopes' `issuer`.",
      },
      {
        name: "dataset",
        in: "query",
        required: true,
        schema: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,255}$" },
        description: "The dataset identifier (`dp.dataset`).",
      },
    ],
    responses: {
      "200": {
        description: "Budget, spend and the spending entries.",
        content: json(schemaRef("privacy-budget")),
      },
    },
  },
  verifyEnvelope: {
    summary: "Verify an envelope against the trust store (nothing is appended)",
    requestBody: { required: true, content: json(ENVELOPE) },
    responses: {
      "200": {
        description: "`valid` and, when false, the typed `reason`.",
        content: json(schemaRef("verify-response")),
      },
    },
  },
  evaluateCkks: {
    summary: "The split flow's CKKS evaluator (nothing is appended)",
    description: "Runs a primitive's circuit on the client's ciphertexts with its evaluation " +
      "keys (no secret key). Offered when the server runs with REGLEDGER_CKKS=1 (404 otherwise).",
    requestBody: {
      required: true,
      content: json({
        type: "object",
        description: "`regledger.ckks-request.v1`: parameter set, layout, evaluation keys " +
          "(public, relinearization, Galois) and ciphertexts, base64 of zstd SEAL bytes.",
        required: [
          "v",
          "primitive",
          "parameter_set",
          "depth_budget",
          "evaluation_keys",
          "layout",
          "ciphertexts",
        ],
        properties: {
          v: { const: "regledger.ckks-request.v1" },
          primitive: { type: "string" },
          parameter_set: { type: "object" },
          depth_budget: { type: "object" },
          evaluation_keys: { type: "object" },
          layout: { type: "object" },
          ciphertexts: { type: "object", additionalProperties: { type: "string" } },
        },
      }),
    },
    responses: {
      "200": {
        description: "`regledger.ckks-response.v1`: encrypted outputs only the client can decrypt.",
        content: json({
          type: "object",
          required: ["v", "primitive", "ciphertexts", "stats"],
          properties: {
            v: { const: "regledger.ckks-response.v1" },
            primitive: { type: "string" },
            ciphertexts: { type: "object", additionalProperties: { type: "string" } },
            stats: { type: "object" },
          },
        }),
      },
      "404": err("The server runs without REGLEDGER_CKKS=1."),
    },
  },
  getEvidencePack: {
    summary: "Evidence pack of a selection (ZIP: envelopes, receipts, checkpoint, keys, report)",
    description: "The same bytes `regledger evidence export` writes for the same selection " +
      "and checkpoint (docs/formats.md, Evidence packs). Streamed as written. " +
      "Holds a privacy-budget statement per issuer and dataset released (the server's budgets) " +
      "and every envelope that spent them.",
    parameters: [
      strParam("issuer", "exact issuer"),
      strParam("primitive", "exact primitive"),
      strParam("from", "issued_at ≥ from (RFC 3339)", "date-time"),
      strParam("to", "issued_at < to (RFC 3339)", "date-time"),
    ],
    responses: {
      "200": {
        description: "The pack, `application/zip`.",
        content: { "application/zip": { schema: { type: "string", format: "binary" } } },
      },
    },
  },
  getTrustStore: {
    summary: "The trust store the server verifies envelopes against",
    description: "The trust-store file merged with the server's own issuer key: trusted " +
      "public keys (canonical SPKI PEM), revoked key ids and parameter-set pins. Public " +
      "material only; what a client needs to check issuer signatures itself.",
    responses: {
      "200": { description: "The trust store in force.", content: json(schemaRef("trust-store")) },
    },
  },
  whoami: {
    summary: "The scopes of the caller's token",
    responses: {
      "200": {
        description: "`scopes`: granted; `allows`: every scope the token may use (`admin` " +
          "implies all); `dev_mode`: authentication is off (every request is admin).",
        content: json({
          type: "object",
          additionalProperties: false,
          required: ["dev_mode", "scopes", "allows"],
          properties: {
            dev_mode: { type: "boolean" },
            scopes: { type: "array", items: { type: "string" } },
            allows: { type: "array", items: { type: "string" } },
          },
        }),
      },
    },
  },
  listSchemas: {
    summary: "Names of the bundled JSON Schemas",
    responses: {
      "200": {
        description: "Schema names.",
        content: json({
          type: "object",
          required: ["schemas"],
          properties: { schemas: { type: "array", items: { type: "string" } } },
        }),
      },
    },
  },
  getSchema: {
    summary: "One bundled JSON Schema (Draft 2020-12), as bundled",
    parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
    responses: {
      "200": { description: "The schema.", content: json({ type: "object" }) },
      "404": err("No such schema."),
    },
  },
  getMetrics: {
    summary: "Prometheus metrics",
    responses: { "200": text("Text exposition format 0.0.4.") },
  },
  reloadTrustStore: {
    summary: "Re-read the trust store file (also on SIGHUP)",
    responses: {
      "200": {
        description: "Counts of the new trust store.",
        content: json({
          type: "object",
          required: ["reloaded", "keys", "revoked"],
          properties: {
            reloaded: { const: true },
            keys: { type: "integer", minimum: 0 },
            revoked: { type: "integer", minimum: 0 },
            privacy_budgets: {
              type: "integer",
              minimum: 0,
              description: "Privacy budgets in force (with `serve --privacy-budgets`).",
            },
          },
        }),
      },
      "422": err("The file is malformed; the previous trust store stays in use."),
    },
  },
};

/** The documentation of `POST /v1/audit/{primitive}` for one primitive. */
export function auditOperation(primitive: PrimitiveName): OperationDoc {
  const answer = json(schemaRef("audit-response"));
  return {
    summary: `Run the ${primitive} audit, sign it with the server's issuer key and append it`,
    parameters: [{
      name: "backend",
      in: "query",
      required: false,
      schema: { type: "string", enum: ["plaintext", "ckks"], default: "plaintext" },
      description: "`ckks` answers 400 while the CKKS backend is not available.",
    }],
    requestBody: {
      required: true,
      content: json(schemaRef(`${primitive}.input`)),
    },
    responses: {
      "201": { description: "Signed envelope and its log receipt.", content: answer },
      "200": { description: "The same envelope was already in the log.", content: answer },
    },
  };
}
