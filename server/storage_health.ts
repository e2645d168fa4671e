/**
 * Readiness while the ledger's disk is full: the first append refused with
 * {@linkcode LedgerStorageFullError} makes the server not ready (`/readyz`
 * 503 naming it), so a load balancer sends appends elsewhere; a probe
 * writes a scratch file in the data directory every few seconds and the
 * server is ready again as soon as one fits, or as soon as an append
 * succeeds. No restart; nothing acknowledged is lost (a refused append was
 * never acknowledged).
 *
 * @module
 */
import { LedgerStorageFullError } from "../ledger/ledger.ts";
import type { LogService } from "./deps.ts";

/** Options of {@linkcode StorageHealth}. */
export interface StorageHealthOptions {
  /** Where the probe writes (the data directory). */
  dir: string;
  /** Probe size in bytes: room for a commit and its write-ahead log. @default {1048576} */
  probeBytes?: number;
  /** Probe interval while full. @default {2000} */
  probeMs?: number;
  /** Status lines (recovery, never payloads). */
  status?: (line: string) => void;
}

/** Tracks whether the ledger's disk is full. */
export class StorageHealth {
  #fullSince: string | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #opts: Required<StorageHealthOptions>;

  /** Healthy until an append says otherwise. */
  constructor(opts: StorageHealthOptions) {
    this.#opts = { probeBytes: 1 << 20, probeMs: 2000, status: () => {}, ...opts };
  }

  /** `null` when appends can be stored, otherwise why not. */
  notReady(): string | null {
    return this.#fullSince === null
      ? null
      : `the ledger's disk is full (since ${this.#fullSince}); appends are refused`;
  }

  /** `log` with its appends watched. */
  wrap(log: LogService): LogService {
    const append: LogService["append"] = async (env) => {
      try {
        const r = await log.append(env);
        this.#recovered("an append succeeded");
        return r;
      } catch (e) {
        if (e instanceof LedgerStorageFullError) this.#full();
        throw e;
      }
    };
    return { ...log, append };
  }

  /** Stop probing. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #full(): void {
    if (this.#fullSince !== null) return;
    this.#fullSince = new Date().toISOString();
    this.#opts.status("regledger: the ledger's disk is full; not ready until space returns");
    this.#timer = setInterval(() => void this.#probe(), this.#opts.probeMs);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  #recovered(why: string): void {
    if (this.#fullSince === null) return;
    this.#fullSince = null;
    this.close();
    this.#opts.status(`regledger: space is back (${why}); ready`);
  }

  async #probe(): Promise<void> {
    const path = `${this.#opts.dir}/.space-probe`;
    try {
      await Deno.writeFile(path, new Uint8Array(this.#opts.probeBytes));
      await Deno.remove(path);
      this.#recovered("a probe write fitted");
    } catch {
      await Deno.remove(path).catch(() => {});
    }
  }
}
