/**
 * Steps the console's browser tests share: wait for a view, sign in through
 * the token dialog, run axe-core in the page, and keep screenshots.
 *
 * @module
 */
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Page } from "./_cdp.ts";

/** Wait until the console has rendered the view named `view` ("Overview", "Entry"…). */
export async function viewReady(page: Page, view: string): Promise<void> {
  await page.waitFor(
    `(() => { const m = document.getElementById("main");
      return m && m.dataset.view === ${JSON.stringify(view)} && !m.hasAttribute("aria-busy"); })()`,
  );
}

/** Whether the token dialog is open. */
export function dialogOpen(page: Page): Promise<boolean> {
  return page.eval(`!!document.querySelector("dialog#token-dialog[open]")`);
}

/** Answer the token dialog by keyboard: type the token, press Enter. */
export async function enterToken(page: Page, token: string): Promise<void> {
  await page.waitFor(`!!document.querySelector("dialog#token-dialog[open]")`);
  assert.equal(await page.eval(`document.activeElement.id`), "token-input");
  await page.type(token);
  await page.press("Enter");
  await page.waitFor(`!document.querySelector("dialog#token-dialog")`);
}

/** Go to `url` and, when the token dialog opens, answer it. */
export async function open(page: Page, url: string, view: string, token?: string): Promise<void> {
  await page.goto(url);
  if (token !== undefined) {
    await page.waitFor(
      `!!document.querySelector("dialog#token-dialog[open]") || document.getElementById("main").dataset.view === ${
        JSON.stringify(view)
      }`,
    );
    if (await dialogOpen(page)) await enterToken(page, token);
  }
  await viewReady(page, view);
}

/** One axe-core violation as a line. */
export interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** Run axe-core (injected from the npm package) on the current page; serious and critical only. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  const loaded = await page.eval<boolean>(`typeof window.axe === "object"`);
  if (!loaded) await page.eval((axe as unknown as { source: string }).source);
  return await page.eval<Violation[]>(`axe.run(document, { resultTypes: ["violations"] }).then(
    (r) => r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) =>
      ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })))`);
}

/** Where tests keep screenshots (a temp dir; `REGLEDGER_SCREENSHOTS` names another). */
export async function screenshotDir(): Promise<{ dir: string; temp: boolean }> {
  const given = Deno.env.get("REGLEDGER_SCREENSHOTS");
  if (given) {
    await Deno.mkdir(given, { recursive: true });
    return { dir: given, temp: false };
  }
  return { dir: await Deno.makeTempDir({ prefix: "regledger-console-shots-" }), temp: true };
}
