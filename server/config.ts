/**
 * Server configuration: defaults, environment parsing and API keys.
 *
 * Environment variables (all optional):
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `REGLEDGER_API_KEYS` | `token:scope,scope;token:scope` (scopes: {@linkcode SCOPES}) | none (every protected route answers 401) |
 * | `REGLEDGER_DEV_MODE` | `1` disables auth; only loopback may be bound | off |
 * | `REGLEDGER_BODY_LIMIT` | maximum request body in bytes | 1048576 |
 * | `REGLEDGER_RATE_LIMIT` | per-token `rate[/burst]` in requests/s; `0` disables | `200/400` |
 * | `REGLEDGER_REQUEST_TIMEOUT_MS` | request timeout | 30000 |
 * | `REGLEDGER_MAX_CONNECTIONS` | open client connections at most (more: 503 and closed) | `auto`: a third of the descriptors free at start-up less 64, 16 to 4096 |
 * | `REGLEDGER_HEADERS_TIMEOUT_MS` | a request header must arrive within this | 10000 |
 * | `REGLEDGER_KEEPALIVE_TIMEOUT_MS` | a connection idle between requests is closed after this | 5000 |
 * | `REGLEDGER_CORS_ORIGINS` | comma-separated origin allow-list | none |
 * | `REGLEDGER_ACCESS_LOG` | `0` turns the JSON access log off | on |
 * | `REGLEDGER_CKKS` | `1` enables `POST /v1/audit/*?backend=ckks` and `POST /v1/ckks/evaluate` (runs in one worker thread, one job at a time; each takes ~0.1–2 s of a core) | off |
 * | `REGLEDGER_CKKS_MAX_DEGREE` | largest CKKS ring dimension `POST /v1/ckks/evaluate` accepts (8192, 16384 or 32768) | 16384 |
 * | `REGLEDGER_CKKS_BODY_LIMIT` | body limit of `POST /v1/ckks/evaluate` in bytes | the largest valid request at `REGLEDGER_CKKS_MAX_DEGREE` (`core/fhe/request_bound.ts`: 348,849,876 at 16384) |
 * | `REGLEDGER_CKKS_QUEUE` | CKKS jobs that may wait behind the running one; more are refused with 503 and `Retry-After` | 1 |
 * | `REGLEDGER_PUBLIC_BUNDLES` | `1` serves the tile bundles (`GET /tile/entries/*`, `GET /tile/envelopes/*`) without a token; hash tiles and `/checkpoint` are always public | off (bundles need `ledger:read`) |
 * | `REGLEDGER_VERIFY_WORKERS` | worker threads verifying submissions, `0` = main thread, or `auto` | `auto` (cores − 1 up to 4; 0 on ≤ 2 cores) |
 *
 * @module
 */
import { POLY_MODULUS_DEGREES, type PolyModulusDegree } from "../core/fhe/ring_degrees.ts";
import { maxEvaluateRequestBytes } from "../core/fhe/request_bound.ts";

/**
 * The scopes a bearer token can carry. `admin` implies every other scope.
 * `metrics` reads `GET /metrics` and nothing else, so a Prometheus scrape
 * token cannot read the log; `ledger:read` does not include it.
 */
export type Scope = "audit:run" | "ledger:append" | "ledger:read" | "verify" | "metrics" | "admin";

/** Every scope, in a fixed order. */
export const SCOPES: readonly Scope[] = [
  "audit:run",
  "ledger:append",
  "ledger:read",
  "verify",
  "metrics",
  "admin",
];

/** One configured API key: the secret token and its scopes. */
export interface ApiKey {
  /** The bearer token (secret; never logged). */
  token: string;
  /** Scopes the token grants. */
  scopes: ReadonlySet<Scope>;
}

/** Per-token token-bucket rate limit. */
export interface RateLimitConfig {
  /** Sustained requests per second. */
  ratePerSecond: number;
  /** Bucket size: how many requests may arrive at once. */
  burst: number;
}

/** Everything `createApp` needs to know that is not a dependency object. */
export interface ServerConfig {
  /** API keys; ignored when `devMode` is on. */
  apiKeys: ApiKey[];
  /** Disable authentication (loopback only; enforced by the runner). */
  devMode: boolean;
  /** Maximum request body size in bytes. @default {1048576} */
  bodyLimit: number;
  /** Per-token rate limit, or `null` for none. @default {{ratePerSecond: 200, burst: 400}} */
  rateLimit: RateLimitConfig | null;
  /** Request timeout in milliseconds. @default {30000} */
  requestTimeoutMs: number;
  /** Open client connections at most; `"auto"` derives it from the descriptor limit. @default {"auto"} */
  maxConnections: number | "auto";
  /** A request header must arrive within this many milliseconds. @default {10000} */
  headersTimeoutMs: number;
  /** A connection idle between requests is closed after this many milliseconds. @default {5000} */
  keepAliveTimeoutMs: number;
  /** CORS origin allow-list (exact origins); empty means no CORS headers. */
  corsOrigins: string[];
  /** Where structured access-log lines go, or `null` for none. */
  accessLog: ((line: string) => void) | null;
  /** Worker threads verifying envelopes for the runner; `0` verifies on the main thread. @default {"auto"} */
  verifyWorkers: number | "auto";
  /**
   * Offer CKKS: `?backend=ckks` on `POST /v1/audit/*` (runner only) and the
   * split flow's evaluator, `POST /v1/ckks/evaluate`. @default {false}
   */
  ckks: boolean;
  /**
   * Body limit of `POST /v1/ckks/evaluate` in bytes (its requests carry
   * Galois keys: megabytes to hundreds of megabytes). @default the largest
   * valid request at `ckksMaxDegree` (core/fhe/request_bound.ts)
   */
  ckksBodyLimit: number;
  /** Largest ring dimension `POST /v1/ckks/evaluate` accepts. @default {16384} */
  ckksMaxDegree: PolyModulusDegree;
  /** CKKS jobs that may wait behind the running one (more: 503). @default {1} */
  ckksQueue: number;
  /**
   * Serve entry and envelope bundles (`GET /tile/entries/*`,
   * `GET /tile/envelopes/*`) without a token; otherwise they need
   * `ledger:read`. Hash tiles and `/checkpoint` are always public. @default {false}
   */
  publicBundles: boolean;
}

/** Defaults of every {@linkcode ServerConfig} field. */
export const DEFAULT_CONFIG: Readonly<ServerConfig> = Object.freeze({
  apiKeys: [],
  devMode: false,
  bodyLimit: 1024 * 1024,
  rateLimit: { ratePerSecond: 200, burst: 400 },
  requestTimeoutMs: 30_000,
  maxConnections: "auto",
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  corsOrigins: [],
  accessLog: null,
  verifyWorkers: "auto",
  ckks: false,
  ckksBodyLimit: maxEvaluateRequestBytes(16384),
  ckksMaxDegree: 16384,
  ckksQueue: 1,
  publicBundles: false,
});

/** Raised for a malformed configuration value; the message names the variable. */
export class ConfigError extends Error {
  /** Build a configuration error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

const TOKEN_RE = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * Parse `REGLEDGER_API_KEYS`: entries separated by `;`, each `token:scope,scope`.
 * Whitespace around entries and scopes is ignored; empty entries are skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseApiKeys } from "./config.ts";
 * const keys = parseApiKeys("reader-token-0123456789:ledger:read,verify;admin-token-0123456789:admin");
 * assert.equal(keys.length, 2);
 * assert.ok(keys[0].scopes.has("verify"));
 * ```
 * @throws {ConfigError} for a token with characters outside RFC 6750's token68,
 *   a token shorter than 16 characters, an unknown scope, no scopes, or a repeated token.
 *   The message never contains the token itself.
 */
export function parseApiKeys(text: string): ApiKey[] {
  const out: ApiKey[] = [];
  const seen = new Set<string>();
  const entries = text.split(";").map((e) => e.trim()).filter((e) => e !== "");
  entries.forEach((entry, i) => {
    // The token itself cannot contain ':' (token68), so the first ':' splits.
    const colon = entry.indexOf(":");
    if (colon <= 0) {
      throw new ConfigError(`REGLEDGER_API_KEYS entry ${i + 1}: expected token:scope[,scope]`);
    }
    const token = entry.slice(0, colon).trim();
    if (!TOKEN_RE.test(token)) {
      throw new ConfigError(
        `REGLEDGER_API_KEYS entry ${i + 1}: the token must be RFC 6750 token68 characters`,
      );
    }
    if (token.length < 16) {
      throw new ConfigError(
        `REGLEDGER_API_KEYS entry ${i + 1}: the token must be at least 16 characters`,
      );
    }
    if (seen.has(token)) {
      throw new ConfigError(`REGLEDGER_API_KEYS entry ${i + 1}: token repeated`);
    }
    seen.add(token);
    const scopes = new Set<Scope>();
    for (const raw of entry.slice(colon + 1).split(",")) {
      const s = raw.trim();
      if (s === "") continue;
      if (!(SCOPES as readonly string[]).includes(s)) {
        throw new ConfigError(
          `REGLEDGER_API_KEYS entry ${i + 1}: unknown scope '${s}' (known: ${SCOPES.join(", ")})`,
        );
      }
      scopes.add(s as Scope);
    }
    if (scopes.size === 0) {
      throw new ConfigError(`REGLEDGER_API_KEYS entry ${i + 1}: no scopes`);
    }
    out.push({ token, scopes });
  });
  return out;
}

function positiveInt(name: string, raw: string, min: number): number {
  if (!/^[0-9]+$/.test(raw)) throw new ConfigError(`${name}: expected an integer, got '${raw}'`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ConfigError(`${name}: must be an integer ≥ ${min}, got '${raw}'`);
  }
  return n;
}

/**
 * Parse `REGLEDGER_RATE_LIMIT`: `rate` or `rate/burst` (requests per second
 * per token); `0` disables rate limiting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRateLimit } from "./config.ts";
 * assert.deepEqual(parseRateLimit("50/80"), { ratePerSecond: 50, burst: 80 });
 * assert.deepEqual(parseRateLimit("2.5"), { ratePerSecond: 2.5, burst: 5 });
 * assert.equal(parseRateLimit("0"), null);
 * assert.throws(() => parseRateLimit("fast"), /REGLEDGER_RATE_LIMIT/);
 * ```
 * @throws {ConfigError} for anything else.
 */
export function parseRateLimit(raw: string): RateLimitConfig | null {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:\/\s*([0-9]+)\s*)?$/.exec(raw);
  if (!m) throw new ConfigError(`REGLEDGER_RATE_LIMIT: expected rate[/burst], got '${raw}'`);
  const rate = Number(m[1]);
  if (rate === 0) return null;
  const burst = m[2] === undefined ? Math.max(1, Math.ceil(rate * 2)) : Number(m[2]);
  if (!Number.isFinite(rate) || burst < 1 || !Number.isSafeInteger(burst)) {
    throw new ConfigError(`REGLEDGER_RATE_LIMIT: rate and burst must be positive, got '${raw}'`);
  }
  return { ratePerSecond: rate, burst };
}

/**
 * Build a {@linkcode ServerConfig} from environment variables (see the
 * module documentation), on top of {@linkcode DEFAULT_CONFIG}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configFromEnv } from "./config.ts";
 * const cfg = configFromEnv({
 *   REGLEDGER_API_KEYS: "prometheus-scrape-token-1:metrics",
 *   REGLEDGER_BODY_LIMIT: "65536",
 * });
 * assert.equal(cfg.bodyLimit, 65536);
 * assert.deepEqual([...cfg.apiKeys[0].scopes], ["metrics"]);
 * assert.throws(() => configFromEnv({ REGLEDGER_DEV_MODE: "yes" }), /REGLEDGER_DEV_MODE/);
 * ```
 *
 * @param env Variables to read, e.g. `Deno.env.toObject()`.
 * @throws {ConfigError} naming the variable when a value is malformed.
 */
export function configFromEnv(env: Record<string, string | undefined>): ServerConfig {
  const cfg: ServerConfig = { ...DEFAULT_CONFIG, apiKeys: [], corsOrigins: [] };
  const dev = env.REGLEDGER_DEV_MODE;
  if (dev !== undefined && dev !== "" && dev !== "0") {
    if (dev !== "1") throw new ConfigError(`REGLEDGER_DEV_MODE: expected 1 or 0, got '${dev}'`);
    cfg.devMode = true;
  }
  const ckks = env.REGLEDGER_CKKS;
  if (ckks !== undefined && ckks !== "" && ckks !== "0") {
    if (ckks !== "1") throw new ConfigError(`REGLEDGER_CKKS: expected 1 or 0, got '${ckks}'`);
    cfg.ckks = true;
  }
  const pub = env.REGLEDGER_PUBLIC_BUNDLES;
  if (pub !== undefined && pub !== "" && pub !== "0") {
    if (pub !== "1") {
      throw new ConfigError(`REGLEDGER_PUBLIC_BUNDLES: expected 1 or 0, got '${pub}'`);
    }
    cfg.publicBundles = true;
  }
  const deg = env.REGLEDGER_CKKS_MAX_DEGREE;
  if (deg !== undefined && deg !== "") {
    const n = Number(deg);
    if (!(POLY_MODULUS_DEGREES as readonly number[]).includes(n) || !/^[0-9]+$/.test(deg)) {
      throw new ConfigError(
        `REGLEDGER_CKKS_MAX_DEGREE: expected one of ${
          POLY_MODULUS_DEGREES.join(", ")
        }, got '${deg}'`,
      );
    }
    cfg.ckksMaxDegree = n as PolyModulusDegree;
    cfg.ckksBodyLimit = maxEvaluateRequestBytes(cfg.ckksMaxDegree);
  }
  if (env.REGLEDGER_CKKS_QUEUE !== undefined && env.REGLEDGER_CKKS_QUEUE !== "") {
    cfg.ckksQueue = positiveInt("REGLEDGER_CKKS_QUEUE", env.REGLEDGER_CKKS_QUEUE, 0);
  }
  if (env.REGLEDGER_CKKS_BODY_LIMIT) {
    cfg.ckksBodyLimit = positiveInt(
      "REGLEDGER_CKKS_BODY_LIMIT",
      env.REGLEDGER_CKKS_BODY_LIMIT,
      1024,
    );
  }
  if (env.REGLEDGER_API_KEYS) cfg.apiKeys = parseApiKeys(env.REGLEDGER_API_KEYS);
  if (env.REGLEDGER_BODY_LIMIT) {
    cfg.bodyLimit = positiveInt("REGLEDGER_BODY_LIMIT", env.REGLEDGER_BODY_LIMIT, 1024);
  }
  if (env.REGLEDGER_RATE_LIMIT !== undefined && env.REGLEDGER_RATE_LIMIT !== "") {
    cfg.rateLimit = parseRateLimit(env.REGLEDGER_RATE_LIMIT);
  }
  if (env.REGLEDGER_REQUEST_TIMEOUT_MS) {
    cfg.requestTimeoutMs = positiveInt(
      "REGLEDGER_REQUEST_TIMEOUT_MS",
      env.REGLEDGER_REQUEST_TIMEOUT_MS,
      100,
    );
  }
  const mc = env.REGLEDGER_MAX_CONNECTIONS;
  if (mc !== undefined && mc !== "" && mc !== "auto") {
    cfg.maxConnections = positiveInt("REGLEDGER_MAX_CONNECTIONS", mc, 1);
  }
  if (env.REGLEDGER_HEADERS_TIMEOUT_MS) {
    cfg.headersTimeoutMs = positiveInt(
      "REGLEDGER_HEADERS_TIMEOUT_MS",
      env.REGLEDGER_HEADERS_TIMEOUT_MS,
      100,
    );
  }
  if (env.REGLEDGER_KEEPALIVE_TIMEOUT_MS) {
    cfg.keepAliveTimeoutMs = positiveInt(
      "REGLEDGER_KEEPALIVE_TIMEOUT_MS",
      env.REGLEDGER_KEEPALIVE_TIMEOUT_MS,
      100,
    );
  }
  const vw = env.REGLEDGER_VERIFY_WORKERS;
  if (vw !== undefined && vw !== "" && vw !== "auto") {
    cfg.verifyWorkers = positiveInt("REGLEDGER_VERIFY_WORKERS", vw, 0);
    if (cfg.verifyWorkers > 64) {
      throw new ConfigError(`REGLEDGER_VERIFY_WORKERS: at most 64, got '${vw}'`);
    }
  }
  if (env.REGLEDGER_CORS_ORIGINS) {
    for (const o of env.REGLEDGER_CORS_ORIGINS.split(",").map((s) => s.trim())) {
      if (o === "") continue;
      let u: URL;
      try {
        u = new URL(o);
      } catch {
        throw new ConfigError(`REGLEDGER_CORS_ORIGINS: '${o}' is not an origin`);
      }
      if (u.origin !== o) {
        throw new ConfigError(
          `REGLEDGER_CORS_ORIGINS: '${o}' is not an exact origin (expected '${u.origin}')`,
        );
      }
      cfg.corsOrigins.push(o);
    }
  }
  return cfg;
}

/**
 * Whether `hostname` names a loopback interface (what dev mode may bind).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopbackHost } from "./config.ts";
 * assert.ok(isLoopbackHost("127.0.0.1") && isLoopbackHost("[::1]") && isLoopbackHost("localhost"));
 * assert.ok(!isLoopbackHost("0.0.0.0"));
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
