/**
 * C2SP `tlog-tiles` for regledger, pure and storage-agnostic: tile paths,
 * which tiles a tree has, tile data from a `HashReader` and an
 * authenticated `HashReader` over fetched tiles, entry and envelope
 * bundles, and the entry-bundle checker. The server and the store decide
 * where tiles live; see docs/tiles.md.
 *
 * @module
 */
export {
  type BundleKind,
  checkTile,
  formatTileIndex,
  formatTilePath,
  MAX_TILE_LEVEL,
  parseTilePath,
  type Tile,
  TILE_HEIGHT,
  TILE_WIDTH,
  TilePathError,
} from "./path.ts";
export {
  bundlesForSize,
  FULL_TILE_BYTES,
  fullTileHash,
  hashFromTileData,
  hashTilesForSize,
  newBundles,
  newHashTiles,
  readTileData,
  tileExists,
  tileHashIndexes,
  tileSpanOf,
  treeTileAt,
} from "./layout.ts";
export {
  TileAuthError,
  type TileFetcher,
  TileHashReader,
  type TileHashReaderOptions,
} from "./reader.ts";
export {
  BundleError,
  bundlePrefix,
  decodeEntryBundle,
  decodeEnvelopeBundle,
  DEFAULT_MAX_ENVELOPE_BYTES,
  encodeEntryBundle,
  encodeEnvelopeBundle,
  type EnvelopeBundleOptions,
  MAX_BUNDLE_ENTRY_BYTES,
} from "./bundle.ts";
export { checkEntryBundle, EntryBundleMismatchError } from "./check.ts";
