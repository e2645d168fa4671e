/**
 * The server's dependencies implemented over `core/` and `ledger/`: the
 * trust store (reloadable, always including the server's own issuer key),
 * envelope parsing and verification, the bundled schemas, and audits run
 * and signed on the server.
 *
 * @module
 */
import { parseEnvelopeText, parseEnvelopeValue } from "../core/envelope.ts";
import { type ParsedEnvelope, type PrimitiveName, PRIMITIVES } from "../core/envelope_types.ts";
import type { KeyProvider } from "../core/keys.ts";
import { type AuditBackend, runAudit, runAuditWith, signAuditRun } from "../core/audit/index.ts";
import { validate } from "../core/validate.ts";
import { VerifyPool } from "./verify_pool.ts";
import { twinBundleTiles } from "./routes/tiles_twins.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { MAX_ENVELOPE_BYTES } from "../ledger/kv_codec.ts";
import { TrustStoreError } from "../core/errors.ts";
import { TrustStore, type TrustStoreJson } from "../core/trust_store.ts";
import { verifyEnvelope } from "../core/verify.ts";
import { hybridOptions } from "./verify_options.ts";
import { getSchema, isSchemaName, listSchemas } from "../core/schemas.ts";
import { proveInclusions } from "./witnessing_proofs.ts";
import type {
  AuditService,
  EnvelopeService,
  LogService,
  SchemaService,
  TrustStoreSummary,
  VerifiedEnvelope,
} from "./deps.ts";

/** The server's own issuer key as it enters the trust store. */
export interface OwnIssuerKey {
  /** Its key id. */
  keyId: string;
  /** Its SPKI PEM. */
  publicKeyPem: string;
}

/**
 * Build the trust store in force: the file's keys, revocations and pins plus
 * the server's own issuer key.
 *
 * @param fileText the trust-store file's bytes, or `undefined` for none.
 * @throws {TrustStoreError} when the file is malformed or registers the
 *   server's key id with another key.
 */
export function mergedTrustStore(fileText: Uint8Array | undefined, own: OwnIssuerKey): TrustStore {
  const base = fileText === undefined ? undefined : TrustStore.fromJsonText(fileText).toJSON();
  const keys = { ...(base?.keys ?? {}) };
  const mine = TrustStore.fromObject({ [own.keyId]: own.publicKeyPem });
  const existing = keys[own.keyId];
  if (existing !== undefined && existing !== mine.toJSON().keys[own.keyId]) {
    throw new TrustStoreError(
      `key id ${
        JSON.stringify(own.keyId)
      } of the server's issuer key is in the trust store with another key`,
    );
  }
  keys[own.keyId] = own.publicKeyPem;
  return TrustStore.fromObject({
    keys,
    revoked: base?.revoked ?? [],
    parameter_set_pins: base?.parameter_set_pins ?? {},
  });
}

/** Options of {@linkcode TrustedEnvelopes}. */
export interface TrustedEnvelopesOptions {
  /** Trust-store file, re-read on reload; `undefined` trusts only the server's key. */
  trustedKeysPath?: string;
  /** The server's issuer key, always trusted unless the file revokes it. */
  own: OwnIssuerKey;
  /** Largest envelope text accepted, in bytes. @default {1048576} */
  maxBytes?: number;
  /** Worker threads verifying envelopes; 0 verifies on the calling thread. @default {0} */
  verifyWorkers?: number;
  /**
   * Another file reloaded together with the trust store (the privacy
   * budgets): reads and checks it, resolving to what puts it in force and
   * returns its count. Both are checked before either is swapped in.
   */
  alsoReload?: () => Promise<() => number>;
}

/** {@linkcode EnvelopeService} over `core/` verification with a reloadable trust store. */
export class TrustedEnvelopes implements EnvelopeService {
  readonly #opts: TrustedEnvelopesOptions;
  #store: TrustStore;
  #pool: VerifyPool | undefined;

  private constructor(opts: TrustedEnvelopesOptions, store: TrustStore, pool?: VerifyPool) {
    this.#opts = opts;
    this.#store = store;
    this.#pool = pool;
  }

  /**
   * Load the trust store and build the service.
   * @throws {TrustStoreError} when the file is malformed; `Deno.errors.*` when unreadable.
   */
  static async open(opts: TrustedEnvelopesOptions): Promise<TrustedEnvelopes> {
    const store = await TrustedEnvelopes.#load(opts);
    const n = opts.verifyWorkers ?? 0;
    let pool: VerifyPool | undefined;
    let poolError: string | undefined;
    if (n > 0) {
      try {
        pool = await VerifyPool.create(n, store.toJSON());
      } catch (e) {
        // Workers are an optimisation: without them, verify on this thread.
        poolError = e instanceof Error ? e.message : String(e);
      }
    }
    const t = new TrustedEnvelopes(opts, store, pool);
    t.workerError = poolError;
    return t;
  }

  /** Why the requested verification workers could not start, if they could not. */
  workerError: string | undefined;

  static async #load(opts: TrustedEnvelopesOptions): Promise<TrustStore> {
    const path = opts.trustedKeysPath;
    const bytes = path === undefined ? undefined : await Deno.readFile(path);
    try {
      return mergedTrustStore(bytes, opts.own);
    } catch (e) {
      if (e instanceof TrustStoreError && path !== undefined) {
        throw new TrustStoreError(`${path}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  /** The trust store in force. */
  get trustStore(): TrustStore {
    return this.#store;
  }

  parse(text: string): ParsedEnvelope {
    return parseEnvelopeText(text, { maxBytes: this.#opts.maxBytes ?? 1024 * 1024 });
  }

  /** Worker threads in use (0: verification runs on the calling thread). */
  get workers(): number {
    return this.#pool?.size ?? 0;
  }

  async verify(parsed: ParsedEnvelope): Promise<VerifiedEnvelope> {
    // Off the main thread while a worker runs; on it otherwise (never fails open).
    if (this.#pool && this.#pool.size > 0) return await this.#pool.verify(parsed);
    const r = await verifyEnvelope(parsed, this.#store, await hybridOptions(parsed));
    return { kind: r.kind, key_id: r.key_id, timestamp: r.timestamp };
  }

  async reloadTrustStore(): Promise<TrustStoreSummary> {
    // Swap only after the new store is fully built: a bad file changes nothing.
    const next = await TrustedEnvelopes.#load(this.#opts);
    const also = await this.#opts.alsoReload?.();
    if (this.#pool && this.#pool.size > 0) await this.#pool.setTrustStore(next.toJSON());
    this.#store = next;
    const summary = this.trustStoreSummary();
    return also ? { ...summary, privacy_budgets: also() } : summary;
  }

  /** Stop the verification workers. */
  close(): void {
    this.#pool?.close();
  }

  trustStoreJson(): TrustStoreJson {
    return this.#store.toJSON();
  }

  trustStoreSummary(): TrustStoreSummary {
    const j = this.#store.toJSON();
    return { keys: Object.keys(j.keys).length, revoked: j.revoked?.length ?? 0 };
  }
}

/** {@linkcode SchemaService} over the bundled schemas of `core/schemas.ts`. */
export function bundledSchemas(): SchemaService {
  return {
    list: () => listSchemas().map((s) => s.name),
    get: (name) =>
      isSchemaName(name) ? getSchema(name) as unknown as Record<string, unknown> : undefined,
  };
}

/**
 * {@linkcode LogService} over a real `Ledger`, adding envelope lookup by
 * hash through the store's dedup index (for `POST /v1/verify`). Group-commit
 * metrics come from the ledger itself: open it with
 * `onCommit: (i) => metrics.recordCommit(i)`.
 */
export function ledgerLog(ledger: Ledger): LogService {
  return {
    verifierKey: ledger.verifierKey,
    verifierKeys: ledger.verifierKeys,
    append: (p) => ledger.append(p),
    size: () => ledger.size(),
    get: (i) => ledger.get(i),
    checkpoint: () => ledger.checkpoint(),
    proveInclusion: (i, t) => ledger.proveInclusion(i, t),
    proveInclusions: (ix, t) => proveInclusions(t, ix, ledger.store),
    proveConsistency: (a, b) => ledger.proveConsistency(a, b),
    query: (q) => ledger.query(q),
    // Entry and envelope bundle N from one read of their entries (routes/tiles_twins.ts).
    tile: twinBundleTiles(ledger),
    findByEnvelopeHash: async (sha) => (await ledger.store.findEnvelopes([sha]))[0] ?? undefined,
    findBySignedBody: async (sha) => (await ledger.store.findBodies([sha]))[0] ?? undefined,
    privacyBudget: (issuer, dataset) => ledger.privacyBudget(issuer, dataset),
    close: () => ledger.close(),
  };
}

/**
 * The CKKS backend of `core/fhe` as an audit backend, in this thread (loaded
 * on first use). The runner uses `CkksRunner` (server/ckks_runner.ts)
 * instead, which runs the same work in a worker.
 */
export { ckksAuditBackend } from "../core/audit/index.ts";

/**
 * {@linkcode AuditService} over `core/primitives`' `runAudit` (plaintext:
 * exact statistic checked against its circuit) and, when given, an encrypted
 * backend through `runAuditWith` (`?backend=ckks`). Inputs are checked
 * against the bundled JSON Schema first (pointer and rule), then by the
 * primitive's semantic rules; the envelope commits to the validated input
 * and is signed with the server's issuer key.
 */
export class ServerAudits implements AuditService {
  /** All six primitives. */
  readonly primitives: readonly PrimitiveName[] = PRIMITIVES;
  /** `plaintext`, and `ckks` when an encrypted backend was given. */
  readonly backends: readonly string[];
  readonly #signer: KeyProvider;
  readonly #issuer: string;
  readonly #ckks: AuditBackend | undefined;

  /** Sign with `signer`, naming `issuer` in every envelope; `ckks` enables `?backend=ckks`. */
  constructor(signer: KeyProvider, issuer: string, options: { ckks?: AuditBackend } = {}) {
    this.#signer = signer;
    this.#issuer = issuer;
    this.#ckks = options.ckks;
    this.backends = options.ckks ? ["plaintext", "ckks"] : ["plaintext"];
  }

  async run(primitive: PrimitiveName, input: unknown, backend: string): Promise<ParsedEnvelope> {
    if (!this.backends.includes(backend)) throw new RangeError(`backend ${backend} not available`);
    validate(`${primitive}.input`, input);
    // Inputs whose result cannot fit the ledger's envelope limit are refused before computing.
    const maxResultBytes = MAX_ENVELOPE_BYTES;
    const r = backend === "ckks"
      ? await runAuditWith(primitive, input, this.#ckks!, { maxResultBytes })
      : runAudit(primitive, input, { maxResultBytes });
    const env = await signAuditRun(r, this.#signer, { issuer: this.#issuer });
    return parseEnvelopeValue(env);
  }
}
