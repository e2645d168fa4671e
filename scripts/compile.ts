/**
 * `deno task compile`: build one self-contained `dist/regledger` that runs
 * from any directory with every module, schema and npm dependency inside.
 *
 * First choice is `deno compile` (a native executable with the Deno runtime
 * embedded). That needs Deno's `denort` runtime, which `deno compile`
 * downloads from dl.deno.land unless `DENORT_BIN` points at one; where
 * neither is possible (machines that reach only the npm registry) the
 * script says so and builds the fallback: one self-extracting executable
 * holding the Deno runtime this script runs on, the program bundled into
 * one module, the verification worker, and node-seal's WebAssembly. Its
 * first run unpacks them into a per-build cache directory; every run then
 * executes the bundled program with that runtime. Either way it needs
 * nothing installed and reads nothing relative to the working directory.
 * (The fallback is for the platform it is built on: Linux x86_64 here.)
 *
 * @module
 */

const PERMS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-sys=hostname,osRelease",
];
const root = new URL("../", import.meta.url);
const dist = new URL("dist/", root);
const out = new URL("regledger", dist).pathname;
const entry = new URL("cli/main.ts", root).pathname;
// Loaded with new Worker(new URL(...)), which the module graph does not see.
// Each is named by its file's base name (the bundle puts `<name>.js` beside main.js).
const WORKER_FILES: Record<string, string> = {
  verify_worker: "server/verify_worker.ts",
  ckks_worker: "server/ckks_worker.ts",
  verify_entries_worker: "ledger/verify_entries_worker.ts",
};
const WORKERS = Object.keys(WORKER_FILES);
const workerPath = (w: string) => new URL(WORKER_FILES[w], root).pathname;
const config = new URL("deno.json", root).pathname;

async function deno(args: string[]): Promise<{ ok: boolean; stderr: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "piped",
    cwd: root.pathname,
  }).output();
  return { ok: r.success, stderr: new TextDecoder().decode(r.stderr) };
}

await Deno.mkdir(dist, { recursive: true });
await Deno.remove(out).catch(() => {});
const mode = Deno.args.includes("--bundle-only") ? "bundle" : "compile";

if (mode === "compile") {
  const r = await deno([
    "compile",
    "--config",
    config,
    ...PERMS,
    "--unstable-kv",
    ...WORKERS.flatMap((w) => ["--include", workerPath(w)]),
    "--output",
    out,
    entry,
  ]);
  if (r.ok) {
    console.error(`built ${out} (native, deno compile)`);
    Deno.exit(0);
  }
  // deno's own error line says only that writing failed; the cause lines say why.
  // deno-lint-ignore no-control-regex
  const plain = r.stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim());
  const reason = plain.filter((l) => l && !/^\d+: |^Stack backtrace|^Caused by:/.test(l)).slice(-3)
    .join(" / ");
  console.error(
    `deno compile could not build a native executable here: ${reason.trim()}\n` +
      "(it needs the denort runtime from dl.deno.land, or DENORT_BIN pointing at one).\n" +
      "Building the self-extracting executable instead.",
  );
}

// The fallback: a self-extracting file holding this Deno runtime, the bundled
// program, the verification worker and node-seal's WebAssembly.
const stage = await Deno.makeTempDir({ dir: dist.pathname, prefix: ".build-" });
try {
  const sources = [["main.js", entry], ...WORKERS.map((w) => [`${w}.js`, workerPath(w)])];
  for (const [name, src] of sources) {
    const b = await deno([
      "bundle",
      "--config",
      config,
      "--platform",
      "deno",
      "--quiet",
      "-o",
      `${stage}/${name}`,
      src,
    ]);
    if (!b.ok) {
      console.error(b.stderr);
      Deno.exit(1);
    }
  }
  // The server and the audit start their workers from URLs beside their modules; in the
  // bundle that is main.js.
  let main = await Deno.readTextFile(`${stage}/main.js`);
  for (const w of WORKERS) {
    const ref = `"./${w}.ts"`;
    if (!main.includes(ref)) {
      console.error(`the bundle no longer names ${ref}: update scripts/compile.ts`);
      Deno.exit(1);
    }
    main = main.replaceAll(ref, `"./${w}.js"`);
  }
  await Deno.writeTextFile(`${stage}/main.js`, main);
  // node-seal loads seal_throws.wasm from beside the script that embeds it.
  await Deno.copyFile(await sealWasm(), `${stage}/seal_throws.wasm`);
  await Deno.copyFile(Deno.execPath(), `${stage}/deno`);
  await Deno.chmod(`${stage}/deno`, 0o755);

  const payload = `${stage}.tar.gz`;
  const tar = await new Deno.Command("tar", {
    args: [
      "-czf",
      payload,
      "-C",
      stage,
      "deno",
      "main.js",
      ...WORKERS.map((w) => `${w}.js`),
      "seal_throws.wasm",
    ],
    stderr: "inherit",
  }).output();
  if (!tar.success) Deno.exit(1);
  const bytes = await Deno.readFile(payload);
  await Deno.remove(payload);
  const id = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)).slice(0, 8)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const flags = [...PERMS, "--unstable-kv", "--no-config"].join(" ");
  const header = [
    "#!/bin/sh",
    "# regledger: one self-contained file. It holds the Deno runtime it was built with,",
    "# the bundled program and its WebAssembly; the first run unpacks them into",
    "# ${REGLEDGER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/regledger}/<build id>.",
    "set -e",
    `id=${id}`,
    'base="${REGLEDGER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/regledger}"',
    'dir="$base/$id"',
    'if [ ! -x "$dir/deno" ] || [ ! -f "$dir/main.js" ]; then',
    '  mkdir -p "$base"',
    '  tmp="$dir.tmp.$$"',
    '  rm -rf "$tmp"; mkdir -p "$tmp"',
    '  tail -n +PAYLOAD_LINE "$0" | tar -xzf - -C "$tmp"',
    '  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"',
    "fi",
    `exec "$dir/deno" run -q ${flags} "$dir/main.js" "$@"`,
  ];
  const text = header.join("\n").replace("PAYLOAD_LINE", String(header.length + 1)) + "\n";
  const file = await Deno.open(out, { write: true, create: true, truncate: true, mode: 0o755 });
  try {
    await file.write(new TextEncoder().encode(text));
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
  } finally {
    file.close();
  }
  await Deno.chmod(out, 0o755);
  console.error(
    `built ${out} (${
      (bytes.length / 1e6).toFixed(1)
    } MB self-extracting: Deno ${Deno.version.deno} ` +
      `for ${Deno.build.target}, the bundled program, node-seal's WebAssembly)`,
  );
} finally {
  await Deno.remove(stage, { recursive: true });
}

/** node-seal's seal_throws.wasm in Deno's npm cache (the version pinned in deno.json). */
async function sealWasm(): Promise<string> {
  const cfg = JSON.parse(await Deno.readTextFile(config)) as { imports: Record<string, string> };
  const m = /^npm:node-seal@(.+)$/.exec(cfg.imports["node-seal"] ?? "");
  if (!m) throw new Error("deno.json does not pin node-seal");
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
  })
    .output();
  const npmCache = (JSON.parse(new TextDecoder().decode(info.stdout)) as { npmCache: string })
    .npmCache;
  return `${npmCache}/registry.npmjs.org/node-seal/${m[1]}/dist/seal_throws.wasm`;
}
