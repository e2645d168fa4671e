/**
 * What the ledger commands share: integer options and reading an envelope
 * to append (parsed, then verified before the log is touched).
 *
 * @module
 */
import { type CliIO, printJson, readInputFile, UsageError } from "../../io.ts";
import { parseEnvelopeText } from "../../../core/envelope.ts";
import type { ParsedEnvelope } from "../../../core/envelope_types.ts";
import { EnvelopeVerificationError } from "../../../core/errors.ts";
import { TrustStore } from "../../../core/trust_store.ts";
import { verifyEnvelope, verifySelfSignedOnly } from "../../../core/verify.ts";

/**
 * The non-negative integer option `--name`, undefined when absent and not `required`.
 * @throws {UsageError} when missing but required, or not a non-negative integer.
 */
export function intOption(
  values: Record<string, string>,
  name: string,
  required: boolean,
): number | undefined {
  const v = values[name];
  if (v === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return Number(v);
}

/**
 * Read `-i` and parse it as an envelope (exit 2 when unreadable or malformed),
 * then verify it: against `--trusted-keys` when given, else self-signed only
 * when `selfCheck`. A failed verification prints `{error, reason}` and
 * returns exit code 1.
 */
export async function readAndCheckEnvelope(
  values: Record<string, string>,
  io: CliIO,
  selfCheck: boolean,
): Promise<number | { bytes: Uint8Array; env: ParsedEnvelope }> {
  const input = values.input;
  if (!input) throw new UsageError("-i ENVELOPE is required");
  const bytes = await readInputFile(input);
  let trust: TrustStore | undefined;
  if (values["trusted-keys"] !== undefined) {
    try {
      trust = TrustStore.fromJsonText(await readInputFile(values["trusted-keys"]));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--trusted-keys: ${(e as Error).message}`, { cause: e });
    }
  }
  let env;
  try {
    env = parseEnvelopeText(bytes);
  } catch (e) {
    throw new UsageError(`${input}: ${(e as Error).message}`, { cause: e });
  }
  try {
    // About to be appended: an unchecked timestamp block is refused (nothing unsigned is stored unchecked).
    if (trust) await verifyEnvelope(env, trust, { forStorage: true });
    else if (selfCheck) await verifySelfSignedOnly(env, { forStorage: true });
  } catch (e) {
    if (e instanceof EnvelopeVerificationError) {
      printJson(io, { error: e.message, reason: e.name });
      return 1;
    }
    throw e;
  }
  return { bytes, env };
}
