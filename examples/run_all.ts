/**
 * `deno task examples`: run the four examples end to end, as CI does.
 *
 * 1. the vendor audits and signs locally (example 1);
 * 2. a regulator's server runs on loopback (`regledger serve`, a real child
 *    process) trusting the vendor's key; the vendor submits and keeps the
 *    receipts (example 2); the server is stopped with SIGTERM;
 * 3. the regulator verifies everything offline, with no network permission
 *    (example 3), and a tampered envelope is caught;
 * 4. the shell-only round trip with the compiled binary (example 4; built
 *    afresh with `deno task compile`), and the console served by that
 *    binary (`GET /console` and its bundled script).
 *
 * @module
 */
const root = new URL("../", import.meta.url);
const existsSync = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};
const here = (p: string) => new URL(p, root).pathname;
const deno = Deno.execPath();
const work = await Deno.makeTempDir({ prefix: "regledger-examples-" });

function step(title: string) {
  console.error(`\n== ${title}`);
}

async function run(args: string[], opts: { env?: Record<string, string>; expect?: number } = {}) {
  const out = await new Deno.Command(args[0], {
    args: args.slice(1),
    env: opts.env,
    stdout: "inherit",
    stderr: "inherit",
    cwd: work,
  }).output();
  const want = opts.expect ?? 0;
  if (out.code !== want) {
    throw new Error(`${args.slice(0, 4).join(" ")} … exited ${out.code}, expected ${want}`);
  }
}

try {
  step("1. vendor: audit, sign, archive");
  await run([
    deno,
    "run",
    "--allow-read",
    "--allow-write",
    here("examples/01_vendor_audit.ts"),
    work,
  ]);

  step("2. vendor → regulator's server: submit, keep receipts");
  // The regulator decides to trust the vendor's key (handed over out of band).
  await Deno.copyFile(`${work}/vendor-trust.json`, `${work}/regulator-trust.json`);
  const token = crypto.randomUUID();
  const server = new Deno.Command(deno, {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1",
      "--allow-sys=hostname",
      "--unstable-kv",
      here("cli/main.ts"),
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--data",
      `${work}/regulator-data`,
      "--trusted-keys",
      `${work}/regulator-trust.json`,
    ],
    env: {
      REGLEDGER_API_KEYS: `${token}:ledger:append,ledger:read`,
      REGLEDGER_ACCESS_LOG: "0",
    },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const url = await listeningUrl(server.stderr);
  console.error(`server listening on ${url}`);
  try {
    await run(
      [
        deno,
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env=REGLEDGER_TOKEN",
        "--allow-net=127.0.0.1",
        here("examples/02_submit.ts"),
        work,
        url,
      ],
      { env: { REGLEDGER_TOKEN: token } },
    );
  } finally {
    server.kill("SIGTERM");
    const status = await server.status;
    console.error(`server stopped (exit ${status.code})`);
  }

  step("3. regulator: verify offline (no network permission)");
  const verify = [
    deno,
    "run",
    "--allow-read",
    here("examples/03_regulator_verify.ts"),
    work,
    `${work}/regulator-trust.json`,
  ];
  await run(verify);
  // A changed result must be caught, offline, by both the signature and the receipt.
  const file = `${work}/envelopes/drift.json`;
  const original = await Deno.readTextFile(file);
  const env = JSON.parse(original);
  env.result.drift_bit = !env.result.drift_bit;
  await Deno.writeTextFile(file, JSON.stringify(env, null, 2));
  console.error("(tampered with drift.json: expecting failure)");
  await run(verify, { expect: 1 });
  await Deno.writeTextFile(file, original);

  step("4. shell-only round trip with the compiled binary");
  const bin = here("dist/regledger");
  // Always rebuild: the round trip must exercise the code as it is now.
  await run([deno, "task", "--config", here("deno.json"), "compile"]);
  // From another directory, with no deno on PATH and a fresh unpack cache: self-contained.
  const noDeno = (Deno.env.get("PATH") ?? "").split(":")
    .filter((d) => !existsSync(`${d}/deno`)).join(":");
  await run(["bash", here("examples/04_shell_roundtrip.sh"), bin, `${work}/shell`], {
    env: { PATH: noDeno, REGLEDGER_CACHE: `${work}/cache` },
  });

  step("4b. the compiled binary serves the console from its own module graph");
  const served = new Deno.Command(bin, {
    args: ["serve", "--host", "127.0.0.1", "--port", "0", "--data", `${work}/console-data`],
    env: { PATH: noDeno, REGLEDGER_CACHE: `${work}/cache`, REGLEDGER_ACCESS_LOG: "0" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const base = await listeningUrl(served.stderr);
    const page = await (await fetch(`${base}/console/entries/0`)).text();
    const script = page.match(/src="(\/console\/assets\/console\.[0-9a-f]+\.js)"/)?.[1];
    if (!script) throw new Error("the compiled binary's /console page names no script");
    const js = await fetch(base + script);
    if (!js.ok || (await js.text()).length < 1000) {
      throw new Error(`the compiled binary does not serve ${script}`);
    }
    console.error(`console served by the compiled binary at ${base}/console`);
  } finally {
    served.kill("SIGTERM");
    await served.status;
  }

  console.error("\nall examples passed");
} finally {
  await Deno.remove(work, { recursive: true });
}

/** Read the server's stderr until it says where it listens; keep draining afterwards. */
async function listeningUrl(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
    const m = seen.match(/listening on (http:\/\/[^\s]+?)\/?\s/);
    if (m) {
      // Keep reading so the child never blocks on a full pipe.
      (async () => {
        try {
          while (!(await reader.read()).done) { /* drain */ }
        } catch { /* closed */ }
      })();
      return m[1];
    }
  }
  throw new Error(`server did not start:\n${seen}`);
}
