/** Run the CLI in-process with captured output (shared by CLI tests). */
import type { CliIO } from "../../cli/io.ts";
import { main } from "../../cli/main.ts";

/** What one CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A CliIO that collects standard output in `out` and standard error in `err`. */
export function captureIO(isTerminal = false): CliIO & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    isTerminal,
    stdout(t: string) {
      io.out += t;
    },
    stderr(t: string) {
      io.err += t;
    },
  };
  return io;
}

/** Run `regledger <args>` in-process. */
export async function runCli(...args: string[]): Promise<CliRun> {
  const io = captureIO();
  const code = await main(args, io);
  return { code, stdout: io.out, stderr: io.err };
}
