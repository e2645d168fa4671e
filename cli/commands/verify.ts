/**
 * `regledger verify`: verify a signed audit envelope (native or legacy
 * regaudit-fhe) against a trust store (docs/formats.md §2, §9).
 *
 * Exit 0 and `{"valid": true, ...}` on stdout when it verifies; exit 1 and
 * `{"valid": false, "reason": ..., ...}` on a typed verification failure;
 * exit 2 with a message on stderr for bad use or an unreadable, malformed
 * or hostile input file (which is never a crash or a hang: the input is
 * size-capped and parsed with depth, number-length and UTF-8 limits).
 *
 * @module
 */
import {
  type CliIO,
  type Command,
  parseArgs,
  printJson,
  readInputFile,
  UsageError,
} from "../io.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { EnvelopeFormatError, JsonParseError, TrustStoreError } from "../../core/errors.ts";
import { DEFAULT_JSON_LIMITS } from "../../core/json_text.ts";
import type { TrustStore } from "../../core/trust_store.ts";
import { readTrustStoreFile } from "../../core/trust_store_file.ts";
import { checkEnvelope, checkSelfSignedOnly } from "../../core/verify.ts";

const HELP = `usage: regledger verify -i ENVELOPE [--trusted-keys FILE] [--strict]

Verify a signed audit envelope: its canonical-body hash, its Ed25519
signature, and (with --trusted-keys) that its key id is trusted, not revoked,
pinned to its parameter set, and that the embedded key is the registered one.
Legacy regaudit-fhe.report.v1 envelopes verify byte-exactly.

options:
  -i, --input FILE          the envelope JSON file ("-" reads standard input)
  -t, --trusted-keys FILE   trust store: {"keys": {key_id: PEM}, "revoked": [...],
                            "parameter_set_pins": {...}} or a bare {key_id: PEM}
  --strict                  refuse to run without --trusted-keys (exit 2)
  -h, --help                show this help

Without --trusted-keys (and without --strict) only the envelope's own
consistency is checked: the result says "trust": "self-signed-only" and the
issuer is NOT authenticated.

output: JSON on stdout, {"valid": true|false, "reason"?, "message"?, ...}
exit codes: 0 valid; 1 typed failure (reason is one of UntrustedIssuer,
RevokedIssuer, WrongParameterSet, HashMismatch, InvalidSignature,
TimestampInvalid); 2 bad use or unreadable/malformed input.

example:
  regledger verify -i envelope.json --trusted-keys trust_store.json --strict
`;

/** Largest envelope file read (bytes); the parser's own limit is the same. */
const MAX_INPUT = DEFAULT_JSON_LIMITS.maxBytes;

/**
 * Run `regledger verify` with `args`; returns the exit code.
 *
 * @throws {UsageError} for bad use or unreadable/malformed input (exit 2).
 */
export const run: Command = async (args: string[], io: CliIO): Promise<number> => {
  const a = parseArgs(args, {
    values: ["input", "trusted-keys"],
    flags: ["strict", "help"],
    aliases: { i: "input", t: "trusted-keys", h: "help" },
  });
  if (a.flags.has("help")) {
    io.stdout(HELP);
    return 0;
  }
  if (a.positional.length > 0) throw new UsageError(`unexpected argument ${a.positional[0]}`);
  const input = a.values["input"];
  if (input === undefined) throw new UsageError("missing -i ENVELOPE (see --help)");
  const storePath = a.values["trusted-keys"];
  if (a.flags.has("strict") && storePath === undefined) {
    throw new UsageError(
      "--strict needs --trusted-keys FILE (refusing to verify without a trust store)",
    );
  }

  let store: TrustStore | undefined;
  if (storePath !== undefined) {
    try {
      store = await readTrustStoreFile(storePath);
    } catch (e) {
      if (e instanceof TrustStoreError) throw new UsageError(e.message, { cause: e });
      throw new UsageError(`cannot read trust store ${storePath}: ${describe(e)}`, { cause: e });
    }
  }

  const bytes = await readInputFile(input, MAX_INPUT);
  let parsed;
  try {
    parsed = parseEnvelopeText(bytes);
  } catch (e) {
    if (e instanceof JsonParseError || e instanceof EnvelopeFormatError) {
      throw new UsageError(`${label(input)} is not a valid envelope: ${e.message}`, { cause: e });
    }
    throw e;
  }

  if (store) {
    const result = await checkEnvelope(parsed, store);
    printJson(io, result);
    return result.valid ? 0 : 1;
  }
  const result = await checkSelfSignedOnly(parsed);
  io.stderr(
    "regledger verify: no --trusted-keys: self-signed-only check, the issuer is NOT authenticated\n",
  );
  printJson(io, {
    ...result,
    warning: "self-signed-only: the embedded key was not checked against a trust store",
  });
  return result.valid ? 0 : 1;
};

function label(input: string): string {
  return input === "-" ? "standard input" : input;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
