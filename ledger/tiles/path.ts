/**
 * C2SP `tlog-tiles` resource paths: hash tiles `tile/<L>/<N>[.p/<W>]`,
 * entry bundles `tile/entries/<N>[.p/<W>]`, and regledger's envelope
 * bundles `tile/envelopes/<N>[.p/<W>]` (same numbering as entry bundles).
 *
 * Paths are relative to the log's URL prefix and have no leading `/`.
 * Parsing is strict: every tile has exactly one path, and any other spelling
 * (leading zeros, a needless `x000/` group, `.p/256`, `.p/0`, a level above
 * 63, …) is a {@link TilePathError} naming the rule it broke.
 *
 * Go's `tlog.Tile.Path()` writes the same paths with the tile height as an
 * extra element (`tile/8/0/x001/234`, `tile/8/data/…` for entries); C2SP
 * fixes the height at 8 and drops that element.
 *
 * @module
 */
import { RegledgerError } from "../../core/errors.ts";

/** Tile height: a tile spans 8 levels of the tree. */
export const TILE_HEIGHT = 8;

/** Hashes (or entries) in a full tile: 2^8. */
export const TILE_WIDTH = 256;

/** Highest hash-tile level a path may name (C2SP: 0 to 63). */
export const MAX_TILE_LEVEL = 63;

/** Where a bundle's items come from: the log's leaves, or the envelopes they name. */
export type BundleKind = "entries" | "envelopes";

/**
 * A tile: level `level` (a hash tile level 0-63, or a bundle kind), index
 * `n` within that level, and `width` 1-256 (256 is a full tile).
 *
 * A hash tile at level L, index N, width W holds the W consecutive stored
 * hashes at tree level 8·L starting at N·256 (tlog's `Tile{H: 8, L, N, W}`).
 * A bundle N holds the W entries starting at index N·256.
 */
export interface Tile {
  /** Hash tile level (0-63), or `"entries"` / `"envelopes"` for a bundle. */
  readonly level: number | BundleKind;
  /** Index of the tile within its level. */
  readonly n: number;
  /** Number of hashes or entries: 1-255 for a partial tile, 256 when full. */
  readonly width: number;
}

/**
 * A tile path was malformed or non-canonical, or a tile could not be given
 * a path. `rule` names what failed: `prefix`, `level`, `index`, `width`,
 * `non-canonical`.
 */
export class TilePathError extends RegledgerError {
  /** The rejected path (or a description of the rejected tile). */
  readonly path: string;
  /** The rule that failed. */
  readonly rule: string;
  /** Build a path error. */
  constructor(path: string, rule: string, message: string, options?: ErrorOptions) {
    super(`tile path ${JSON.stringify(path)}: ${message}`, options);
    this.path = path;
    this.rule = rule;
  }
}

function isBundleKind(v: unknown): v is BundleKind {
  return v === "entries" || v === "envelopes";
}

/**
 * Check a tile's fields; returns it unchanged.
 *
 * @throws {TilePathError} when the level, index or width is out of range.
 */
export function checkTile(tile: Tile): Tile {
  const what = `{level: ${String(tile?.level)}, n: ${String(tile?.n)}, width: ${
    String(tile?.width)
  }}`;
  const { level, n, width } = tile;
  if (
    !isBundleKind(level) &&
    !(Number.isSafeInteger(level) && (level as number) >= 0 && (level as number) <= MAX_TILE_LEVEL)
  ) {
    throw new TilePathError(
      what,
      "level",
      `level must be 0-${MAX_TILE_LEVEL}, "entries" or "envelopes"`,
    );
  }
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TilePathError(what, "index", "n must be a non-negative safe integer");
  }
  if (!Number.isSafeInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new TilePathError(what, "width", `width must be 1-${TILE_WIDTH}`);
  }
  return tile;
}

/**
 * Encode a tile index as zero-padded 3-digit path elements, all but the last
 * prefixed with `x` (C2SP tlog-tiles): 1234067 → `x001/x234/067`.
 */
export function formatTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`tile index must be a non-negative safe integer, got ${String(n)}`);
  }
  let s = String(n % 1000).padStart(3, "0");
  for (let rest = Math.floor(n / 1000); rest > 0; rest = Math.floor(rest / 1000)) {
    s = `x${String(rest % 1000).padStart(3, "0")}/${s}`;
  }
  return s;
}

/**
 * The C2SP path of a tile, e.g. `tile/0/x001/234.p/7`, `tile/entries/000`.
 *
 * @example
 * ```ts
 * import { formatTilePath } from "./path.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatTilePath({ level: 1, n: 1234067, width: 256 }), "tile/1/x001/x234/067");
 * assert.equal(formatTilePath({ level: "entries", n: 0, width: 17 }), "tile/entries/000.p/17");
 * ```
 *
 * @throws {TilePathError} when the tile's fields are out of range.
 */
export function formatTilePath(tile: Tile): string {
  checkTile(tile);
  const p = tile.width === TILE_WIDTH ? "" : `.p/${tile.width}`;
  return `tile/${tile.level}/${formatTileIndex(tile.n)}${p}`;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const GROUP = /^x?[0-9]{3}$/;

/**
 * Parse a C2SP tile path (no leading `/`) into a {@link Tile}. Accepts only
 * the path {@link formatTilePath} writes for that tile.
 *
 * @example
 * ```ts
 * import { parseTilePath } from "./path.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseTilePath("tile/2/x001/234.p/5"), { level: 2, n: 1234, width: 5 });
 * assert.throws(() => parseTilePath("tile/0/x000/001"), { name: "TilePathError" });
 * ```
 *
 * @throws {TilePathError} naming the rule the path broke.
 */
export function parseTilePath(path: string): Tile {
  if (typeof path !== "string") {
    throw new TilePathError(String(path), "prefix", "path must be a string");
  }
  const parts = path.split("/");
  if (parts.length < 3 || parts[0] !== "tile") {
    throw new TilePathError(path, "prefix", "expected tile/<L>/<N>[.p/<W>]");
  }
  const levelPart = parts[1];
  let level: number | BundleKind;
  if (isBundleKind(levelPart)) {
    level = levelPart;
  } else {
    if (!DECIMAL.test(levelPart)) {
      throw new TilePathError(
        path,
        "level",
        'level must be a decimal integer without leading zeros, "entries" or "envelopes"',
      );
    }
    level = Number(levelPart);
    if (level > MAX_TILE_LEVEL) {
      throw new TilePathError(path, "level", `level must be 0-${MAX_TILE_LEVEL}`);
    }
  }

  let groups = parts.slice(2);
  let width = TILE_WIDTH;
  const last = groups[groups.length - 1];
  const beforeLast = groups[groups.length - 2];
  if (groups.length >= 2 && beforeLast.endsWith(".p")) {
    if (!DECIMAL.test(last)) {
      throw new TilePathError(
        path,
        "width",
        "width must be a decimal integer without leading zeros",
      );
    }
    width = Number(last);
    if (width < 1 || width >= TILE_WIDTH) {
      throw new TilePathError(path, "width", `partial width must be 1-${TILE_WIDTH - 1}`);
    }
    groups = [...groups.slice(0, -2), beforeLast.slice(0, -2)];
  }

  let n = 0;
  groups.forEach((g, i) => {
    const isLast = i === groups.length - 1;
    if (!GROUP.test(g) || (isLast ? g.startsWith("x") : !g.startsWith("x"))) {
      throw new TilePathError(
        path,
        "index",
        "index must be 3-digit elements, all but the last starting with x",
      );
    }
    n = n * 1000 + Number(g.slice(g.length - 3));
  });
  if (!Number.isSafeInteger(n)) {
    throw new TilePathError(path, "index", "index is larger than 2^53 - 1");
  }
  const tile: Tile = { level, n, width };
  // The only remaining freedom is leading x000/ groups: one path per tile.
  if (formatTilePath(tile) !== path) {
    throw new TilePathError(path, "non-canonical", `the canonical path is ${formatTilePath(tile)}`);
  }
  return tile;
}
