/**
 * Shared CLI plumbing: argument parsing, output streams and exit codes.
 *
 * Exit codes (docs/formats.md §9): 0 success/valid; 1 a typed verification
 * failure or a corrupt ledger (JSON on stdout naming `reason`); 2 bad
 * command-line use or unreadable/malformed input (message on stderr).
 *
 * @module
 */

/** Thrown for bad command-line use or unreadable/malformed input: exit 2. */
export class UsageError extends Error {
  /** Build a usage error with the message shown on stderr. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** Where a command writes. Tests pass their own to capture output. */
export interface CliIO {
  /** Write to standard output. */
  stdout(text: string): void;
  /** Write to standard error. */
  stderr(text: string): void;
  /** Whether standard error is a terminal (colour and progress). */
  isTerminal: boolean;
  /** Whether standard output is a terminal (tables instead of JSON where a command offers both). */
  stdoutIsTerminal?: boolean;
}

/** The process's real streams. */
export function processIO(): CliIO {
  const enc = new TextEncoder();
  return {
    stdout: (t) => writeAll(Deno.stdout, enc.encode(t)),
    stderr: (t) => writeAll(Deno.stderr, enc.encode(t)),
    isTerminal: Deno.stderr.isTerminal(),
    stdoutIsTerminal: Deno.stdout.isTerminal(),
  };
}

function writeAll(w: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += w.writeSync(data.subarray(off));
}

/** Option spec: name → whether it takes a value. Short aliases map to long names. */
export interface OptionSpec {
  /** Options that take a value, by long name (without dashes). */
  values?: string[];
  /** Boolean flags, by long name. */
  flags?: string[];
  /** Short alias → long name, e.g. `{ i: "input", o: "output" }`. */
  aliases?: Record<string, string>;
  /** Value options that may be given more than once (every value is in `lists`). */
  repeatable?: string[];
}

/** Parsed arguments. */
export interface ParsedArgs {
  /** Positional arguments. */
  positional: string[];
  /** Options with values. */
  values: Record<string, string>;
  /** Flags that were given. */
  flags: Set<string>;
  /** Every value of each repeatable option, in order (the last one is also in `values`). */
  lists: Record<string, string[]>;
}

/**
 * Parse `args` strictly: an unknown option, a missing value or a repeated
 * option is a {@linkcode UsageError}. `--name=value` and `--name value` both work.
 */
export function parseArgs(args: string[], spec: OptionSpec): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const flags = new Set(spec.flags ?? []);
  const repeatable = new Set(spec.repeatable ?? []);
  const out: ParsedArgs = { positional: [], values: {}, flags: new Set(), lists: {} };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      out.positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      out.positional.push(a);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      name = eq === -1 ? a.slice(2) : a.slice(2, eq);
      inline = eq === -1 ? undefined : a.slice(eq + 1);
    } else {
      const short = a.slice(1);
      const long = spec.aliases?.[short];
      if (!long) throw new UsageError(`unknown option ${a}`);
      name = long;
    }
    if (values.has(name)) {
      let v = inline;
      if (v === undefined) {
        if (i + 1 >= args.length) throw new UsageError(`option --${name} needs a value`);
        v = args[++i];
      }
      if (repeatable.has(name)) (out.lists[name] ??= []).push(v);
      else if (name in out.values) throw new UsageError(`option --${name} given twice`);
      out.values[name] = v;
    } else if (flags.has(name)) {
      if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
      out.flags.add(name);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return out;
}

/** Print `value` as JSON (two-space indented) followed by a newline. */
export function printJson(io: CliIO, value: unknown): void {
  io.stdout(JSON.stringify(value, null, 2) + "\n");
}

/** A CLI command: returns its exit code. */
export type Command = (args: string[], io: CliIO) => Promise<number>;

/** Default cap on input files read by commands (16 MiB). */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/**
 * Read a file (or standard input for `-`), refusing more than `maxBytes`.
 *
 * @throws {UsageError} when the file is missing, not a file, unreadable or too large (exit 2).
 */
export async function readInputFile(
  path: string,
  maxBytes: number = MAX_INPUT_BYTES,
): Promise<Uint8Array> {
  const label = path === "-" ? "standard input" : path;
  try {
    let stream: ReadableStream<Uint8Array>;
    if (path === "-") {
      stream = Deno.stdin.readable;
    } else {
      const info = await Deno.stat(path);
      if (!info.isFile) throw new UsageError(`${path} is not a file`);
      if (info.size > maxBytes) {
        throw new UsageError(`${path} is ${info.size} bytes; inputs are limited to ${maxBytes}`);
      }
      // The stream closes the file at its end or when reading stops early.
      stream = (await Deno.open(path)).readable;
    }
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const chunk of stream) {
      n += chunk.length;
      if (n > maxBytes) {
        throw new UsageError(`${label} exceeds ${maxBytes} bytes; inputs are limited to that`);
      }
      chunks.push(chunk);
    }
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${label}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

/** Read a UTF-8 text file (or `-`), refusing invalid UTF-8. */
export async function readTextFile(path: string, maxBytes?: number): Promise<string> {
  const bytes = await readInputFile(path, maxBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    throw new UsageError(`${path === "-" ? "standard input" : path} is not valid UTF-8`, {
      cause: e,
    });
  }
}

/** `REGLEDGER_TOKEN`, the default of `--token` (undefined without it or without env permission). */
export function tokenFromEnv(): string | undefined {
  try {
    return Deno.env.get("REGLEDGER_TOKEN") || undefined;
  } catch {
    return undefined; // no --allow-env: the token must be given with --token
  }
}
