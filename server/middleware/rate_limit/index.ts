/**
 * Per-token token-bucket rate limiting (Hono ships none). A request over the
 * limit is 429 with `Retry-After` in whole seconds.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { RateLimitConfig } from "../../config.ts";
import type { AppEnv } from "../../env.ts";
import { jsonError } from "../../errors.ts";
import { principalOf } from "../auth/index.ts";

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per key; `now` is injectable for tests. */
export class TokenBuckets {
  readonly #cfg: RateLimitConfig;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;

  /**
   * Build empty buckets.
   *
   * @param cfg sustained rate and burst size.
   * @param now clock in milliseconds. @default {performance.now}
   * @param maxKeys buckets kept before idle ones are dropped. @default {10000}
   */
  constructor(cfg: RateLimitConfig, now: () => number = () => performance.now(), maxKeys = 10_000) {
    if (!(cfg.ratePerSecond > 0) || !(cfg.burst >= 1)) {
      throw new RangeError(
        `rate limit must have ratePerSecond > 0 and burst ≥ 1, got ${cfg.ratePerSecond}/${cfg.burst}`,
      );
    }
    this.#cfg = cfg;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  /**
   * Take one token for `key`. Returns 0 when allowed, otherwise the seconds
   * (≥ 1, whole) until a token is available.
   */
  take(key: string): number {
    const t = this.#now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(t);
      b = { tokens: this.#cfg.burst, at: t };
      this.#buckets.set(key, b);
    } else {
      const refill = ((t - b.at) / 1000) * this.#cfg.ratePerSecond;
      b.tokens = Math.min(this.#cfg.burst, b.tokens + refill);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#cfg.ratePerSecond));
  }

  #evict(t: number): void {
    // Drop buckets that are full again (idle long enough); then the oldest.
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.#cfg.ratePerSecond >= this.#cfg.burst) {
        this.#buckets.delete(k);
      }
    }
    while (this.#buckets.size >= this.#maxKeys) {
      const first = this.#buckets.keys().next().value as string;
      this.#buckets.delete(first);
    }
  }
}

/** Middleware limiting each authenticated principal (by token hash). */
export function rateLimit(buckets: TokenBuckets): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const p = principalOf(c);
    const wait = buckets.take(p ? p.tokenHash : "anonymous");
    if (wait > 0) {
      return jsonError(429, "rate limit exceeded", { retry_after: wait }, {
        "Retry-After": String(wait),
      });
    }
    return await next();
  };
}
