/**
 * The README's library example runs as written (imports pointed at this
 * checkout, its ledger in a temporary directory) and prints a valid verdict.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

Deno.test("README: the library example runs and verifies its envelope", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const lib = blocks.find((b) => b.includes("openLedger"));
  assert.ok(lib, "the README has a library example using openLedger");
  const dir = await Deno.makeTempDir();
  try {
    const code = lib
      .replace('"./mod.ts"', JSON.stringify(new URL("mod.ts", ROOT).href))
      .replace('"./my-log"', JSON.stringify(`${dir}/my-log`))
      .replace(
        "await ledger.close();",
        "console.log(JSON.stringify({ index: receipt.index }));\nawait ledger.close();",
      );
    const file = `${dir}/example.ts`;
    await Deno.writeTextFile(file, code);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        `--config=${new URL("deno.json", ROOT).pathname}`,
        `--allow-read=${dir},${new URL(".", ROOT).pathname}`,
        `--allow-write=${dir}`,
        "--allow-env",
        file,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(stdout, /valid: true/);
    assert.match(stdout, /\{"index":0\}/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
