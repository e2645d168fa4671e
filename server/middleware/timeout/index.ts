/**
 * Request timeout: Hono's `timeout` middleware (503 once `ms` pass) with one
 * shared timer instead of one timer per request.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../../env.ts";

/**
 * Fail a request with a 503 `HTTPException` once `ms` milliseconds pass.
 *
 * A sweep every `ms / 20` (at most 1 s) fails the requests past their
 * deadline, so a request times out at most one sweep period after `ms` (plus
 * however late the event loop runs the sweep). The sweep stops when nothing
 * is in flight, so an idle server holds no timer.
 *
 * @param ms the timeout in milliseconds.
 * @throws {RangeError} when `ms` is not a positive number.
 */
export function requestTimeout(ms: number): MiddlewareHandler<AppEnv> {
  if (!(ms > 0)) throw new RangeError(`requestTimeout: ms must be > 0, got ${ms}`);
  interface Waiter {
    deadline: number;
    fail: (e: Error) => void;
  }
  const inflight = new Set<Waiter>();
  const period = Math.max(1, Math.min(1000, Math.ceil(ms / 20)));
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const stopIfIdle = () => {
    if (inflight.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  const sweep = () => {
    const now = performance.now();
    for (const w of inflight) {
      if (w.deadline <= now) {
        inflight.delete(w);
        w.fail(new HTTPException(503, { message: "request timed out" }));
      }
    }
    stopIfIdle();
  };
  // One promise per request, settled by whichever comes first: the handler
  // chain or the sweep (no Promise.race, no async frame).
  return (_c, next) =>
    new Promise<void>((resolve, reject) => {
      const w: Waiter = { deadline: performance.now() + ms, fail: reject };
      inflight.add(w);
      sweeper ??= setInterval(sweep, period);
      const done = () => {
        inflight.delete(w);
        stopIfIdle();
      };
      const failed = (e: unknown) => {
        done();
        reject(e);
      };
      try {
        next().then(() => {
          done();
          resolve();
        }, failed);
      } catch (e) {
        failed(e);
      }
    });
}
