/**
 * The regledger HTTP server as a library: {@linkcode createApp} builds the
 * Hono app (a `fetch` handler) over a log, a trust store and the audit
 * primitives; {@linkcode startServer} opens a data directory and serves it
 * with `Deno.serve` (signals, graceful shutdown). The CLI's `serve` command
 * is a thin wrapper around {@linkcode startServer}; {@linkcode startWitness}
 * runs a C2SP tlog-witness (`regledger witness serve`).
 *
 * @example
 * ```ts ignore
 * import { configFromEnv, startServer } from "./mod.ts";
 * const server = await startServer({
 *   port: 8080,
 *   dataDir: "./data",
 *   config: configFromEnv(Deno.env.toObject()),
 * });
 * await server.finished;
 * ```
 *
 * @module
 */
export { type AppOptions, createApp, openApiOf, type RegledgerApp, SERVER_VERSION } from "./app.ts";
export {
  type ApiKey,
  ConfigError,
  configFromEnv,
  DEFAULT_CONFIG,
  isLoopbackHost,
  parseApiKeys,
  parseRateLimit,
  type RateLimitConfig,
  type Scope,
  SCOPES,
  type ServerConfig,
} from "./config.ts";
export type * from "./deps.ts";
export { Counter, Gauge, Histogram, type Labels, processGauges, ServerMetrics } from "./metrics.ts";
export {
  ADMIN_TOKEN_FILE,
  loadOrCreateAdminToken,
  type RunningServer,
  type StartOptions,
  startServer,
} from "./serve.ts";
export {
  type MlDsaEngineChoice,
  type RunningWitness,
  startWitness,
  type StartWitnessOptions,
  WITNESS_STATE_FILE,
} from "./witness/serve.ts";
export type { LiboqsMlDsa44Engine } from "../ledger/witness/mldsa_liboqs.ts";
export { WitnessMetrics } from "./witness/metrics.ts";
export type {
  Envelope,
  EnvelopeReceipt,
  InputCommitment,
  JsonValue,
  ParsedEnvelope,
  PrimitiveName,
} from "../core/envelope_types.ts";
export type { CommitInfo, EntrySummary, ResultSummary } from "../ledger/ledger.ts";
export type { WitnessingStatus, WitnessStatus } from "./witnessing.ts";
export type { WitnessEndpoint } from "../ledger/witness/client.ts";
export type { ParsedVerifierKey } from "../ledger/witness/keys.ts";
export type { CkksEvaluator } from "./routes/ckks.ts";
