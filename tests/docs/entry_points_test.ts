/**
 * The package's entry points (deno.json `exports`) are what the docs say:
 * `mod.ts` is the user's API (named exports only, roughly 40–80 names, the
 * tasks a user has), the pure verifiers have their own subpaths, and every
 * entry point loads.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
const exportsMap = config.exports as Record<string, string>;

Deno.test("entry points: the subpaths of the package, each an existing module that loads", async () => {
  for (
    const name of [
      ".",
      "./merkle",
      "./note",
      "./receipt",
      "./jcs",
      "./cli",
      "./server",
      "./fhe",
    ]
  ) {
    assert.ok(exportsMap[name], `deno.json exports ${name}`);
  }
  for (const [name, path] of Object.entries(exportsMap)) {
    const mod = await import(new URL(path, ROOT).href);
    // `./store` holds the storage interface: types only, nothing at run time.
    if (name !== "./store") assert.ok(Object.keys(mod).length > 0, `${name} (${path}) exports`);
  }
});

Deno.test("entry points: mod.ts names each export (no export *) and stays a readable API", async () => {
  const text = await Deno.readTextFile(new URL("mod.ts", ROOT));
  assert.doesNotMatch(text, /export\s+(type\s+)?\*/, "no export * in mod.ts");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", "mod.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const doc = JSON.parse(new TextDecoder().decode(out.stdout));
  const names: string[] = doc.nodes[new URL("mod.ts", ROOT).href].symbols.map(
    (s: { name: string }) => s.name,
  );
  assert.ok(names.length >= 40 && names.length <= 90, `mod.ts exports ${names.length} names`);
  // What a user needs, by task.
  for (
    const n of [
      "buildEnvelope",
      "parseEnvelopeText",
      "TrustStore",
      "checkEnvelope",
      "verifyEnvelope",
      "runAudit",
      "signAuditRun",
      "openLedger",
      "Ledger",
      "verifyLog",
      "LogClient",
      "MemoryStore",
      "verifyTlogProof",
      "EnvelopeVerificationError",
    ]
  ) {
    assert.ok(names.includes(n), `mod.ts exports ${n}`);
  }
  // Internals stay out.
  for (const n of ["KvStore", "encodeEntry", "storedHashIndex", "pythonDumps", "retryTransient"]) {
    assert.ok(!names.includes(n), `mod.ts does not export ${n}`);
  }
});
