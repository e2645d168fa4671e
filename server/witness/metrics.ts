/**
 * The witness's Prometheus metrics (text format 0.0.4), per app instance:
 *
 * - `witness_add_checkpoint_requests_total{status, reason}`: every
 *   `add-checkpoint` answer, `reason` one of `cosigned`, `malformed`,
 *   `unknown-log`, `bad-signature`, `conflict`, `bad-proof`, `too-large`,
 *   `rate-limited`, `busy`;
 * - `witness_cosignatures_total{origin}`: checkpoints cosigned per log;
 * - `witness_log_size{origin}`: the size the witness last cosigned per log;
 * - `witness_waiting_requests{origin}`: `add-checkpoint` requests queued or
 *   in progress per log (at `MAX_WAITING_PER_LOG` more are refused with 503);
 * - the standard process series.
 *
 * @module
 */
import { Counter, type Labels, processGauges, renderSeries } from "../metrics.ts";
import { SERVER_VERSION } from "../version.ts";

/** What the metrics read from the state when rendered (a `WitnessStore`). */
export interface WitnessMetricsSource {
  /** Size last cosigned, by origin. */
  cachedSizes(): Map<string, number>;
  /** Requests waiting or in progress, by origin (only origins with some). */
  waiting?(): Map<string, number>;
}

/**
 * Counters and gauges of one witness.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WitnessMetrics } from "./metrics.ts";
 * const m = new WitnessMetrics({ cachedSizes: () => new Map([["example.com/log", 42]]) });
 * m.request(200, "cosigned");
 * m.cosigned("example.com/log");
 * assert.equal(m.requests(200, "cosigned"), 1);
 * assert.match(m.render(), /^witness_log_size\{origin="example\.com\/log"\} 42$/m);
 * ```
 */
export class WitnessMetrics {
  readonly #requests = new Counter(
    "witness_add_checkpoint_requests_total",
    "add-checkpoint requests by HTTP status and reason.",
  );
  readonly #cosigned = new Counter(
    "witness_cosignatures_total",
    "Checkpoints cosigned, by log origin.",
  );
  readonly #store: WitnessMetricsSource;
  readonly #process = processGauges(SERVER_VERSION);

  /** Metrics reading per-log sizes from `store` (a `WitnessStore`) when rendered. */
  constructor(store: WitnessMetricsSource) {
    this.#store = store;
  }

  /** Count one `add-checkpoint` answer. */
  request(status: number, reason: string): void {
    this.#requests.inc({ status: String(status), reason });
  }

  /** Count one cosigned checkpoint of `origin`. */
  cosigned(origin: string): void {
    this.#cosigned.inc({ origin });
  }

  /** Requests counted with `status` and `reason` (for tests). */
  requests(status: number, reason: string): number {
    return this.#requests.get({ status: String(status), reason });
  }

  /** The exposition text. */
  render(): string {
    const byOrigin = (m: Map<string, number>) =>
      [...m].map(([origin, n]): [Labels, number] => [{ origin }, n]);
    const sizes = renderSeries(
      "witness_log_size",
      "Tree size of the latest checkpoint cosigned, by log origin.",
      "gauge",
      byOrigin(this.#store.cachedSizes()),
    );
    const waiting = renderSeries(
      "witness_waiting_requests",
      "add-checkpoint requests queued or in progress, by log origin.",
      "gauge",
      byOrigin(this.#store.waiting?.() ?? new Map()),
    );
    return this.#requests.render() + this.#cosigned.render() + sizes + waiting +
      this.#process.map((g) => g.render()).join("");
  }
}
