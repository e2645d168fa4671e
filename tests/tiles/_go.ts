/**
 * The Go tile checker (tests/go/tiles, Go's golang.org/x/mod/sumdb/tlog):
 * build it and run it on one JSON request. Shared by the tile tests and the
 * server's tiles-over-HTTP test.
 *
 * @module
 */
const GO_DIR = new URL("../go/tiles/", import.meta.url).pathname;
const XMOD = "/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog/tile.go";

/** Build the Go checker (tests/go/tiles) into `tmp`; its binary path. */
export async function buildGo(tmp: string): Promise<string> {
  try {
    await Deno.stat(XMOD);
  } catch {
    throw new Error(
      "Go tile interop needs golang.org/x/mod in /usr/share/gocode " +
        "(apt-get install -y golang-go golang-golang-x-mod-dev)",
    );
  }
  const bin = `${tmp}/tiles`;
  const env: Record<string, string> = { GOFLAGS: "-mod=mod", GOPROXY: "off", GOSUMDB: "off" };
  if (!Deno.env.get("GOCACHE") && !Deno.env.get("HOME")) env.GOCACHE = `${tmp}/cache`;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("go", {
      args: ["build", "-o", bin, "."],
      cwd: GO_DIR,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    throw new Error("Go tile interop needs `go` on PATH (apt-get install -y golang-go)", {
      cause: e,
    });
  }
  if (!out.success) throw new Error(`go build failed:\n${new TextDecoder().decode(out.stderr)}`);
  return bin;
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
export async function runGo(bin: string, request: unknown): Promise<GoResponse> {
  const child = new Deno.Command(bin, { stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(request)));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(`go tiles failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
