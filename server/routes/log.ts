/**
 * Read routes of the log: checkpoint, verifier key, entries, proofs, the
 * regulator's query and the one-request evidence bundle.
 *
 * Stored envelopes are answered with their canonical bytes spliced into the
 * JSON verbatim, so a legacy envelope keeps every number exactly as received.
 *
 * @module
 */
import type { Context } from "hono";
import { fromBase64 } from "../../core/bytes.ts";
import { dateTimeProblem } from "../../core/rfc3339.ts";
import { utcTimeKey } from "../../ledger/time_key.ts";
import { formatTlogProof } from "../../ledger/tlog_proof.ts";
import type { LogEntry, QueryOptions, ServerDeps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { type AppEnv, jsonWithRaw, onlyParams, parseIndex } from "../http.ts";

/** Default and largest page size of `GET /v1/log/entries`. */
export const PAGE_LIMIT = { default: 100, max: 1000 } as const;

/** A `from`/`to` parameter: an RFC 3339 date-time under the one rule of `core/rfc3339.ts`. */
export function timeParam(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const problem = raw.length > 256 ? "must be at most 256 characters" : dateTimeProblem(raw);
  if (problem !== undefined) {
    throw new ApiError(400, `parameter '${name}' must be an RFC 3339 date-time: ${problem}`, {
      parameter: name,
    });
  }
  return raw;
}

/** An exact-match text parameter: 1 to 256 characters. */
export function textParam(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length === 0 || raw.length > 256) {
    throw new ApiError(400, `parameter '${name}' must be 1 to 256 characters`, {
      parameter: name,
    });
  }
  return raw;
}

/** Entry `index` of the log (404 when beyond it). */
async function entryAt(deps: ServerDeps, index: number): Promise<LogEntry> {
  const e = await deps.log.get(index);
  if (e === null) {
    const size = await deps.log.size();
    throw new ApiError(404, `no entry ${index}: the log has ${size} entries`, {
      parameter: "index",
      tree_size: size,
    });
  }
  return e;
}

function plain(c: Context<AppEnv>, text: string): Response {
  return c.body(text, 200, { "content-type": "text/plain; charset=utf-8" });
}

/** `GET /v1/log/checkpoint`: the latest signed checkpoint, `text/plain`. */
export function checkpointRoute(deps: ServerDeps): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    onlyParams(c, []);
    return plain(c, await deps.log.checkpoint());
  };
}

/** `GET /v1/log/key`: the verifier key in Go note format, `text/plain`. */
export function keyRoute(deps: ServerDeps): (c: Context<AppEnv>) => Response {
  return (c: Context<AppEnv>): Response => {
    onlyParams(c, []);
    return plain(c, deps.log.verifierKey + "\n");
  };
}

/**
 * `GET /v1/log/keys`: every verifier key of the log (Ed25519, then
 * ML-DSA-44), one per line, `text/plain`.
 */
export function keysRoute(deps: ServerDeps): (c: Context<AppEnv>) => Response {
  return (c: Context<AppEnv>): Response => {
    onlyParams(c, []);
    const keys = deps.log.verifierKeys ?? [deps.log.verifierKey];
    return plain(c, keys.map((k) => k + "\n").join(""));
  };
}

/** `GET /v1/log/entries/{index}`: `{index, leaf, leaf_hash, envelope}`. */
export function entryRoute(deps: ServerDeps): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    onlyParams(c, []);
    const e = await entryAt(deps, parseIndex("index", c.req.param("index")));
    return jsonWithRaw(200, { index: e.index, leaf: e.leaf, leaf_hash: e.leaf_hash }, {
      envelope: e.envelope,
    });
  };
}

/**
 * `GET /v1/log/entries/{index}/bundle`: everything a regulator needs to check
 * one entry offline in one answer — the entry, its inclusion proof in the
 * latest tree, that tree's signed checkpoint, the `tlog-proof@v1` text and
 * the log's verifier key.
 */
export function bundleRoute(deps: ServerDeps): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    onlyParams(c, []);
    const index = parseIndex("index", c.req.param("index"));
    // Read the checkpoint first: the proof is for exactly its tree size.
    const checkpoint = await deps.log.checkpoint();
    const treeSize = checkpointSize(checkpoint);
    if (index >= treeSize) {
      throw new ApiError(404, `no entry ${index}: the log has ${treeSize} entries`, {
        parameter: "index",
        tree_size: treeSize,
      });
    }
    const [e, p] = await Promise.all([
      entryAt(deps, index),
      deps.log.proveInclusion(index, treeSize),
    ]);
    const tlog_proof = formatTlogProof({
      extra: fromBase64(e.leaf),
      index,
      proof: p.proof.map(fromBase64),
      checkpoint,
    });
    return jsonWithRaw(200, {
      index,
      tree_size: treeSize,
      leaf: e.leaf,
      leaf_hash: e.leaf_hash,
      inclusion_proof: p.proof,
      checkpoint,
      tlog_proof,
      verifier_key: deps.log.verifierKey,
    }, { envelope: e.envelope });
  };
}

/** The tree size of a checkpoint text (its second line). */
export function checkpointSize(checkpoint: string): number {
  const line = checkpoint.split("\n")[1] ?? "";
  if (!/^(0|[1-9][0-9]*)$/.test(line)) throw new Error("checkpoint without a tree size");
  return Number(line);
}

/** `GET /v1/log/proof/inclusion?index=N[&tree_size=M]` (M defaults to the current size). */
export function inclusionRoute(deps: ServerDeps): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    onlyParams(c, ["index", "tree_size"]);
    const index = parseIndex("index", c.req.query("index"));
    const given = parseIndex("tree_size", c.req.query("tree_size"), true);
    const size = await deps.log.size();
    const treeSize = given ?? size;
    if (treeSize > size) {
      throw new ApiError(400, `tree_size ${treeSize} is beyond the log's size ${size}`, {
        parameter: "tree_size",
        tree_size: size,
      });
    }
    if (index >= treeSize) {
      throw new ApiError(400, `index ${index} is not below tree_size ${treeSize}`, {
        parameter: "index",
        tree_size: size,
      });
    }
    return c.json(await deps.log.proveInclusion(index, treeSize));
  };
}

/** `GET /v1/log/proof/consistency?first=A&second=B` (B defaults to the current size). */
export function consistencyRoute(deps: ServerDeps): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    onlyParams(c, ["first", "second"]);
    const first = parseIndex("first", c.req.query("first"));
    const given = parseIndex("second", c.req.query("second"), true);
    const size = await deps.log.size();
    const second = given ?? size;
    if (second > size) {
      throw new ApiError(400, `second ${second} is beyond the log's size ${size}`, {
        parameter: "second",
        tree_size: size,
      });
    }
    if (first > second) {
      throw new ApiError(400, `first ${first} is after second ${second}`, {
        parameter: "first",
        tree_size: size,
      });
    }
    return c.json(await deps.log.proveConsistency(first, second));
  };
}

/**
 * `GET /v1/log/entries?issuer=&primitive=&from=&to=&breached=&key_id=&regulation=&cursor=&limit=`:
 * entry summaries (with regulations and the result summary) in (issued_at, index) order;
 * `from` inclusive, `to` exclusive (RFC 3339); `breached=true|false` keeps results that do
 * (not) breach their threshold; `key_id` and `regulation` match exactly; `next_cursor`
 * continues the scan (a filtered page may be short: only a null cursor means the end).
 */
export function queryRoute(deps: ServerDeps): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    onlyParams(c, [
      "issuer",
      "primitive",
      "from",
      "to",
      "breached",
      "key_id",
      "regulation",
      "cursor",
      "limit",
    ]);
    const limit = parseIndex("limit", c.req.query("limit"), true) ?? PAGE_LIMIT.default;
    if (limit < 1 || limit > PAGE_LIMIT.max) {
      throw new ApiError(400, `parameter 'limit' must be between 1 and ${PAGE_LIMIT.max}`, {
        parameter: "limit",
      });
    }
    const q: QueryOptions = { limit };
    const issuer = textParam("issuer", c.req.query("issuer"));
    if (issuer !== undefined) q.issuer = issuer;
    const primitive = textParam("primitive", c.req.query("primitive"));
    if (primitive !== undefined) q.primitive = primitive;
    const keyId = textParam("key_id", c.req.query("key_id"));
    if (keyId !== undefined) q.key_id = keyId;
    const regulation = textParam("regulation", c.req.query("regulation"));
    if (regulation !== undefined) q.regulation = regulation;
    const from = timeParam("from", c.req.query("from"));
    if (from !== undefined) q.from = from;
    const to = timeParam("to", c.req.query("to"));
    if (to !== undefined) q.to = to;
    if (from !== undefined && to !== undefined && utcTimeKey(from)! > utcTimeKey(to)!) {
      throw new ApiError(400, "parameter 'from' is after 'to'", { parameter: "from" });
    }
    const breached = c.req.query("breached");
    if (breached !== undefined) {
      if (breached !== "true" && breached !== "false") {
        throw new ApiError(400, "parameter 'breached' must be true or false", {
          parameter: "breached",
        });
      }
      q.breached = breached === "true";
    }
    const cursor = c.req.query("cursor");
    if (cursor !== undefined) {
      // `+` and `/` (standard base64) may arrive raw, so `+` as a space.
      if (!/^[A-Za-z0-9_.~=+/ -]{1,512}$/.test(cursor)) {
        throw new ApiError(400, "parameter 'cursor' is not a cursor from a previous page", {
          parameter: "cursor",
        });
      }
      q.cursor = cursor;
    }
    const page = await deps.log.query(q);
    return c.json({ entries: page.entries, next_cursor: page.next_cursor });
  };
}
