/**
 * Build and run tests/witness/go (Go's view of cosignatures, written from
 * the C2SP spec text and crypto/ed25519): shared by the cosignature interop
 * tests and the witness server's tests. Needs `go` and Debian's
 * golang-golang-x-mod-dev; a test that uses it FAILS without them.
 */
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
  const bin = `${dir}/witnessinterop`;
  const env: Record<string, string> = { GOFLAGS: "-mod=mod", GOPROXY: "off", GOSUMDB: "off" };
  if (!Deno.env.get("GOCACHE") && !Deno.env.get("HOME")) env.GOCACHE = `${dir}/cache`;
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
    throw new Error(
      "this test needs Go: apt-get install -y golang-go golang-golang-x-mod-dev",
      { cause: e },
    );
  }
  if (!out.success) throw new Error(`go build failed:\n${new TextDecoder().decode(out.stderr)}`);
  return bin;
}

export async function runGo(bin: string, request: unknown): Promise<GoResponse> {
  const child = new Deno.Command(bin, { stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(request)));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(`Go failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as GoResponse;
}
