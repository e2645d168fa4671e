/**
 * `deno task compile`: build one self-contained `dist/regledger` that runs
 * from any directory with every module, schema and npm dependency inside.
 *
 * First choice is `deno compile` (a native executable with the Deno runtime
 * embedded). That needs Deno's `denort` runtime, which `deno compile`
 * downloads from dl.deno.land unless `DENORT_BIN` points at one; where
 * neither is possible (machines that reach only the npm registry) the
 * script says so and builds the fallback: the whole module graph bundled
 * into one executable file (a shell/JavaScript polyglot) that runs with the
 * `deno` on PATH, or with `npx -y deno@2.9.6` when there is none. Either way
 * nothing is read relative to the working directory.
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
    // Loaded with new Worker(new URL(...)), which the module graph does not see.
    "--include",
    new URL("server/verify_worker.ts", root).pathname,
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
      "Building the single-file bundle instead.",
  );
}

const js = new URL("regledger.bundle.js", dist).pathname;
const b = await deno([
  "bundle",
  "--config",
  config,
  "--platform",
  "deno",
  "--quiet",
  "-o",
  js,
  entry,
]);
if (!b.ok) {
  console.error(b.stderr);
  Deno.exit(1);
}
const body = await Deno.readTextFile(js);
await Deno.remove(js);
const flags = [...PERMS, "--unstable-kv", "--no-config", "--ext=js"].join(" ");
// Line 2 is a comment to JavaScript and a command to sh (`//bin/true` is /bin/true).
const launcher = [
  "#!/bin/sh",
  `//bin/true; if command -v deno >/dev/null 2>&1; then exec deno run -q ${flags} "$0" "$@"; ` +
  `else exec npx -y deno@2.9.6 run -q ${flags} "$0" "$@"; fi`,
  "",
].join("\n");
await Deno.writeTextFile(out, launcher + body);
await Deno.chmod(out, 0o755);
console.error(`built ${out} (single-file bundle; runs with deno on PATH or npx deno@2.9.6)`);
