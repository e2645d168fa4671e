/**
 * `deno bundle --platform browser` of the console's verifier: the bundle
 * names no Node module and uses no Deno API (the only "Deno" in it is the
 * `Symbol.for("Deno.customInspect")` key that hides key material from
 * Deno's console, a plain symbol in a browser), and it runs — valid entries
 * valid, a tampered one invalid — in a process whose `Deno` and `process`
 * globals were deleted before it was imported, as in a browser.
 */
import assert from "node:assert/strict";
import { fromBase64, toBase64 } from "../../core/bytes.ts";
import { populate, withServer } from "./_helpers.ts";

const ENTRY = new URL("../../server/console/web/verify.ts", import.meta.url).pathname;

Deno.test({
  name: "the browser bundle of verify.ts uses no Deno or Node API and verifies without them",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-verify-bundle-" });
    try {
      const out = `${dir}/verify.js`;
      const bundled = await new Deno.Command(Deno.execPath(), {
        args: ["bundle", "--quiet", "--platform", "browser", "--minify", "-o", out, ENTRY],
        cwd: new URL("../../", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(bundled.code, 0, new TextDecoder().decode(bundled.stderr));
      const js = await Deno.readTextFile(out);
      assert.ok(js.includes("verifyEntry"), "the bundle exports verifyEntry");
      assert.doesNotMatch(js, /node:/, "no node: module");
      assert.doesNotMatch(js, /\brequire\(/, "no CommonJS require");
      assert.doesNotMatch(js, /\bimport\s*\(/, "no dynamic import");
      const deno = js.replaceAll('Symbol.for("Deno.customInspect")', "");
      assert.doesNotMatch(deno, /Deno/, "no Deno API");
      // process appears once: feature detection of node:crypto's hash (absent in browsers).
      assert.equal(js.match(/globalThis\.process/g)?.length, 1);

      // Inputs from a real server: three valid entries and one with a flipped proof hash.
      const inputs: unknown[] = [];
      await withServer(async (ctx) => {
        await populate(ctx);
        for (const i of [0, 5, 6]) inputs.push(await ctx.input(i));
        const bad = await ctx.input(2);
        const b = JSON.parse(bad.bundle as string);
        const h = fromBase64(b.inclusion_proof[0]);
        h[1] ^= 4;
        b.inclusion_proof[0] = toBase64(h);
        inputs.push({ ...bad, bundle: JSON.stringify(b) });
      });
      await Deno.writeTextFile(`${dir}/inputs.json`, JSON.stringify(inputs));
      await Deno.writeTextFile(
        `${dir}/run.mjs`,
        `const inputs = JSON.parse(await Deno.readTextFile(${
          JSON.stringify(`${dir}/inputs.json`)
        }));
const log = console.log;
delete globalThis.Deno;
delete globalThis.process;
const { verifyEntry } = await import(${JSON.stringify(`file://${out}`)});
const verdicts = [];
for (const input of inputs) {
  const v = await verifyEntry(input);
  verdicts.push([v.verdict, v.checks.filter((c) => !c.ok).map((c) => c.id)]);
}
log(JSON.stringify({ deno: typeof globalThis.Deno, process: typeof globalThis.process, verdicts }));
`,
      );
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-config", `--allow-read=${dir}`, `${dir}/run.mjs`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, stderr);
      const got = JSON.parse(new TextDecoder().decode(run.stdout));
      assert.deepEqual(got, {
        deno: "undefined",
        process: "undefined",
        verdicts: [["valid", []], ["valid", []], ["valid", []], ["invalid", ["inclusion"]]],
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
