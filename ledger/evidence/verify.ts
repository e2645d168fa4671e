/**
 * Checking an evidence pack offline: every file against its CRC-32 and the
 * manifest, the checkpoint under the log keys (and a trust policy's quorum
 * when given), each receipt against that one checkpoint, each envelope
 * against the receipt's leaf and the trust store. Nothing is fetched.
 *
 * @module
 */
import { sha256Hex } from "../../core/bytes.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { checkEnvelope } from "../../core/verify.ts";
import { CheckpointError, openCheckpoint, type VerifiedCheckpoint } from "../checkpoint.ts";
import { TlogProofError, verifyTlogProof } from "../tlog_proof.ts";
import { type ParsedVerifierKey, parseNoteVerifierKey } from "../witness/keys.ts";
import { type TrustPolicy, verifyCheckpointPolicy } from "../witness/policy.ts";
import { checkBudgetStatements, readBudgetManifest } from "./budgets.ts";
import { PACK_FILES, PACK_FORMAT } from "./export.ts";
import { readZip, type ZipFile } from "./zip.ts";

/** One failed check: the file (and entry) it concerns and why. */
export interface PackProblem {
  /** Path of the file inside the pack. */
  file: string;
  /** The entry's log index, when the file belongs to an entry. */
  index?: number;
  /** A short rule name (`crc`, `manifest`, `InvalidSignature`, `inclusion`, …). */
  reason: string;
  /** What failed, in words. */
  message: string;
}

/** The outcome of {@link verifyEvidencePack}. */
export interface PackVerdict {
  /** Whether every check passed. */
  ok: boolean;
  /** Entries checked. */
  entries: number;
  /** The checkpoint every receipt is against. */
  checkpoint?: { origin: string; tree_size: number };
  /** Where the log keys came from: the caller (`--key`), a policy, or the pack itself. */
  log_keys_from: "caller" | "policy" | "pack";
  /** Where the trust store came from. */
  trust_store_from: "caller" | "pack";
  /** The quorum the policy asked for and the witnesses that met it, when a policy was given. */
  policy?: { quorum: string; witnesses: string[] };
  /** The failed checks (at most {@link MAX_PROBLEMS}). */
  problems: PackProblem[];
}

/** Options of {@link verifyEvidencePack}. */
export interface VerifyPackOptions {
  /** Log verifier keys to trust instead of the pack's `log-keys.txt`. */
  logKeys?: readonly string[];
  /** A trust store to use instead of the pack's `trust-store.json`. */
  trustStore?: TrustStore;
  /** A C2SP trust policy the checkpoint must satisfy (log key and witness quorum). */
  policy?: TrustPolicy;
}

/** Most problems reported (the first is the one that matters; the rest show the extent). */
export const MAX_PROBLEMS = 100;

/** Entries whose checks run concurrently (see step 5). */
const IN_FLIGHT = 64;

const ENTRY_FILE = /^envelopes\/(0|[1-9][0-9]{0,15})\.(json|receipt)$/;

/**
 * Verify a pack's bytes.
 *
 * @throws {ZipFormatError} when the bytes are not a readable archive (exit 2).
 */
export async function verifyEvidencePack(
  bytes: Uint8Array,
  options: VerifyPackOptions = {},
): Promise<PackVerdict> {
  const files = readZip(bytes);
  const verdict: PackVerdict = {
    ok: false,
    entries: 0,
    log_keys_from: options.logKeys ? "caller" : options.policy ? "policy" : "pack",
    trust_store_from: options.trustStore ? "caller" : "pack",
    problems: [],
  };
  const problem = (p: PackProblem) => {
    if (verdict.problems.length < MAX_PROBLEMS) verdict.problems.push(p);
  };
  const byName = new Map<string, ZipFile>(files.map((f) => [f.name, f]));
  const indexOf = (name: string) => {
    const m = ENTRY_FILE.exec(name);
    return m ? Number(m[1]) : undefined;
  };
  // 1. Every file's bytes are the ones written (CRC-32): names a changed byte precisely.
  for (const f of files) {
    if (!f.crcOk) {
      problem({
        file: f.name,
        index: indexOf(f.name),
        reason: "crc",
        message: `${f.name} was altered (CRC-32 mismatch)`,
      });
    }
  }
  if (verdict.problems.length > 0) return verdict;
  const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
  const text = (name: string): string | undefined => {
    const f = byName.get(name);
    if (f === undefined) {
      problem({ file: name, reason: "missing", message: `${name} is not in the pack` });
      return undefined;
    }
    try {
      return utf8Fatal.decode(f.data);
    } catch {
      problem({ file: name, reason: "malformed", message: `${name} is not UTF-8` });
      return undefined;
    }
  };
  // 2. The manifest binds every file by SHA-256, and names every file there is.
  const manifest = readManifest(text(PACK_FILES.manifest), problem);
  if (manifest === undefined) return verdict;
  const listed = new Set<string>();
  for (const m of manifest.files) {
    listed.add(m.path);
    const f = byName.get(m.path);
    if (f === undefined) {
      problem({
        file: m.path,
        index: indexOf(m.path),
        reason: "missing",
        message: `${m.path} is in the manifest but not in the pack`,
      });
    } else if (sha256Hex(f.data) !== m.sha256 || f.data.length !== m.bytes) {
      problem({
        file: m.path,
        index: indexOf(m.path),
        reason: "manifest",
        message: `${m.path} does not match its SHA-256 in the manifest`,
      });
    }
  }
  for (const f of files) {
    if (f.name !== PACK_FILES.manifest && !listed.has(f.name)) {
      problem({
        file: f.name,
        index: indexOf(f.name),
        reason: "unlisted",
        message: `${f.name} is not in the manifest`,
      });
    }
  }
  // The spending entries added for the privacy-budget statements are checked like the others.
  const budgetManifest = readBudgetManifest(
    manifest.privacy_budgets,
    manifest.checkpoint.tree_size,
  );
  if (typeof budgetManifest === "string") {
    problem({ file: PACK_FILES.manifest, reason: "manifest", message: budgetManifest });
    return verdict;
  }
  const selected = new Set(manifest.entries);
  const checked = [
    ...manifest.entries,
    ...(budgetManifest?.entries ?? []).filter((i) => !selected.has(i)),
  ];
  for (const i of checked) {
    for (const ext of ["json", "receipt"]) {
      const name = `envelopes/${i}.${ext}`;
      if (!listed.has(name)) {
        problem({ file: name, index: i, reason: "missing", message: `entry ${i} has no ${name}` });
      }
    }
  }
  if (verdict.problems.length > 0) return verdict;

  // 3. The checkpoint: signed by every log key (the caller's, or the policy's logs, or the pack's).
  const checkpoint = text(PACK_FILES.checkpoint)!;
  let keys: ParsedVerifierKey[];
  try {
    const given = options.logKeys ??
      text(PACK_FILES.logKeys)!.split("\n").filter((l) => l.trim() !== "");
    keys = given.map((k) => parseNoteVerifierKey(k.trim()));
  } catch (e) {
    problem({
      file: PACK_FILES.logKeys,
      reason: "malformed",
      message: `log key: ${(e as Error).message}`,
    });
    return verdict;
  }
  let cp: VerifiedCheckpoint | undefined;
  if (options.policy) {
    const pv = await verifyCheckpointPolicy(checkpoint, options.policy);
    verdict.policy = { quorum: options.policy.quorum, witnesses: pv.witnesses };
    if (!pv.valid) {
      problem({ file: PACK_FILES.checkpoint, reason: `policy-${pv.failed}`, message: pv.message });
      return verdict;
    }
    if (!options.logKeys) {
      keys = options.policy.logs.filter((l) => pv.logKeys.includes(l.key.vkey)).map((l) => l.key);
    }
  }
  for (const k of keys) {
    try {
      cp = await openCheckpoint(checkpoint, k.verifier);
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      problem({
        file: PACK_FILES.checkpoint,
        reason: "checkpoint",
        message: `log key ${k.vkey}: ${e.message}`,
      });
      return verdict;
    }
  }
  if (cp === undefined) {
    problem({
      file: PACK_FILES.logKeys,
      reason: "missing",
      message: "no log key to check the checkpoint with",
    });
    return verdict;
  }
  verdict.checkpoint = { origin: cp.origin, tree_size: cp.size };
  if (manifest.checkpoint.tree_size !== cp.size || manifest.checkpoint.origin !== cp.origin) {
    problem({
      file: PACK_FILES.manifest,
      reason: "manifest",
      message: "the manifest names another checkpoint",
    });
    return verdict;
  }

  // 4. The trust store every envelope is checked against.
  let trust = options.trustStore;
  if (trust === undefined) {
    try {
      trust = TrustStore.fromJsonText(byName.get(PACK_FILES.trustStore)!.data);
    } catch (e) {
      problem({ file: PACK_FILES.trustStore, reason: "malformed", message: (e as Error).message });
      return verdict;
    }
  }

  // 5. Each entry: the receipt proves its leaf under THE checkpoint; the leaf names the envelope;
  //    the envelope verifies under the trust store.
  const preVerified = { signed: checkpoint, checkpoint: cp };
  const verifiers = keys.map((k) => k.verifier);
  const store = trust;
  const checkEntry = async (index: number): Promise<PackProblem | undefined> => {
    const envName = `envelopes/${index}.json`;
    const recName = `envelopes/${index}.receipt`;
    let receipt;
    try {
      receipt = utf8Fatal.decode(byName.get(recName)!.data);
    } catch {
      return { file: recName, index, reason: "malformed", message: `${recName} is not UTF-8` };
    }
    let env;
    try {
      env = parseEnvelopeText(byName.get(envName)!.data);
    } catch (e) {
      return { file: envName, index, reason: "malformed", message: (e as Error).message };
    }
    try {
      const r = await verifyTlogProof(receipt, verifiers, {
        envelopeSha256: env.sha256,
        verifiedCheckpoint: preVerified,
      });
      if (r.index !== index) {
        return {
          file: recName,
          index,
          reason: "index-mismatch",
          message: `the receipt is for entry ${r.index}`,
        };
      }
    } catch (e) {
      if (!(e instanceof TlogProofError)) throw e;
      // The leaf naming another envelope means the envelope file is the changed one.
      const file = e.rule === "envelope-mismatch" ? envName : recName;
      return { file, index, reason: e.rule, message: e.message };
    }
    const c = await checkEnvelope(env, store);
    return c.valid ? undefined : { file: envName, index, reason: c.reason, message: c.message };
  };
  // Entries are checked IN_FLIGHT at a time: the Ed25519 checks run on the
  // runtime's blocking pool, so while one waits the next is parsed and its
  // receipt checked. Problems are still named in the manifest's order.
  const entries = checked;
  for (let start = 0; start < entries.length; start += IN_FLIGHT) {
    const found = await Promise.all(entries.slice(start, start + IN_FLIGHT).map(checkEntry));
    for (const p of found) if (p !== undefined) problem(p);
  }
  // 6. The privacy-budget statements, recomputed from the envelopes (budgets.ts).
  for (
    const p of checkBudgetStatements(
      budgetManifest,
      new Map(checked.map((i) => [i, byName.get(`envelopes/${i}.json`)!.data])),
      (path) => byName.get(path)?.data,
      cp.size,
    )
  ) problem(p);
  verdict.entries = manifest.entries.length;
  verdict.ok = verdict.problems.length === 0;
  return verdict;
}

interface Manifest {
  checkpoint: { origin: string; tree_size: number };
  entries: number[];
  files: { path: string; sha256: string; bytes: number }[];
  privacy_budgets?: unknown;
}

function readManifest(
  text: string | undefined,
  problem: (p: PackProblem) => void,
): Manifest | undefined {
  if (text === undefined) return undefined;
  const bad = (message: string) => {
    problem({ file: PACK_FILES.manifest, reason: "manifest", message });
    return undefined;
  };
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text);
  } catch (e) {
    return bad(`manifest.json is not JSON: ${(e as Error).message}`);
  }
  if (m === null || typeof m !== "object" || m.format !== PACK_FORMAT) {
    return bad(`manifest.json is not a ${PACK_FORMAT} manifest`);
  }
  const cp = m.checkpoint as Record<string, unknown> | undefined;
  const files = m.files;
  const entries = m.entries;
  if (
    !cp || typeof cp.origin !== "string" || !Number.isSafeInteger(cp.tree_size) ||
    !Array.isArray(files) || !Array.isArray(entries) ||
    !entries.every((i) => Number.isSafeInteger(i) && i >= 0 && i < (cp.tree_size as number)) ||
    !files.every((f) =>
      f && typeof f.path === "string" && typeof f.sha256 === "string" &&
      Number.isSafeInteger(f.bytes)
    )
  ) return bad("manifest.json lacks checkpoint, entries or files in the documented shape");
  if (new Set(entries).size !== entries.length) return bad("manifest.json lists an entry twice");
  return {
    checkpoint: cp as Manifest["checkpoint"],
    entries,
    files,
    privacy_budgets: m.privacy_budgets,
  };
}
