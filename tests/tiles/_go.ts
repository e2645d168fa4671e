/**
 * The Go tile checker (tests/go/tiles, Go's golang.org/x/mod/sumdb/tlog):
 * build it and run it on one JSON request. Shared by the tile tests and the
 * server's tiles-over-HTTP test.
 *
 * @module
 */
import { buildGoProgram, runGoProgram } from "../go/_interop.ts";

const GO_DIR = new URL("../go/tiles/", import.meta.url).pathname;

/** Build the Go checker (tests/go/tiles) into `tmp`; its binary path. */
export function buildGo(tmp: string): Promise<string> {
  return buildGoProgram(GO_DIR, tmp, "tiles");
}

/** One proof Go made. */
export interface ProofRes {
  n: number;
  proof: string[] | null;
  root?: string;
  err: string;
}
/** The Go checker's answer. */
export interface GoResponse {
  trees: { err: string; inclusion: ProofRes[]; consistency: ProofRes[]; audited: number }[];
  paths: Record<string, string[]>;
  entry_paths: Record<string, string[]>;
  growth_paths: string[][];
  parse: { ok: boolean; level: number; n: number; w: number; err: string }[];
}

/** Run the Go checker on one request. */
export function runGo(bin: string, request: unknown): Promise<GoResponse> {
  return runGoProgram<GoResponse>(bin, request);
}
