/**
 * The `ledger` commands against a running server (`--server URL --token T`):
 * the same operations as a local data directory, over the HTTP API of
 * CONTRACT §5, with the same output.
 *
 * `verify` against a server is a full audit by a client that trusts nothing
 * the server says: it checks the latest checkpoint against the log key (the
 * one given with `--key`, or else the one the server publishes), then
 * downloads every entry, recomputes each envelope's hash from the envelope
 * itself, each leaf hash, the hash chain and the RFC 6962 tree, and compares
 * the root with the signed checkpoint.
 *
 * @module
 */
import { bytesEqual, fromBase64, toBase64, utf8 } from "../core/bytes.ts";
import { parseEnvelopeText } from "../core/envelope.ts";
import { LEGACY_SCHEMA, type ParsedEnvelope } from "../core/envelope_types.ts";
import { canonicalize } from "../core/jcs.ts";
import { type LosslessJsonValue, parseJsonText, toPlainJson } from "../core/json_text.ts";
import { pythonDumps } from "../core/python_json.ts";
import { openCheckpoint } from "../ledger/checkpoint.ts";
import { decodeLeaf, prevFor } from "../ledger/leaf.ts";
import { leafHash, MemoryHashStore, treeHash } from "../ledger/merkle.ts";
import { parseVerifierKey } from "../ledger/note.ts";
import { UsageError } from "./io.ts";
import type { QueryOptions, QueryResult } from "../ledger/index.ts";

/** Tries of one request when the server answers 429 or 503 with `Retry-After`. */
const MAX_ATTEMPTS = 30;

/** An HTTP answer the CLI could not use: a 4xx/5xx, or a network failure. */
export class RemoteLogError extends Error {
  /** HTTP status (0 for a network failure). */
  readonly status: number;
  /** The server's `reason`, when it gave one. */
  readonly reason?: string;
  /** Build the error. */
  constructor(status: number, message: string, reason?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RemoteLogError";
    this.status = status;
    this.reason = reason;
  }
}

/** What `verify` found. */
export interface RemoteVerifyResult {
  /** True when every check passed. */
  ok: boolean;
  /** Tree size of the signed checkpoint that was audited. */
  size: number;
  /** First entry that failed, when one did. */
  first_bad_index?: number;
  /** What failed. */
  reason?: string;
}

/** A client of one regledger server. */
export class RemoteLog {
  readonly #base: URL;
  readonly #token: string | undefined;

  /**
   * @throws {UsageError} when `url` is not an http(s) URL (named as `option`).
   */
  constructor(url: string, token: string | undefined, option = "--server") {
    let base: URL;
    try {
      base = new URL(url.endsWith("/") ? url : url + "/");
    } catch {
      throw new UsageError(`${option} must be a URL, got ${JSON.stringify(url)}`);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new UsageError(`${option} must be an http or https URL, got ${base.protocol}`);
    }
    this.#base = base;
    this.#token = token;
  }

  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#token !== undefined) headers.set("authorization", `Bearer ${this.#token}`);
    let res: Response;
    for (let attempt = 1;; attempt++) {
      try {
        res = await fetch(new URL(path, this.#base), { ...init, headers });
      } catch (e) {
        throw new RemoteLogError(0, `cannot reach ${this.#base.origin}: ${(e as Error).message}`);
      }
      // Rate-limited (a full-log audit makes one request per entry) or briefly
      // unavailable: wait as told and try again, a bounded number of times.
      const retryAfter = Number(res.headers.get("retry-after"));
      if (
        (res.status === 429 || res.status === 503) && attempt < MAX_ATTEMPTS &&
        Number.isFinite(retryAfter) && retryAfter >= 0 && res.headers.has("retry-after")
      ) {
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, Math.min(retryAfter, 30) * 1000 + 50));
        continue;
      }
      break;
    }
    if (res.status >= 400 && res.status !== 422) {
      let message = `${res.status} ${res.statusText}`;
      let reason: string | undefined;
      try {
        const body = await res.json();
        if (typeof body?.error === "string") message = `${res.status}: ${body.error}`;
        if (typeof body?.reason === "string") reason = body.reason;
      } catch { /* not JSON */ }
      throw new RemoteLogError(res.status, message, reason);
    }
    return res;
  }

  /**
   * `POST /v1/envelopes`. Returns the receipt with `existing` (200 = already
   * logged), or the server's typed refusal (422 `{error, reason}`).
   */
  async append(
    envelope: Uint8Array,
  ): Promise<{ ok: true; receipt: Record<string, unknown> } | { ok: false; body: unknown }> {
    const res = await this.#fetch("v1/envelopes", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: envelope as Uint8Array<ArrayBuffer>,
    });
    const body = await res.json();
    if (res.status === 422) return { ok: false, body };
    return { ok: true, receipt: { ...body, existing: res.status === 200 } };
  }

  /** `POST /v1/ckks/evaluate`: the split flow's evaluator (a server run with `REGLEDGER_CKKS=1`). */
  async evaluateCkks(request: unknown): Promise<unknown> {
    const res = await this.#fetch("v1/ckks/evaluate", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
    try {
      return await res.json();
    } catch {
      throw new RemoteLogError(res.status, "the evaluator's answer is not JSON");
    }
  }

  /** `GET /v1/log/entries/{index}` as the server's exact JSON text. */
  async entryText(index: number): Promise<string> {
    return await (await this.#fetch(`v1/log/entries/${index}`)).text();
  }

  /**
   * `GET /v1/log/entries?…`: one page of entry summaries, as `Ledger.query`.
   * TEMP for `ledger list` until the library log client's `query` replaces it.
   */
  async query(opts: QueryOptions & { breached?: boolean } = {}): Promise<QueryResult> {
    const q = new URLSearchParams();
    for (const k of ["issuer", "primitive", "from", "to", "cursor"] as const) {
      if (opts[k] !== undefined) q.set(k, opts[k]);
    }
    if (opts.breached !== undefined) q.set("breached", String(opts.breached));
    if (opts.limit !== undefined) q.set("limit", String(opts.limit));
    return await (await this.#fetch(`v1/log/entries?${q}`)).json();
  }

  /** `GET /v1/log/checkpoint`. */
  async checkpoint(): Promise<string> {
    return await (await this.#fetch("v1/log/checkpoint")).text();
  }

  /** `GET /v1/log/key`. */
  async key(): Promise<string> {
    return (await (await this.#fetch("v1/log/key")).text()).trim();
  }

  /** `GET /v1/log/proof/inclusion`. */
  async proveInclusion(index: number, treeSize?: number): Promise<unknown> {
    const q = treeSize === undefined ? "" : `&tree_size=${treeSize}`;
    return await (await this.#fetch(`v1/log/proof/inclusion?index=${index}${q}`)).json();
  }

  /** `GET /v1/log/proof/consistency`. */
  async proveConsistency(first: number, second: number): Promise<unknown> {
    return await (await this.#fetch(`v1/log/proof/consistency?first=${first}&second=${second}`))
      .json();
  }

  /**
   * Audit the whole log as a client: see the module documentation.
   * `expectedKey` pins the log key; without it the server's published key is used.
   */
  async verify(
    expectedKey: string | undefined,
    onProgress?: (checked: number, total: number) => void,
  ): Promise<RemoteVerifyResult> {
    const vkey = expectedKey ?? await this.key();
    const verifier = parseVerifierKey(vkey);
    let cp;
    try {
      cp = await openCheckpoint(await this.checkpoint(), verifier);
    } catch (e) {
      return { ok: false, size: 0, reason: `checkpoint: ${(e as Error).message}` };
    }
    const size = cp.size;
    const tree = new MemoryHashStore();
    let prevLeaf: Uint8Array | null = null;
    const WINDOW = 16;
    for (let start = 0; start < size; start += WINDOW) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(WINDOW, size - start) },
          (_, k) => this.entryText(start + k),
        ),
      );
      for (let k = 0; k < batch.length; k++) {
        const index = start + k;
        const problem = checkEntry(batch[k], index, prevLeaf);
        if (typeof problem === "string") {
          return { ok: false, size, first_bad_index: index, reason: problem };
        }
        await tree.appendLeafHash(leafHash(problem));
        prevLeaf = problem;
      }
      onProgress?.(Math.min(start + WINDOW, size), size);
    }
    const root = await treeHash(size, tree);
    if (!bytesEqual(root, cp.root)) {
      return {
        ok: false,
        size,
        first_bad_index: size - 1,
        reason: "the entries' tree root differs from the signed checkpoint",
      };
    }
    return { ok: true, size };
  }
}

/** Check one downloaded entry; the leaf bytes when good, else what is wrong. */
function checkEntry(text: string, index: number, prevLeaf: Uint8Array | null): Uint8Array | string {
  let value: LosslessJsonValue;
  try {
    value = parseJsonText(text);
  } catch (e) {
    return `entry is not JSON: ${(e as Error).message}`;
  }
  const obj = value as Record<string, LosslessJsonValue>;
  const plain = toPlainJson(value) as Record<string, unknown>;
  if (plain.index !== index) return `asked for entry ${index}, got ${plain.index}`;
  let leaf: Uint8Array;
  try {
    leaf = fromBase64(String(plain.leaf));
  } catch {
    return "leaf is not base64";
  }
  if (plain.leaf_hash !== toBase64(leafHash(leaf))) return "leaf_hash is not the leaf's hash";
  let fields;
  try {
    fields = decodeLeaf(leaf);
  } catch (e) {
    return `leaf: ${(e as Error).message}`;
  }
  if (fields.index !== index) return `leaf names index ${fields.index}`;
  if (fields.prev !== prevFor(prevLeaf)) return "hash chain broken (prev)";
  let envelope: ParsedEnvelope;
  try {
    envelope = parseEnvelopeText(envelopeCanonicalText(obj));
  } catch (e) {
    return `envelope: ${(e as Error).message}`;
  }
  if (toBase64(envelope.sha256) !== fields.envelope_sha256) {
    return "envelope does not hash to the leaf's envelope_sha256";
  }
  return leaf;
}

/** The envelope's canonical text from a lossless parse of the entry. */
function envelopeCanonicalText(entry: Record<string, LosslessJsonValue>): string | Uint8Array {
  if (typeof entry.envelope_text === "string") return entry.envelope_text;
  const env = entry.envelope;
  if (env === null || typeof env !== "object" || Array.isArray(env)) {
    throw new Error("entry has no envelope object");
  }
  const schema = (env as Record<string, LosslessJsonValue>).schema;
  return schema === LEGACY_SCHEMA ? utf8(pythonDumps(env)) : canonicalize(toPlainJson(env));
}
