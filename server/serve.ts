/**
 * Run the regledger server with `Deno.serve`: open (or create) the data
 * directory's keys and ledger, build the app, listen, reload the trust store
 * on SIGHUP, and shut down gracefully on SIGTERM/SIGINT, or once the parent
 * process is gone when asked to (`exitWithParent`): stop accepting, finish
 * in-flight requests and appends, close KV.
 *
 * @module
 */
import { toBase64 } from "../core/bytes.ts";
import { privateFileProblem } from "../core/private_file.ts";
import { type Ledger, openLedger } from "../ledger/ledger.ts";
import { DEFAULT_ORIGIN } from "../ledger/log_key.ts";
import { readMirrorRecord } from "../ledger/mirror.ts";
import {
  createLiboqsMlDsa44Engine,
  type LiboqsMlDsa44Engine,
} from "../ledger/witness/mldsa_liboqs.ts";
import { createApp, type RegledgerApp } from "./app.ts";
import type { ApiKey, ServerConfig } from "./config.ts";
import { ConfigError, isLoopbackHost } from "./config.ts";
import type { AuditService, LogService, ServerDeps } from "./deps.ts";
import { ephemeralIssuerKey, loadOrCreateIssuerKey } from "./keys.ts";
import { loadPrivacyBudgets } from "./privacy_budgets.ts";
import { openStoreUrl } from "../ledger/store_url.ts";
import { redactUrl } from "../ledger/pg/connection.ts";
import { ServerMetrics } from "./metrics.ts";
import { defaultVerifyWorkers } from "./verify_pool.ts";
import { CkksRunner } from "./ckks_runner.ts";
import { ConnectionFront, defaultMaxConnections } from "./conn_front.ts";
import { StorageHealth } from "./storage_health.ts";
import { bundledSchemas, ledgerLog, ServerAudits, TrustedEnvelopes } from "./services.ts";
import type { WitnessEndpoint } from "../ledger/witness/client.ts";
import { Witnessing } from "./witnessing.ts";

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
   * Privacy-budget file (`schemas/privacy-budgets.json`), re-read together
   * with the trust store; without it appends are not budget-checked.
   */
  privacyBudgets?: string;
  /**
   * Accept a ledger.kv that contradicts the signed-head record (a new log
   * under the existing log key; see `OpenLedgerOptions.newLogUnderExistingKey`).
   * @default {false}
   */
  newLogUnderExistingKey?: boolean;
  /** Server configuration (auth, limits, logs). */
  config: ServerConfig;
  /**
   * Witnesses to send every new checkpoint to (`serve --witness URL=VKEY`),
   * the quorum that must cosign (default: all) and how long
   * `?wait=witnessed` waits (ms, default 10000). See `server/witnessing.ts`.
   */
  witnessing?: { witnesses: WitnessEndpoint[]; quorum?: number; waitTimeoutMs?: number };
  /** Install SIGTERM/SIGINT/SIGHUP handlers. @default {true} */
  signals?: boolean;
  /**
   * Shut down gracefully (as on SIGTERM) once the parent process is gone:
   * checked every second, a change of `Deno.ppid` (the process was reparented)
   * starts the shutdown. `serve` sets it when npm started it (`npx`), whose
   * SIGKILL would otherwise leave the server running as an orphan.
   * @default {false}
   */
  exitWithParent?: boolean;
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
  const problem = privateFileProblem(path, await Deno.stat(path));
  if (problem !== undefined) throw new ConfigError(problem);
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
  // The parent as at the start, before keys and the store are opened: one that dies
  // meanwhile is noticed at the first check.
  const parent = Deno.ppid;
  // A mirror (`ledger mirror --data DIR`) is served read-only under the key it pinned.
  const mirror = await readMirrorRecord(opts.dataDir).catch((e) => {
    throw new ConfigError((e as Error).message);
  });
  const origin = mirror ? mirror.verifier_key.split("+")[0] : opts.origin ?? DEFAULT_ORIGIN;
  let config = opts.config;
  if (config.devMode && !isLoopbackHost(host)) {
    throw new ConfigError(
      `REGLEDGER_DEV_MODE=1 disables authentication: refusing to bind ${host} (use 127.0.0.1)`,
    );
  }
  await Deno.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  if (!config.devMode && config.apiKeys.length === 0 && mirror) {
    // A read-only mirror creates no secrets: only the public routes answer.
    status(
      `regledger: serving a read-only mirror with no REGLEDGER_API_KEYS: no admin token is made; ` +
        `set REGLEDGER_API_KEYS to serve the routes that need a token`,
    );
  } else if (!config.devMode && config.apiKeys.length === 0) {
    const admin = await loadOrCreateAdminToken(opts.dataDir);
    config = { ...config, apiKeys: [admin] };
    status(
      `regledger: no REGLEDGER_API_KEYS; the admin bearer token is in ${opts.dataDir}/${ADMIN_TOKEN_FILE}`,
    );
  }
  // Checked before anything is opened: a bad budget file stops the start.
  let ledger: Ledger;
  const budgetsPath = opts.privacyBudgets;
  const applyBudgets = budgetsPath === undefined
    ? undefined
    : await loadPrivacyBudgets(budgetsPath, () => ledger);
  const issuer = mirror ? await ephemeralIssuerKey() : await loadOrCreateIssuerKey(opts.dataDir);
  if (issuer.created) status(`regledger: created issuer key ${issuer.provider.keyId}`);
  const envelopes = await TrustedEnvelopes.open({
    trustedKeysPath: opts.trustedKeys,
    own: { keyId: issuer.provider.keyId, publicKeyPem: issuer.provider.publicKeyPem },
    maxBytes: config.bodyLimit,
    verifyWorkers: config.verifyWorkers === "auto" ? defaultVerifyWorkers() : config.verifyWorkers,
    ...(budgetsPath !== undefined
      ? { alsoReload: () => loadPrivacyBudgets(budgetsPath, () => ledger) }
      : {}),
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
  try {
    const store = opts.store === undefined
      ? undefined
      : await openStoreUrl(opts.store, { write: true, status });
    if (store) status(`regledger: the log is in ${redactUrl(opts.store!)}`);
    ledger = await openLedger({
      dataDir: opts.dataDir,
      ...(store ? { store } : {}),
      origin,
      ...(mirror ? { mirrorKey: mirror.verifier_key } : {}),
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
    if (mirror && await ledger.size() === 0) {
      throw new ConfigError(
        `${opts.dataDir} is a mirror that holds no entries yet: it has no checkpoint to serve; ` +
          `run 'regledger ledger mirror' until it completes`,
      );
    }
    // Never listen (and so never say ready) on a store that fails its start-up checks.
    await ledger.checkStartup();
  } catch (e) {
    await ledger.close();
    envelopes.close();
    pqEngine?.destroy();
    throw e;
  }
  if (applyBudgets) status(`regledger: ${applyBudgets()} privacy budget(s) in force`);
  // A full disk makes the server not ready until space returns (server/storage_health.ts).
  const storage = new StorageHealth({ dir: opts.dataDir, status });
  const log: LogService = storage.wrap(ledgerLog(ledger));
  const witnessing = opts.witnessing && opts.witnessing.witnesses.length > 0
    ? new Witnessing({
      log,
      ...opts.witnessing,
      logLine: status,
      ...(pqEngine ? { mlDsaEngine: pqEngine } : {}),
    })
    : undefined;
  if (witnessing) metrics.addFamilies(witnessing.metrics);
  // CKKS is seconds of synchronous WebAssembly: it runs in a worker, one job at a time.
  const ckks = config.ckks ? new CkksRunner({ maxQueued: config.ckksQueue }) : null;
  const audits: AuditService = new ServerAudits(
    issuer.provider,
    origin,
    ckks ? { ckks: ckks.auditBackend() } : {},
  );
  const deps: ServerDeps = {
    log: witnessing ? witnessing.wrapLog(log) : log,
    ...(witnessing ? { witnessing } : {}),
    envelopes,
    audits,
    schemas: bundledSchemas(),
    origin,
    ...(ckks
      ? { ckksEvaluate: { busy: () => ckks.busy(), evaluate: (b, l) => ckks.evaluateBody(b, l) } }
      : {}),
  };
  let draining = false;
  const app = createApp(deps, config, {
    metrics,
    notReady: () => (draining ? "shutting down" : storage.notReady()),
  });

  // Clients reach the HTTP server through the connection front (server/conn_front.ts):
  // a connection cap and header, idle and body timeouts that Deno.serve lacks.
  let front: ConnectionFront | undefined;
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  const handler = keepAliveHint(app.fetch, config.keepAliveTimeoutMs);
  const startHttp = async (): Promise<Deno.NetAddr> => {
    const listening = Promise.withResolvers<Deno.NetAddr>();
    server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: (a) => listening.resolve(a as Deno.NetAddr),
    }, handler);
    return await listening.promise;
  };
  try {
    await witnessing?.start();
    const maxConnections = config.maxConnections === "auto"
      ? defaultMaxConnections()
      : config.maxConnections;
    // The HTTP server listens on a loopback port of its own (a Unix socket would need
    // net permission for a random path); only the front's port is the server's address.
    const backend = await startHttp();
    front = ConnectionFront.listen({
      hostname: host,
      port,
      backend,
      limits: {
        maxConnections,
        headersTimeoutMs: config.headersTimeoutMs,
        keepAliveTimeoutMs: config.keepAliveTimeoutMs,
        requestTimeoutMs: config.requestTimeoutMs,
      },
      log: status,
    });
    status(
      `regledger: at most ${maxConnections} connections; header timeout ${config.headersTimeoutMs} ms, ` +
        `idle ${config.keepAliveTimeoutMs} ms, request ${config.requestTimeoutMs} ms`,
    );
  } catch (e) {
    // Could not bind (address in use, permission): release what was opened.
    await witnessing?.close();
    await front?.close();
    await server?.shutdown();
    await ledger.close();
    pqEngine?.destroy();
    envelopes.close();
    ckks?.close();
    throw e;
  }
  const addr = front.addr;
  const running = front;
  // Should the HTTP server behind the front still fail (its accept out of descriptors),
  // it is logged and replaced: the front sends new connections to the new one.
  const watchHttp = (h: Deno.HttpServer<Deno.NetAddr>) => {
    h.finished.catch(async (e) => {
      if (stopping) return;
      status(`regledger: the HTTP server failed (${(e as Error).message}); restarting it`);
      await new Promise((r) => setTimeout(r, 100));
      if (stopping) return;
      try {
        running.setBackend(await startHttp());
        watchHttp(server!);
      } catch (e2) {
        status(`regledger: could not restart the HTTP server: ${(e2 as Error).message}`);
        void shutdown();
      }
    });
  };
  watchHttp(server!);
  status(`regledger: log ${origin}, verifier key ${ledger.verifierKey}`);
  status(
    envelopes.workerError === undefined
      ? `regledger: ${envelopes.workers} verification worker(s)`
      : `regledger: 0 verification worker(s): ${envelopes.workerError}; verifying on the main thread`,
  );
  if (witnessing) {
    const names = opts.witnessing!.witnesses.map((w) => `${w.name} at ${w.url}`).join(", ");
    status(`regledger: witnessed by quorum ${witnessing.quorum} of: ${names}`);
  }
  status(`regledger: listening on http://${fmtHost(addr.hostname)}:${addr.port}/`);

  const reloadTrustStore = async () => {
    try {
      const s = await envelopes.reloadTrustStore();
      status(
        `regledger: trust store reloaded (${s.keys} keys, ${s.revoked} revoked` +
          (s.privacy_budgets === undefined ? ")" : `; ${s.privacy_budgets} privacy budgets)`),
      );
    } catch (e) {
      status(
        `regledger: trust store NOT reloaded, previous one (and privacy budgets) stay in force: ${
          (e as Error).message
        }`,
      );
    }
  };
  const signals: [Deno.Signal, () => void][] = [];
  let parentWatch: ReturnType<typeof setInterval> | undefined;
  let stopping: Promise<void> | null = null;
  const finished = Promise.withResolvers<void>();
  const shutdown = () => {
    stopping ??= (async () => {
      draining = true;
      clearInterval(parentWatch);
      // The signal listeners stay until the end: a wrapper (`deno task`, npm) forwards
      // the same SIGINT again, and with no listener left Deno would take the default
      // action and kill the process halfway through the shutdown.
      await running.stopAccepting(); // no new connections
      // No more add-checkpoint requests; requests waiting for witnesses answer 504 now.
      await witnessing?.close();
      await server!.shutdown().catch(() => {}); // waits for in-flight requests; closes idle ones
      await running.close();
      await ledger.close(); // waits for queued appends; closes KV
      pqEngine?.destroy(); // nothing signs any more
      envelopes.close(); // stops the verification workers
      ckks?.close(); // stops the CKKS worker
      storage.close(); // stops a full-disk probe
      status("regledger: stopped");
      finished.resolve();
      for (const [sig, h] of signals) {
        try {
          Deno.removeSignalListener(sig, h);
        } catch { /* already gone */ }
      }
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
      if (stopping) return; // a wrapper forwarding the same signal again
      status("regledger: shutting down (finishing in-flight requests)");
      void shutdown();
    };
    on("SIGTERM", stop);
    on("SIGINT", stop);
    on("SIGHUP", () => void reloadTrustStore());
  }
  if (opts.exitWithParent) {
    // Deno.ppid is getppid() on every read: an orphan is adopted by init or a subreaper.
    const watch = setInterval(() => {
      const now = Deno.ppid;
      if (now === parent || stopping) return;
      status(
        `regledger: parent process ${parent} is gone (now ${now}); shutting down (finishing in-flight requests)`,
      );
      void shutdown();
    }, 1000);
    Deno.unrefTimer(watch);
    parentWatch = watch;
  }
  return {
    addr,
    verifierKey: ledger.verifierKey,
    app,
    log,
    reloadTrustStore,
    shutdown,
    // Resolves once shut down (a failed HTTP server is replaced, not an exit).
    finished: finished.promise,
  };
}

/**
 * Responses on a connection that stays open say how long it may stay idle:
 * `Keep-Alive: timeout=S`, the front's idle timeout in whole seconds
 * (REGLEDGER_KEEPALIVE_TIMEOUT_MS). Clients that read the hint (Node's http
 * agent, undici) stop reusing a connection before the front closes it, instead
 * of sending a request into a connection that is being closed. No hint below
 * one second, or when the request asked to close.
 */
export function keepAliveHint(
  fetch: (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response>,
  keepAliveTimeoutMs: number,
): (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Promise<Response> {
  const seconds = Math.floor(keepAliveTimeoutMs / 1000);
  const value = `timeout=${seconds}`;
  return async (req, info) => {
    const res = await fetch(req, info);
    if (seconds < 1 || /(^|,)\s*close\s*(,|$)/i.test(req.headers.get("connection") ?? "")) {
      return res;
    }
    try {
      res.headers.set("keep-alive", value);
      return res;
    } catch {
      // Immutable headers (Response.redirect, a fetched response): the same response, copied.
      const copy = new Response(res.body, res);
      copy.headers.set("keep-alive", value);
      return copy;
    }
  };
}

function fmtHost(h: string): string {
  return h.includes(":") ? `[${h}]` : h;
}
