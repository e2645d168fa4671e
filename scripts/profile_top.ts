/**
 * Summarize a V8 CPU profile (`deno run --cpu-prof --cpu-prof-dir=DIR …`
 * writes one `.cpuprofile` per thread): the functions with the most self
 * time, or with `--inclusive` the most time with the function anywhere on
 * the stack, each with its share of the profile.
 *
 * Run: deno run --allow-read scripts/profile_top.ts FILE.cpuprofile [--top N] [--inclusive]
 *
 * Example (what bounds the local audit):
 *   deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof benchmarks/verify_log.ts \
 *     --keep /tmp/log --only-verify
 *   deno run --allow-read scripts/profile_top.ts /tmp/prof/CPU.*.cpuprofile
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const files = Deno.args.filter((a, i) => !a.startsWith("--") && Deno.args[i - 1] !== "--top");
const topAt = Deno.args.indexOf("--top");
const top = topAt >= 0 ? Number(Deno.args[topAt + 1]) : 25;
const inclusive = Deno.args.includes("--inclusive");
if (files.length === 0) {
  console.error("usage: profile_top.ts FILE.cpuprofile [--top N] [--inclusive]");
  Deno.exit(2);
}

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url.split("/").slice(-2).join("/");
  return `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
}

for (const file of files) {
  const p = JSON.parse(await Deno.readTextFile(file)) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Microseconds per node, from the sample deltas.
  const self = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const time = new Map<string, number>();
  for (const [id, t] of self) {
    if (!inclusive) {
      const k = label(byId.get(id)!);
      time.set(k, (time.get(k) ?? 0) + t);
      continue;
    }
    const seen = new Set<string>(); // a recursive function counts once per stack
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const k = label(byId.get(x)!);
      if (seen.has(k)) continue;
      seen.add(k);
      time.set(k, (time.get(k) ?? 0) + t);
    }
  }
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms${inclusive ? " (inclusive)" : " (self)"}`);
  for (const [k, t] of [...time].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const pct = (100 * t / total).toFixed(1).padStart(5);
    console.log(`${pct}%  ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  }
}
