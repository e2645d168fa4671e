/**
 * Child-process entry for the integration test: exactly `regledger serve`
 * (the command's `run`), independent of where cli/main.ts registers it.
 *
 * @module
 */
import { processIO } from "../../cli/io.ts";
import { run } from "../../cli/commands/serve.ts";

Deno.exitCode = await run(Deno.args, processIO());
