/// <reference lib="dom" />
/**
 * The regulator's console: a small single-page app over the regledger API.
 * Routes are paths under `/console` (deep links work because the server
 * answers every one of them with the same page); view state lives in the
 * URL so a link reproduces the view.
 *
 * @module
 */
import { ApiFailure, forgetToken, getJson, storedToken } from "./api.ts";
import { h, notice } from "./dom.ts";
import { navigate, NAVIGATE_EVENT } from "./nav.ts";
import { entriesView } from "./views/entries.ts";
import { entryView } from "./views/entry.ts";
import { issuerView } from "./views/issuer.ts";
import { overviewView } from "./views/overview.ts";
import { trustView } from "./views/trust.ts";

type View = (params: string[], url: URL) => Promise<Node>;

const ROUTES: [RegExp, string, View][] = [
  [/^\/console\/?$/, "Overview", overviewView],
  [/^\/console\/entries\/?$/, "Entries", entriesView],
  [/^\/console\/entries\/(\d+)$/, "Entry", entryView],
  [/^\/console\/issuers\/(.+)$/, "Issuer", issuerView],
  [/^\/console\/trust\/?$/, "Trust store", trustView],
];

const main = document.getElementById("main")!;
let generation = 0;
let first = true;

async function render(): Promise<void> {
  const url = new URL(location.href);
  const my = ++generation;
  for (const [re, title, view] of ROUTES) {
    const m = re.exec(url.pathname);
    if (!m) continue;
    document.title = `${title} · regledger console`;
    markCurrent(url.pathname);
    main.setAttribute("aria-busy", "true");
    const started = performance.now();
    let node: Node;
    try {
      node = await view(m.slice(1).map(decodeURIComponent), url);
    } catch (e) {
      node = notice("error", e instanceof ApiFailure ? e.message : `failed: ${String(e)}`);
    }
    if (my !== generation) return; // a later navigation won
    main.replaceChildren(node);
    main.removeAttribute("aria-busy");
    // When the view was ready (ms since navigation start): tests and the benchmark read it.
    main.dataset.renderedAt = performance.now().toFixed(1);
    performance.measure(`view:${title}`, { start: started });
    main.dataset.view = title;
    // After a navigation inside the console, focus moves to the new view's
    // heading (as a page load would reset it); the first load leaves focus
    // alone so Tab starts at the skip link.
    const heading = first ? null : main.querySelector("h1");
    first = false;
    if (heading && document.activeElement?.closest("dialog") === null) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
    updateTokenStatus();
    return;
  }
  main.replaceChildren(h("h1", {}, "Not found"), notice("error", `no view at ${url.pathname}`));
}

function markCurrent(path: string): void {
  for (const a of document.querySelectorAll<HTMLAnchorElement>("nav.top a")) {
    const target = new URL(a.href).pathname;
    const here = target === "/console" ? path === "/console" : path.startsWith(target);
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

/** What each scope lets a console user do. */
const SCOPE_MEANING: Record<string, string> = {
  "ledger:read": "browse and verify entries",
  "ledger:append": "submit envelopes",
  "audit:run": "run audits",
  verify: "verify envelopes on the server",
  metrics: "read metrics",
  admin: "administer the server",
};

interface TokenInfo {
  dev_mode?: boolean;
  scopes?: string[];
  allows?: string[];
}

async function updateTokenStatus(): Promise<void> {
  const box = document.getElementById("token-status")!;
  let text: string;
  try {
    const info = await getJson<TokenInfo>("/v1/whoami");
    const allows = info.allows ?? [];
    const can = allows.map((s) => SCOPE_MEANING[s]).filter((s) => s !== undefined);
    text = info.dev_mode
      ? "Dev mode: no token needed; everything allowed"
      : `Token scopes: ${(info.scopes ?? []).join(", ") || "none"} — ${
        allows.includes("ledger:read")
          ? "you can " + can.join(", ")
          : "this token cannot read the log: the console needs ledger:read"
      }`;
  } catch {
    text = storedToken() ? "Token in use (scopes unknown)" : "No token";
  }
  const out = h("span", { id: "token-scopes" }, text);
  const signOut = storedToken()
    ? h("button", { type: "button", id: "sign-out" }, "Forget token")
    : null;
  signOut?.addEventListener("click", () => {
    forgetToken();
    void render();
  });
  box.replaceChildren(out, signOut ?? "");
}

document.addEventListener("click", (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
  const a = (ev.target as Element).closest?.("a[data-nav]") as HTMLAnchorElement | null;
  if (!a) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
});
addEventListener("popstate", () => void render());
addEventListener(NAVIGATE_EVENT, () => void render());

void render();
