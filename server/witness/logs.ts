/**
 * Which logs a witness accepts: verifier keys from the command line
 * (`--log VKEY`, repeated) or from a C2SP tlog-policy file (`--logs FILE`,
 * https://c2sp.org/tlog-policy), grouped by origin.
 *
 * A log is identified by its origin line, and a log key's name is its
 * origin (as in tlog-policy and in regledger's own checkpoints). Several
 * keys with one name are one log with several keys (e.g. its Ed25519 and
 * ML-DSA-44 keys): a checkpoint signed by any of them is accepted.
 *
 * In a `--logs` file only the `log <vkey> [<url>]` lines matter; `witness`,
 * `group` and `quorum` lines are checked and otherwise ignored, so a
 * regulator's own policy file can be reused as is. A file that lists only
 * logs ends with `quorum none`, as tlog-policy requires a quorum line.
 *
 * @module
 */
import { RegledgerError } from "../../core/errors.ts";
import { ALG_ED25519 } from "../../ledger/note.ts";
import type { WitnessLog } from "../../ledger/witness/add_checkpoint.ts";
import { type ParsedVerifierKey, parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { ALG_ML_DSA_44 } from "../../ledger/witness/mldsa.ts";
import { parsePolicy, PolicyError } from "../../ledger/witness/policy.ts";

/** A log list could not be read or holds a key that is not a log key. */
export class WitnessLogsError extends RegledgerError {}

/**
 * The logs of `vkeys` (log verifier keys, signature type 0x01 Ed25519 or
 * 0x06 ML-DSA-44), keyed by origin.
 *
 * @throws {WitnessLogsError} naming the key that is malformed, of another
 *   type, or listed twice; or when `vkeys` is empty.
 */
export function witnessLogs(vkeys: readonly string[]): Map<string, WitnessLog> {
  if (vkeys.length === 0) {
    throw new WitnessLogsError("a witness needs at least one log (--log VKEY or --logs FILE)");
  }
  const keys = new Map<string, ParsedVerifierKey[]>();
  const seen = new Set<string>();
  for (const raw of vkeys) {
    const vkey = raw.trim();
    let parsed: ParsedVerifierKey;
    try {
      parsed = parseNoteVerifierKey(vkey);
    } catch (e) {
      throw new WitnessLogsError(
        `log key '${vkey}' is not a verifier key: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    if (parsed.type !== ALG_ED25519 && parsed.type !== ALG_ML_DSA_44) {
      throw new WitnessLogsError(
        `log key '${vkey}' has signature type 0x${
          parsed.type.toString(16).padStart(2, "0")
        }; a log signs with 0x01 (Ed25519) or 0x06 (ML-DSA-44)`,
      );
    }
    if (seen.has(parsed.vkey)) throw new WitnessLogsError(`log key '${vkey}' is listed twice`);
    seen.add(parsed.vkey);
    const origin = parsed.verifier.name;
    const list = keys.get(origin) ?? [];
    list.push(parsed);
    keys.set(origin, list);
  }
  const logs = new Map<string, WitnessLog>();
  for (const [origin, list] of keys) {
    logs.set(origin, { origin, verifiers: list.map((k) => k.verifier) });
  }
  return logs;
}

/**
 * The log verifier keys of a tlog-policy file's `log` lines.
 *
 * @throws {WitnessLogsError} when the file cannot be read, is not a valid
 *   policy (the message names the line), or lists no log.
 */
export async function readLogsFile(path: string): Promise<string[]> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new WitnessLogsError(`cannot read log list ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    const policy = parsePolicy(bytes);
    if (policy.logs.length === 0) throw new WitnessLogsError(`${path} has no 'log' line`);
    return policy.logs.map((l) => l.key.vkey);
  } catch (e) {
    if (e instanceof PolicyError) throw new WitnessLogsError(`${path}: ${e.message}`, { cause: e });
    throw e;
  }
}
