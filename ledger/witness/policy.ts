/**
 * C2SP transparency-log trust policies (https://c2sp.org/tlog-policy): the
 * file format and the check it defines. A checkpoint is valid under a
 * policy when one of the policy's logs signed it (the log key's name is the
 * checkpoint origin) and the witnesses that cosigned it meet the quorum.
 *
 * ```
 * log <vkey> [<url>]
 * witness <name> <vkey> [<url>]
 * group <name> all|any|<k> <member>...
 * quorum <name>|none
 * ```
 *
 * Choices where the spec leaves room:
 * - Log keys must be signature type 0x01 (Ed25519) or 0x06 (ML-DSA-44),
 *   witness keys 0x04 (`cosignature/v1`) or 0x06 ("a signature type
 *   appropriate to the function").
 * - The spec treats non-ASCII octets as opaque; this parser requires the
 *   file to be UTF-8 (the spec's strong recommendation), since names are
 *   compared as strings and vkey names must match note signature lines.
 * - Limits: 256 logs, 256 witnesses, 256 groups (the spec asks for ≥ 32).
 * - A cosignature line by a policy witness that fails to verify makes the
 *   check fail (`witness`), as signed-note says clients SHOULD reject such
 *   a note; likewise a failing signature by a policy log key (`log`).
 *
 * @module
 */
import { bytesEqual, fromBase64 } from "../../core/bytes.ts";
import { RegledgerError } from "../../core/errors.ts";
import { type Checkpoint, parseCheckpointText } from "../checkpoint.ts";
import { ALG_ED25519, NoteError, type NoteVerifier, openNote } from "../note.ts";
import { ALG_COSIGNATURE_V1 } from "./cosignature.ts";
import { type ParsedVerifierKey, parseNoteVerifierKey } from "./keys.ts";
import { ALG_ML_DSA_44 } from "./mldsa.ts";

/** Most logs, witnesses and groups (each) a policy may define. */
export const MAX_POLICY_ITEMS = 256;

/** A policy file broke a rule; `line` is 1-based (0 for whole-file rules). */
export class PolicyError extends RegledgerError {
  /** The offending line number (0 when not tied to a line). */
  readonly line: number;
  /** Build a policy error. */
  constructor(line: number, message: string, options?: ErrorOptions) {
    super(line > 0 ? `policy line ${line}: ${message}` : `policy: ${message}`, options);
    this.line = line;
  }
}

/** A log of the policy. */
export interface PolicyLog {
  /** Its verifier key. */
  key: ParsedVerifierKey;
  /** Optional URL. */
  url?: string;
}

/** A witness of the policy. */
export interface PolicyWitness {
  /** Its name in the policy. */
  name: string;
  /** Its verifier key. */
  key: ParsedVerifierKey;
  /** Optional URL (the witness's submission prefix). */
  url?: string;
}

/** A witness group: witnessed when at least `threshold` of `members` are. */
export interface PolicyGroup {
  /** Its name. */
  name: string;
  /** k of n. */
  threshold: number;
  /** Names of member witnesses and groups, each defined earlier. */
  members: string[];
}

/** A parsed trust policy. */
export interface TrustPolicy {
  /** Accepted logs. */
  logs: PolicyLog[];
  /** Witnesses by name. */
  witnesses: Map<string, PolicyWitness>;
  /** Groups by name. */
  groups: Map<string, PolicyGroup>;
  /** The quorum: a witness or group name, or `none`. */
  quorum: string;
}

const LOG_TYPES = new Set([ALG_ED25519, ALG_ML_DSA_44]);
const WITNESS_TYPES = new Set([ALG_COSIGNATURE_V1, ALG_ML_DSA_44]);
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function checkOctets(bytes: Uint8Array): void {
  let line = 1;
  for (const b of bytes) {
    if (b === 0x0a) line++;
    else if (b !== 0x09 && (b < 0x20 || b === 0x7f)) {
      throw new PolicyError(line, `control character 0x${b.toString(16).padStart(2, "0")}`);
    }
  }
}

function parseKey(n: number, vkey: string, allowed: Set<number>, what: string): ParsedVerifierKey {
  let key: ParsedVerifierKey;
  try {
    key = parseNoteVerifierKey(vkey);
  } catch (e) {
    throw new PolicyError(n, `bad ${what} key: ${(e as Error).message}`, { cause: e });
  }
  if (!allowed.has(key.type)) {
    throw new PolicyError(n, `${what} key has signature type 0x${key.type.toString(16)}`);
  }
  return key;
}

/**
 * Parse a policy file.
 *
 * @example
 * ```ts
 * import { Ed25519NoteSigner } from "../note.ts";
 * import { Ed25519CosignatureSigner } from "./cosignature.ts";
 * import { parsePolicy } from "./policy.ts";
 * const log = await Ed25519NoteSigner.generate("example.com/log");
 * const w = await Ed25519CosignatureSigner.generate("example.com/w1");
 * const p = parsePolicy(`log ${log.verifierKey()}\nwitness W1 ${w.verifierKey()}\nquorum W1\n`);
 * if (p.quorum !== "W1" || p.logs.length !== 1) throw new Error("bad parse");
 * ```
 *
 * @throws {PolicyError} naming the line and the rule it breaks.
 */
export function parsePolicy(file: string | Uint8Array): TrustPolicy {
  const bytes = typeof file === "string" ? new TextEncoder().encode(file) : file;
  checkOctets(bytes);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (e) {
    throw new PolicyError(0, "file is not UTF-8", { cause: e });
  }
  const policy: TrustPolicy = { logs: [], witnesses: new Map(), groups: new Map(), quorum: "" };
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.replace(/^[ \t]+|[ \t]+$/g, "");
    if (line === "" || line.startsWith("#")) return;
    const [kw, ...args] = line.split(/[ \t]+/);
    const defined = (name: string) => policy.witnesses.has(name) || policy.groups.has(name);
    const newName = (name: string) => {
      if (name === "none") throw new PolicyError(n, "'none' is reserved");
      if (defined(name)) throw new PolicyError(n, `name '${name}' is already defined`);
    };
    switch (kw) {
      case "log": {
        if (args.length < 1 || args.length > 2) {
          throw new PolicyError(n, "want: log <vkey> [<url>]");
        }
        const key = parseKey(n, args[0], LOG_TYPES, "log");
        if (policy.logs.some((l) => bytesEqual(l.key.publicKey, key.publicKey))) {
          throw new PolicyError(n, "duplicate log key");
        }
        if (policy.logs.length === MAX_POLICY_ITEMS) throw new PolicyError(n, "too many logs");
        policy.logs.push(args[1] === undefined ? { key } : { key, url: args[1] });
        break;
      }
      case "witness": {
        if (args.length < 2 || args.length > 3) {
          throw new PolicyError(n, "want: witness <name> <vkey> [<url>]");
        }
        newName(args[0]);
        const key = parseKey(n, args[1], WITNESS_TYPES, "witness");
        for (const w of policy.witnesses.values()) {
          if (bytesEqual(w.key.publicKey, key.publicKey)) {
            throw new PolicyError(n, `duplicate witness key (same as '${w.name}')`);
          }
        }
        if (policy.witnesses.size === MAX_POLICY_ITEMS) {
          throw new PolicyError(n, "too many witnesses");
        }
        const w: PolicyWitness = { name: args[0], key };
        if (args[2] !== undefined) w.url = args[2];
        policy.witnesses.set(args[0], w);
        break;
      }
      case "group": {
        if (args.length < 3) throw new PolicyError(n, "want: group <name> all|any|<k> <name>...");
        const [name, k, ...members] = args;
        newName(name);
        const seen = new Set<string>();
        for (const m of members) {
          if (m === "none") throw new PolicyError(n, "'none' cannot be a group member");
          if (!defined(m)) throw new PolicyError(n, `member '${m}' is not defined above`);
          if (seen.has(m)) throw new PolicyError(n, `member '${m}' is listed twice`);
          seen.add(m);
        }
        let threshold: number;
        if (k === "all") threshold = members.length;
        else if (k === "any") threshold = 1;
        else if (/^[0-9]{1,4}$/.test(k)) threshold = Number(k);
        else throw new PolicyError(n, `threshold '${k}' is not all, any or a decimal`);
        if (threshold < 1 || threshold > members.length) {
          throw new PolicyError(n, `threshold ${threshold} is not in [1, ${members.length}]`);
        }
        if (policy.groups.size === MAX_POLICY_ITEMS) throw new PolicyError(n, "too many groups");
        policy.groups.set(name, { name, threshold, members });
        break;
      }
      case "quorum": {
        if (args.length !== 1) throw new PolicyError(n, "want: quorum <name>");
        if (policy.quorum !== "") throw new PolicyError(n, "a second quorum line");
        if (args[0] !== "none" && !defined(args[0])) {
          throw new PolicyError(n, `quorum '${args[0]}' is not defined above`);
        }
        policy.quorum = args[0];
        break;
      }
      default:
        throw new PolicyError(n, `unknown keyword '${kw}'`);
    }
  });
  if (policy.quorum === "") throw new PolicyError(0, "no quorum line");
  return policy;
}

/** Which part of a policy check failed. */
export type PolicyFailure = "malformed" | "log" | "witness" | "quorum";

/** The outcome of {@link verifyCheckpointPolicy}. */
export interface PolicyVerdict {
  /** Whether the checkpoint is valid under the policy. */
  valid: boolean;
  /** When invalid: which part failed. */
  failed?: PolicyFailure;
  /** What happened, for people. */
  message: string;
  /** The checkpoint's fields, when it parsed. */
  checkpoint?: Checkpoint;
  /** Verifier keys of the policy logs whose signatures verified. */
  logKeys: string[];
  /** Names of the policy witnesses whose cosignatures verified. */
  witnesses: string[];
  /** Each verified witness's cosignature timestamp (POSIX seconds), by name. */
  cosignedAt: Record<string, number>;
}

type SigCheck = { ok: true; sig: Uint8Array } | { ok: false; invalid: boolean };

async function checkOne(note: string, v: NoteVerifier): Promise<SigCheck> {
  try {
    const opened = await openNote(note, [v]);
    return { ok: true, sig: fromBase64(opened.sigs[0].base64).subarray(4) };
  } catch (e) {
    if (e instanceof NoteError && e.rule === "unverified-note") {
      return { ok: false, invalid: false };
    }
    if (e instanceof NoteError && e.rule === "invalid-signature") {
      return { ok: false, invalid: true };
    }
    throw e;
  }
}

/** Whether `name` (a witness, a group or `none`) is satisfied by `cosigned`. */
export function quorumMet(
  policy: TrustPolicy,
  name: string,
  cosigned: ReadonlySet<string>,
): boolean {
  if (name === "none") return true;
  if (policy.witnesses.has(name)) return cosigned.has(name);
  const g = policy.groups.get(name);
  if (g === undefined) return false;
  let count = 0;
  for (const m of g.members) if (quorumMet(policy, m, cosigned)) count++;
  return count >= g.threshold;
}

/**
 * Check a signed checkpoint against a policy: a policy log whose key name
 * is the origin must have signed it, no policy log or witness signature on
 * it may fail, and the verified cosignatures must meet the quorum. Never
 * throws for a bad checkpoint: the verdict says which part failed.
 */
export async function verifyCheckpointPolicy(
  signedCheckpoint: string,
  policy: TrustPolicy,
): Promise<PolicyVerdict> {
  const verdict: PolicyVerdict = {
    valid: false,
    message: "",
    logKeys: [],
    witnesses: [],
    cosignedAt: {},
  };
  const fail = (failed: PolicyFailure, message: string): PolicyVerdict => ({
    ...verdict,
    failed,
    message,
  });
  const split = signedCheckpoint.lastIndexOf("\n\n");
  try {
    if (split < 0) throw new Error("no signature block");
    verdict.checkpoint = parseCheckpointText(signedCheckpoint.slice(0, split + 1));
    // Whole-note form (UTF-8, control characters, signature lines) is checked once here.
    await openNote(signedCheckpoint, []).catch((e) => {
      if (e instanceof NoteError && e.rule === "malformed-note") throw e;
    });
  } catch (e) {
    return fail("malformed", `malformed checkpoint: ${(e as Error).message}`);
  }
  const origin = verdict.checkpoint.origin;
  const logs = policy.logs.filter((l) => l.key.verifier.name === origin);
  if (logs.length === 0) return fail("log", `no policy log has origin '${origin}'`);
  for (const l of logs) {
    const r = await checkOne(signedCheckpoint, l.key.verifier);
    if (!r.ok && r.invalid) return fail("log", `log signature by ${l.key.vkey} does not verify`);
    if (r.ok) verdict.logKeys.push(l.key.vkey);
  }
  if (verdict.logKeys.length === 0) {
    return fail("log", `no signature by a policy log key for origin '${origin}'`);
  }
  for (const w of policy.witnesses.values()) {
    const r = await checkOne(signedCheckpoint, w.key.verifier);
    if (!r.ok && r.invalid) return fail("witness", `cosignature by witness '${w.name}' is invalid`);
    if (r.ok) {
      verdict.witnesses.push(w.name);
      // Both cosignature types start with the u64 timestamp; it verified, so it is <= 2^63-1.
      const t = new DataView(r.sig.buffer, r.sig.byteOffset, 8).getBigUint64(0);
      verdict.cosignedAt[w.name] = Number(t);
    }
  }
  if (!quorumMet(policy, policy.quorum, new Set(verdict.witnesses))) {
    const got = verdict.witnesses.length === 0 ? "none" : verdict.witnesses.join(", ");
    return fail("quorum", `quorum '${policy.quorum}' not met (cosigned by: ${got})`);
  }
  return {
    ...verdict,
    valid: true,
    message: `valid: log signature and quorum '${policy.quorum}' verified`,
  };
}
