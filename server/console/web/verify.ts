/**
 * Verify one log entry where the regulator is: in the browser (and in Deno,
 * with the same code). Given what the console fetched — the entry bundle
 * (`GET /v1/log/entries/{index}/bundle`), the latest checkpoint
 * (`GET /v1/log/checkpoint`), a consistency proof when the two trees differ
 * (`GET /v1/log/proof/consistency`), the trust store (`GET /v1/trust-store`)
 * — and the log key the user pinned, {@linkcode verifyEntry} runs five
 * checks and names each one's outcome:
 *
 * 1. `envelope-hash`: the envelope hashes to the `envelope_sha256` its leaf
 *    names, and the leaf's index, issuer, primitive, time and key id are the
 *    envelope's;
 * 2. `issuer-signature`: the envelope verifies against the trust store
 *    (`core/verify.ts`: untrusted, revoked or pinned-elsewhere keys, body
 *    hash, Ed25519 signature, timestamp);
 * 3. `checkpoint-signature`: the bundle's checkpoint and the latest one are
 *    signed by the pinned log key, for its origin;
 * 4. `inclusion`: the leaf is in the bundle checkpoint's tree (RFC 6962
 *    inclusion proof), and the bundle's `tlog-proof` receipt says the same;
 * 5. `consistency`: the bundle's tree is a prefix of the latest one (RFC 6962
 *    consistency proof; the same tree needs none).
 *
 * The verdict is `valid` only when every check passes. Nothing here throws
 * for bad input: a malformed answer fails the checks it affects, with the
 * reason. Pure TypeScript over `core/` and `ledger/` (Web Crypto or
 * `@noble`), no Deno or Node API, so `deno bundle --platform browser` makes
 * it a browser module.
 *
 * @module
 */
import { bytesEqual, fromBase64, toBase64 } from "../../../core/bytes.ts";
import { parseEnvelopeText } from "../../../core/envelope.ts";
import type { ParsedEnvelope } from "../../../core/envelope_types.ts";
import { type LosslessJsonValue, parseJsonText, toPlainJson } from "../../../core/json_text.ts";
import { pythonDumps } from "../../../core/python_json.ts";
import { TrustStore } from "../../../core/trust_store.ts";
import { checkEnvelope } from "../../../core/verify.ts";
import {
  checkCheckpointConsistency,
  type Checkpoint,
  openCheckpoint,
  parseCheckpointText,
} from "../../../ledger/checkpoint.ts";
import { decodeLeaf, type LeafFields } from "../../../ledger/leaf.ts";
import { leafHash } from "../../../ledger/merkle/hash.ts";
import { verifyInclusion } from "../../../ledger/merkle/verify.ts";
import { parseVerifierKey } from "../../../ledger/note_keys.ts";
import { parseTlogProof } from "../../../ledger/tlog_proof.ts";

/** What the console fetched for one entry, and the log key the user pinned. */
export interface VerifyEntryInput {
  /**
   * The answer of `GET /v1/log/entries/{index}/bundle`: preferably its text
   * (a legacy envelope's numbers are hashed as written, `1.0` included); a
   * parsed object works for native envelopes.
   */
  bundle: string | Record<string, unknown>;
  /** The latest signed checkpoint, `GET /v1/log/checkpoint`. */
  checkpoint: string;
  /**
   * `GET /v1/log/proof/consistency?first=A&second=B` for the two tree sizes
   * {@linkcode neededConsistency} names; not needed when they are equal.
   */
  consistency?: { first: number; second: number; proof: string[] };
  /** The trust store, `GET /v1/trust-store` (its text or parsed JSON). */
  trustStore: unknown;
  /** The log's verifier key the user pinned: `<name>+<hash>+<base64>` (C2SP signed-note). */
  logKey: string;
}

/** The checks, in the order they are reported. */
export type EntryCheckId =
  | "envelope-hash"
  | "issuer-signature"
  | "checkpoint-signature"
  | "inclusion"
  | "consistency";

/** One check's outcome. */
export interface EntryCheck {
  /** Which check. */
  id: EntryCheckId;
  /** What it establishes, in words. */
  label: string;
  /** Whether it passed. */
  ok: boolean;
  /** Why it failed (only when `ok` is false). */
  reason?: string;
  /** What it found, when it passed (e.g. the tree size). */
  detail?: string;
}

/** The outcome of {@linkcode verifyEntry}. */
export interface EntryVerdict {
  /** `valid` when every check passed. */
  verdict: "valid" | "invalid";
  /** The five checks, in {@linkcode EntryCheckId} order. */
  checks: EntryCheck[];
}

/** Each check's label. */
export const CHECK_LABELS: Readonly<Record<EntryCheckId, string>> = Object.freeze({
  "envelope-hash": "Envelope hash matches the logged leaf",
  "issuer-signature": "Issuer signature verifies against the trust store",
  "checkpoint-signature": "Checkpoint signed by the pinned log key",
  "inclusion": "Entry included in the checkpoint's tree",
  "consistency": "Checkpoint consistent with the latest checkpoint",
});

/** A failure message, whatever was thrown. */
function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The bundle's members (numbers plain) and its envelope parsed losslessly. */
interface Bundle {
  fields: Record<string, unknown>;
  envelope: ParsedEnvelope;
}

function readBundle(bundle: string | Record<string, unknown>): Bundle {
  if (typeof bundle === "string") {
    const tree = parseJsonText(bundle, { allowNonFinite: true });
    if (tree === null || typeof tree !== "object" || Array.isArray(tree) || !("envelope" in tree)) {
      throw new Error("the bundle is not a JSON object with an envelope");
    }
    const { envelope, ...rest } = tree as Record<string, LosslessJsonValue>;
    const fields = toPlainJson(rest) as Record<string, unknown>;
    // Re-serialised with each number's own text: the envelope's canonical bytes are unchanged.
    return { fields, envelope: parseEnvelopeText(pythonDumps(envelope)) };
  }
  if (bundle === null || typeof bundle !== "object" || !("envelope" in bundle)) {
    throw new Error("the bundle is not a JSON object with an envelope");
  }
  return { fields: bundle, envelope: parseEnvelopeText(JSON.stringify(bundle.envelope)) };
}

function stringField(o: Record<string, unknown>, name: string): string {
  const v = o[name];
  if (typeof v !== "string") throw new Error(`the bundle has no string '${name}'`);
  return v;
}

function indexField(o: Record<string, unknown>, name: string): number {
  const v = o[name];
  if (!Number.isSafeInteger(v) || (v as number) < 0) {
    throw new Error(`the bundle has no index '${name}'`);
  }
  return v as number;
}

/** The unverified checkpoint body of a signed note (its size tells what to fetch). */
function checkpointBody(signed: string): Checkpoint {
  const end = signed.indexOf("\n\n");
  if (end < 0) throw new Error("the checkpoint is not a signed note");
  return parseCheckpointText(signed.slice(0, end + 1));
}

/**
 * The consistency proof {@linkcode verifyEntry} needs, `{first, second}`
 * for `GET /v1/log/proof/consistency`, or null when the bundle's tree and
 * the latest checkpoint's have one size (or either is unreadable: the
 * checks then say why).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { neededConsistency } from "./verify.ts";
 * const latest = "example.org/log\n7\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— sig\n";
 * assert.deepEqual(neededConsistency({ tree_size: 5 }, latest), { first: 5, second: 7 });
 * assert.equal(neededConsistency({ tree_size: 7 }, latest), null);
 * ```
 */
export function neededConsistency(
  bundle: { tree_size: number } | string,
  checkpoint: string,
): { first: number; second: number } | null {
  try {
    const size = typeof bundle === "string"
      ? indexField(JSON.parse(bundle), "tree_size")
      : indexField(bundle, "tree_size");
    const latest = checkpointBody(checkpoint).size;
    if (latest === size) return null;
    return { first: Math.min(size, latest), second: Math.max(size, latest) };
  } catch {
    return null;
  }
}

/**
 * Run the five checks on one entry (see the module documentation).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyEntry } from "./verify.ts";
 * // Nothing readable: every check fails, and says why.
 * const out = await verifyEntry({ bundle: "{}", checkpoint: "", trustStore: {}, logKey: "x" });
 * assert.equal(out.verdict, "invalid");
 * assert.deepEqual(out.checks.map((c) => c.id), [
 *   "envelope-hash", "issuer-signature", "checkpoint-signature", "inclusion", "consistency",
 * ]);
 * assert.ok(out.checks.every((c) => !c.ok && typeof c.reason === "string"));
 * ```
 */
export async function verifyEntry(input: VerifyEntryInput): Promise<EntryVerdict> {
  const results = new Map<EntryCheckId, { ok: boolean; reason?: string; detail?: string }>();
  const pass = (id: EntryCheckId, detail?: string) =>
    results.set(id, detail === undefined ? { ok: true } : { ok: true, detail });
  const fail = (id: EntryCheckId, reason: string) => results.set(id, { ok: false, reason });

  let bundle: Bundle | undefined;
  let leaf: Uint8Array | undefined;
  let fields: LeafFields | undefined;
  let bundleProblem = "";
  try {
    bundle = readBundle(input.bundle);
    leaf = fromBase64(stringField(bundle.fields, "leaf"));
    fields = decodeLeaf(leaf);
  } catch (e) {
    bundleProblem = `the bundle is unreadable: ${why(e)}`;
  }

  // 1. The envelope is the one the leaf names.
  if (bundle && fields) {
    const env = bundle.envelope.value;
    const named = fromBase64(fields.envelope_sha256);
    const mismatch = [
      ["index", fields.index, bundle.fields.index],
      ["issuer", fields.issuer, env.issuer],
      ["primitive", fields.primitive, env.primitive],
      ["issued_at", fields.issued_at, env.issued_at],
      ["key_id", fields.key_id, env.receipt.key_id],
    ].find(([, a, b]) => a !== b);
    if (!bytesEqual(named, bundle.envelope.sha256)) {
      fail(
        "envelope-hash",
        `the envelope hashes to ${
          toBase64(bundle.envelope.sha256)
        }, but the leaf names ${fields.envelope_sha256}`,
      );
    } else if (mismatch) {
      fail(
        "envelope-hash",
        `the leaf's ${mismatch[0]} is ${JSON.stringify(mismatch[1])}, the envelope's ${
          JSON.stringify(mismatch[2])
        }`,
      );
    } else pass("envelope-hash", `SHA-256 ${fields.envelope_sha256}`);
  } else fail("envelope-hash", bundleProblem);

  // 2. The issuer's signature, against the trust store the server uses.
  if (bundle) {
    try {
      const raw = typeof input.trustStore === "string"
        ? JSON.parse(input.trustStore)
        : input.trustStore;
      const r = await checkEnvelope(bundle.envelope, TrustStore.fromObject(raw));
      if (r.valid) pass("issuer-signature", `key ${r.key_id} (${r.issuer})`);
      else fail("issuer-signature", `${r.reason}: ${r.message}`);
    } catch (e) {
      fail("issuer-signature", `the trust store is unusable: ${why(e)}`);
    }
  } else fail("issuer-signature", bundleProblem);

  // 3. Both checkpoints, signed by the pinned log key.
  let entryCp: Checkpoint | undefined;
  let latestCp: Checkpoint | undefined;
  try {
    const verifier = parseVerifierKey(input.logKey);
    const problems: string[] = [];
    try {
      latestCp = await openCheckpoint(input.checkpoint, verifier);
    } catch (e) {
      problems.push(`the latest checkpoint: ${why(e)}`);
    }
    if (bundle) {
      const text = stringField(bundle.fields, "checkpoint");
      try {
        entryCp = text === input.checkpoint && latestCp
          ? latestCp
          : await openCheckpoint(text, verifier);
      } catch (e) {
        problems.push(`the entry's checkpoint: ${why(e)}`);
      }
    } else problems.push(bundleProblem);
    if (problems.length > 0) fail("checkpoint-signature", problems.join("; "));
    else {
      pass(
        "checkpoint-signature",
        `${verifier.name}, tree size ${entryCp!.size}` +
          (latestCp!.size !== entryCp!.size ? ` and ${latestCp!.size}` : ""),
      );
    }
  } catch (e) {
    fail("checkpoint-signature", `the pinned log key is not a verifier key: ${why(e)}`);
  }

  // 4. The leaf is in the entry checkpoint's tree.
  if (!bundle || !leaf) fail("inclusion", bundleProblem);
  else if (!entryCp) fail("inclusion", "not checked: the entry's checkpoint is not verified");
  else {
    try {
      const index = indexField(bundle.fields, "index");
      const hash = leafHash(leaf);
      if (stringField(bundle.fields, "leaf_hash") !== toBase64(hash)) {
        throw new Error("the bundle's leaf_hash is not the hash of its leaf");
      }
      if (indexField(bundle.fields, "tree_size") !== entryCp.size) {
        throw new Error(`tree_size is not the checkpoint's size ${entryCp.size}`);
      }
      const raw = bundle.fields.inclusion_proof;
      if (!Array.isArray(raw) || !raw.every((h) => typeof h === "string")) {
        throw new Error("the bundle's inclusion_proof is not a list of hashes");
      }
      const proof = raw.map((h) => fromBase64(h));
      verifyInclusion(hash, index, entryCp.size, proof, entryCp.root);
      const receipt = parseTlogProof(stringField(bundle.fields, "tlog_proof"));
      if (
        receipt.index !== index ||
        receipt.checkpoint !== stringField(bundle.fields, "checkpoint") ||
        receipt.extra === undefined || !bytesEqual(receipt.extra, leaf) ||
        receipt.proof.length !== proof.length ||
        !receipt.proof.every((h, i) => bytesEqual(h, proof[i]))
      ) {
        throw new Error("the bundle's tlog-proof receipt is not its leaf, proof and checkpoint");
      }
      pass("inclusion", `index ${index} of ${entryCp.size}, ${proof.length} hashes`);
    } catch (e) {
      fail("inclusion", why(e));
    }
  }

  // 5. The entry's tree is a prefix of the latest one.
  if (!entryCp || !latestCp) {
    fail("consistency", "not checked: a checkpoint is not verified");
  } else {
    const [older, newer] = entryCp.size <= latestCp.size
      ? [entryCp, latestCp]
      : [latestCp, entryCp];
    try {
      if (older.size === newer.size) {
        if (!bytesEqual(older.root, newer.root)) {
          throw new Error(`two checkpoints of size ${older.size} with different roots`);
        }
        pass("consistency", "the entry is proved against the latest tree");
      } else {
        const c = input.consistency;
        if (!c || c.first !== older.size || c.second !== newer.size || !Array.isArray(c.proof)) {
          throw new Error(
            `a consistency proof from size ${older.size} to ${newer.size} is needed`,
          );
        }
        checkCheckpointConsistency(older, newer, c.proof.map((h) => fromBase64(h)));
        pass("consistency", `size ${older.size} extends to ${newer.size}`);
      }
    } catch (e) {
      fail("consistency", why(e));
    }
  }

  const checks: EntryCheck[] = (Object.keys(CHECK_LABELS) as EntryCheckId[]).map((id) => ({
    id,
    label: CHECK_LABELS[id],
    ...results.get(id)!,
  }));
  return { verdict: checks.every((c) => c.ok) ? "valid" : "invalid", checks };
}
