/**
 * `regledger schema`: list or print the bundled JSON Schemas (Draft 2020-12).
 *
 * - `schema --list` prints the names as a JSON array on stdout.
 * - `schema NAME` prints that schema as JSON on stdout; with `--bundle`, as
 *   one self-contained document (the schemas it refers to embedded).
 *
 * An unknown name, no argument, or both `--list` and a name is bad use:
 * exit 2 with a message on stderr (docs/formats.md §9).
 *
 * @module
 */
import { type CliIO, type Command, parseArgs, printJson, UsageError } from "../io.ts";
import { getBundledSchema, getSchema, isSchemaName, SCHEMA_NAMES } from "../../core/schemas.ts";

const HELP = `usage: regledger schema --list
       regledger schema NAME [--bundle]

Print the JSON Schemas (Draft 2020-12) that regledger validates with:
primitive inputs and results, signed envelopes, trust stores, ledger leaves
and HTTP API objects. They are built into regledger; no file is read.

options:
  --list       print the names of all schemas as a JSON array
  --bundle     print NAME as one self-contained document: the schemas it
               refers to are embedded under $defs, so any Draft 2020-12
               validator can use it offline
  -h, --help   show this help

NAME is one of the names --list prints, e.g. fairness.input, envelope,
trust-store, append-response. Each schema's $id is
https://regledger.dev/schemas/NAME.json.

examples:
  regledger schema --list
  regledger schema fairness.input > fairness.input.schema.json
  regledger schema envelope --bundle > envelope.schema.json
`;

/**
 * Run `regledger schema` with `args`; returns the exit code.
 *
 * @throws {UsageError} for an unknown name, a missing argument or extra
 * arguments (the CLI prints the message and exits 2).
 */
export const run: Command = (args: string[], io: CliIO): Promise<number> => {
  const parsed = parseArgs(args, { flags: ["list", "bundle", "help"], aliases: { h: "help" } });
  if (parsed.flags.has("help")) {
    io.stdout(HELP);
    return Promise.resolve(0);
  }
  const names = parsed.positional;
  if (parsed.flags.has("list")) {
    if (names.length > 0) throw new UsageError("give either --list or a schema NAME, not both");
    if (parsed.flags.has("bundle")) throw new UsageError("--bundle goes with a schema NAME");
    printJson(io, SCHEMA_NAMES);
    return Promise.resolve(0);
  }
  if (names.length === 0) {
    throw new UsageError("give a schema NAME or --list (see `regledger schema --help`)");
  }
  if (names.length > 1) throw new UsageError("give one schema NAME");
  const name = names[0];
  if (!isSchemaName(name)) {
    throw new UsageError(
      `unknown schema ${JSON.stringify(name.slice(0, 80))}; known schemas: ${
        SCHEMA_NAMES.join(", ")
      }`,
    );
  }
  printJson(io, parsed.flags.has("bundle") ? getBundledSchema(name) : getSchema(name));
  return Promise.resolve(0);
};
