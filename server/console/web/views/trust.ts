/// <reference lib="dom" />
/**
 * Trust store: the issuer keys the server accepts, revoked keys, parameter
 * set pins, and the log's own verifier keys (with a button to pin one).
 *
 * @module
 */
import { getJson, getText } from "../api.ts";
import { h, table } from "../dom.ts";
import type { TrustStoreView } from "../types.ts";
import { pinnedKey } from "./verify_panel.ts";

async function pemFingerprint(pem: string): Promise<string> {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return Array.from(d.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The trust-store view. */
export async function trustView(): Promise<Node> {
  const [ts, keys] = await Promise.all([
    getJson<TrustStoreView>("/v1/trust-store"),
    getText("/v1/log/keys"),
  ]);
  const revoked = new Set(ts.revoked ?? []);
  const rows = await Promise.all(
    Object.entries(ts.keys ?? {}).sort().map(async ([id, pem]) => [
      h("code", {}, id),
      h("code", {}, await pemFingerprint(pem).catch(() => "unreadable PEM")),
      revoked.has(id) ? h("strong", {}, "revoked") : "trusted",
      ts.parameter_set_pins?.[id] ? h("code", { class: "hash" }, ts.parameter_set_pins[id]) : "—",
    ]),
  );
  const pinned = pinnedKey();
  const logKeys = keys.split("\n").filter((k) => k !== "");
  return h(
    "div",
    {},
    h("h1", {}, "Trust store"),
    h("p", {}, "The keys this server accepts envelopes from, as it reports them."),
    table(
      "Issuer keys",
      ["Key ID", "SHA-256 of the key (first 8 bytes)", "Status", "Parameter set pin"],
      rows,
    ),
    h("h2", {}, "Revoked keys"),
    revoked.size === 0
      ? h("p", {}, "None.")
      : h("ul", {}, [...revoked].sort().map((k) => h("li", {}, h("code", {}, k)))),
    h("h2", {}, "The log's verifier keys"),
    h(
      "p",
      {},
      "As served by the log itself: compare with the key the operator gave you before pinning.",
    ),
    h(
      "ul",
      { class: "keys" },
      logKeys.map((k) =>
        h("li", {}, h("code", {}, k), k === pinned ? h("strong", {}, " (pinned)") : null)
      ),
    ),
  );
}
