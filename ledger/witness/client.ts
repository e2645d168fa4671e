/**
 * The log's side of C2SP `tlog-witness` (https://c2sp.org/tlog-witness), as
 * pure functions: which witnesses a log server talks to (`--witness
 * URL=VKEY`), and what one `add-checkpoint` answer means for it. The HTTP
 * calls, retries and state are the server's (`server/witnessing.ts`); the
 * request body is {@link formatAddCheckpointRequest}'s.
 *
 * How an answer is read ({@link readAddCheckpointResponse}):
 *
 * | status | outcome | what the log does next |
 * | --- | --- | --- |
 * | 200 | `cosigned`: the cosignature lines of every configured key, verified | merge them into the checkpoint |
 * | 409, a size other than the one sent | `conflict`: the size the witness holds | prove consistency from that size and ask again |
 * | 409, the size that was sent | `split-view`: the witness holds another tree of that size | alarm |
 * | 422 | `split-view`: the witness refused the consistency proof from the size it holds | alarm |
 * | 403, 404 | `refused`: the witness does not trust this log's key or origin | configuration error |
 * | 400 | `refused`: the witness found the request malformed | error |
 * | other (5xx, 429, …) | `unavailable` | retry with backoff |
 *
 * @module
 */
import { RegledgerError } from "../../core/errors.ts";
import { NoteError } from "../note.ts";
import {
  AddCheckpointFormatError,
  parseConflictBody,
  TLOG_SIZE_CONTENT_TYPE,
  verifyCosignatureResponse,
} from "./add_checkpoint.ts";
import { ALG_COSIGNATURE_V1 } from "./cosignature.ts";
import { type ParsedVerifierKey, parseNoteVerifierKey } from "./keys.ts";
import { ALG_ML_DSA_44 } from "./mldsa.ts";

/** A `--witness` value or a witness set broke a rule; the message names it. */
export class WitnessConfigError extends RegledgerError {}

/** One witness a log server submits its checkpoints to. */
export interface WitnessEndpoint {
  /** Its submission prefix, without a trailing slash. */
  url: string;
  /** `<url>/add-checkpoint`. */
  addCheckpointUrl: string;
  /** Its cosigning keys: the answer must carry a valid cosignature by each. */
  keys: ParsedVerifierKey[];
  /** A short label (the first key's name) for logs and metrics; unique in a set. */
  name: string;
}

const WITNESS_KEY_TYPES = new Set([ALG_COSIGNATURE_V1, ALG_ML_DSA_44]);

/**
 * Parse one `URL=VKEY` value: split at the first `=` (a verifier key's
 * base64 may contain `=`, a URL prefix needs none). The URL must be an
 * http(s) URL without credentials, query or fragment; the key a witness
 * cosigning key (`cosignature/v1`, type 0x04, or ML-DSA-44, type 0x06).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ed25519CosignatureSigner } from "./cosignature.ts";
 * import { parseWitnessArg } from "./client.ts";
 * const w = await Ed25519CosignatureSigner.generate("witness.example/w1");
 * const parsed = parseWitnessArg(`https://witness.example/w1/=${w.verifierKey()}`);
 * assert.equal(parsed.url, "https://witness.example/w1");
 * assert.equal(parsed.key.vkey, w.verifierKey());
 * assert.throws(() => parseWitnessArg("https://witness.example/w1"), /URL=VKEY/);
 * ```
 *
 * @throws {WitnessConfigError} naming the part that is wrong.
 */
export function parseWitnessArg(arg: string): { url: string; key: ParsedVerifierKey } {
  const eq = arg.indexOf("=");
  if (eq < 0) {
    throw new WitnessConfigError(
      `--witness wants URL=VKEY (the witness's submission prefix, '=', its verifier key), got ${
        JSON.stringify(arg.slice(0, 200))
      }`,
    );
  }
  return { url: witnessUrl(arg.slice(0, eq)), key: witnessKey(arg.slice(eq + 1)) };
}

function witnessUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new WitnessConfigError(
      `--witness URL ${
        JSON.stringify(raw.slice(0, 200))
      } is not a URL (want http(s)://host[:port]/prefix)`,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new WitnessConfigError(`--witness URL must be http or https, got ${u.protocol}`);
  }
  if (u.username !== "" || u.password !== "") {
    throw new WitnessConfigError("--witness URL must not carry credentials");
  }
  if (u.search !== "" || u.hash !== "" || raw.includes("?") || raw.includes("#")) {
    throw new WitnessConfigError("--witness URL must not have a query or fragment");
  }
  return u.href.replace(/\/+$/, "");
}

function witnessKey(raw: string): ParsedVerifierKey {
  let key: ParsedVerifierKey;
  try {
    key = parseNoteVerifierKey(raw);
  } catch (e) {
    throw new WitnessConfigError(
      `--witness VKEY is not a verifier key (want <name>+<8 hex key id>+<base64>): ${
        (e as Error).message
      }`,
      { cause: e },
    );
  }
  if (!WITNESS_KEY_TYPES.has(key.type)) {
    const hint = key.type === 0x01
      ? " (an Ed25519 note key, as a log signs with; a witness cosigns with cosignature/v1, type 0x04)"
      : "";
    throw new WitnessConfigError(
      `--witness VKEY ${key.verifier.name} has signature type 0x${
        key.type.toString(16).padStart(2, "0")
      }${hint}; want 0x04 (cosignature/v1) or 0x06 (ML-DSA-44)`,
    );
  }
  return key;
}

/**
 * The witnesses of a set of `--witness URL=VKEY` values: values with the
 * same URL are one witness with several keys (e.g. its Ed25519 and
 * ML-DSA-44 keys). No key may appear twice, and no two witnesses may share
 * a name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ed25519CosignatureSigner } from "./cosignature.ts";
 * import { witnessEndpoints } from "./client.ts";
 * const a = await Ed25519CosignatureSigner.generate("w.example/a");
 * const b = await Ed25519CosignatureSigner.generate("w.example/b");
 * const ws = witnessEndpoints([
 *   `http://127.0.0.1:7001=${a.verifierKey()}`,
 *   `http://127.0.0.1:7002/=${b.verifierKey()}`,
 * ]);
 * assert.deepEqual(ws.map((w) => w.addCheckpointUrl), [
 *   "http://127.0.0.1:7001/add-checkpoint",
 *   "http://127.0.0.1:7002/add-checkpoint",
 * ]);
 * assert.throws(() => witnessEndpoints([`http://x=${a.verifierKey()}`, `http://y=${a.verifierKey()}`]), /twice/);
 * ```
 *
 * @throws {WitnessConfigError} for a bad value, a repeated key or a repeated name.
 */
export function witnessEndpoints(args: readonly string[]): WitnessEndpoint[] {
  const byUrl = new Map<string, WitnessEndpoint>();
  const keys = new Set<string>();
  for (const arg of args) {
    const { url, key } = parseWitnessArg(arg);
    if (keys.has(key.vkey)) {
      throw new WitnessConfigError(`--witness key ${key.verifier.name} is given twice`);
    }
    keys.add(key.vkey);
    const w = byUrl.get(url);
    if (w) w.keys.push(key);
    else {
      byUrl.set(url, {
        url,
        addCheckpointUrl: `${url}/add-checkpoint`,
        keys: [key],
        name: key.verifier.name,
      });
    }
  }
  const names = new Set<string>();
  for (const w of byUrl.values()) {
    if (names.has(w.name)) {
      throw new WitnessConfigError(
        `two --witness URLs have keys named ${w.name}: each witness needs its own name`,
      );
    }
    names.add(w.name);
  }
  return [...byUrl.values()];
}

/**
 * The quorum `k` of `n` witnesses: `undefined` means all of them.
 *
 * @throws {WitnessConfigError} unless 1 ≤ k ≤ n (and n ≥ 1 when k is given).
 */
export function witnessQuorum(k: number | undefined, n: number): number {
  if (k === undefined) return n;
  if (n === 0) throw new WitnessConfigError("--witness-quorum needs at least one --witness");
  if (!Number.isSafeInteger(k) || k < 1 || k > n) {
    throw new WitnessConfigError(
      `--witness-quorum must be from 1 to ${n} (the witnesses given), got ${k}`,
    );
  }
  return k;
}

/** What one `add-checkpoint` answer means to the log. */
export type AddCheckpointOutcome =
  | {
    /** The witness cosigned. */
    kind: "cosigned";
    /** One verified cosignature line per configured key (`— name base64\n`). */
    lines: string[];
  }
  | {
    /** 409: the witness holds another size; ask again with a proof from it. */
    kind: "conflict";
    /** The size the witness last cosigned. */
    witnessSize: number;
  }
  | {
    /**
     * The witness holds a different tree: 422 (the proof from its size does
     * not reach its root) or 409 naming the very size sent (same size,
     * another root).
     */
    kind: "split-view";
    /** HTTP status. */
    status: number;
    /** What happened, for the operator. */
    message: string;
  }
  | {
    /** The witness will not take this log's checkpoints, or the answer is wrong. */
    kind: "refused";
    /** HTTP status (200 for a 200 whose cosignatures do not verify). */
    status: number;
    /** Stable short name: `unknown-log`, `bad-signature`, `malformed`, `bad-cosignature`. */
    reason: string;
    /** What happened, for the operator. */
    message: string;
  }
  | {
    /** Try again later (5xx, 429, an unexpected status). */
    kind: "unavailable";
    /** HTTP status. */
    status: number;
    /** What happened. */
    message: string;
  };

/** The start of a witness's error body, one line, printable ASCII only (for log lines). */
function snippet(body: string): string {
  const s = body.replace(/[^\x20-\x7e]+/g, " ").trim().slice(0, 160);
  return s === "" ? "" : `: ${s}`;
}

/**
 * Read one `add-checkpoint` answer to the request for `signedCheckpoint`
 * with old size `oldSize`, checking a 200's cosignatures against `keys`
 * (each key's cosignature must be there and verify; lines by other keys
 * are dropped, as the spec says).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readAddCheckpointResponse } from "./client.ts";
 * const r = await readAddCheckpointResponse(
 *   { status: 409, contentType: "text/x.tlog.size", body: "7\n" }, 0, "unused", []);
 * assert.deepEqual(r, { kind: "conflict", witnessSize: 7 });
 * ```
 */
export async function readAddCheckpointResponse(
  response: { status: number; contentType: string | null; body: string },
  oldSize: number,
  signedCheckpoint: string,
  keys: readonly ParsedVerifierKey[],
): Promise<AddCheckpointOutcome> {
  const { status, body } = response;
  switch (status) {
    case 200:
      return await cosigned(signedCheckpoint, body, keys);
    case 409: {
      const type = (response.contentType ?? "").split(";")[0].trim().toLowerCase();
      let size: number;
      try {
        if (type !== TLOG_SIZE_CONTENT_TYPE) throw new AddCheckpointFormatError("content type");
        size = parseConflictBody(body);
      } catch {
        return {
          kind: "refused",
          status,
          reason: "malformed",
          message: `409 without a ${TLOG_SIZE_CONTENT_TYPE} size body${snippet(body)}`,
        };
      }
      if (size === oldSize) {
        return {
          kind: "split-view",
          status,
          message:
            `the witness holds size ${size}, the size sent, with another root hash: it saw a different tree`,
        };
      }
      return { kind: "conflict", witnessSize: size };
    }
    case 422:
      return {
        kind: "split-view",
        status,
        message:
          `the witness refused the consistency proof from size ${oldSize}, the size it holds: ` +
          `its tree of that size is not a prefix of this log's${snippet(body)}`,
      };
    case 404:
      return {
        kind: "refused",
        status,
        reason: "unknown-log",
        message: `the witness does not know this log's origin${snippet(body)}`,
      };
    case 403:
      return {
        kind: "refused",
        status,
        reason: "bad-signature",
        message:
          `the witness does not accept this log's signature (is the log key configured there?)${
            snippet(body)
          }`,
      };
    case 400:
      return {
        kind: "refused",
        status,
        reason: "malformed",
        message: `the witness found the request malformed${snippet(body)}`,
      };
    default:
      return { kind: "unavailable", status, message: `HTTP ${status}${snippet(body)}` };
  }
}

async function cosigned(
  signedCheckpoint: string,
  body: string,
  keys: readonly ParsedVerifierKey[],
): Promise<AddCheckpointOutcome> {
  const lines: string[] = [];
  for (const k of keys) {
    try {
      lines.push(...await verifyCosignatureResponse(signedCheckpoint, body, [k.verifier]));
    } catch (e) {
      if (!(e instanceof NoteError) && !(e instanceof AddCheckpointFormatError)) throw e;
      const why = e instanceof NoteError && e.rule === "unverified-note"
        ? `carries no cosignature by ${k.vkey}`
        : e instanceof NoteError && e.rule === "invalid-signature"
        ? `carries a cosignature by ${k.verifier.name} that does not verify`
        : `is not note signature lines (${e.message})`;
      return {
        kind: "refused",
        status: 200,
        reason: "bad-cosignature",
        message: `the 200 answer ${why}`,
      };
    }
  }
  return { kind: "cosigned", lines };
}
