/**
 * Build and run tests/go/interop (Go's golang.org/x/mod/sumdb/tlog and note)
 * for the tests that compare regledger with Go.
 *
 * @module
 */

export const XMOD = "/usr/share/gocode/src/golang.org/x/mod/sumdb/note/note.go";
const GO_DIR = new URL("./interop/", import.meta.url).pathname;
export const GO_REQUIRED = Deno.env.get("CI") === "true" ||
  Deno.env.get("REGLEDGER_REQUIRE_GO") === "1";

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function goVersion(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("go", { args: ["version"], stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Build one Go program of the tests (a directory with a `main` package that
 * uses Debian's golang.org/x/mod) offline into `dir/name`; its path. The one
 * Go builder: the tlog/note interop, the tile checker and the cosignature
 * checker all go through it, so they fail the same way without Go.
 */
export async function buildGoProgram(goDir: string, dir: string, name: string): Promise<string> {
  const version = await goVersion();
  if (version === undefined || !(await exists(XMOD))) {
    throw new Error(
      "Go interop needs `go` and golang.org/x/mod in /usr/share/gocode " +
        "(apt-get install -y golang-go golang-golang-x-mod-dev)",
    );
  }
  const bin = `${dir}/${name}`;
  const env: Record<string, string> = { GOFLAGS: "-mod=mod", GOPROXY: "off", GOSUMDB: "off" };
  if (!Deno.env.get("GOCACHE") && !Deno.env.get("HOME")) env.GOCACHE = `${dir}/cache`;
  const out = await new Deno.Command("go", {
    args: ["build", "-o", bin, "."],
    cwd: goDir,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `go build of ${goDir} failed (${version}):\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return bin;
}

/** Run a Go program built by {@linkcode buildGoProgram} on one JSON request; its JSON answer. */
export async function runGoProgram<T>(bin: string, request: unknown): Promise<T> {
  const child = new Deno.Command(bin, { stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(request)));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(`${bin} failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as T;
}

/** Build tests/go/interop offline and return the binary's path. */
export async function buildInterop(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-go-" });
  return await buildGoProgram(GO_DIR, dir, "interop");
}

/** Run the tlog/note interop program on one request. */
export function runInterop<T>(bin: string, request: unknown): Promise<T> {
  return runGoProgram<T>(bin, request);
}

/** {@linkcode buildInterop}, with a cleanup of the binary's temporary directory. */
export async function buildGoInterop(): Promise<{ bin: string; remove(): Promise<void> }> {
  const bin = await buildInterop();
  const dir = bin.slice(0, bin.lastIndexOf("/"));
  return { bin, remove: () => Deno.remove(dir, { recursive: true }) };
}

/** {@linkcode runInterop} for callers that read the answer themselves. */
export function runGoInterop(bin: string, request: unknown): Promise<unknown> {
  return runInterop<unknown>(bin, request);
}
