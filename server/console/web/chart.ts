/// <reference lib="dom" />
/**
 * A hand-written SVG time-series chart: one statistic over time, its
 * threshold as a dashed line, breaches drawn as larger squares (shape as well
 * as colour), every point a link to its entry with a tooltip title.
 *
 * @module
 */
import { s } from "./dom.ts";
import { num } from "./glossary.ts";
import { navigate } from "./nav.ts";

/** One plotted point. */
export interface ChartPoint {
  /** Time, ms since the epoch. */
  t: number;
  /** Value. */
  y: number;
  /** Whether this entry breached its threshold. */
  breached: boolean;
  /** Where the point links to. */
  href: string;
  /** Text for the tooltip and screen readers. */
  label: string;
}

/** What {@linkcode timeChart} draws. */
export interface ChartSpec {
  title: string;
  points: ChartPoint[];
  threshold?: number;
  /** Draw the threshold at ±threshold (statistics whose magnitude is compared). */
  symmetric?: boolean;
}

const W = 720, H = 240, L = 64, R = 16, T = 16, B = 36;
/** Above this many points, only breaches are separate links. */
export const DENSE = 500;

/** Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]. */
function niceTicks(lo: number, hi: number, n: number): number[] {
  const raw = (hi - lo) / Math.max(1, n - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

function ticks(lo: number, hi: number, n: number): number[] {
  if (hi === lo) return [lo];
  const step = (hi - lo) / (n - 1);
  return Array.from({ length: n }, (_, i) => lo + i * step);
}

/** The chart as an `<svg>` element. */
export function timeChart(spec: ChartSpec): SVGElement {
  const pts = spec.points;
  const ys = pts.map((p) => p.y);
  if (spec.threshold !== undefined) ys.push(spec.threshold);
  if (spec.threshold !== undefined && spec.symmetric) ys.push(-spec.threshold);
  const yLo = Math.min(...ys, 0);
  let yHi = Math.max(...ys);
  if (yHi === yLo) yHi = yLo + 1;
  yHi += (yHi - yLo) * 0.08;
  const tLo = Math.min(...pts.map((p) => p.t)), tHi0 = Math.max(...pts.map((p) => p.t));
  const tHi = tHi0 === tLo ? tLo + 1 : tHi0;
  const x = (t: number) => L + ((t - tLo) / (tHi - tLo)) * (W - L - R);
  const y = (v: number) => T + (1 - (v - yLo) / (yHi - yLo)) * (H - T - B);

  const grid = niceTicks(yLo, yHi, 5).map((v) => [
    s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }),
    s("text", { x: L - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, num(v)),
  ]);
  const tt = ticks(tLo, tHi, pts.length > 1 ? 4 : 1);
  const times = tt.map((t, i) =>
    s(
      "text",
      {
        x: x(t),
        y: H - 12,
        class: "tick",
        "text-anchor": i === 0 ? "start" : i === tt.length - 1 ? "end" : "middle",
      },
      new Date(t).toISOString().slice(0, 10),
    )
  );
  const line = pts.length > 1
    ? s("polyline", {
      class: "series",
      points: pts.map((p) => `${x(p.t).toFixed(1)},${y(p.y).toFixed(1)}`).join(" "),
    })
    : null;
  const levels = spec.threshold === undefined
    ? []
    : spec.symmetric
    ? [spec.threshold, -spec.threshold]
    : [spec.threshold];
  const threshold = levels.map((v) =>
    s(
      "g",
      { class: "threshold" },
      s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) }),
      s("text", { x: W - R - 4, y: y(v) - 4, "text-anchor": "end" }, `threshold ${num(v)}`),
    )
  );
  const link = (p: ChartPoint, mark: SVGElement) =>
    s(
      "a",
      { href: p.href, "data-nav": true, "aria-label": p.label, "data-breached": p.breached },
      s("title", {}, p.label),
      mark,
    );
  const breachMark = (p: ChartPoint) =>
    s("rect", { x: x(p.t) - 5, y: y(p.y) - 5, width: 10, height: 10, class: "point breach" });
  // Up to DENSE points each point is a link. Past that the points are closer
  // than a pointer can tell apart: within-threshold points become one path
  // (a click opens the nearest entry), breaches stay links.
  const dense = pts.length > DENSE;
  const marks = dense
    ? [
      s("path", {
        class: "point",
        d: pts.filter((p) => !p.breached).map((p) =>
          `M${(x(p.t) - 1.5).toFixed(1)} ${(y(p.y) - 1.5).toFixed(1)}h3v3h-3z`
        ).join(""),
      }),
      pts.filter((p) => p.breached).map((p) => link(p, breachMark(p))),
    ]
    : pts.map((p) =>
      link(
        p,
        p.breached
          ? breachMark(p)
          : s("circle", { cx: x(p.t), cy: y(p.y), r: 3.5, class: "point" }),
      )
    );
  const breaches = pts.filter((p) => p.breached).length;
  const svg = s(
    "svg",
    {
      viewBox: `0 0 ${W} ${H}`,
      class: "chart",
      role: "group",
      "aria-label": `${spec.title}: ${pts.length} points, ${breaches} breaches`,
      "data-points": pts.length,
      "data-breaches": breaches,
    },
    s("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }),
    s("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }),
    grid,
    times,
    threshold,
    line,
    s("g", { class: "marks" }, marks),
  );
  if (dense) {
    svg.addEventListener("click", (ev) => {
      if ((ev.target as Element).closest("a")) return;
      const box = svg.getBoundingClientRect();
      const t = tLo + (((ev.clientX - box.left) / box.width) * W - L) / (W - L - R) * (tHi - tLo);
      let best = pts[0];
      for (const p of pts) if (Math.abs(p.t - t) < Math.abs(best.t - t)) best = p;
      navigate(best.href);
    });
  }
  return svg;
}

/** A bar chart of counts per day (the overview's submissions over time). */
export function dayBars(title: string, days: [string, number][]): SVGElement {
  const most = Math.max(1, ...days.map(([, n]) => n));
  // The axis ends on a round tick at or above the highest bar.
  const marks = niceTicks(0, most, 4);
  const step = marks.length > 1 ? marks[1] - marks[0] : 1;
  const max = marks.at(-1)! >= most ? marks.at(-1)! : marks.at(-1)! + step;
  if (max !== marks.at(-1)) marks.push(max);
  const bw = (W - L - R) / Math.max(1, days.length);
  const y = (v: number) => T + (1 - v / max) * (H - T - B);
  return s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title },
    s("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }),
    marks.map((v) =>
      s("text", { x: L - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, num(v))
    ),
    days.map(([d, n], i) =>
      s(
        "rect",
        {
          x: L + i * bw + 1,
          y: y(n),
          width: Math.max(1, bw - 2),
          height: H - B - y(n),
          class: "bar",
        },
        s("title", {}, `${d}: ${n}`),
      )
    ),
    days.length > 0
      ? [
        s("text", { x: L, y: H - 12, class: "tick" }, days[0][0]),
        s("text", { x: W - R, y: H - 12, class: "tick", "text-anchor": "end" }, days.at(-1)![0]),
      ]
      : null,
  );
}
