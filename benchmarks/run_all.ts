/**
 * Run every benchmark, one after another (they would disturb each other in
 * parallel on a 2-core machine), each in its own process so one's heap and
 * WASM memory cannot colour the next. Each prints its table and writes
 * `benchmarks/results/<name>.json` itself.
 *
 * Run: `deno task bench [--quick] [name...]` — names are envelope, primitives,
 * the names in BENCHES below; none means all. `--quick` is passed on (fewer rounds,
 * smaller sizes) to check that the scripts work, not to quote figures.
 *
 * @module
 */
const ALL = [
  "envelope",
  "primitives",
  "ledger",
  "server",
  "fhe",
  "tiles",
  "pq_checkpoint",
  "remote_audit",
  "verify_log",
  "witness_serve",
  "hybrid_envelope",
  "witnessed_append",
  "console",
  "privacy_budget",
] as const;

const quick = Deno.args.includes("--quick");
const names = Deno.args.filter((a) => a !== "--quick");
for (const n of names) {
  if (!(ALL as readonly string[]).includes(n)) {
    console.error(`unknown benchmark ${JSON.stringify(n)}; choose from ${ALL.join(", ")}`);
    Deno.exit(2);
  }
}
const chosen = names.length === 0 ? [...ALL] : names;

const failed: string[] = [];
for (const name of chosen) {
  const args = ["run", "-A", new URL(`./${name}.ts`, import.meta.url).pathname];
  // primitives.ts has no quick mode: it is fast.
  if (quick && name !== "primitives") args.push("--quick");
  console.log(`\n=== ${name}${quick ? " (quick)" : ""}`);
  const t0 = performance.now();
  const { code } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  console.log(`=== ${name}: exit ${code} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (code !== 0) failed.push(name);
}
if (failed.length > 0) {
  console.error(`failed: ${failed.join(", ")}`);
  Deno.exit(1);
}
