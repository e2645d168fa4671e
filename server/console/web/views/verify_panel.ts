/// <reference lib="dom" />
/**
 * The verification panel of an entry: which log key is pinned (kept in
 * localStorage, or carried by a `?logkey=` link for this view only), the
 * checks the browser ran, and the verdict as `data-verdict`/`data-reason`.
 *
 * @module
 */
import { h } from "../dom.ts";
import type { TrustStoreView } from "../types.ts";
import { verifyEntry } from "../verify.ts";

const PIN_KEY = "regledger.console.logkey";
const VKEY_RE = /^[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/;

/** The pinned log key, if any. */
export function pinnedKey(): string | null {
  return localStorage.getItem(PIN_KEY);
}

function pinForm(current: string | null, onPin: (k: string | null) => void): HTMLElement {
  const input = h("input", {
    id: "logkey-input",
    name: "logkey",
    value: current ?? "",
    spellcheck: "false",
    autocomplete: "off",
    "aria-describedby": "logkey-help",
  });
  const problem = h("p", { id: "logkey-problem", role: "alert", class: "problem" });
  const form = h(
    "form",
    { class: "pin" },
    h("label", { for: "logkey-input" }, "Pinned log key (verifier key, note format)"),
    input,
    h(
      "p",
      { id: "logkey-help", class: "hint" },
      "Get it from the log operator by a channel you trust; it stays in this browser " +
        "(localStorage) and every entry is checked against it.",
    ),
    problem,
    h("button", { type: "submit", id: "logkey-pin" }, "Pin key"),
    current ? h("button", { type: "button", id: "logkey-forget" }, "Forget pinned key") : null,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const k = input.value.trim();
    if (!VKEY_RE.test(k)) {
      problem.textContent = "Not a verifier key: expected name+8 hex digits+base64 key.";
      input.focus();
      return;
    }
    localStorage.setItem(PIN_KEY, k);
    onPin(k);
  });
  form.querySelector("#logkey-forget")?.addEventListener("click", () => {
    localStorage.removeItem(PIN_KEY);
    onPin(null);
  });
  return form;
}

/** What the console fetched for one entry. */
export interface Evidence {
  /** `GET /v1/log/entries/{index}/bundle`, as text. */
  bundleText: string;
  /** The latest checkpoint. */
  checkpoint: string;
  /** The consistency proof from the bundle's tree to the latest, when they differ. */
  consistency?: { first: number; second: number; proof: string[] };
  /** The trust store, or null when it could not be read. */
  trustStore: TrustStoreView | null;
  /** Why the trust store could not be read. */
  trustProblem: string;
}

/** The panel; runs the verification as soon as it is built. */
export function verificationPanel(ev: Evidence, url: URL): HTMLElement {
  const { trustStore, trustProblem } = ev;
  const panel = h("section", { id: "verification", "aria-labelledby": "ver-h" });
  const fromLink = url.searchParams.get("logkey");
  const draw = (pinned: string | null) => {
    const key = fromLink ?? pinned;
    const verdict = h(
      "p",
      { id: "verdict", role: "status", "data-verdict": "pending" },
      "Verifying…",
    );
    const checks = h("ul", { class: "checks", id: "checks" });
    panel.replaceChildren(h(
      "div",
      {},
      h("h2", { id: "ver-h" }, "Verified in this browser"),
      fromLink
        ? h(
          "p",
          { class: "hint" },
          "Checking against the log key given in the link: ",
          h("code", { id: "link-key" }, fromLink),
          fromLink !== pinned ? " (not your pinned key)" : " (your pinned key)",
        )
        : null,
      verdict,
      checks,
      trustStore ? null : h("p", { class: "hint" }, `Trust store unavailable: ${trustProblem}`),
      pinForm(pinned, (k) => draw(k)),
    ));
    if (key === null) {
      verdict.dataset.verdict = "invalid";
      verdict.dataset.reason = "no_pinned_key";
      verdict.textContent = "Not verified: pin the log's key first (below).";
      return;
    }
    const started = performance.now();
    verifyEntry({
      bundle: ev.bundleText,
      checkpoint: ev.checkpoint,
      consistency: ev.consistency,
      trustStore: trustStore ?? {},
      logKey: key,
    }).then((res) => {
      const failed = res.checks.find((c) => !c.ok);
      verdict.dataset.verdict = res.verdict;
      if (failed) verdict.dataset.reason = failed.id;
      verdict.dataset.ms = (performance.now() - started).toFixed(1);
      verdict.className = `verdict ${res.verdict}`;
      verdict.textContent = res.verdict === "valid"
        ? "Valid: every check passed."
        : `Invalid: the check “${failed?.label ?? "?"}” failed${
          failed?.reason ? `: ${failed.reason}` : ""
        }. Do not rely on the fields below: they are what the server sent.`;
      checks.replaceChildren(
        ...res.checks.map((c) =>
          h(
            "li",
            { class: c.ok ? "pass" : "fail", "data-check": c.id, "data-ok": String(c.ok) },
            h("span", { class: "mark", "aria-hidden": "true" }, c.ok ? "✔" : "✘"),
            h("span", { class: "sr" }, c.ok ? "Passed: " : "Failed: "),
            c.label,
            c.reason ? h("span", { class: "reason" }, ` — ${c.reason}`) : null,
            c.detail ? h("span", { class: "detail" }, ` (${c.detail})`) : null,
          )
        ),
      );
    }, (e) => {
      verdict.dataset.verdict = "invalid";
      verdict.dataset.reason = "verifier_error";
      verdict.textContent = `Invalid: the verifier failed (${String(e)}).`;
    });
  };
  draw(pinnedKey());
  return panel;
}
