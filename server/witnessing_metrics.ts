/**
 * Prometheus series of the log server's witnessing (`server/witnessing.ts`):
 * requests and failures per witness, request latency, and, read when
 * scraped, each witness's lag and split-view flag and the published
 * checkpoint's size and lag.
 *
 * @module
 */
import { Counter, Histogram, type Labels, LATENCY_BUCKETS, renderSeries } from "./metrics.ts";
import type { WitnessingStatus } from "./witnessing.ts";

function gauge(name: string, help: string, series: [Labels, number][]): string {
  return renderSeries(name, help, "gauge", series);
}

/**
 * The witnessing metric families; `render()` gives their exposition text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WitnessMetrics } from "./witnessing_metrics.ts";
 * const m = new WitnessMetrics(() => ({
 *   quorum: 1, log_size: 10, witnessed_size: 8, lag: 2, split_view: false,
 *   witnesses: [{ name: "w1", url: "http://w1", size: 8, cosigned_size: 8, lag: 2,
 *     state: "ok", failures: 0 }],
 * }));
 * m.failures.inc({ witness: "w1", reason: "unavailable" });
 * assert.match(m.render(), /^regledger_witness_lag_entries\{witness="w1"\} 2$/m);
 * assert.match(m.render(), /^regledger_witness_failures_total\{witness="w1",reason="unavailable"\} 1$/m);
 * ```
 */
export class WitnessMetrics {
  /** `add-checkpoint` requests by witness and outcome. */
  readonly requests: Counter = new Counter(
    "regledger_witness_requests_total",
    "add-checkpoint requests to each witness, by outcome (cosigned, conflict, split-view, refused, unavailable).",
  );
  /** Failed rounds by witness and reason. */
  readonly failures: Counter = new Counter(
    "regledger_witness_failures_total",
    "Failed add-checkpoint rounds per witness, by reason (unavailable, split-view, witness-ahead, unknown-log, bad-signature, malformed, bad-cosignature, conflict, error).",
  );
  /** Request latency by witness. */
  readonly latency: Histogram = new Histogram(
    "regledger_witness_request_duration_seconds",
    "add-checkpoint request latency in seconds, per witness.",
    LATENCY_BUCKETS,
  );
  /**
   * Where the time of witnessing goes, by phase: per `wait=witnessed`
   * request `append`, `wait_for_round`, `round_to_quorum`, `receipt` (they
   * add up to `total`); per round `round_start_to_send` (per witness) and
   * `round_start_to_quorum`.
   */
  readonly phases: Histogram = new Histogram(
    "regledger_witnessed_phase_seconds",
    "Time of witnessing by phase, in seconds: per wait=witnessed request append, wait_for_round, round_to_quorum, receipt and their total; per round round_start_to_send (per witness request) and round_start_to_quorum.",
    LATENCY_BUCKETS,
  );
  readonly #status: () => WitnessingStatus;

  /** Families whose gauges read `status` when rendered. */
  constructor(status: () => WitnessingStatus) {
    this.#status = status;
  }

  /** Exposition text of every family. */
  render(): string {
    const st = this.#status();
    const per = (f: (w: WitnessingStatus["witnesses"][number]) => number) =>
      // Labelled by the name as the counters are (escaped when rendered), so they join.
      st.witnesses.map((w): [Labels, number] => [{ witness: w.name }, f(w)]);
    return [
      this.requests.render(),
      this.failures.render(),
      this.latency.render(),
      this.phases.render(),
      gauge(
        "regledger_witness_lag_entries",
        "Entries of the log a witness has not cosigned yet (log size minus the largest size it cosigned).",
        per((w) => w.lag),
      ),
      gauge(
        "regledger_witness_size",
        "The tree size each witness holds for this log, as last learnt.",
        per((w) => w.size),
      ),
      gauge(
        "regledger_witness_split_view",
        "1 while a witness shows a different tree of this log (split view or rollback), else 0.",
        per((w) => (w.state === "split-view" ? 1 : 0)),
      ),
      gauge(
        "regledger_witnessed_tree_size",
        "Size of the newest checkpoint cosigned by the witness quorum (-1 before the first).",
        [[{}, st.witnessed_size ?? -1]],
      ),
      gauge(
        "regledger_witness_quorum_lag_entries",
        "Log entries not yet covered by a quorum-cosigned checkpoint.",
        [[{}, st.lag]],
      ),
    ].join("");
  }
}
