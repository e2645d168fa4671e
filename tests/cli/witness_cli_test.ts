/**
 * `regledger witness serve` argument handling: every bad use is exit 2 with
 * a message naming the problem, before anything is created. (The running
 * command is exercised as a real process by tests/witness/storm_test.ts.)
 */
import assert from "node:assert/strict";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { runCli } from "./_capture.ts";

const logKey = (await Ed25519NoteSigner.generate("example.com/log")).verifierKey();

Deno.test("witness: help, unknown subcommand, and each bad option is exit 2 with a reason", async () => {
  const help = await runCli("witness", "serve", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--logs FILE/);
  assert.equal((await runCli("witness")).code, 2);
  const dir = await Deno.makeTempDir({ prefix: "regledger-witness-cli-" });
  try {
    const data = `${dir}/data`;
    const cases: [string[], RegExp][] = [
      [["witness", "watch"], /unknown witness command 'watch'/],
      [["witness", "serve", "--log", logKey, "--data", data], /--name NAME is required/],
      [["witness", "serve", "--name", "w.example", "--data", data], /--log VKEY or --logs FILE/],
      [
        ["witness", "serve", "--name", "w.example", "--log", "nope", "--data", data],
        /not a verifier key/,
      ],
      [
        [
          "witness",
          "serve",
          "--name",
          "w.example",
          "--log",
          (await Ed25519CosignatureSigner.generate("w")).verifierKey(),
          "--data",
          data,
        ],
        /signature type 0x04/,
      ],
      [
        ["witness", "serve", "--name", "a b", "--log", logKey, "--data", data],
        /not a valid key name/,
      ],
      [[
        "witness",
        "serve",
        "--name",
        "w.example",
        "--log",
        logKey,
        "--port",
        "70000",
        "--data",
        data,
      ], /--port/],
      [[
        "witness",
        "serve",
        "--name",
        "w.example",
        "--log",
        logKey,
        "--rate-limit",
        "fast",
        "--data",
        data,
      ], /--rate-limit/],
      [[
        "witness",
        "serve",
        "--name",
        "w.example",
        "--log",
        logKey,
        "--body-limit",
        "10",
        "--data",
        data,
      ], /--body-limit/],
      [
        ["witness", "serve", "--name", "w.example", "--logs", `${dir}/missing`, "--data", data],
        /cannot read log list/,
      ],
      [
        ["witness", "serve", "--name", "w.example", "--log", logKey, "--data", data, "extra"],
        /unexpected argument/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(...args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, re, args.join(" "));
    }
    await assert.rejects(Deno.stat(data), Deno.errors.NotFound, "nothing was created");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
