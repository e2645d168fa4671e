/**
 * The log as C2SP `tlog-tiles` at the server's root (docs/tiles.md):
 * `GET /checkpoint`, hash tiles `GET /tile/<L>/<N>[.p/<W>]`, entry bundles
 * `GET /tile/entries/<N>[.p/<W>]` and envelope bundles
 * `GET /tile/envelopes/<N>[.p/<W>]`.
 *
 * Full tiles never change: `Cache-Control: public, max-age=31536000,
 * immutable`. Partial tiles and the checkpoint expire quickly (a client
 * should move to the full tile, and to the next checkpoint). Every answer
 * carries a strong `ETag` (a hash of its bytes); `If-None-Match` with it is
 * answered 304.
 *
 * @module
 */
import type { Context } from "hono";
import { sha256, toHex } from "../../core/bytes.ts";
import { parseTilePath, type Tile, TilePathError } from "../../ledger/tiles/path.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "../http.ts";

/** `Cache-Control` of a full tile or bundle. */
export const IMMUTABLE = "public, max-age=31536000, immutable";
/** `Cache-Control` of a partial tile or bundle. */
export const PARTIAL_MAX_AGE = "public, max-age=60";
/** `Cache-Control` of `/checkpoint`. */
export const CHECKPOINT_MAX_AGE = "public, max-age=5";

function etagOf(bytes: Uint8Array): string {
  return `"${toHex(sha256(bytes).subarray(0, 16))}"`;
}

function notModified(c: Context<AppEnv>, etag: string): boolean {
  const inm = c.req.header("if-none-match");
  if (inm === undefined) return false;
  return inm.split(",").some((t) => {
    const v = t.trim();
    return v === "*" || v === etag || v === `W/${etag}`;
  });
}

function answer(
  c: Context<AppEnv>,
  bytes: Uint8Array,
  contentType: string,
  cacheControl: string,
): Response {
  const etag = etagOf(bytes);
  const headers = { "cache-control": cacheControl, etag };
  if (notModified(c, etag)) return c.body(null, 304, headers);
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { ...headers, "content-type": contentType });
}

/**
 * `GET /checkpoint`: the latest signed checkpoint, `text/plain`; with
 * witnesses, the latest one their quorum cosigned (cosignature lines included).
 */
export function tileCheckpointRoute(deps: ServerDeps): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const text = deps.witnessing
      ? await deps.witnessing.publishedCheckpoint()
      : await deps.log.checkpoint();
    return answer(
      c,
      new TextEncoder().encode(text),
      "text/plain; charset=utf-8",
      CHECKPOINT_MAX_AGE,
    );
  };
}

/**
 * `GET /tile/…`: a hash tile (`kind` `"hash"`) or a bundle of `kind`;
 * 400 for a path `parseTilePath` refuses, 404 beyond the tree.
 */
export function tileRoute(
  deps: ServerDeps,
  kind: "hash" | "entries" | "envelopes",
): (c: Context<AppEnv>) => Promise<Response> {
  return async (c: Context<AppEnv>): Promise<Response> => {
    let tile: Tile;
    try {
      tile = parseTilePath(c.req.path.slice(1));
    } catch (e) {
      if (!(e instanceof TilePathError)) throw e;
      throw new ApiError(400, `not a C2SP tile path (rule: ${e.rule})`, { rule: e.rule });
    }
    const want = typeof tile.level === "number" ? "hash" : tile.level;
    if (want !== kind) throw new ApiError(404, "no such tile");
    const bytes = deps.log.tile ? await deps.log.tile(tile) : null;
    if (bytes === null) {
      throw new ApiError(404, "tile beyond the tree", { tree_size: await deps.log.size() });
    }
    return answer(
      c,
      bytes,
      "application/octet-stream",
      tile.width === 256 ? IMMUTABLE : PARTIAL_MAX_AGE,
    );
  };
}
