/**
 * `regledger proof verify`: check a receipt offline.
 *
 * Given an envelope, the `tlog-proof@v1` receipt the log returned for it and
 * the log's verifier key, check — without asking the log — that the receipt's
 * checkpoint is signed by the log key, that the receipt's leaf is included at
 * its index under that checkpoint's root (RFC 6962 §2.1.1), and that the leaf
 * names this envelope's hash. With `--checkpoint NEWER` and `--consistency
 * PROOF`, also check that the newer checkpoint extends the receipt's one
 * (RFC 6962 §2.1.2): the log stayed append-only in between. With
 * `--trusted-keys`, also verify the envelope's own signature.
 *
 * `--key` may be given more than once (the log's Ed25519 and ML-DSA-44
 * keys, e.g. the lines of `GET /v1/log/keys`): each given key's signature
 * must be on the checkpoint and verify. `--policy FILE` (C2SP tlog-policy)
 * accepts the receipt only when a policy log signed it and the policy's
 * witness quorum cosigned it; the output names the part that failed.
 *
 * @module
 */
import {
  type CliIO,
  type Command,
  parseArgs,
  printJson,
  readInputFile,
  readTextFile,
  UsageError,
} from "../io.ts";
import { fromBase64, toBase64 } from "../../core/bytes.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { RegledgerError } from "../../core/errors.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { checkEnvelope } from "../../core/verify.ts";
import type { ParsedEnvelope } from "../../core/envelope_types.ts";
import { CheckpointError, openCheckpoint } from "../../ledger/checkpoint.ts";
import { NoteError, type NoteVerifier } from "../../ledger/note.ts";
import { hex8 } from "../../ledger/note_keys.ts";
import { leafHash } from "../../ledger/merkle/mod.ts";
import { type ParsedVerifierKey, parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import {
  parsePolicy,
  type PolicyVerdict,
  type TrustPolicy,
  verifyCheckpointPolicy,
} from "../../ledger/witness/policy.ts";
import {
  parseTlogProof,
  TlogProofError,
  verifyReceiptConsistency,
  verifyTlogProof,
} from "../../ledger/tlog_proof.ts";

const HELP = `usage: regledger proof verify --proof RECEIPT (--key VERIFIER_KEY... | --policy FILE)
                              --envelope ENVELOPE
                              [--checkpoint NEWER --consistency PROOF] [--trusted-keys FILE]

Check offline that ENVELOPE is the log entry that RECEIPT (a c2sp.org/tlog-proof@v1
text, as returned by \`ledger append\` or POST /v1/envelopes) proves, against the
log's verifier keys or a trust policy. Nothing is fetched from the log.

options:
  --proof FILE         the receipt (tlog-proof@v1 text; "-" reads standard input)
  --key KEY            a verifier key of the log: a file holding one key per line, or
                       the key itself (<origin>+<8 hex key id>+<base64 key>, from
                       \`ledger key\`, GET /v1/log/key or GET /v1/log/keys). Ed25519 or
                       ML-DSA-44; may be given more than once. The signature of EVERY
                       given key must be on the checkpoint and verify.
  --policy FILE        a C2SP tlog-policy file: the checkpoint must be signed by one of
                       its logs and cosigned by its witness quorum (with or without --key)
  --envelope FILE      the envelope JSON the receipt is for
  --checkpoint FILE    a newer signed checkpoint of the same log: also check that it
                       extends the receipt's checkpoint (needs --consistency)
  --consistency FILE   the consistency proof between the two tree sizes, as JSON
                       {first, second, proof: [base64]} (from \`ledger consistency\`
                       or GET /v1/log/proof/consistency)
  --trusted-keys FILE  also verify the envelope's signature against this trust store
  -h, --help           show this help

output: JSON on stdout, {"valid": true, "index", "tree_size", "signatures", ...} or
{"valid": false, "reason", "message"}; reason "checkpoint" names the failing log key
in "key"; reasons "policy-log", "policy-witness", "policy-quorum" say which part of
the policy failed (and "policy" lists the witnesses that did cosign)
exit codes: 0 the receipt holds; 1 it does not (reason names why); 2 bad use or
unreadable/malformed input.

example:
  regledger proof verify --proof receipt.tlog-proof --key log.vkey --envelope envelope.json
  curl -s $SERVER/v1/log/keys > log.vkeys
  regledger proof verify --proof receipt.tlog-proof --key log.vkeys --envelope envelope.json
  regledger proof verify --proof receipt.tlog-proof --policy regulator.policy --envelope e.json
`;

/**
 * Run `regledger proof <subcommand>`; returns the exit code.
 *
 * @throws {UsageError} for bad use or unreadable input (exit 2).
 */
export const run: Command = async (args: string[], io: CliIO): Promise<number> => {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    io.stdout(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "verify") throw new UsageError(`unknown subcommand '${sub}' (expected: verify)`);
  const a = parseArgs(rest, {
    values: ["proof", "key", "envelope", "checkpoint", "consistency", "trusted-keys", "policy"],
    repeatable: ["key"],
    flags: ["help"],
    aliases: { h: "help" },
  });
  if (a.flags.has("help")) {
    io.stdout(HELP);
    return 0;
  }
  if (a.positional.length > 0) throw new UsageError(`unexpected argument ${a.positional[0]}`);
  for (const req of ["proof", "envelope"]) {
    if (a.values[req] === undefined) throw new UsageError(`missing --${req} (see --help)`);
  }
  if (a.values["key"] === undefined && a.values["policy"] === undefined) {
    throw new UsageError("missing --key or --policy (see --help)");
  }
  const newerPath = a.values["checkpoint"];
  const consistencyPath = a.values["consistency"];
  if ((newerPath === undefined) !== (consistencyPath === undefined)) {
    throw new UsageError(
      "--checkpoint and --consistency go together: fetch the proof with " +
        "`regledger ledger consistency --first A --second B`",
    );
  }

  const receipt = signedNoteText(await readTextFile(a.values["proof"]), a.values["proof"]);
  try {
    parseTlogProof(receipt);
  } catch (e) {
    throw new UsageError(`${a.values["proof"]} is not a tlog-proof@v1 receipt: ${msg(e)}`);
  }
  const keys: ParsedVerifierKey[] = [];
  for (const k of a.lists["key"] ?? []) keys.push(...await readVerifierKeys(k));
  const policy = a.values["policy"] === undefined
    ? undefined
    : await readPolicy(a.values["policy"]);
  let envelope: ParsedEnvelope;
  try {
    envelope = parseEnvelopeText(await readInputFile(a.values["envelope"]));
  } catch (e) {
    throw new UsageError(`${a.values["envelope"]}: ${msg(e)}`, { cause: e });
  }
  let store: TrustStore | undefined;
  if (a.values["trusted-keys"] !== undefined) {
    try {
      store = TrustStore.fromJsonText(await readInputFile(a.values["trusted-keys"]));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${a.values["trusted-keys"]}: ${msg(e)}`, { cause: e });
    }
  }
  let newer: string | undefined;
  let consistency: Uint8Array[] | undefined;
  if (newerPath !== undefined && consistencyPath !== undefined) {
    newer = signedNoteText(await readTextFile(newerPath), newerPath);
    consistency = parseConsistency(await readTextFile(consistencyPath), consistencyPath);
  }

  const fail = (reason: string, message: string): number => {
    printJson(io, { valid: false, reason, message });
    return 1;
  };

  const failWith = (reason: string, message: string, extra: Record<string, unknown>): number => {
    printJson(io, { valid: false, reason, message, ...extra });
    return 1;
  };
  const checkpointText = parseTlogProof(receipt).checkpoint;
  // Every given key: its signature must be there and verify (a note opens
  // with any one known signature, so each key is checked on its own).
  const keyFailure = await eachKeySigned(checkpointText, keys);
  if (keyFailure) return failWith("checkpoint", keyFailure.message, { key: keyFailure.key });
  let verdict: PolicyVerdict | undefined;
  if (policy !== undefined) {
    verdict = await verifyCheckpointPolicy(checkpointText, policy);
    if (!verdict.valid) {
      return failWith(`policy-${verdict.failed}`, verdict.message, {
        policy: { quorum: policy.quorum, witnesses: verdict.witnesses },
      });
    }
  }
  const key: NoteVerifier[] = keys.length > 0
    ? keys.map((k) => k.verifier)
    : policy!.logs.filter((l) => verdict!.logKeys.includes(l.key.vkey)).map((l) => l.key.verifier);

  let verified;
  try {
    verified = await verifyTlogProof(receipt, key, { envelopeSha256: envelope.sha256 });
  } catch (e) {
    if (e instanceof TlogProofError) return fail(e.rule, e.message);
    throw e;
  }
  const out: Record<string, unknown> = {
    valid: true,
    origin: verified.checkpoint.origin,
    index: verified.index,
    tree_size: verified.checkpoint.size,
    root_hash: toBase64(verified.checkpoint.root),
    leaf_hash: toBase64(leafHash(verified.leaf)),
    envelope_sha256: toBase64(envelope.sha256),
    issuer: verified.fields.issuer,
    primitive: verified.fields.primitive,
    signatures: keys.map((k) => ({ key: k.vkey, type: typeName(k.type), valid: true })),
  };
  if (verdict !== undefined) {
    out.policy = {
      valid: true,
      quorum: policy!.quorum,
      log_keys: verdict.logKeys,
      witnesses: verdict.witnesses,
    };
  }
  if (newer !== undefined && consistency !== undefined) {
    const newerFailure = await eachKeySigned(newer, keys);
    if (newerFailure) {
      return failWith("checkpoint", `newer checkpoint: ${newerFailure.message}`, {
        key: newerFailure.key,
      });
    }
    try {
      const n = await verifyReceiptConsistency(receipt, newer, consistency, key);
      out.consistent_with = { tree_size: n.size, root_hash: toBase64(n.root) };
    } catch (e) {
      if (e instanceof TlogProofError) return fail(e.rule, e.message);
      throw e;
    }
  }
  if (store !== undefined) {
    const r = await checkEnvelope(envelope, store);
    if (!r.valid) return fail(r.reason, r.message ?? "envelope verification failed");
    out.envelope = { valid: true, trust: r.trust, key_id: r.key_id };
  }
  printJson(io, out);
  return 0;
};

const LOG_KEY_TYPES: Record<number, string> = { 0x01: "ed25519", 0x06: "ml-dsa-44" };

function typeName(type: number): string {
  return LOG_KEY_TYPES[type] ?? `0x${type.toString(16).padStart(2, "0")}`;
}

/**
 * Verifier keys given as a file holding one per line, or as the key text
 * itself: Ed25519 (0x01) or ML-DSA-44 (0x06) log keys.
 */
async function readVerifierKeys(arg: string): Promise<ParsedVerifierKey[]> {
  let text: string;
  try {
    text = (await Deno.stat(arg)).isFile ? await readTextFile(arg) : arg;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    text = arg;
  }
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length === 0) throw new UsageError(`--key ${arg}: no verifier key in it`);
  return lines.map((line) => {
    let k: ParsedVerifierKey;
    try {
      k = parseNoteVerifierKey(line);
    } catch (e) {
      throw new UsageError(
        `--key: ${
          msg(e)
        } (expected a file holding verifier keys, or the key <origin>+<key id>+<base64>)`,
        { cause: e },
      );
    }
    if (!(k.type in LOG_KEY_TYPES)) {
      throw new UsageError(
        `--key: ${k.verifier.name}+${hex8(k.verifier.keyId)} is a ${
          typeName(k.type)
        } key; a log signs with Ed25519 (0x01) or ML-DSA-44 (0x06)`,
      );
    }
    return k;
  });
}

async function readPolicy(path: string): Promise<TrustPolicy> {
  const text = await readTextFile(path);
  try {
    return parsePolicy(text);
  } catch (e) {
    throw new UsageError(`--policy ${path}: ${msg(e)}`, { cause: e });
  }
}

/** The first given key whose signature is missing from `checkpoint` or does not verify. */
async function eachKeySigned(
  checkpoint: string,
  keys: readonly ParsedVerifierKey[],
): Promise<{ key: string; message: string } | undefined> {
  for (const k of keys) {
    const name = `${typeName(k.type)} key ${k.verifier.name}+${hex8(k.verifier.keyId)}`;
    try {
      await openCheckpoint(checkpoint, k.verifier);
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      const rule = e.cause instanceof NoteError ? e.cause.rule : e.rule;
      const message = rule === "unverified-note"
        ? `the checkpoint carries no signature by the ${name}`
        : rule === "invalid-signature"
        ? `the signature by the ${name} does not verify`
        : `checkpoint check with the ${name} failed: ${e.message}`;
      return { key: k.vkey, message };
    }
  }
  return undefined;
}

function parseConsistency(text: string, path: string): Uint8Array[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not JSON: ${msg(e)}`, { cause: e });
  }
  const proof = (v as { proof?: unknown })?.proof;
  if (!Array.isArray(proof) || !proof.every((h) => typeof h === "string")) {
    throw new UsageError(`${path}: expected {first, second, proof: [base64, ...]}`);
  }
  try {
    return proof.map((h: string) => fromBase64(h));
  } catch (e) {
    throw new UsageError(`${path}: proof hash is not standard base64`, { cause: e });
  }
}

/**
 * A receipt or checkpoint file is read as the exact bytes the log signed, as
 * Go's `note.Open` and C2SP signed-note read them: it ends with exactly one
 * newline and holds no carriage return. Repairing a missing or extra final
 * newline would accept files that every other verifier refuses, so the file
 * is refused with the fix named instead (`jq -r` adds a newline; `jq -j`
 * saves the text as issued).
 * @throws {UsageError} naming the file and the rule.
 */
function signedNoteText(text: string, path: string): string {
  if (text.includes("\r")) {
    throw new UsageError(
      `${path}: holds a carriage return; a signed note has LF line endings only ` +
        "(convert it with dos2unix, or save it again as issued)",
    );
  }
  const finals = text.length - text.replace(/\n+$/, "").length;
  if (finals !== 1) {
    throw new UsageError(
      `${path}: ends with ${finals} newline${finals === 1 ? "" : "s"}; a signed note ends ` +
        "with exactly one (Go's note.Open refuses anything else; `jq -j`, not `jq -r`, " +
        "saves a receipt as issued)",
    );
  }
  return text;
}

function msg(e: unknown): string {
  return e instanceof RegledgerError || e instanceof Error ? e.message : String(e);
}
