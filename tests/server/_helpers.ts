/**
 * Helpers for the server tests: a real app over a real ledger on a KV file
 * in a temporary directory, the fixture trust store plus a test issuer, and
 * signed envelopes from that issuer.
 *
 * @module
 */
import { buildEnvelope } from "../../core/envelope.ts";
import type { Envelope, PrimitiveName } from "../../core/envelope_types.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import type { AuditBackend } from "../../core/audit/index.ts";
import { type Ledger, openLedger } from "../../ledger/ledger.ts";
import type { LedgerStore } from "../../ledger/store.ts";
import { createApp, type RegledgerApp } from "../../server/app.ts";
import { type ApiKey, DEFAULT_CONFIG, type Scope, type ServerConfig } from "../../server/config.ts";
import type { LogService, ServerDeps } from "../../server/deps.ts";
import { loadOrCreateIssuerKey } from "../../server/keys.ts";
import { ServerMetrics } from "../../server/metrics.ts";
import {
  bundledSchemas,
  ledgerLog,
  ServerAudits,
  TrustedEnvelopes,
} from "../../server/services.ts";

/** The shared regaudit-fhe fixtures directory. */
export const FIXTURES = new URL("../fixtures/regaudit-fhe/", import.meta.url);

/** Read a fixture file as text. */
export function fixtureText(rel: string): Promise<string> {
  return Deno.readTextFile(new URL(rel, FIXTURES));
}

/** Tokens of the test keyring, one per scope, plus admin. */
export const TOKENS: Record<Scope, string> = {
  "audit:run": "tok-audit-run-0123456789",
  "ledger:append": "tok-ledger-append-0123456789",
  "ledger:read": "tok-ledger-read-0123456789",
  "verify": "tok-verify-0123456789abcdef",
  "metrics": "tok-metrics-0123456789abcdef",
  "admin": "tok-admin-0123456789abcdef",
};

/** API keys matching {@link TOKENS}. */
export function testKeys(): ApiKey[] {
  return (Object.entries(TOKENS) as [Scope, string][]).map(([scope, token]) => ({
    token,
    scopes: new Set([scope]),
  }));
}

/** Authorization header for a scope's token. */
export function auth(scope: Scope): Record<string, string> {
  return { authorization: `Bearer ${TOKENS[scope]}` };
}

/** JSON + auth headers. */
export function jsonAuth(scope: Scope): Record<string, string> {
  return { ...auth(scope), "content-type": "application/json" };
}

/** A test issuer whose key is added to the trust file. */
export const TEST_ISSUER_KEY_ID = "test-issuer-2026";

/** Everything a test needs. */
export interface Harness {
  /** The app. */
  app: RegledgerApp;
  /** The real ledger. */
  ledger: Ledger;
  /** Dependencies (the log may be wrapped by the test). */
  deps: ServerDeps;
  /** The envelope service (for its trust store). */
  envelopes: TrustedEnvelopes;
  /** Temporary directory. */
  dir: string;
  /** Trust store file path (editable, then reload). */
  trustFile: string;
  /** The test issuer's signer (trusted). */
  issuer: InProcessKeyProvider;
  /** The server's own issuer. */
  serverIssuer: InProcessKeyProvider;
  /** Access-log lines written so far. */
  accessLog: string[];
  /** Lines of failures that are the server's fault. */
  bugs: string[];
  /** Metrics. */
  metrics: ServerMetrics;
  /** Close the ledger and remove the directory. */
  close(): Promise<void>;
}

/** Options of {@link harness}. */
export interface HarnessOptions {
  /** Config overrides. */
  config?: Partial<ServerConfig>;
  /** Wrap the real log (fault injection). */
  wrapLog?: (log: LogService) => LogService;
  /** Verification worker threads (default 0: the calling thread). */
  verifyWorkers?: number;
  /** Encrypted backend offered as `?backend=ckks`. */
  ckks?: AuditBackend;
  /** The ledger's store, given the temporary directory (fault injection); default KV there. */
  store?: (dir: string) => Promise<LedgerStore>;
  /** Readiness (`/readyz`): `null` when ready. */
  notReady?: () => string | null;
}

let issuerCache: InProcessKeyProvider | undefined;

/** The trusted test issuer (one key for the whole test run). */
export async function testIssuer(): Promise<InProcessKeyProvider> {
  issuerCache ??= await InProcessKeyProvider.generate(TEST_ISSUER_KEY_ID);
  return issuerCache;
}

/** Write the fixture trust store plus the test issuer to `path`. */
export async function writeTrustFile(
  path: string,
  change: (store: { keys: Record<string, string>; revoked: string[] }) => void = () => {},
): Promise<void> {
  const store = JSON.parse(await fixtureText("trust_store.json"));
  store.keys[TEST_ISSUER_KEY_ID] = (await testIssuer()).publicKeyPem;
  change(store);
  await Deno.writeTextFile(path, JSON.stringify(store, null, 2));
}

/** Build a real app over a real ledger in a fresh temporary directory. */
export async function harness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-server-test-" });
  const trustFile = `${dir}/trust.json`;
  await writeTrustFile(trustFile);
  const issuer = await testIssuer();
  const server = await loadOrCreateIssuerKey(dir);
  const envelopes = await TrustedEnvelopes.open({
    trustedKeysPath: trustFile,
    own: { keyId: server.provider.keyId, publicKeyPem: server.provider.publicKeyPem },
    verifyWorkers: opts.verifyWorkers ?? 0,
  });
  const metrics = new ServerMetrics();
  const ledger = await openLedger({
    dataDir: dir,
    onCommit: (i) => metrics.recordCommit(i),
    ...(opts.store ? { store: await opts.store(dir) } : {}),
  });
  const real = ledgerLog(ledger);
  const log = opts.wrapLog ? opts.wrapLog(real) : real;
  const deps: ServerDeps = {
    log,
    envelopes,
    audits: new ServerAudits(
      server.provider,
      "regledger.local/log",
      opts.ckks ? { ckks: opts.ckks } : {},
    ),
    schemas: bundledSchemas(),
    origin: "regledger.local/log",
  };
  const accessLog: string[] = [];
  const bugs: string[] = [];
  const config: ServerConfig = {
    ...DEFAULT_CONFIG,
    apiKeys: testKeys(),
    rateLimit: null,
    accessLog: (l) => accessLog.push(l),
    ...opts.config,
  };
  const app = createApp(deps, config, {
    metrics,
    onBug: (l) => bugs.push(l),
    ...(opts.notReady ? { notReady: opts.notReady } : {}),
  });
  return {
    app,
    ledger,
    deps,
    envelopes,
    dir,
    trustFile,
    issuer,
    serverIssuer: server.provider,
    accessLog,
    bugs,
    metrics,
    close: async () => {
      envelopes.close();
      await ledger.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A signed native envelope from the trusted test issuer (distinct for distinct `n`). */
export async function signedEnvelope(
  n: number,
  o: { issuer?: string; primitive?: PrimitiveName; issuedAt?: string } = {},
): Promise<Envelope> {
  return await buildEnvelope({
    primitive: o.primitive ?? "drift",
    backend: "plaintext",
    parameterSet: { backend: "plaintext" },
    regulations: ["EU_AI_ACT_ART15"],
    result: { cvm: 0.25, n },
    inputs: { ref: [1, 2, 3], cur: [2, 3, n] },
    depthBudget: { declared: 1, consumed: 1 },
    issuer: o.issuer ?? "acme",
    issuedAt: o.issuedAt ?? "2026-03-01T00:00:00.000Z",
  }, await testIssuer());
}

/** POST a JSON text. */
export function post(
  app: RegledgerApp,
  path: string,
  body: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string>,
): Promise<Response> {
  return Promise.resolve(app.request(path, { method: "POST", body, headers }));
}
