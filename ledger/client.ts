/**
 * A client of one regledger server's log (its HTTP API, docs/architecture.md;
 * formats in docs/formats.md): the same reads as a local `Ledger` — entries,
 * checkpoint, proofs, {@link LogClient.query} — and appends, so a caller
 * (the CLI's `--server`, a regulator's script) uses a remote log as it uses
 * a local one.
 *
 * {@link LogClient.verify} is a full audit by a client that trusts nothing
 * the server says, read through the log's C2SP tiles (`ledger/remote_audit.ts`):
 * it checks the latest checkpoint against the log key (the one given, or
 * else the one the server publishes), authenticates the level-0 hash tiles
 * up to the signed root, and runs the one entry checker
 * (`ledger/entry_check.ts`) on every entry of the entry and envelope
 * bundles — envelope hash recomputed from the envelope itself, canonical
 * leaf, index, hash chain — and each leaf against its tile hash.
 *
 * @module
 */
import { parseVerifierKey } from "./note.ts";
import { auditThroughTiles } from "./remote_audit.ts";
import type { EntrySummary, QueryOptions, QueryResult } from "./wire.ts";

/** Tries of one request when the server answers 429 or 503 with `Retry-After`. */
const MAX_ATTEMPTS = 30;

/**
 * An HTTP answer the client could not use: a 4xx/5xx, or a network failure.
 *
 * @example A refusal carries the status and the server's reason; a dead server is status 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { LogClient, LogClientError } from "./client.ts";
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *   Response.json({ error: "no such entry", reason: "NotFound" }, { status: 404 }));
 * const log = new LogClient(`http://127.0.0.1:${server.addr.port}`);
 * await assert.rejects(
 *   log.entryText(7),
 *   (e) => e instanceof LogClientError && e.status === 404 && e.reason === "NotFound",
 * );
 * await server.shutdown();
 * await assert.rejects(
 *   log.checkpoint(),
 *   (e) => e instanceof LogClientError && e.status === 0,
 * );
 * ```
 */
export class LogClientError extends Error {
  /** HTTP status (0 for a network failure). */
  readonly status: number;
  /** The server's `reason`, when it gave one. */
  readonly reason?: string;
  /** Build the error. */
  constructor(status: number, message: string, reason?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LogClientError";
    this.status = status;
    this.reason = reason;
  }
}

/**
 * What `verify` found.
 *
 * @example Audit a log served over HTTP, pinning its key
 * ```ts
 * import assert from "node:assert/strict";
 * import { runAudit, signAuditRun } from "../core/audit/index.ts";
 * import { parseEnvelopeValue } from "../core/envelope.ts";
 * import { InProcessKeyProvider } from "../core/keys.ts";
 * import { LogClient, type RemoteVerifyResult } from "./client.ts";
 * import { openLedger } from "./ledger.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { Ed25519NoteSigner } from "./note.ts";
 * import { parseTilePath } from "./tiles/path.ts";
 * const logKey = await Ed25519NoteSigner.generate("example.org/log");
 * const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: "example.org/log" });
 * const key = await InProcessKeyProvider.generate("acme-1");
 * const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] });
 * await ledger.append(parseEnvelopeValue(await signAuditRun(run, key, { issuer: "acme" })));
 * // What an audit reads: the checkpoint and the C2SP tiles (a regledger server serves these and more).
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
 *   const path = new URL(req.url).pathname.slice(1);
 *   if (path === "checkpoint") return new Response(await ledger.checkpoint());
 *   const tile = await ledger.tile(parseTilePath(path));
 *   return tile ? new Response(tile.slice()) : new Response("not found", { status: 404 });
 * });
 * const log = new LogClient(`http://127.0.0.1:${server.addr.port}`);
 * const result: RemoteVerifyResult = await log.verify(ledger.verifierKey);
 * assert.deepEqual(result, { ok: true, size: 1 });
 * const otherKey = (await Ed25519NoteSigner.generate("example.org/log")).verifierKey();
 * const wrong = await log.verify(otherKey); // a checkpoint not signed by the pinned key
 * assert.equal(wrong.ok, false);
 * assert.match(wrong.reason ?? "", /^checkpoint/);
 * await server.shutdown();
 * await ledger.close();
 * ```
 */
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

/**
 * Options of {@link LogClient}.
 *
 * @example The token goes out as a bearer header; `name` labels URL errors
 * ```ts
 * import assert from "node:assert/strict";
 * import { LogClient, type LogClientOptions } from "./client.ts";
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) =>
 *   new Response(req.headers.get("authorization") === "Bearer s3cret" ? "key\n" : "", {
 *     status: req.headers.has("authorization") ? 200 : 401,
 *   }));
 * const options: LogClientOptions = { token: "s3cret", name: "--server" };
 * assert.equal(await new LogClient(`http://127.0.0.1:${server.addr.port}`, options).key(), "key");
 * await server.shutdown();
 * assert.throws(() => new LogClient("not a url", options), /--server must be a URL/);
 * ```
 */
export interface LogClientOptions {
  /** Bearer token sent with every request. */
  token?: string;
  /**
   * What the URL is called in error messages (the CLI passes its option name).
   * @default {"url"}
   */
  name?: string;
}

/**
 * A client of one regledger server's log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LogClient } from "./client.ts";
 * const log = new LogClient("http://127.0.0.1:8080", { token: "t" });
 * assert.ok(log instanceof LogClient);
 * assert.throws(() => new LogClient("ftp://example"), RangeError);
 * ```
 */
export class LogClient {
  readonly #base: URL;
  readonly #token: string | undefined;

  /**
   * A client of the server at `url` (its prefix: `URL/v1/...`).
   * @throws {RangeError} when `url` is not an http(s) URL (named as `options.name`).
   */
  constructor(url: string, options: LogClientOptions = {}) {
    const name = options.name ?? "url";
    let base: URL;
    try {
      base = new URL(url.endsWith("/") ? url : url + "/");
    } catch {
      throw new RangeError(`${name} must be a URL, got ${JSON.stringify(url)}`);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new RangeError(`${name} must be an http or https URL, got ${base.protocol}`);
    }
    const token = options.token;
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
        throw new LogClientError(0, `cannot reach ${this.#base.origin}: ${(e as Error).message}`);
      }
      // Rate-limited (many requests in a row, e.g. a full-log audit) or briefly
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
      throw new LogClientError(res.status, message, reason);
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
      throw new LogClientError(res.status, "the evaluator's answer is not JSON");
    }
  }

  /** `GET /v1/log/entries/{index}` as the server's exact JSON text. */
  async entryText(index: number): Promise<string> {
    return await (await this.#fetch(`v1/log/entries/${index}`)).text();
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
   * `GET /v1/log/entries?issuer=&primitive=&from=&to=&breached=&key_id=&regulation=&cursor=&limit=`:
   * the same page `Ledger.query` returns for the same options.
   * @throws {LogClientError} when the server refuses the query (a bad bound or cursor: 400).
   */
  async query(opts: QueryOptions = {}): Promise<QueryResult> {
    const q = new URLSearchParams();
    for (
      const k of ["issuer", "primitive", "from", "to", "key_id", "regulation", "cursor"] as const
    ) {
      const v = opts[k];
      if (v !== undefined && v !== null) q.set(k, v);
    }
    if (opts.breached !== undefined) q.set("breached", String(opts.breached));
    if (opts.limit !== undefined) q.set("limit", String(opts.limit));
    const qs = q.toString();
    const res = await this.#fetch(`v1/log/entries${qs ? `?${qs}` : ""}`);
    let body: { entries?: unknown; next_cursor?: unknown };
    try {
      body = await res.json();
    } catch {
      throw new LogClientError(res.status, "the query answer is not JSON");
    }
    if (
      !Array.isArray(body?.entries) ||
      !(body.next_cursor === null || typeof body.next_cursor === "string")
    ) {
      throw new LogClientError(res.status, "the query answer is not {entries, next_cursor}");
    }
    return { entries: body.entries as EntrySummary[], next_cursor: body.next_cursor };
  }

  /** `GET /checkpoint` (C2SP tlog-tiles location; the same text as `/v1/log/checkpoint`). */
  async tileCheckpoint(): Promise<string> {
    return await (await this.#fetch("checkpoint")).text();
  }

  /**
   * `GET /<path>` for a C2SP tile or bundle path (`tile/0/000`,
   * `tile/entries/001.p/5`): the bytes as served (not authenticated: see
   * `TileHashReader`).
   * @throws {LogClientError} for a bad path (400), a tile beyond the tree (404).
   */
  async tile(path: string): Promise<Uint8Array> {
    if (!path.startsWith("tile/")) throw new RangeError(`not a tile path: ${path.slice(0, 64)}`);
    return new Uint8Array(await (await this.#fetch(path)).arrayBuffer());
  }

  /**
   * Audit the whole log as a client, through its tiles only
   * (`ledger/remote_audit.ts`): no request per entry. `expectedKey` pins
   * the log key; without it the server's published key is used.
   */
  async verify(
    expectedKey: string | undefined,
    onProgress?: (checked: number, total: number) => void,
  ): Promise<RemoteVerifyResult> {
    const vkey = expectedKey ?? await this.key();
    return await auditThroughTiles({
      checkpoint: await this.tileCheckpoint(),
      verifier: parseVerifierKey(vkey),
      fetchTile: (path) => this.tile(path),
      onProgress,
    });
  }
}
