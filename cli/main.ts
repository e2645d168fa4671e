/**
 * The regledger command-line interface.
 *
 * Each command lives in `cli/commands/<name>.ts` and exports `run`.
 *
 * @module
 */
import { type CliIO, type Command, processIO, UsageError } from "./io.ts";
import denoJson from "../deno.json" with { type: "json" };

export type { CliIO } from "./io.ts";

/** Version of this build (from deno.json). */
export const VERSION: string = denoJson.version;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {};

/** Register a command (used by the table below). */
function command(name: string, summary: string, load: () => Promise<Command>): void {
  COMMANDS[name] = { summary, load };
}

command(
  "keygen",
  "generate an issuer signing key and its trust-store entry",
  async () => (await import("./commands/keygen.ts")).run,
);
command(
  "verify",
  "verify a signed audit envelope against a trust store",
  async () => (await import("./commands/verify.ts")).run,
);
command(
  "schema",
  "list or print the bundled JSON Schemas",
  async () => (await import("./commands/schema.ts")).run,
);
command(
  "audit",
  "run an audit primitive and sign the envelope",
  async () => (await import("./commands/audit.ts")).run,
);
command(
  "ledger",
  "append to, list, prove from and verify the audit log",
  async () => (await import("./commands/ledger.ts")).run,
);
command(
  "proof",
  "check a log receipt offline (proof verify)",
  async () => (await import("./commands/proof.ts")).run,
);
command(
  "serve",
  "run the regulator's HTTP server",
  async () => (await import("./commands/serve.ts")).run,
);

command(
  "witness",
  "run a C2SP tlog-witness that cosigns log checkpoints (witness serve)",
  async () => (await import("./commands/witness.ts")).run,
);

function usage(): string {
  const lines = [
    `regledger ${VERSION} — verifiable audit ledger for regulated AI`,
    "",
    "usage: regledger <command> [options]",
    "",
    "commands:",
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`),
    "",
    "Run `regledger <command> --help` for a command's options and an example.",
    "Exit codes: 0 ok/valid, 1 verification failure or corrupt ledger, 2 bad use or input.",
  ];
  return lines.join("\n") + "\n";
}

/** Run the CLI with `args`; returns the exit code. */
export async function main(args: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    io.stdout(`regledger ${VERSION}\n`);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.stderr(`regledger: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await cmd.load())(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`regledger ${name}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
