/**
 * Build and run tests/witness/go (Go's view of cosignatures, written from
 * the C2SP spec text and crypto/ed25519): shared by the cosignature interop
 * tests and the witness server's tests. Needs `go` and Debian's
 * golang-golang-x-mod-dev; a test that uses it FAILS without them.
 */
import { buildGoProgram, runGoProgram } from "../go/_interop.ts";

const GO_DIR = new URL("./go/", import.meta.url).pathname;

export interface GoResponse {
  verify: {
    log_err: string;
    key_err: string;
    cosig_err: string;
    timestamp: number;
    log_sigs: number;
    unknown_sigs: number;
  }[] | null;
  sign: { vkey: string; line: string }[] | null;
}

let built: Promise<string> | undefined;
/** Build tests/witness/go once per run (offline, against Debian's x/mod source). */
export function buildGo(): Promise<string> {
  return built ??= build();
}

async function build(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-witness-go-" });
  // Built once per test process and shared by its test files: removed when the process ends.
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  });
  return await buildGoProgram(GO_DIR, dir, "witnessinterop");
}

/** Run the cosignature checker on one request. */
export function runGo(bin: string, request: unknown): Promise<GoResponse> {
  return runGoProgram<GoResponse>(bin, request);
}
