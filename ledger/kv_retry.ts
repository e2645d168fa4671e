/**
 * Deno KV's transient contention errors (SQLite "database is locked" when
 * several processes share one file), and the retry that reads use.
 *
 * @module
 */

const TRANSIENT = /database is locked|busy/i;

/** Whether `e` is a transient SQLite contention error worth retrying. */
export function isTransientKvError(e: unknown): boolean {
  return e instanceof Error && TRANSIENT.test(e.message);
}

/** Run a read, retrying transient lock errors with a short jittered backoff. */
export async function retryTransient<T>(f: () => Promise<T>, attempts = 200): Promise<T> {
  for (let i = 0;; i++) {
    try {
      return await f();
    } catch (e) {
      if (!isTransientKvError(e) || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, Math.min(50, 1 + i) * Math.random()));
    }
  }
}
