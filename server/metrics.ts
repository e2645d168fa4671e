/**
 * Prometheus metrics (text exposition format 0.0.4), kept per app instance:
 * counters and histograms with labels, rendered on demand. No module state.
 *
 * Group-commit figures come from the ledger's own `onCommit` hook
 * ({@linkcode ServerMetrics.recordCommit}); the process series (resident
 * memory, CPU seconds, build info) are read when `/metrics` is scraped.
 *
 * @module
 */
import process from "node:process";
import type { CommitInfo } from "../ledger/ledger.ts";
import { SERVER_VERSION } from "./version.ts";

/** Default latency buckets in seconds (1 ms … 10 s). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** Buckets for group-commit batch sizes (entries per KV commit). */
export const BATCH_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** Metric labels: name → value. */
export type Labels = Record<string, string>;

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabel(v: string): string {
  // Label values are almost always plain (methods, route patterns, statuses).
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  return "{" + keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(",") + "}";
}

function fmt(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return Number.isNaN(n) ? "NaN" : String(n);
}

/** A family's `# HELP` and `# TYPE` lines. */
function familyHeader(name: string, help: string, type: "counter" | "gauge" | "histogram"): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

/**
 * Exposition text of a family whose series are read at render time (a
 * {@linkcode Gauge} has one; per-witness or per-log gauges have one a
 * witness or log), labels escaped as in every family.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderSeries } from "./metrics.ts";
 * assert.equal(
 *   renderSeries("lag", "Lag.", "gauge", [[{ log: 'a"b' }, 2], [{ log: "c" }, 0]]),
 *   '# HELP lag Lag.\n# TYPE lag gauge\nlag{log="a\\"b"} 2\nlag{log="c"} 0\n',
 * );
 * ```
 */
export function renderSeries(
  name: string,
  help: string,
  type: "counter" | "gauge",
  series: Iterable<readonly [Labels, number]>,
): string {
  let s = familyHeader(name, help, type);
  for (const [labels, v] of series) s += `${name}${labelText(labels)} ${fmt(v)}\n`;
  return s;
}

/**
 * A counter family with labels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Counter } from "./metrics.ts";
 * const c = new Counter("jobs_total", "Jobs done.");
 * c.inc({ kind: "a" });
 * c.inc({ kind: "a" }, 2);
 * assert.equal(c.get({ kind: "a" }), 3);
 * assert.equal(c.render(), '# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total{kind="a"} 3\n');
 * ```
 */
export class Counter {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  /** Build a counter named `name` with help text `help`. */
  constructor(readonly name: string, readonly help: string) {}
  /** Add `by` (default 1) to the series with `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const s = this.#values.get(key);
    if (s) s.value += by;
    else this.#values.set(key, { labels, value: by });
  }
  /** Current value of the series with `labels` (0 if never incremented). */
  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels))?.value ?? 0;
  }
  /** Exposition text. */
  render(): string {
    let s = familyHeader(this.name, this.help, "counter");
    for (const [k, v] of this.#values) s += `${this.name}${k} ${fmt(v.value)}\n`;
    return s;
  }
}

interface HistSeries {
  labels: Labels;
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A histogram family with labels and fixed buckets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Histogram } from "./metrics.ts";
 * const h = new Histogram("size", "Sizes.", [1, 10]);
 * h.observe(3);
 * h.observe(30);
 * assert.equal(h.count(), 2);
 * assert.match(h.render(), /^size_bucket\{le="10"\} 1$/m); // cumulative
 * assert.match(h.render(), /^size_bucket\{le="\+Inf"\} 2$/m);
 * ```
 */
export class Histogram {
  readonly #series = new Map<string, HistSeries>();
  /** Build a histogram with upper bounds `buckets` (ascending). */
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}
  /** Record one observation. */
  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { labels, counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  /** Number of observations of the series with `labels`. */
  count(labels: Labels = {}): number {
    return this.#series.get(labelText(labels))?.count ?? 0;
  }
  /** Exposition text (cumulative buckets, `+Inf`, `_sum`, `_count`). */
  render(): string {
    let out = familyHeader(this.name, this.help, "histogram");
    for (const s of this.#series.values()) {
      for (let i = 0; i < this.buckets.length; i++) {
        const l = labelText({ ...s.labels, le: fmt(this.buckets[i]) });
        out += `${this.name}_bucket${l} ${s.counts[i]}\n`;
      }
      out += `${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}\n`;
      out += `${this.name}_sum${labelText(s.labels)} ${fmt(s.sum)}\n`;
      out += `${this.name}_count${labelText(s.labels)} ${s.count}\n`;
    }
    return out;
  }
}

/**
 * A gauge whose value is read when rendered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gauge } from "./metrics.ts";
 * let queued = 4;
 * const g = new Gauge("queued", "Queued jobs.", () => queued);
 * queued = 5;
 * assert.equal(g.render(), "# HELP queued Queued jobs.\n# TYPE queued gauge\nqueued 5\n");
 * ```
 */
export class Gauge {
  /**
   * Build a gauge that calls `read` at render time.
   *
   * @param type the exposition type: a value read from elsewhere that only
   *   grows (CPU seconds) is a `counter`. @default {"gauge"}
   * @param labels constant labels of the one series. @default {{}}
   */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => number,
    readonly type: "gauge" | "counter" = "gauge",
    readonly labels: Labels = {},
  ) {}
  /** Exposition text. */
  render(): string {
    return renderSeries(this.name, this.help, this.type, [[this.labels, this.read()]]);
  }
}

/**
 * The standard process series of Prometheus client libraries, read at
 * render time: `process_resident_memory_bytes`, `process_cpu_seconds_total`
 * (user + system) and `process_start_time_seconds`, plus
 * `regledger_build_info{version, runtime}` (always 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { processGauges } from "./metrics.ts";
 * const text = processGauges("1.2.3").map((g) => g.render()).join("");
 * assert.match(text, /^process_resident_memory_bytes \d+$/m);
 * assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
 * assert.match(text, /^regledger_build_info\{version="1\.2\.3",runtime="[^"]+"\} 1$/m);
 * ```
 */
export function processGauges(version: string): Gauge[] {
  const runtime = typeof Deno !== "undefined" ? `deno ${Deno.version.deno}` : "unknown";
  const started = Math.round(Date.now() - performance.now()) / 1000;
  return [
    new Gauge(
      "process_resident_memory_bytes",
      "Resident memory size in bytes.",
      () => Deno.memoryUsage().rss,
    ),
    new Gauge("process_cpu_seconds_total", "Total user and system CPU time in seconds.", () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    }, "counter"),
    new Gauge(
      "process_start_time_seconds",
      "Start time of the process since the Unix epoch in seconds.",
      () => started,
    ),
    new Gauge(
      "regledger_build_info",
      "The running regledger version and runtime (value 1).",
      () => 1,
      "gauge",
      { version, runtime },
    ),
  ];
}

/**
 * The server's metric families, the process series, and any gauges added.
 *
 * @example Group commits from the ledger's `onCommit` hook
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerMetrics } from "./metrics.ts";
 * const metrics = new ServerMetrics();
 * // openLedger({ dataDir, onCommit: (info) => metrics.recordCommit(info) }) calls, per commit:
 * metrics.recordCommit({ tree_size: 8, entries: 8, attempts: 2 });
 * assert.equal(metrics.batches.count(), 1);
 * assert.match(metrics.render(), /^regledger_group_commit_retries_total 1$/m);
 * ```
 */
export class ServerMetrics {
  /** Requests by method, route pattern and status. */
  readonly requests: Counter = new Counter(
    "regledger_http_requests_total",
    "HTTP requests by method, route pattern and status.",
  );
  /** Request latency by method and route pattern. */
  readonly latency: Histogram = new Histogram(
    "regledger_http_request_duration_seconds",
    "HTTP request latency in seconds by method and route pattern.",
    LATENCY_BUCKETS,
  );
  /** Appends by outcome (`new` or `existing`). */
  readonly appends: Counter = new Counter(
    "regledger_appends_total",
    "Envelopes appended to the log, by outcome (new entry or existing).",
  );
  /** Rejected submissions by typed reason. */
  readonly rejections: Counter = new Counter(
    "regledger_verification_failures_total",
    "Envelopes rejected by verification, by typed reason.",
  );
  /** Trust-store reloads by result. */
  readonly reloads: Counter = new Counter(
    "regledger_trust_store_reloads_total",
    "Trust-store reloads by result (ok or error).",
  );
  /** Group-commit batch sizes as reported by the ledger's `onCommit` hook. */
  readonly batches: Histogram = new Histogram(
    "regledger_group_commit_batch_size",
    "Entries written per ledger commit (group commit), from the ledger's onCommit hook.",
    BATCH_BUCKETS,
  );
  /** Commit attempts that lost to another writer and were retried. */
  readonly commitRetries: Counter = new Counter(
    "regledger_group_commit_retries_total",
    "Group-commit attempts retried because another writer committed first.",
  );
  readonly #gauges: Gauge[] = processGauges(SERVER_VERSION);
  readonly #families: { render(): string }[] = [];

  /** Add a gauge read at render time. */
  addGauge(g: Gauge): void {
    this.#gauges.push(g);
  }

  /** Add metric families rendered after the built-in ones (e.g. the witnessing's). */
  addFamilies(f: { render(): string }): void {
    this.#families.push(f);
  }

  /**
   * Record one group commit: pass this as the ledger's `onCommit`
   * (`openLedger({ onCommit: (i) => metrics.recordCommit(i) })`).
   */
  recordCommit(info: CommitInfo): void {
    this.batches.observe(info.entries);
    if (info.attempts > 1) this.commitRetries.inc({}, info.attempts - 1);
  }

  /** The whole exposition text. */
  render(): string {
    return [
      this.requests.render(),
      this.latency.render(),
      this.appends.render(),
      this.rejections.render(),
      this.reloads.render(),
      this.batches.render(),
      this.commitRetries.render(),
      ...this.#gauges.map((g) => g.render()),
      ...this.#families.map((f) => f.render()),
    ].join("");
  }
}
