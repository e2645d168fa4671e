/**
 * The console measured in Chromium (headless, over CDP), each figure beside
 * a baseline taken in the same run and the same browser:
 *
 * 1. first load of `/console` (cache off): bytes on the wire (HTML, script,
 *    style and the overview's API calls) and time until the overview is
 *    rendered, beside the load of a 1 KB static page from a loopback server;
 * 2. an entries page (50 rows, a click on "Next page" until rendered),
 *    beside the page's own `fetch` of the same API page;
 * 3. verification of one entry in the browser (the panel's `data-ms`), on a
 *    fresh page (cold code) and of a second entry in the same page (warm),
 *    beside the same verifier run by Deno on the same bundle;
 * 4. a chart of 10,000 points (`timeChart` built, inserted, laid out and
 *    painted), beside 10,000 plain `<span>`s inserted the same way;
 * 5. the issuer view of the 10,000-entry series (every listing page fetched,
 *    two charts drawn), beside the same page fetches alone.
 *
 * The log holds the test fixture's two issuers plus 10,000 drift audits of
 * one more (`--quick`: 2,000), appended before the timing. The 1,000,000-entry
 * figure for the listing API itself is `benchmarks/entries_page.ts`.
 *
 * Run: deno run -A benchmarks/console.ts [--quick]
 * Writes benchmarks/results/console.json.
 *
 * @module
 */
import { Browser, CHROMIUM, type Page } from "../tests/console/_cdp.ts";
import { startConsoleServer } from "../tests/console/_fixture.ts";
import { neededConsistency, verifyEntry } from "../server/console/web/verify.ts";
import { median } from "./_paired.ts";

const quick = Deno.args.includes("--quick");
const BULK = quick ? 2_000 : 10_000;
const ROUNDS = quick ? 3 : 7;
const POINTS = 10_000;
const round = (x: number, d = 1) => Number(x.toFixed(d));

const t0 = performance.now();
const server = await startConsoleServer({ devMode: true, bulk: BULK });
console.error(
  `log of ${server.entries.length + BULK} entries built in ${
    ((performance.now() - t0) / 1000).toFixed(1)
  } s`,
);
const blank = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  () =>
    new Response(
      `<!doctype html><html lang="en"><title>blank</title><p>${"x".repeat(1000)}</p></html>`,
      {
        headers: { "content-type": "text/html" },
      },
    ),
);
const blankUrl = `http://127.0.0.1:${blank.addr.port}/`;

// The chart module alone, for the 10,000-point figure.
const dir = await Deno.makeTempDir();
const entry = `${dir}/chart_entry.ts`;
await Deno.writeTextFile(
  entry,
  `import { timeChart } from ${
    JSON.stringify(new URL("../server/console/web/chart.ts", import.meta.url).href)
  };\n(globalThis as any).__timeChart = timeChart;\n`,
);
const bundled = await new Deno.Command(Deno.execPath(), {
  args: ["bundle", "--quiet", "--platform", "browser", "--format", "iife", entry],
  stdout: "piped",
  stderr: "inherit",
}).output();
await Deno.remove(dir, { recursive: true });
const chartJs = new TextDecoder().decode(bundled.stdout);

const browser = await Browser.launch();
const rows: Record<string, number[]> = {
  firstLoadBytes: [],
  firstLoadMs: [],
  blankLoadMs: [],
  entriesPageMs: [],
  entriesFetchMs: [],
  verifyBrowserMs: [],
  verifyWarmMs: [],
  verifyDenoMs: [],
  chartMs: [],
  spansMs: [],
  firstLoadAssetBytes: [],
  issuerViewMs: [],
  issuerFetchMs: [],
};

async function freshPage(): Promise<Page> {
  const p = await browser.newPage();
  await p.viewport(1200, 900);
  await p.send("Network.setCacheDisabled", { cacheDisabled: true });
  return p;
}

async function untilView(p: Page, view: string): Promise<number> {
  return Number(
    await p.waitFor<string>(
      `(() => { const m = document.getElementById("main");
      return m && m.dataset.view === ${
        JSON.stringify(view)
      } && !m.hasAttribute("aria-busy") && m.dataset.renderedAt; })()`,
      30_000,
    ),
  );
}

try {
  const target = server.entries.find((e) => e.primitive === "drift")!;
  const bundleText = await (await fetch(`${server.origin}/v1/log/entries/${target.index}/bundle`))
    .text();
  const checkpoint = await (await fetch(`${server.origin}/v1/log/checkpoint`)).text();
  const trustStore = await (await fetch(`${server.origin}/v1/trust-store`)).json();
  if (neededConsistency(bundleText, checkpoint) !== null) throw new Error("the log grew mid-run");
  for (let r = 0; r < ROUNDS; r++) {
    // 1. First load vs a blank page.
    const b = await freshPage();
    await b.goto(blankUrl);
    rows.blankLoadMs.push(
      await b.eval<number>(`performance.getEntriesByType("navigation")[0].loadEventStart`),
    );
    await b.send("Page.close");
    const p = await freshPage();
    await p.goto(`${server.origin}/console`);
    rows.firstLoadMs.push(await untilView(p, "Overview"));
    await new Promise((res) => setTimeout(res, 100)); // let the last transfers report
    rows.firstLoadBytes.push(p.transfers.reduce((a, t) => a + t.bytes, 0));
    rows.firstLoadAssetBytes.push(
      p.transfers.filter((t) => !t.url.includes("/v1/")).reduce((a, t) => a + t.bytes, 0),
    );

    // 2. An entries page: click "Next page", until rendered; vs fetching the same API page.
    await p.eval(`document.querySelector("a[href='/console/entries']").click()`);
    await untilView(p, "Entries");
    const apiUrl = await p.eval<string>(
      `(() => { const u = new URL(document.getElementById("next-page").href);
      const q = new URLSearchParams(u.search); q.set("limit", "50"); return "/v1/log/entries?" + q; })()`,
    );
    await p.eval(`performance.clearMeasures(); document.getElementById("next-page").click()`);
    await p.waitFor(`performance.getEntriesByName("view:Entries").length === 1`);
    rows.entriesPageMs.push(
      await p.eval<number>(`performance.getEntriesByName("view:Entries")[0].duration`),
    );
    rows.entriesFetchMs.push(
      await p.eval<number>(`(async () => { const t = performance.now();
      await (await fetch(${JSON.stringify(apiUrl)})).json(); return performance.now() - t; })()`),
    );

    // 3. Verification in the browser vs in Deno.
    await p.goto(
      `${server.origin}/console/entries/${target.index}?logkey=${
        encodeURIComponent(server.logKey)
      }`,
    );
    const ms = await p.waitFor<string>(`document.getElementById("verdict")?.dataset.ms`);
    const verdict = await p.eval<string>(`document.getElementById("verdict").dataset.verdict`);
    if (verdict !== "valid") throw new Error(`entry ${target.index} did not verify: ${verdict}`);
    rows.verifyBrowserMs.push(Number(ms));
    // A second entry in the same page: the verifier's code is warm (what every entry after
    // the first costs).
    const other = server.entries.find((e) => e.primitive === "fairness")!;
    await p.eval(
      `history.pushState(null, "", "/console/entries/${other.index}?logkey=${
        encodeURIComponent(server.logKey)
      }"); dispatchEvent(new Event("regledger:navigate"))`,
    );
    const warm = await p.waitFor<string>(
      `document.getElementById("main").dataset.view === "Entry" && document.querySelector("h1")?.textContent === "Entry ${other.index}" && document.getElementById("verdict")?.dataset.ms`,
    );
    rows.verifyWarmMs.push(Number(warm));
    const tv = performance.now();
    const deno = await verifyEntry({
      bundle: bundleText,
      checkpoint,
      trustStore,
      logKey: server.logKey,
    });
    rows.verifyDenoMs.push(performance.now() - tv);
    if (deno.verdict !== "valid") throw new Error("Deno run of the verifier disagrees");

    // 5. The issuer view of the bulk series (every page fetched, charts drawn) vs the fetches alone.
    await p.eval(`performance.clearMeasures()`);
    await p.eval(
      `history.pushState(null, "", "/console/issuers/bulk-model"); dispatchEvent(new Event("regledger:navigate"))`,
    );
    await p.waitFor(`performance.getEntriesByName("view:Issuer").length === 1`, 60_000);
    rows.issuerViewMs.push(
      await p.eval<number>(`performance.getEntriesByName("view:Issuer")[0].duration`),
    );
    rows.issuerFetchMs.push(
      await p.eval<number>(`(async () => { const t = performance.now(); let c = null;
      do { const q = new URLSearchParams({ issuer: "bulk-model", limit: "1000" }); if (c) q.set("cursor", c);
        const page = await (await fetch("/v1/log/entries?" + q)).json(); c = page.next_cursor; } while (c);
      return performance.now() - t; })()`),
    );

    // 4. 10,000-point chart vs 10,000 spans, built, inserted, laid out and painted.
    await p.eval(chartJs);
    const paint = (build: string) =>
      p.eval<number>(`(async () => {
        document.getElementById("main").replaceChildren();
        await new Promise((r) => requestAnimationFrame(() => r()));
        const t = performance.now();
        const el = (${build})();
        document.getElementById("main").append(el);
        el.getBoundingClientRect();
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        return performance.now() - t; })()`);
    rows.chartMs.push(
      await paint(`() => __timeChart({ title: "bench", threshold: 0.5, points:
      Array.from({ length: ${POINTS} }, (_, i) => ({ t: Date.UTC(2025, 0, 1) + i * 3600e3,
        y: Math.sin(i / 50) + (i % 97 === 0 ? 1 : 0), breached: i % 97 === 0, href: "/console/entries/" + i, label: "entry " + i })) })`),
    );
    rows.spansMs.push(
      await paint(`() => { const d = document.createElement("div");
      for (let i = 0; i < ${POINTS}; i++) { const s = document.createElement("span"); s.textContent = "entry " + i + " "; d.append(s); }
      return d; }`),
    );
    await p.send("Page.close");
  }
} finally {
  await browser.close();
  await blank.shutdown();
  await server.close();
}

const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
const table = [
  [
    "first load, bytes transferred (baseline: the page's own assets)",
    m.firstLoadBytes,
    "≤ 307200",
    m.firstLoadAssetBytes,
    m.firstLoadBytes / m.firstLoadAssetBytes,
  ],
  [
    "first load to interactive, ms",
    m.firstLoadMs,
    "≤ 1000",
    m.blankLoadMs,
    m.firstLoadMs / m.blankLoadMs,
  ],
  [
    "entries page (50 rows), ms",
    m.entriesPageMs,
    "≤ 200",
    m.entriesFetchMs,
    m.entriesPageMs / m.entriesFetchMs,
  ],
  [
    "verify one entry in browser (first, cold), ms",
    m.verifyBrowserMs,
    "≤ 100",
    m.verifyDenoMs,
    m.verifyBrowserMs / m.verifyDenoMs,
  ],
  [
    "verify a second entry in the same page (warm), ms",
    m.verifyWarmMs,
    "≤ 100",
    m.verifyDenoMs,
    m.verifyWarmMs / m.verifyDenoMs,
  ],
  [`chart of ${POINTS} points, ms`, m.chartMs, "≤ 500", m.spansMs, m.chartMs / m.spansMs],
  [
    `issuer view of ${BULK} entries, ms`,
    m.issuerViewMs,
    "—",
    m.issuerFetchMs,
    m.issuerViewMs / m.issuerFetchMs,
  ],
] as const;
console.log(
  `\nconsole in Chromium (medians of ${ROUNDS} rounds; log of ${
    server.entries.length + BULK
  } entries)`,
);
console.log("| figure | value | target | baseline | ratio |\n| --- | ---: | ---: | ---: | ---: |");
for (const [name, v, target, base, ratio] of table) {
  const f = (x: number | string) => (typeof x === "number" ? String(round(x, 2)) : x);
  console.log(`| ${name} | ${f(v)} | ${target} | ${f(base)} | ${f(ratio)} |`);
}
const result = {
  date: new Date().toISOString(),
  deno: Deno.version.deno,
  chromium: new TextDecoder().decode(
    (await new Deno.Command(CHROMIUM, { args: ["--version"], stdout: "piped" }).output()).stdout,
  ).trim(),
  machine: `${navigator.hardwareConcurrency} cores (shared)`,
  load_average_1m: Deno.loadavg()[0],
  quick,
  rounds: ROUNDS,
  log_entries: server.entries.length + BULK,
  first_load_bytes: m.firstLoadBytes,
  first_load_asset_bytes: m.firstLoadAssetBytes,
  first_load_ms: round(m.firstLoadMs),
  baseline_blank_page_load_ms: round(m.blankLoadMs),
  ratio_first_load_to_blank: round(m.firstLoadMs / m.blankLoadMs, 2),
  entries_page_ms: round(m.entriesPageMs),
  baseline_entries_fetch_ms: round(m.entriesFetchMs),
  ratio_entries_page_to_fetch: round(m.entriesPageMs / m.entriesFetchMs, 2),
  verify_browser_ms: round(m.verifyBrowserMs, 2),
  verify_browser_warm_ms: round(m.verifyWarmMs, 2),
  baseline_verify_deno_ms: round(m.verifyDenoMs, 2),
  ratio_verify_browser_to_deno: round(m.verifyBrowserMs / m.verifyDenoMs, 2),
  ratio_verify_warm_to_deno: round(m.verifyWarmMs / m.verifyDenoMs, 2),
  chart_points: POINTS,
  chart_ms: round(m.chartMs),
  baseline_spans_ms: round(m.spansMs),
  ratio_chart_to_spans: round(m.chartMs / m.spansMs, 2),
  issuer_view_entries: BULK,
  issuer_view_ms: round(m.issuerViewMs),
  baseline_issuer_fetch_ms: round(m.issuerFetchMs),
  ratio_issuer_view_to_fetch: round(m.issuerViewMs / m.issuerFetchMs, 2),
  targets: {
    first_load_bytes: 307200,
    first_load_ms: 1000,
    entries_page_ms: 200,
    verify_ms: 100,
    chart_ms: 500,
  },
  rounds_raw: rows,
};
await Deno.writeTextFile(
  new URL("./results/console.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
