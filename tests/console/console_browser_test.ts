/**
 * The console in a real browser (Debian's Chromium, headless, over CDP):
 * the token prompt after a 401, the overview, filtering and paging entries,
 * an entry verified in the browser, the same entry through tampering
 * proxies, an issuer's charts, keyboard use, 200% zoom and axe-core.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Browser, type Page } from "./_cdp.ts";
import {
  type ConsoleServer,
  cosigningProxy,
  startConsoleServer,
  type Tamper,
  tamperingProxy,
} from "./_fixture.ts";
import { dialogOpen, open, screenshotDir, seriousViolations, viewReady } from "./_session.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { fixtureText, TOKENS } from "../server/_helpers.ts";

const ids = (xs: { index: number }[]) => xs.map((x) => x.index).sort((a, b) => a - b);

async function tableIndexes(page: Page): Promise<number[]> {
  return await page.eval<number[]>(
    `[...document.querySelectorAll("#entries-table tbody tr td:first-child")].map((td) => Number(td.textContent))`,
  );
}

async function verdict(page: Page): Promise<{ verdict: string; reason: string | null }> {
  return JSON.parse(
    await page.waitFor<string>(`(() => { const v = document.getElementById("verdict");
      return v && v.dataset.verdict !== "pending" && JSON.stringify({ verdict: v.dataset.verdict, reason: v.dataset.reason ?? null }); })()`),
  );
}

/** No request left the origin, and the page logged no script or CSP error. */
function assertClean(page: Page, origin: string): void {
  const foreign = page.transfers.filter((t) =>
    !t.url.startsWith(origin) && !t.url.startsWith("data:")
  );
  assert.deepEqual(foreign, []);
  // 401s and 404s are answers the console handles; anything else is a failure.
  const errors = page.log.errors.filter((e) => !/status of (401|403|404)/.test(e));
  assert.deepEqual(errors, []);
}

Deno.test("console in Chromium: bearer token, views, verification, tampering, charts, a11y", async (t) => {
  const server: ConsoleServer = await startConsoleServer();
  const browser = await Browser.launch();
  const shots = await screenshotDir();
  const { origin, token, entries } = server;
  const keyParam = `logkey=${encodeURIComponent(server.logKey)}`;
  try {
    const page = await browser.newPage();
    await page.viewport(1200, 900);

    await t.step(
      "a 401 opens the token prompt; the token is kept in sessionStorage only",
      async () => {
        await page.goto(`${origin}/console`);
        await page.waitFor(`!!document.querySelector("dialog#token-dialog[open]")`);
        await page.screenshot(`${shots.dir}/token.png`);
        assert.equal(await page.eval(`document.activeElement.id`), "token-input");
        await page.type(token);
        await page.press("Enter");
        await viewReady(page, "Overview");
        assert.equal(await page.eval(`sessionStorage.getItem("regledger.console.token")`), token);
        // The header says what the token allows (GET /v1/whoami).
        await page.waitFor(
          `document.getElementById("token-scopes")?.textContent.includes("admin")`,
        );
        assert.match(
          await page.eval<string>(`document.getElementById("token-scopes").textContent`),
          /you can .*browse and verify entries/,
        );
        assert.equal(
          await page.eval(
            `Object.keys(localStorage).some((k) => localStorage.getItem(k).includes(${
              JSON.stringify(token)
            }))`,
          ),
          false,
        );
      },
    );

    await t.step("overview: log size, checkpoint signatures, issuers and primitives", async () => {
      assert.equal(
        await page.eval(`document.getElementById("log-size").textContent`),
        String(entries.length),
      );
      const sigs = await page.eval<string[][]>(
        `[...document.querySelectorAll("table")].find((t) => t.caption.textContent.startsWith("Signatures"))
          .querySelectorAll("tbody tr").values().map((r) => [...r.cells].map((c) => c.textContent)).toArray()`,
      );
      assert.deepEqual(sigs.map((r) => r[3]).sort(), ["Ed25519", "ML-DSA-44"]);
      const issuers = await page.eval<string[]>(
        `[...document.querySelectorAll("a[href^='/console/issuers/']")].map((a) => a.textContent)`,
      );
      assert.deepEqual(issuers, [...new Set(entries.map((e) => e.issuer))].sort());
      await page.screenshot(`${shots.dir}/overview.png`);
      assertClean(page, origin);
    });

    await t.step(
      "entries: filters by issuer, primitive, breach and time, state in the URL",
      async () => {
        await open(page, `${origin}/console/entries`, "Entries");
        assert.deepEqual(await tableIndexes(page), ids(entries));
        await page.eval(`document.getElementById("f-issuer").value = "acme-bank";
        document.getElementById("f-primitive").value = "drift";
        document.getElementById("f-breached").value = "true";
        document.getElementById("f-apply").click()`);
        await page.waitFor(
          `location.search.includes("breached=true") && document.getElementById("main").dataset.view === "Entries" && !document.getElementById("main").hasAttribute("aria-busy")`,
        );
        const want = entries.filter((e) =>
          e.issuer === "acme-bank" && e.primitive === "drift" && e.breached
        );
        assert.ok(want.length > 0);
        assert.deepEqual(await tableIndexes(page), ids(want));
        await page.screenshot(`${shots.dir}/entries.png`);
        // The URL alone reproduces the view, time range included (`to` is an inclusive day).
        const days = [...new Set(entries.map((e) => e.envelope.issued_at.slice(0, 10)))].sort();
        const [from, to] = [days[2], days[4]];
        await open(page, `${origin}/console/entries?from=${from}&to=${to}`, "Entries");
        const inRange = entries.filter((e) =>
          e.envelope.issued_at.slice(0, 10) >= from && e.envelope.issued_at.slice(0, 10) <= to
        );
        assert.deepEqual(await tableIndexes(page), ids(inRange));
        assert.equal(await page.eval(`document.getElementById("f-from").value`), from);
      },
    );

    await t.step("entries: cursor pagination visits every entry once", async () => {
      await open(page, `${origin}/console/entries?limit=7`, "Entries");
      const seen: number[] = [];
      for (let pages = 0; pages < 20; pages++) {
        seen.push(...await tableIndexes(page));
        const next = await page.eval<string | null>(
          `document.getElementById("next-page")?.getAttribute("href") ?? null`,
        );
        if (next === null) break;
        assert.match(next, /cursor=.*limit=7|limit=7.*cursor=/);
        await page.eval(`document.getElementById("next-page").click()`);
        await page.waitFor(
          `location.search.includes("cursor=") && !document.getElementById("main").hasAttribute("aria-busy") && document.getElementById("main").dataset.renderedAt`,
        );
        await page.waitFor(`!document.getElementById("main").hasAttribute("aria-busy")`);
      }
      assert.deepEqual(seen.sort((a, b) => a - b), ids(entries));
    });

    const target = entries.find((e) => e.primitive === "drift" && e.breached)!;

    await t.step(
      "entry: pin the log key once, then the browser verifies the entry: valid",
      async () => {
        await open(page, `${origin}/console/entries/${target.index}`, "Entry");
        assert.deepEqual(await verdict(page), { verdict: "invalid", reason: "no_pinned_key" });
        await page.eval(`document.getElementById("logkey-input").focus()`);
        await page.type(server.logKey);
        await page.press("Enter");
        await page.waitFor(`document.getElementById("verdict").dataset.verdict === "valid"`);
        assert.equal(
          await page.eval(`localStorage.getItem("regledger.console.logkey")`),
          server.logKey,
        );
        // Every check shown passed, and the result table shows the signed statistics.
        assert.equal(
          await page.eval(`document.querySelectorAll("#checks li[data-ok=false]").length`),
          0,
        );
        const shown = await page.eval<string>(
          `document.getElementById("result-table").textContent`,
        );
        assert.ok(shown.includes("drift_bit") && shown.includes("yes"));
        await page.screenshot(`${shots.dir}/entry.png`);
        // Pinned: a fresh load verifies without asking.
        await open(page, `${origin}/console/entries/${target.index}`, "Entry");
        assert.equal((await verdict(page)).verdict, "valid");
        assertClean(page, origin);
      },
    );

    await t.step(
      "entry: a link's ?logkey= that is not the log's key fails the checkpoint check",
      async () => {
        const other = server.logKey.replace(/\+([0-9a-f]{8})\+/, "+00000000+");
        await open(
          page,
          `${origin}/console/entries/${target.index}?logkey=${
            encodeURIComponent("other.example/log" + other.slice(other.indexOf("+")))
          }`,
          "Entry",
        );
        const v = await verdict(page);
        assert.equal(v.verdict, "invalid");
        assert.ok(v.reason !== null && v.reason !== "no_pinned_key");
      },
    );

    for (
      const [tamper, failing] of [["result", /envelope|hash|leaf|signature/], [
        "proof",
        /inclusion/,
      ]] as [Tamper, RegExp][]
    ) {
      await t.step(
        `a tampering proxy (${tamper}) makes the verdict invalid, naming the check`,
        async () => {
          const proxy = tamperingProxy(origin, tamper);
          try {
            const p2 = await browser.newPage();
            await p2.viewport(1200, 900);
            await open(
              p2,
              `${proxy.origin}/console/entries/${target.index}?${keyParam}`,
              "Entry",
              token,
            );
            const v = await verdict(p2);
            assert.equal(v.verdict, "invalid");
            assert.match(v.reason ?? "", failing);
            const failed = await p2.eval<string[]>(
              `[...document.querySelectorAll("#checks li[data-ok=false]")].map((li) => li.dataset.check)`,
            );
            assert.ok(failed.includes(v.reason!));
            assert.match(
              await p2.eval<string>(`document.getElementById("verdict").textContent`),
              /^Invalid: /,
            );
            if (tamper === "result") await p2.screenshot(`${shots.dir}/entry-tampered.png`);
            await p2.send("Page.close");
          } finally {
            await proxy.close();
          }
        },
      );
    }

    await t.step(
      "a cosigned checkpoint: the overview lists the witness's cosignature, entries still verify",
      async () => {
        const proxy = await cosigningProxy(origin, "witness.example/w1");
        try {
          const p4 = await browser.newPage();
          await p4.viewport(1200, 900);
          await open(p4, `${proxy.origin}/console`, "Overview", token);
          const rows = await p4.eval<string[][]>(
            `[...document.querySelectorAll("table")].find((t) => t.caption.textContent.startsWith("Signatures"))
            .querySelectorAll("tbody tr").values().map((r) => [...r.cells].map((c) => c.textContent)).toArray()`,
          );
          const cosig = rows.filter((r) => r[0] === "witness.example/w1");
          assert.equal(cosig.length, 1);
          assert.match(cosig[0][2], /^cosignature \(witness\), \d{4}-\d{2}-\d{2} /);
          assert.equal(cosig[0][3], "Ed25519 (cosignature/v1)");
          assert.equal(
            await p4.eval(
              `document.querySelector("dl.facts").textContent.includes("Cosignatures1")`,
            ),
            true,
          );
          await open(p4, `${proxy.origin}/console/entries/${target.index}?${keyParam}`, "Entry");
          assert.deepEqual(
            await verdict(p4),
            { verdict: "valid", reason: null },
            await p4.eval(`document.getElementById("verdict").textContent`),
          );
          await p4.send("Page.close");
        } finally {
          await proxy.close();
        }
      },
    );

    await t.step(
      "issuer: one chart per statistic, a point per entry, breaches marked, points open entries",
      async () => {
        await open(page, `${origin}/console/issuers/acme-bank`, "Issuer");
        for (const primitive of ["drift", "fairness"]) {
          const mine = entries.filter((e) => e.issuer === "acme-bank" && e.primitive === primitive);
          const charts = await page.eval<{ points: number; breaches: number; marked: number }[]>(
            `[...document.querySelectorAll("section[data-primitive=${primitive}] svg.chart")].map((svg) => ({
            points: Number(svg.dataset.points), breaches: Number(svg.dataset.breaches),
            marked: svg.querySelectorAll("a[data-breached] rect.breach").length }))`,
          );
          assert.ok(charts.length >= 1);
          for (const c of charts) {
            assert.equal(c.points, mine.length);
            assert.equal(c.breaches, mine.filter((e) => e.breached).length);
            assert.equal(c.marked, c.breaches);
          }
        }
        const threshold = await page.eval<string>(
          `document.querySelector("section[data-primitive=drift] figure[data-statistic=distance] .threshold text").textContent`,
        );
        assert.equal(threshold, "threshold 0.005");
        await page.screenshot(`${shots.dir}/issuer.png`);
        // A point is a link: keyboard focus + Enter opens its entry.
        const href = await page.eval<string>(
          `(() => { const a = document.querySelector("section[data-primitive=drift] svg a"); a.focus(); return a.getAttribute("href"); })()`,
        );
        await page.press("Enter");
        await viewReady(page, "Entry");
        assert.equal(await page.eval(`location.pathname`), href);
      },
    );

    await t.step("trust store: issuer keys and the log's verifier keys", async () => {
      await open(page, `${origin}/console/trust`, "Trust store");
      const ids = await page.eval<string[]>(
        `[...document.querySelectorAll("table tbody tr td:first-child")].map((td) => td.textContent)`,
      );
      assert.ok(ids.includes(entries[0].envelope.receipt.key_id), ids.join(","));
      const keys = await page.eval<string[]>(
        `[...document.querySelectorAll("ul.keys code")].map((c) => c.textContent)`,
      );
      assert.ok(keys.includes(server.logKey));
      await page.screenshot(`${shots.dir}/trust.png`);
    });

    await t.step("a read-only token: the header says what it allows", async () => {
      const p3 = await browser.newPage();
      await open(p3, `${origin}/console/entries`, "Entries", TOKENS["ledger:read"]);
      await p3.waitFor(
        `document.getElementById("token-scopes")?.textContent.includes("ledger:read")`,
      );
      assert.match(
        await p3.eval<string>(`document.getElementById("token-scopes").textContent`),
        /^Token scopes: ledger:read — you can browse and verify entries$/,
      );
      await p3.send("Page.close");
    });

    await t.step("keyboard: skip link, main navigation and headings take focus", async () => {
      await open(page, `${origin}/console`, "Overview");
      await page.press("Tab");
      assert.equal(await page.eval(`document.activeElement.textContent`), "Skip to content");
      await page.press("Tab");
      assert.equal(await page.eval(`document.activeElement.textContent`), "Overview");
      await page.press("Tab");
      assert.equal(await page.eval(`document.activeElement.textContent`), "Entries");
      await page.press("Enter");
      await viewReady(page, "Entries");
      assert.equal(await page.eval(`document.activeElement.tagName`), "H1");
      // From the heading, Tab reaches the first filter field.
      await page.press("Tab");
      assert.equal(await page.eval(`document.activeElement.id`), "f-issuer");
      await page.type("globex-health");
      await page.eval(`document.getElementById("f-apply").focus()`);
      await page.press("Enter");
      await page.waitFor(
        `location.search.includes("issuer=globex-health") && !document.getElementById("main").hasAttribute("aria-busy")`,
      );
      assert.deepEqual(
        await tableIndexes(page),
        ids(entries.filter((e) => e.issuer === "globex-health")),
      );
    });

    await t.step("200% zoom: every view reflows without horizontal scrolling", async () => {
      await page.viewport(640, 800, 2);
      for (
        const [path, view] of [["/console", "Overview"], ["/console/entries", "Entries"], [
          `/console/entries/${target.index}`,
          "Entry",
        ], ["/console/issuers/acme-bank", "Issuer"]]
      ) {
        await open(page, origin + path, view);
        const [sw, cw] = await page.eval<number[]>(
          `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`,
        );
        assert.ok(sw <= cw + 1, `${path}: content ${sw}px wide in a ${cw}px viewport`);
      }
      await page.screenshot(`${shots.dir}/issuer-200pct.png`);
      await page.viewport(1200, 900);
    });

    await t.step(
      "axe-core: no serious or critical violations on any view or the token dialog",
      async () => {
        for (
          const [path, view] of [
            ["/console", "Overview"],
            ["/console/entries", "Entries"],
            [
              `/console/entries/${target.index}`,
              "Entry",
            ],
            ["/console/issuers/acme-bank", "Issuer"],
            ["/console/trust", "Trust store"],
          ]
        ) {
          await open(page, origin + path, view);
          await page.waitFor(
            `!document.getElementById("verdict") || document.getElementById("verdict").dataset.verdict !== "pending"`,
          );
          assert.deepEqual(await seriousViolations(page), [], path);
        }
        await page.eval(`sessionStorage.clear()`);
        await page.goto(`${origin}/console`);
        await page.waitFor(`!!document.querySelector("dialog#token-dialog[open]")`);
        assert.deepEqual(await seriousViolations(page), [], "token dialog");
      },
    );
  } finally {
    await browser.close();
    await server.close();
    if (shots.temp) await Deno.remove(shots.dir, { recursive: true });
  }
});

Deno.test("console in Chromium, dev mode: no token asked; a legacy regaudit-fhe entry verifies", async () => {
  const server = await startConsoleServer({ devMode: true, days: 3 });
  const browser = await Browser.launch();
  try {
    // A legacy envelope (Python's canonical form, numbers as written) from the fixture issuer.
    const legacy = await server.h.ledger.append(
      parseEnvelopeText(await fixtureText("envelopes/drift-valid.json")),
    );
    const page = await browser.newPage();
    await page.goto(
      `${server.origin}/console/entries/${legacy.index}?logkey=${
        encodeURIComponent(server.logKey)
      }`,
    );
    await viewReady(page, "Entry");
    assert.equal(await dialogOpen(page), false);
    assert.deepEqual(await verdict(page), { verdict: "valid", reason: null });
    assert.match(
      await page.eval<string>(`document.querySelector("h1").textContent`),
      /^Entry \d+$/,
    );
    assert.match(
      await page.eval<string>(`document.getElementById("main").textContent`),
      /regaudit-fhe\.report\.v1/,
    );
    await page.waitFor(
      `document.getElementById("token-scopes")?.textContent.startsWith("Dev mode")`,
    );
    assert.equal(await page.eval(`sessionStorage.length`), 0);
    assertClean(page, server.origin);
  } finally {
    await browser.close();
    await server.close();
  }
});
