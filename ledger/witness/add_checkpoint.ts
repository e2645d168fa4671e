/**
 * The C2SP `tlog-witness` `add-checkpoint` call (https://c2sp.org/tlog-witness),
 * as pure functions: the request and response codecs and the witness's
 * decision. Storage and HTTP are the caller's: read the stored state for
 * the request's origin, call {@link decideAddCheckpoint}, and on 200 store
 * `newState` with a compare-and-set on what was read (so that two
 * concurrent requests can never roll the witness back), then answer.
 *
 * Request body: `old <size>\n`, up to 63 base64 consistency-proof lines,
 * an empty line, then the signed checkpoint. Status codes, in the order the
 * checks run:
 *
 * | status | when |
 * | --- | --- |
 * | 400 | malformed body or checkpoint; `old` greater than the checkpoint size |
 * | 404 | the checkpoint's origin is not a log this witness knows |
 * | 403 | no signature by a known log key, or a known key's signature fails |
 * | 409 | `old` is not the size the witness last cosigned (body `<size>\n`, `text/x.tlog.size`) |
 * | 422 | size 0 without the empty-tree root; a proof with `old 0`; a proof that does not verify from the witness's stored root; equal sizes with another root |
 * | 200 | cosignature lines for the checkpoint, one per witness key |
 *
 * @module
 */
import {
  bytesEqual,
  concatBytes,
  fromBase64,
  sha256Hex,
  toBase64,
  utf8,
} from "../../core/bytes.ts";
import { RegledgerError } from "../../core/errors.ts";
import { type Checkpoint, parseCheckpointText } from "../checkpoint.ts";
import { EMPTY_TREE_HASH, HASH_SIZE, ProofError, verifyConsistency } from "../merkle/mod.ts";
import {
  NoteError,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  openNote,
} from "../note.ts";

/** Most consistency-proof lines a request may carry (the spec's limit). */
export const MAX_PROOF_LINES = 63;
/** Content type of a 409 body. */
export const TLOG_SIZE_CONTENT_TYPE = "text/x.tlog.size";
/** Content type of a cosignature (200) body and of error bodies. */
export const TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";

/** A parsed `add-checkpoint` request. */
export interface AddCheckpointRequest {
  /** The size of the previous checkpoint the client believes the witness holds. */
  oldSize: number;
  /** Consistency proof from `oldSize` to the checkpoint's size. */
  proof: Uint8Array[];
  /** The signed checkpoint note, exactly as sent. */
  signedCheckpoint: string;
  /** The checkpoint text's fields (signatures not yet checked). */
  checkpoint: Checkpoint;
  /** The note text the signatures cover. */
  text: string;
}

/** A request body could not be parsed: always a 400. */
export class AddCheckpointFormatError extends RegledgerError {}

function decimal(s: string, what: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(s) || Number(s) >= 2 ** 52) {
    throw new AddCheckpointFormatError(`${what} must be a decimal without leading zeros`);
  }
  return Number(s);
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parse an `add-checkpoint` request body.
 *
 * @throws {AddCheckpointFormatError} naming the first rule the body breaks.
 */
export function parseAddCheckpointRequest(body: string | Uint8Array): AddCheckpointRequest {
  let s: string;
  try {
    s = typeof body === "string" ? body : decoder.decode(body);
  } catch (e) {
    throw new AddCheckpointFormatError("body is not UTF-8", { cause: e });
  }
  const nl = s.indexOf("\n");
  if (nl < 0 || !s.startsWith("old ")) {
    throw new AddCheckpointFormatError("body must start with an 'old <size>' line");
  }
  const oldSize = decimal(s.slice(4, nl), "old size");
  const proof: Uint8Array[] = [];
  let pos = nl + 1;
  for (;;) {
    const end = s.indexOf("\n", pos);
    if (end < 0) throw new AddCheckpointFormatError("missing empty line before the checkpoint");
    const line = s.slice(pos, end);
    pos = end + 1;
    if (line === "") break;
    if (proof.length === MAX_PROOF_LINES) {
      throw new AddCheckpointFormatError(`more than ${MAX_PROOF_LINES} consistency proof lines`);
    }
    let h: Uint8Array;
    try {
      h = fromBase64(line);
    } catch (e) {
      throw new AddCheckpointFormatError("proof line is not base64", { cause: e });
    }
    if (h.length !== HASH_SIZE) throw new AddCheckpointFormatError("proof hash is not 32 bytes");
    proof.push(h);
  }
  const signedCheckpoint = s.slice(pos);
  const split = signedCheckpoint.lastIndexOf("\n\n");
  if (split < 0) throw new AddCheckpointFormatError("checkpoint has no signature block");
  const text = signedCheckpoint.slice(0, split + 1);
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpointText(text);
  } catch (e) {
    throw new AddCheckpointFormatError(`malformed checkpoint: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return { oldSize, proof, signedCheckpoint, checkpoint, text };
}

/**
 * The request body for `signedCheckpoint` with a proof from `oldSize`.
 *
 * @throws {RangeError} for a bad size or more than 63 proof hashes.
 */
export function formatAddCheckpointRequest(
  oldSize: number,
  proof: readonly Uint8Array[],
  signedCheckpoint: string,
): string {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0) {
    throw new RangeError(`oldSize must be a non-negative integer, got ${oldSize}`);
  }
  if (proof.length > MAX_PROOF_LINES) {
    throw new RangeError(`proof must have at most ${MAX_PROOF_LINES} hashes`);
  }
  return `old ${oldSize}\n${proof.map((h) => toBase64(h) + "\n").join("")}\n${signedCheckpoint}`;
}

/** What a witness keeps per log: the latest checkpoint it cosigned. */
export interface WitnessLogState {
  /** Tree size of the latest cosigned checkpoint. */
  size: number;
  /** Its root hash. */
  root: Uint8Array;
}

/** A log the witness knows: its origin and the keys it trusts for it. */
export interface WitnessLog {
  /** The log's origin line. */
  origin: string;
  /** The log's verifier keys. */
  verifiers: readonly NoteVerifier[];
}

/** A successful decision: persist `newState` atomically, then answer `body`. */
export interface AddCheckpointAccepted {
  /** HTTP status. */
  status: 200;
  /** Content type of `body`. */
  contentType: string;
  /** The cosignature lines. */
  body: string;
  /** The state to store for `origin` (compare-and-set against what was read). */
  newState: WitnessLogState;
  /** The log's origin. */
  origin: string;
  /** The checkpoint with the verified log signatures and the new cosignatures. */
  cosignedCheckpoint: string;
}

/** A refusal. `reason` is a stable short name for logs and metrics. */
export interface AddCheckpointRefused {
  /** HTTP status. */
  status: 400 | 403 | 404 | 409 | 422;
  /** Content type of `body`. */
  contentType: string;
  /** Response body (for 409: the witness's size and a newline). */
  body: string;
  /** e.g. `malformed`, `unknown-log`, `bad-signature`, `conflict`, `bad-proof`. */
  reason: string;
  /** The origin, when the body got that far. */
  origin?: string;
  /** For 409: the size the witness last cosigned. */
  witnessSize?: number;
}

/** The outcome of {@link decideAddCheckpoint}. */
export type AddCheckpointDecision = AddCheckpointAccepted | AddCheckpointRefused;

function refuse(
  status: AddCheckpointRefused["status"],
  reason: string,
  message: string,
  origin?: string,
): AddCheckpointRefused {
  const r: AddCheckpointRefused = {
    status,
    contentType: TEXT_CONTENT_TYPE,
    body: message + "\n",
    reason,
  };
  if (origin !== undefined) r.origin = origin;
  return r;
}

function sigLines(note: OpenedNote): string {
  return note.sigs.map((s) => `— ${s.name} ${s.base64}\n`).join("");
}

function keyIdBytes(id: number): Uint8Array {
  return new Uint8Array([id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]);
}

/**
 * The note signature lines of `signers` over checkpoint note `text` (what
 * a witness returns on 200).
 */
export async function cosignatureLines(
  text: string,
  signers: readonly NoteSigner[],
): Promise<string> {
  const msg = utf8(text);
  let out = "";
  for (const s of signers) {
    const sig = await s.sign(msg);
    out += `— ${s.name} ${toBase64(concatBytes(keyIdBytes(s.keyId), sig))}\n`;
  }
  return out;
}

/**
 * The witness's decision on one `add-checkpoint` request, given the log it
 * names (`undefined` when unknown), the witness's stored state for that log
 * (`undefined` when it never cosigned one) and the witness's own signers.
 * Pure apart from signing: nothing is stored.
 *
 * @example
 * ```ts
 * import { Ed25519NoteSigner } from "../note.ts";
 * import { signCheckpoint } from "../checkpoint.ts";
 * import { EMPTY_TREE_HASH } from "../merkle/mod.ts";
 * import { Ed25519CosignatureSigner } from "./cosignature.ts";
 * import { decideAddCheckpoint, formatAddCheckpointRequest, parseAddCheckpointRequest } from "./add_checkpoint.ts";
 * const log = await Ed25519NoteSigner.generate("example.com/log");
 * const witness = await Ed25519CosignatureSigner.generate("example.com/witness");
 * const cp = await signCheckpoint({ origin: "example.com/log", size: 0, root: EMPTY_TREE_HASH }, [log]);
 * const req = parseAddCheckpointRequest(formatAddCheckpointRequest(0, [], cp));
 * const d = await decideAddCheckpoint(req, { origin: "example.com/log", verifiers: [log.verifier()] }, undefined, [witness]);
 * if (d.status !== 200 || d.newState.size !== 0) throw new Error("not cosigned");
 * ```
 */
export async function decideAddCheckpoint(
  request: AddCheckpointRequest,
  log: WitnessLog | undefined,
  state: WitnessLogState | undefined,
  cosigners: readonly NoteSigner[],
): Promise<AddCheckpointDecision> {
  const { checkpoint: cp, oldSize, proof } = request;
  const origin = cp.origin;
  if (log === undefined || log.origin !== origin) {
    return refuse(404, "unknown-log", "unknown log origin");
  }
  let note: OpenedNote;
  try {
    note = await openNote(request.signedCheckpoint, log.verifiers);
  } catch (e) {
    if (e instanceof NoteError) {
      if (e.rule === "malformed-note") return refuse(400, "malformed", e.message, origin);
      return refuse(403, "bad-signature", `log signature check failed: ${e.rule}`, origin);
    }
    throw e;
  }
  if (note.text !== request.text) return refuse(400, "malformed", "note text mismatch", origin);
  if (oldSize > cp.size) {
    return refuse(400, "malformed", "old size exceeds the checkpoint size", origin);
  }
  const stored = state ?? { size: 0, root: EMPTY_TREE_HASH };
  if (oldSize !== stored.size) {
    return {
      status: 409,
      contentType: TLOG_SIZE_CONTENT_TYPE,
      body: `${stored.size}\n`,
      reason: "conflict",
      origin,
      witnessSize: stored.size,
    };
  }
  if (cp.size === 0 && !bytesEqual(cp.root, EMPTY_TREE_HASH)) {
    return refuse(422, "bad-proof", "a size-0 checkpoint must have the empty-tree root", origin);
  }
  if (oldSize === 0 && proof.length !== 0) {
    return refuse(422, "bad-proof", "a proof from size 0 must be empty", origin);
  }
  if (oldSize > 0) {
    try {
      verifyConsistency(oldSize, cp.size, proof, stored.root, cp.root);
    } catch (e) {
      if (e instanceof ProofError) {
        return refuse(422, "bad-proof", `consistency proof failed: ${e.message}`, origin);
      }
      throw e;
    }
  }
  const body = await cosignatureLines(note.text, cosigners);
  return {
    status: 200,
    contentType: TEXT_CONTENT_TYPE,
    body,
    newState: { size: cp.size, root: cp.root.slice() },
    origin,
    cosignedCheckpoint: `${note.text}\n${sigLines(note)}${body}`,
  };
}

/**
 * The witness size in a 409 body (`<size>\n`).
 *
 * @throws {AddCheckpointFormatError} for any other body.
 */
export function parseConflictBody(body: string): number {
  if (!body.endsWith("\n")) throw new AddCheckpointFormatError("409 body must end in a newline");
  return decimal(body.slice(0, -1), "witness size");
}

/**
 * A client's reading of a 200 body: the cosignature lines by `witnesses`
 * that verify on `signedCheckpoint` (lines from unknown keys are dropped,
 * as the spec requires).
 *
 * @throws {NoteError} when a known witness's cosignature fails or none verifies;
 *   {AddCheckpointFormatError} when the body is not signature lines.
 */
export async function verifyCosignatureResponse(
  signedCheckpoint: string,
  body: string,
  witnesses: readonly NoteVerifier[],
): Promise<string[]> {
  if (
    body === "" || !body.endsWith("\n") ||
    !body.split("\n").slice(0, -1).every((l) => l.startsWith("— "))
  ) {
    throw new AddCheckpointFormatError("response must be note signature lines");
  }
  const note = await openNote(signedCheckpoint + body, witnesses);
  return note.sigs.map((s) => `— ${s.name} ${s.base64}\n`);
}

/**
 * The `<origin hash>` path segment of the witness's monitoring API
 * (`GET <monitoring prefix>/<origin hash>/checkpoint`): lowercase hex
 * SHA-256 of the origin line.
 */
export function originHash(origin: string): string {
  return sha256Hex(origin);
}

/**
 * `signedCheckpoint` with the signature `lines` appended, each at most once
 * (lines already present are not repeated): how a log adds the
 * cosignatures it collected (from {@link verifyCosignatureResponse}) to the
 * checkpoint it serves.
 *
 * @throws {AddCheckpointFormatError} when a line is not one note signature line.
 */
export function mergeCosignatures(signedCheckpoint: string, lines: readonly string[]): string {
  const present = new Set(
    signedCheckpoint.slice(signedCheckpoint.lastIndexOf("\n\n") + 2).split("\n"),
  );
  let out = signedCheckpoint;
  for (const l of lines) {
    const line = l.endsWith("\n") ? l.slice(0, -1) : l;
    if (!line.startsWith("— ") || line.includes("\n")) {
      throw new AddCheckpointFormatError("not a note signature line");
    }
    if (present.has(line)) continue;
    present.add(line);
    out += line + "\n";
  }
  return out;
}
