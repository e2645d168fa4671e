/** Run the CLI in-process with captured output (shared by CLI tests). */
import type { CliIO } from "../../cli/io.ts";
import { main } from "../../cli/main.ts";

/** What one CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `regledger <args>` in-process. */
export async function runCli(...args: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    isTerminal: false,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
