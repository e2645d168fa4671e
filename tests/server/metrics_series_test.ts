/**
 * Families whose series are read at render time share one renderer
 * (`renderSeries` in server/metrics.ts): the exposition text of the
 * single-series gauges, the log server's per-witness gauges and the
 * witness's per-log gauges, byte for byte, including how odd names are made
 * safe (escaped per the text format; per-witness gauges replace `\`, `"` and
 * newlines with `_`).
 */
import assert from "node:assert/strict";
import { Gauge, renderSeries } from "../../server/metrics.ts";
import { WitnessMetrics as LogWitnessingMetrics } from "../../server/witnessing_metrics.ts";
import { WitnessMetrics } from "../../server/witness/metrics.ts";

Deno.test("renderSeries: header, one line per series, labels escaped, +Inf", () => {
  assert.equal(
    renderSeries("x", "X.", "counter", [[{ a: 'q"\\\n' }, Infinity], [{}, -1]]),
    '# HELP x X.\n# TYPE x counter\nx{a="q\\"\\\\\\n"} +Inf\nx -1\n',
  );
  assert.equal(renderSeries("y", "Y.", "gauge", []), "# HELP y Y.\n# TYPE y gauge\n");
  assert.equal(
    new Gauge("g", "G.", () => 3, "gauge", { v: "1" }).render(),
    '# HELP g G.\n# TYPE g gauge\ng{v="1"} 3\n',
  );
});

Deno.test("the witness's per-log gauges: origins escaped as the text format says", () => {
  const m = new WitnessMetrics({
    cachedSizes: () => new Map([["a.example/log", 42], ['b"\\.example', 7]]),
    waiting: () => new Map([["a.example/log", 2]]),
  });
  const text = m.render();
  assert.ok(
    text.includes(
      "# HELP witness_log_size Tree size of the latest checkpoint cosigned, by log origin.\n" +
        "# TYPE witness_log_size gauge\n" +
        'witness_log_size{origin="a.example/log"} 42\n' +
        'witness_log_size{origin="b\\"\\\\.example"} 7\n' +
        "# HELP witness_waiting_requests add-checkpoint requests queued or in progress, by log origin.\n" +
        "# TYPE witness_waiting_requests gauge\n" +
        'witness_waiting_requests{origin="a.example/log"} 2\n',
    ),
    text,
  );
});

Deno.test("the log server's per-witness gauges: odd witness names become _; unlabelled gauges", () => {
  const m = new LogWitnessingMetrics(() => ({
    quorum: 1,
    log_size: 10,
    witnessed_size: null,
    lag: 10,
    split_view: true,
    witnesses: [
      { name: "w1", url: "http://w1", size: 8, cosigned_size: 8, lag: 2, state: "ok", failures: 0 },
      {
        name: 'w"2\\',
        url: "http://w2",
        size: 9,
        cosigned_size: 0,
        lag: 10,
        state: "split-view",
        failures: 3,
      },
    ],
  }));
  m.failures.inc({ witness: 'w"2\\', reason: "unavailable" });
  const text = m.render();
  // The gauges and the counters of one witness carry the same label (a query can join them).
  assert.ok(
    text.includes('regledger_witness_failures_total{witness="w\\"2\\\\",reason="unavailable"} 1\n'),
    text,
  );
  const want = [
    "# TYPE regledger_witness_lag_entries gauge\n" +
    'regledger_witness_lag_entries{witness="w1"} 2\n' +
    'regledger_witness_lag_entries{witness="w\\"2\\\\"} 10\n',
    'regledger_witness_size{witness="w1"} 8\nregledger_witness_size{witness="w\\"2\\\\"} 9\n',
    'regledger_witness_split_view{witness="w1"} 0\nregledger_witness_split_view{witness="w\\"2\\\\"} 1\n',
    "# TYPE regledger_witnessed_tree_size gauge\nregledger_witnessed_tree_size -1\n",
    "# TYPE regledger_witness_quorum_lag_entries gauge\nregledger_witness_quorum_lag_entries 10\n",
  ];
  for (const w of want) assert.ok(text.includes(w), `${w}\nnot in\n${text}`);
});
