/**
 * `regledger serve --store postgres://…` as child processes for the
 * multi-process tests and the benchmark: start one on port 0 and wait for its
 * "listening" line, submit envelopes with retries across servers, stop or
 * kill it.
 *
 * @module
 */
import { TOKENS } from "../server/_helpers.ts";
import { type ServeChild, startServeChild } from "../server/_serve_child.ts";

export type { ServeChild };

/**
 * Start `serve --data dataDir --store url` on a free port (with `extraArgs`
 * appended, e.g. `--privacy-budgets FILE`); resolves once it listens.
 */
export function startServe(
  dataDir: string,
  url: string,
  trustFile: string,
  extraEnv: Record<string, string> = {},
  extraArgs: string[] = [],
): Promise<ServeChild> {
  return startServeChild(
    dataDir,
    ["--store", url, "--trusted-keys", trustFile, ...extraArgs],
    { REGLEDGER_VERIFY_WORKERS: "0", ...extraEnv },
  );
}

/** Kill `child` (if still running) and wait for it. */
export async function killServe(child: ServeChild, signal: Deno.Signal = "SIGKILL"): Promise<void> {
  try {
    child.proc.kill(signal);
  } catch {
    // already exited
  }
  await child.exit.catch(() => {});
}

/** One acknowledged submission. */
export interface Ack {
  status: number;
  // deno-lint-ignore no-explicit-any -- the receipt JSON, checked by the caller
  receipt: any;
}

/** POST one envelope text to `base`; status 0 when the connection failed. */
export async function submitOnce(base: string, body: string): Promise<Ack> {
  try {
    const r = await fetch(`${base}/v1/envelopes`, {
      method: "POST",
      body,
      headers: {
        authorization: `Bearer ${TOKENS["ledger:append"]}`,
        "content-type": "application/json",
      },
      signal: AbortSignal.timeout(20_000),
    });
    const text = await r.text();
    return { status: r.status, receipt: r.status < 300 ? JSON.parse(text) : text };
  } catch {
    return { status: 0, receipt: null };
  }
}

/**
 * Submit until acknowledged (201 new, 200 existing): 503s and dropped
 * connections are retried, on the next base in turn (`bases()` gives the
 * live servers at each attempt).
 * @throws {Error} after `deadline` (epoch ms), or on any other status.
 */
export async function submitUntilAcked(
  bases: () => string[],
  start: number,
  body: string,
  deadline: number,
): Promise<Ack> {
  for (let k = start;; k++) {
    const list = bases();
    if (list.length > 0) {
      const a = await submitOnce(list[k % list.length], body);
      if (a.status === 200 || a.status === 201) return a;
      if (a.status !== 0 && a.status !== 503) {
        throw new Error(`submission refused: ${a.status} ${JSON.stringify(a.receipt)}`);
      }
    }
    if (Date.now() > deadline) throw new Error("submission not acknowledged before the deadline");
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
  }
}
