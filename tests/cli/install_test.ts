/**
 * `deno install` of the `./cli` export works: the installed `regledger`
 * command runs from another directory and loads every command's modules
 * (npm dependencies included), not only the usage text.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

const ROOT = new URL("../../", import.meta.url);

async function run(cmd: string, args: string[], env: Record<string, string>, cwd: string) {
  const out = await new Deno.Command(cmd, { args, env, cwd, stdout: "piped", stderr: "piped" })
    .output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("deno install of cli/main.ts gives a working regledger command", async () => {
  const root = await Deno.makeTempDir({ prefix: "regledger-install-" });
  try {
    const install = await run(
      Deno.execPath(),
      [
        "install",
        "-g",
        "--root",
        root,
        "-n",
        "regledger",
        "-A",
        "--unstable-kv",
        "--config",
        fromFileUrl(new URL("deno.json", ROOT)),
        fromFileUrl(new URL("cli/main.ts", ROOT)),
      ],
      {},
      root,
    );
    assert.equal(install.code, 0, install.stderr);
    // The shim calls `deno` by name: put this Deno first on PATH, as a user's would be.
    const env = { PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? ""}` };
    const bin = `${root}/bin/regledger`;
    const help = await run(bin, ["--help"], env, root);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^regledger \d+\.\d+\.\d+ /);
    for (const cmd of ["audit", "keygen", "ledger", "serve", "verify"]) {
      assert.match(help.stdout, new RegExp(`\\n  ${cmd} `), cmd);
    }
    const schemas = await run(bin, ["schema", "--list"], env, root);
    assert.equal(schemas.code, 0, schemas.stderr);
    assert.ok(JSON.parse(schemas.stdout).includes("envelope"));
    // keygen loads Ed25519 (npm:@noble/ed25519) and writes a key.
    const keygen = await run(
      bin,
      ["keygen", "--issuer", "Acme", "--key-id", "acme-1", "-o", `${root}/k.pem`],
      env,
      root,
    );
    assert.equal(keygen.code, 0, keygen.stderr);
    assert.match(await Deno.readTextFile(`${root}/k.pem`), /-----BEGIN PRIVATE KEY-----/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
