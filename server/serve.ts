/**
 * Run the regledger server with `Deno.serve`: open (or create) the data
 * directory's keys and ledger, build the app, listen, reload the trust store
 * on SIGHUP, and shut down gracefully on SIGTERM/SIGINT (stop accepting,
 * finish in-flight requests and appends, close KV).
 *
 * @module
 */
import { toBase64 } from "../core/bytes.ts";
import { type Ledger, openLedger } from "../ledger/ledger.ts";
import { DEFAULT_ORIGIN } from "../ledger/log_key.ts";
import {
  createLiboqsMlDsa44Engine,
  type LiboqsMlDsa44Engine,
} from "../ledger/witness/mldsa_liboqs.ts";
import { createApp, type RegledgerApp } from "./app.ts";
import type { ApiKey, ServerConfig } from "./config.ts";
import { ConfigError, isLoopbackHost } from "./config.ts";
import type { AuditService, LogService, ServerDeps } from "./deps.ts";
import { loadOrCreateIssuerKey } from "./keys.ts";
import { openStoreUrl } from "../ledger/store_url.ts";
import { redactUrl } from "../ledger/pg/connection.ts";
import { ServerMetrics } from "./metrics.ts";
import { defaultVerifyWorkers } from "./verify_pool.ts";
import { CkksRunner } from "./ckks_runner.ts";
import { bundledSchemas, ledgerLog, ServerAudits, TrustedEnvelopes } from "./services.ts";

/** File holding the bootstrap admin token when no API keys are configured. */
export const ADMIN_TOKEN_FILE = "admin-token";

/** Options of {@linkcode startServer}. */
export interface StartOptions {
  /** Interface to bind. @default {"127.0.0.1"} */
  host?: string;
  /** Port (0 picks a free one). @default {8080} */
  port?: number;
  /** Data directory: `ledger.kv`, `log-key`, `issuer-key.pem`. */
  dataDir: string;
  /**
   * Keep the log in this database instead of `DIR/ledger.kv`: a
   * `postgres://` URL (`ledger/store_url.ts`); keys and the signed-head
   * record stay in `dataDir`.
   */
  store?: string;
  /** Trust-store file (re-read on SIGHUP and by the admin route). */
  trustedKeys?: string;
  /** Log origin. @default {"regledger.local/log"} */
  origin?: string;
  /**
   * Accept a ledger.kv that contradicts the signed-head record (a new log
   * under the existing log key; see `OpenLedgerOptions.newLogUnderExistingKey`).
   * @default {false}
   */
  newLogUnderExistingKey?: boolean;
  /** Server configuration (auth, limits, logs). */
  config: ServerConfig;
  /** Install SIGTERM/SIGINT/SIGHUP handlers. @default {true} */
  signals?: boolean;
  /** Human-readable status lines (never secrets). @default {console.error} */
  status?: (line: string) => void;
}

/** A running server. */
export interface RunningServer {
  /** Where it listens. */
  addr: Deno.NetAddr;
  /** The log's verifier key (Go note format). */
  verifierKey: string;
  /** The app (for in-process requests). */
  app: RegledgerApp;
  /** The log behind it. */
  log: LogService;
  /** Re-read the trust store (what SIGHUP does). */
  reloadTrustStore(): Promise<void>;
  /** Stop accepting, finish in-flight requests and appends, close KV. Idempotent. */
  shutdown(): Promise<void>;
  /** Resolves when the server has shut down. */
  finished: Promise<void>;
}

/**
 * Load `dir/admin-token`, or create it (mode 0600) with a random token, so
 * that a fresh server is usable without configuration and without printing a
 * secret: the operator reads the file.
 */
export async function loadOrCreateAdminToken(dir: string): Promise<ApiKey> {
  const path = `${dir}/${ADMIN_TOKEN_FILE}`;
  let token: string;
  try {
    token = (await Deno.readTextFile(path)).trim();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    token = toBase64(crypto.getRandomValues(new Uint8Array(32)))
      .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    try {
      await Deno.writeTextFile(path, token + "\n", { mode: 0o600, createNew: true });
    } catch (e2) {
      if (!(e2 instanceof Deno.errors.AlreadyExists)) throw e2;
      token = (await Deno.readTextFile(path)).trim();
    }
  }
  const st = await Deno.stat(path);
  if (st.mode !== null && (st.mode & 0o077) !== 0) {
    throw new ConfigError(`${path} is readable by group or others; run chmod 600 on it`);
  }
  if (!/^[A-Za-z0-9._~+/-]{16,}=*$/.test(token)) {
    throw new ConfigError(`${path} does not hold a token (16+ token68 characters)`);
  }
  return { token, scopes: new Set(["admin"]) };
}

/**
 * Open the data directory and serve.
 *
 * @throws {ConfigError} when dev mode is asked to bind a non-loopback host.
 * @throws {TrustStoreError} when the trust-store file is malformed.
 */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 8080;
  const status = opts.status ?? ((l: string) => console.error(l));
  const origin = opts.origin ?? DEFAULT_ORIGIN;
  let config = opts.config;
  if (config.devMode && !isLoopbackHost(host)) {
    throw new ConfigError(
      `REGLEDGER_DEV_MODE=1 disables authentication: refusing to bind ${host} (use 127.0.0.1)`,
    );
  }
  await Deno.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  if (!config.devMode && config.apiKeys.length === 0) {
    const admin = await loadOrCreateAdminToken(opts.dataDir);
    config = { ...config, apiKeys: [admin] };
    status(
      `regledger: no REGLEDGER_API_KEYS; the admin bearer token is in ${opts.dataDir}/${ADMIN_TOKEN_FILE}`,
    );
  }
  const issuer = await loadOrCreateIssuerKey(opts.dataDir);
  if (issuer.created) status(`regledger: created issuer key ${issuer.provider.keyId}`);
  const envelopes = await TrustedEnvelopes.open({
    trustedKeysPath: opts.trustedKeys,
    own: { keyId: issuer.provider.keyId, publicKeyPem: issuer.provider.publicKeyPem },
    maxBytes: config.bodyLimit,
    verifyWorkers: config.verifyWorkers === "auto" ? defaultVerifyWorkers() : config.verifyWorkers,
  });
  const metrics = new ServerMetrics();
  // Each checkpoint gets an ML-DSA-44 signature: liboqs (WebAssembly) signs
  // one in ~1 ms where the pure-JavaScript default takes ~8 ms, which a
  // server that commits one checkpoint per small batch would feel.
  const pqEngine: LiboqsMlDsa44Engine | undefined = await createLiboqsMlDsa44Engine().catch(
    (e) => {
      status(`regledger: liboqs unavailable (${(e as Error).message}); ML-DSA-44 in JavaScript`);
      return undefined;
    },
  );
  let ledger: Ledger;
  try {
    const store = opts.store === undefined
      ? undefined
      : await openStoreUrl(opts.store, { write: true });
    if (store) status(`regledger: the log is in ${redactUrl(opts.store!)}`);
    ledger = await openLedger({
      dataDir: opts.dataDir,
      ...(store ? { store } : {}),
      origin,
      newLogUnderExistingKey: opts.newLogUnderExistingKey === true,
      onCommit: (info) => metrics.recordCommit(info),
      ...(pqEngine ? { mlDsaEngine: pqEngine } : {}),
    });
  } catch (e) {
    envelopes.close();
    pqEngine?.destroy();
    throw e;
  }
  try {
    // Never listen (and so never say ready) on a store that fails its start-up checks.
    await ledger.checkStartup();
  } catch (e) {
    await ledger.close();
    envelopes.close();
    throw e;
  }
  const log: LogService = ledgerLog(ledger);
  // CKKS is seconds of synchronous WebAssembly: it runs in a worker, one job at a time.
  const ckks = config.ckks ? new CkksRunner() : null;
  const audits: AuditService = new ServerAudits(
    issuer.provider,
    origin,
    ckks ? { ckks: ckks.auditBackend() } : {},
  );
  const deps: ServerDeps = {
    log,
    envelopes,
    audits,
    schemas: bundledSchemas(),
    origin,
    ...(ckks ? { ckksEvaluate: (r: unknown) => ckks.evaluate(r) } : {}),
  };
  let draining = false;
  const app = createApp(deps, config, {
    metrics,
    notReady: () => (draining ? "shutting down" : null),
  });

  const listening = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: host,
      port,
      onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
    }, app.fetch);
  } catch (e) {
    // Could not bind (address in use, permission): release what was opened.
    await ledger.close();
    pqEngine?.destroy();
    envelopes.close();
    ckks?.close();
    throw e;
  }
  const addr = await listening.promise;
  status(`regledger: log ${origin}, verifier key ${ledger.verifierKey}`);
  status(
    envelopes.workerError === undefined
      ? `regledger: ${envelopes.workers} verification worker(s)`
      : `regledger: 0 verification worker(s): ${envelopes.workerError}; verifying on the main thread`,
  );
  status(`regledger: listening on http://${fmtHost(addr.hostname)}:${addr.port}/`);

  const reloadTrustStore = async () => {
    try {
      const s = await envelopes.reloadTrustStore();
      status(`regledger: trust store reloaded (${s.keys} keys, ${s.revoked} revoked)`);
    } catch (e) {
      status(
        `regledger: trust store NOT reloaded, previous one stays in force: ${(e as Error).message}`,
      );
    }
  };
  const signals: [Deno.Signal, () => void][] = [];
  let stopping: Promise<void> | null = null;
  const shutdown = () => {
    stopping ??= (async () => {
      draining = true;
      for (const [sig, h] of signals) {
        try {
          Deno.removeSignalListener(sig, h);
        } catch { /* already gone */ }
      }
      await server.shutdown(); // stops accepting; waits for in-flight requests
      await ledger.close(); // waits for queued appends; closes KV
      pqEngine?.destroy(); // nothing signs any more
      envelopes.close(); // stops the verification workers
      ckks?.close(); // stops the CKKS worker
      status("regledger: stopped");
    })();
    return stopping;
  };
  if (opts.signals ?? true) {
    const on = (sig: Deno.Signal, h: () => void) => {
      try {
        Deno.addSignalListener(sig, h);
        signals.push([sig, h]);
      } catch { /* signal not supported on this platform (SIGHUP on Windows) */ }
    };
    const stop = () => {
      status("regledger: shutting down (finishing in-flight requests)");
      void shutdown();
    };
    on("SIGTERM", stop);
    on("SIGINT", stop);
    on("SIGHUP", () => void reloadTrustStore());
  }
  return {
    addr,
    verifierKey: ledger.verifierKey,
    app,
    log,
    reloadTrustStore,
    shutdown,
    finished: server.finished.then(() => stopping ?? undefined),
  };
}

function fmtHost(h: string): string {
  return h.includes(":") ? `[${h}]` : h;
}
