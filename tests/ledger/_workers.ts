/**
 * Test helper: count the workers code makes and the messages they answer,
 * so a test can tell that work really went to a worker.
 *
 * @module
 */

/** Run `f` with `Worker` counting the workers made and the messages they send back. */
export async function countingWorkers<T>(
  f: () => Promise<T>,
): Promise<{ result: T; created: number; answers: number }> {
  const Real = globalThis.Worker;
  let created = 0;
  let answers = 0;
  globalThis.Worker = class extends Real {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      created++;
      this.addEventListener("message", () => answers++);
    }
  };
  try {
    const result = await f();
    return { result, created, answers };
  } finally {
    globalThis.Worker = Real;
  }
}
