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
import { parseVerifierKey } from "../../ledger/note.ts";
import { leafHash } from "../../ledger/merkle/mod.ts";
import {
  parseTlogProof,
  TlogProofError,
  verifyReceiptConsistency,
  verifyTlogProof,
} from "../../ledger/tlog_proof.ts";

const HELP = `usage: regledger proof verify --proof RECEIPT --key VERIFIER_KEY --envelope ENVELOPE
                              [--checkpoint NEWER --consistency PROOF] [--trusted-keys FILE]

Check offline that ENVELOPE is the log entry that RECEIPT (a c2sp.org/tlog-proof@v1
text, as returned by \`ledger append\` or POST /v1/envelopes) proves, against the
log's verifier key. Nothing is fetched from the log.

options:
  --proof FILE         the receipt (tlog-proof@v1 text; "-" reads standard input)
  --key KEY            the log's verifier key: a file holding it, or the key itself
                       (<origin>+<8 hex key id>+<base64 key>, from \`ledger key\` or GET /v1/log/key)
  --envelope FILE      the envelope JSON the receipt is for
  --checkpoint FILE    a newer signed checkpoint of the same log: also check that it
                       extends the receipt's checkpoint (needs --consistency)
  --consistency FILE   the consistency proof between the two tree sizes, as JSON
                       {first, second, proof: [base64]} (from \`ledger consistency\`
                       or GET /v1/log/proof/consistency)
  --trusted-keys FILE  also verify the envelope's signature against this trust store
  -h, --help           show this help

output: JSON on stdout, {"valid": true, "index", "tree_size", ...} or
{"valid": false, "reason", "message"}
exit codes: 0 the receipt holds; 1 it does not (reason names why); 2 bad use or
unreadable/malformed input.

example:
  regledger proof verify --proof receipt.tlog-proof --key log.vkey --envelope envelope.json
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
    values: ["proof", "key", "envelope", "checkpoint", "consistency", "trusted-keys"],
    flags: ["help"],
    aliases: { h: "help" },
  });
  if (a.flags.has("help")) {
    io.stdout(HELP);
    return 0;
  }
  if (a.positional.length > 0) throw new UsageError(`unexpected argument ${a.positional[0]}`);
  for (const req of ["proof", "key", "envelope"]) {
    if (a.values[req] === undefined) throw new UsageError(`missing --${req} (see --help)`);
  }
  const newerPath = a.values["checkpoint"];
  const consistencyPath = a.values["consistency"];
  if ((newerPath === undefined) !== (consistencyPath === undefined)) {
    throw new UsageError(
      "--checkpoint and --consistency go together: fetch the proof with " +
        "`regledger ledger consistency --first A --second B`",
    );
  }

  const receipt = oneFinalNewline(await readTextFile(a.values["proof"]));
  try {
    parseTlogProof(receipt);
  } catch (e) {
    throw new UsageError(`${a.values["proof"]} is not a tlog-proof@v1 receipt: ${msg(e)}`);
  }
  const key = await readVerifierKey(a.values["key"]);
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
    newer = oneFinalNewline(await readTextFile(newerPath));
    consistency = parseConsistency(await readTextFile(consistencyPath), consistencyPath);
  }

  const fail = (reason: string, message: string): number => {
    printJson(io, { valid: false, reason, message });
    return 1;
  };

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
  };
  if (newer !== undefined && consistency !== undefined) {
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

/** A verifier key given as a file holding it, or as the key text itself. */
async function readVerifierKey(arg: string): Promise<string> {
  let text: string;
  try {
    text = (await Deno.stat(arg)).isFile ? (await readTextFile(arg)).trim() : arg;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    text = arg;
  }
  try {
    parseVerifierKey(text);
  } catch (e) {
    throw new UsageError(
      `--key: ${
        msg(e)
      } (expected a file holding a verifier key, or the key <origin>+<key id>+<base64>)`,
      { cause: e },
    );
  }
  return text;
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
 * Signed notes end with exactly one newline; files saved with `jq -r` or
 * `echo` often carry one more. Extra trailing newlines are not part of any
 * signed text, so they are dropped before parsing.
 */
function oneFinalNewline(text: string): string {
  return text.replace(/\n+$/, "") + "\n";
}

function msg(e: unknown): string {
  return e instanceof RegledgerError || e instanceof Error ? e.message : String(e);
}
