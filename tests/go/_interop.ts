/**
 * Build and run the Go interop checker (`tests/go/interop`: Go's
 * golang.org/x/mod/sumdb/tlog and note) on one JSON request. Go is required:
 * without it (or golang.org/x/mod) the caller's test fails.
 *
 * @module
 */
const GO_DIR = new URL("./interop/", import.meta.url).pathname;

/** Build the checker into a temporary directory; its binary and a cleanup. */
export async function buildGoInterop(): Promise<{ bin: string; remove(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-go-" });
  const env: Record<string, string> = { GOFLAGS: "-mod=mod", GOPROXY: "off", GOSUMDB: "off" };
  if (!Deno.env.get("GOCACHE") && !Deno.env.get("HOME")) env.GOCACHE = `${dir}/cache`;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("go", {
      args: ["build", "-o", `${dir}/interop`, "."],
      cwd: GO_DIR,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    throw new Error("Go interop needs `go` (apt-get install -y golang-go)", { cause: e });
  }
  if (!out.success) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`go build failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return { bin: `${dir}/interop`, remove: () => Deno.remove(dir, { recursive: true }) };
}

/** Run the built checker on `request`; its JSON answer. */
export async function runGoInterop(bin: string, request: unknown): Promise<unknown> {
  const child = new Deno.Command(bin, { stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(request)));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(`interop failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
