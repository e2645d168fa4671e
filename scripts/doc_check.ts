/**
 * Documentation checks over every entry point of the package (the `exports`
 * of deno.json, the one list of them):
 *
 * - `lint`: `deno doc --lint` of all entry points.
 * - `test`: every symbol of `mod.ts` (the user's API) has an `@example` that
 *   asserts (`assert…` or `throw`); then `deno test --doc` over every module
 *   that declares a symbol of any entry point, since `deno test --doc` runs
 *   the examples of the files it is given and not of the modules they
 *   re-export from.
 * - `html`: the HTML reference in `docs/api/`.
 *
 * usage: deno run --allow-read --allow-run scripts/doc_check.ts lint|test|html
 *
 * @module
 */

const root = new URL("../", import.meta.url);
const rootHref = root.href;

/** Permissions the examples run with: the test suite's, so examples may open a ledger. */
const EXAMPLE_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net=127.0.0.1,localhost",
  "--allow-sys",
];

interface DocTag {
  kind: string;
  doc?: string;
}
interface DocSymbol {
  name: string;
  declarations: { location: { filename: string }; jsDoc?: { tags?: DocTag[] } }[];
}
interface DocJson {
  nodes: Record<string, { symbols?: DocSymbol[] }>;
}

/** The entry points, as paths relative to the repository root (`.` first). */
async function entryPoints(): Promise<Map<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const out = new Map<string, string>();
  for (const [name, path] of Object.entries(config.exports as Record<string, string>)) {
    out.set(name, path.replace(/^\.\//, ""));
  }
  return out;
}

async function denoRun(args: string[], capture = false): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: capture ? "piped" : "inherit",
    stderr: "inherit",
  }).output();
  return { code: r.code, out: capture ? new TextDecoder().decode(r.stdout) : "" };
}

/** An example that checks something: it asserts or throws. */
function assertsSomething(example: string): boolean {
  return /\bassert\w*\s*[.(]|\bthrow\b/.test(example);
}

async function test(entries: Map<string, string>): Promise<number> {
  const files = new Set<string>();
  const missing: string[] = [];
  // One entry at a time: given several, `deno doc` attributes a symbol that
  // two entries export to the entry, not to the module that declares it.
  for (const [name, path] of entries) {
    files.add(path);
    const doc = await denoRun(["doc", "--json", path], true);
    if (doc.code !== 0) return doc.code;
    const json = JSON.parse(doc.out) as DocJson;
    for (const node of Object.values(json.nodes)) {
      for (const sym of node.symbols ?? []) {
        for (const d of sym.declarations) {
          const f = d.location.filename;
          if (f.startsWith(rootHref)) files.add(f.slice(rootHref.length));
        }
        if (name !== ".") continue;
        const ok = sym.declarations.some((d) =>
          (d.jsDoc?.tags ?? []).some((t) => t.kind === "example" && assertsSomething(t.doc ?? ""))
        );
        if (!ok) {
          const where = sym.declarations[0]?.location.filename.slice(rootHref.length) ?? "?";
          missing.push(`${sym.name} (${where})`);
        }
      }
    }
  }
  const sorted = [...files].sort();
  console.log(`deno test --doc over ${sorted.length} modules of ${entries.size} entry points`);
  const run = await denoRun(["test", "--doc", ...EXAMPLE_PERMISSIONS, ...sorted]);
  if (missing.length > 0) {
    console.error(
      `\n${missing.length} export(s) of mod.ts have no @example that asserts:\n  ` +
        missing.join("\n  "),
    );
    return 1;
  }
  return run.code;
}

const mode = Deno.args[0];
const entries = await entryPoints();
const paths = [...entries.values()];
let code: number;
if (mode === "lint") {
  code = (await denoRun(["doc", "--lint", ...paths])).code;
} else if (mode === "test") {
  code = await test(entries);
} else if (mode === "html") {
  code = (await denoRun(["doc", "--html", "--name=regledger", "--output=docs/api", ...paths])).code;
} else {
  console.error("usage: doc_check.ts lint|test|html");
  code = 2;
}
Deno.exit(code);
