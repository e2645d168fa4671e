/**
 * `regledger schema`: --list, NAME, --help and bad use, both through the
 * command's `run` and as a real `cli/main.ts` process (exit codes, streams).
 */
import nodeAssert from "node:assert/strict";
import { run } from "../../cli/commands/schema.ts";
import { UsageError } from "../../cli/io.ts";
import { getBundledSchema, getSchema, SCHEMA_NAMES } from "../../core/schemas.ts";
import { captureIO as capture } from "./_capture.ts";

async function usageError(args: string[]): Promise<string> {
  const io = capture();
  try {
    await run(args, io);
  } catch (e) {
    nodeAssert.ok(e instanceof UsageError, `expected UsageError, got ${e}`);
    nodeAssert.equal(io.out, "", "nothing on stdout for bad use");
    return e.message;
  }
  throw new Error(`expected ${JSON.stringify(args)} to be bad use`);
}

Deno.test("schema --list prints every name as a JSON array", async () => {
  const io = capture();
  nodeAssert.equal(await run(["--list"], io), 0);
  nodeAssert.deepStrictEqual(JSON.parse(io.out), [...SCHEMA_NAMES]);
  nodeAssert.ok(io.out.endsWith("\n"));
  nodeAssert.equal(io.err, "");
});

Deno.test("schema NAME prints exactly the bundled schema, for every name", async () => {
  for (const name of SCHEMA_NAMES) {
    const io = capture();
    nodeAssert.equal(await run([name], io), 0, name);
    nodeAssert.deepStrictEqual(JSON.parse(io.out), getSchema(name), name);
    nodeAssert.equal(io.err, "");
  }
});

Deno.test("schema NAME --bundle prints the self-contained document", async () => {
  for (const name of ["envelope", "audit-response", "drift.input"] as const) {
    const io = capture();
    nodeAssert.equal(await run([name, "--bundle"], io), 0, name);
    nodeAssert.deepStrictEqual(JSON.parse(io.out), getBundledSchema(name), name);
  }
  const io = capture();
  await run(["audit-response", "--bundle"], io);
  nodeAssert.deepStrictEqual(
    Object.keys(JSON.parse(io.out).$defs),
    ["envelope.json", "receipt.json", "append-response.json"],
  );
});

Deno.test("schema --help shows usage with an example, exit 0", async () => {
  for (const flag of ["--help", "-h"]) {
    const io = capture();
    nodeAssert.equal(await run([flag], io), 0);
    nodeAssert.match(io.out, /usage: regledger schema --list/);
    nodeAssert.match(io.out, /regledger schema fairness\.input/);
  }
});

Deno.test("schema: bad use is a UsageError naming the problem", async () => {
  nodeAssert.match(
    await usageError(["nope"]),
    /unknown schema "nope"; known schemas: fairness\.input/,
  );
  nodeAssert.match(await usageError(["constructor"]), /unknown schema "constructor"/);
  nodeAssert.match(await usageError([]), /give a schema NAME or --list/);
  nodeAssert.match(await usageError(["--list", "envelope"]), /either --list or a schema NAME/);
  nodeAssert.match(await usageError(["envelope", "leaf"]), /one schema NAME/);
  nodeAssert.match(await usageError(["--list", "--bundle"]), /--bundle goes with a schema NAME/);
  nodeAssert.match(await usageError(["--frobnicate"]), /unknown option --frobnicate/);
  // Control characters in a bad name are escaped, not echoed raw to the terminal.
  const msg = await usageError(["\u001b[31mred"]);
  nodeAssert.ok(!msg.includes("\u001b"), msg);
  nodeAssert.match(msg, /\\u001b\[31mred/);
});

Deno.test("schema through cli/main.ts: exit codes and streams of a real process", async () => {
  const main = new URL("../../cli/main.ts", import.meta.url).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const cli = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--config", config, main, "schema", ...args],
      cwd: "/",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
  const list = await cli("--list");
  nodeAssert.equal(list.code, 0, list.stderr);
  nodeAssert.deepStrictEqual(JSON.parse(list.stdout), [...SCHEMA_NAMES]);

  const one = await cli("trust-store");
  nodeAssert.equal(one.code, 0, one.stderr);
  nodeAssert.deepStrictEqual(JSON.parse(one.stdout), getSchema("trust-store"));

  const bad = await cli("no-such-schema");
  nodeAssert.equal(bad.code, 2);
  nodeAssert.equal(bad.stdout, "");
  nodeAssert.match(bad.stderr, /^regledger schema: unknown schema "no-such-schema"/);
});
