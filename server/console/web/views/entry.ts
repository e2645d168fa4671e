/// <reference lib="dom" />
/**
 * Entry: every envelope field in plain language, and the verification panel
 * that checks the entry in this browser against the log key the user pinned.
 *
 * @module
 */
import { ApiFailure, getJson, getText, query } from "../api.ts";
import { type Child, facts, h, link, table, utc } from "../dom.ts";
import { num, PRIMITIVE_MEANING, regulationName, statisticMeaning } from "../glossary.ts";
import type { EntryBundle, Envelope, TrustStoreView } from "../types.ts";
import { neededConsistency } from "../verify.ts";
import { type Evidence, verificationPanel } from "./verify_panel.ts";

function value(v: unknown): Child {
  if (typeof v === "number") return num(v);
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) {
    return v.every((x) => typeof x !== "object") ? v.map((x) => value(x)).join(", ") : h(
      "code",
      {},
      JSON.stringify(v),
    );
  }
  if (v !== null && typeof v === "object") return h("code", {}, JSON.stringify(v));
  return String(v);
}

function resultTable(env: Envelope): HTMLElement {
  return table(
    "Result",
    ["Statistic", "Value", "What it means"],
    Object.entries(env.result).map(([k, v]) => [
      h("code", {}, k),
      value(v),
      statisticMeaning(env.primitive, k),
    ]),
    "result-table",
  );
}

function parameterSet(env: Envelope): HTMLElement {
  const ps = env.parameter_set;
  const ckks = env.backend === "ckks";
  const rows: [string, Child][] = [
    ["Backend", ckks ? "CKKS (homomorphic encryption)" : "plaintext (exact arithmetic)"],
    ["Library", value(ps.library)],
    ["Backend version", value(ps.backend_version)],
  ];
  if (ckks) {
    rows.push(
      ["Ring (polynomial modulus degree)", value(ps.poly_modulus_degree)],
      ["Multiplicative depth", value(ps.multiplicative_depth)],
      ["Coefficient modulus bits", value(ps.coeff_mod_bit_sizes)],
      ["Scaling factor bits", value(ps.scaling_factor_bits)],
      ["Security", `${value(ps.security_bits)} bits`],
    );
  }
  if (env.depth_budget) {
    rows.push([
      "Depth budget",
      `${env.depth_budget.consumed ?? "?"} used of ${env.depth_budget.declared ?? "?"} declared`,
    ]);
  }
  rows.push(["Parameter set hash", h("code", { class: "hash" }, env.parameter_set_hash)]);
  return facts(rows);
}

function dpBlock(env: Envelope): HTMLElement {
  if (!env.dp) {
    return h("p", {}, "No differential privacy: the result was released without added noise.");
  }
  return facts(Object.entries(env.dp).map(([k, v]) => [k, value(v)]));
}

/** The entry view. */
export async function entryView([index]: string[], url: URL): Promise<Node> {
  // The bundle as text: the verifier hashes the envelope's numbers as written.
  const [bundleText, checkpoint] = await Promise.all([
    getText(`/v1/log/entries/${index}/bundle`),
    getText("/v1/log/checkpoint"),
  ]);
  const bundle = JSON.parse(bundleText) as EntryBundle;
  let trustStore: TrustStoreView | null = null;
  let trustProblem = "";
  try {
    trustStore = await getJson<TrustStoreView>("/v1/trust-store");
  } catch (e) {
    trustProblem = e instanceof ApiFailure ? e.message : String(e);
  }
  const sizes = neededConsistency(bundleText, checkpoint);
  const consistency = sizes === null ? undefined : await getJson<
    { first: number; second: number; proof: string[] }
  >(`/v1/log/proof/consistency${query(sizes)}`);
  const evidence: Evidence = { bundleText, checkpoint, consistency, trustStore, trustProblem };
  const env = bundle.envelope;
  return h(
    "div",
    {},
    h("h1", {}, `Entry ${bundle.index}`),
    h(
      "p",
      { class: "lede" },
      `${env.primitive} audit by `,
      link(`/console/issuers/${encodeURIComponent(env.issuer)}`, env.issuer),
      `, issued ${utc(env.issued_at)}. `,
      PRIMITIVE_MEANING[env.primitive] ?? "",
    ),
    verificationPanel(evidence, url),
    h(
      "section",
      { "aria-labelledby": "res-h" },
      h("h2", { id: "res-h" }, "Result"),
      resultTable(env),
    ),
    h(
      "section",
      { "aria-labelledby": "in-h" },
      h("h2", { id: "in-h" }, "Input commitments"),
      h(
        "p",
        {},
        "The inputs are not in the log; each is committed to by the SHA-256 of " +
          'JCS({"name", "value"}), so whoever holds an input can show it is the one audited.',
      ),
      table(
        "Input commitments",
        ["Input", "SHA-256"],
        env.input_commitments.map((c) => [c.name, h("code", { class: "hash" }, c.sha256)]),
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "ps-h" },
      h("h2", { id: "ps-h" }, "Parameter set and backend"),
      parameterSet(env),
    ),
    h(
      "section",
      { "aria-labelledby": "dp-h" },
      h("h2", { id: "dp-h" }, "Differential privacy"),
      dpBlock(env),
    ),
    h(
      "section",
      { "aria-labelledby": "reg-h" },
      h("h2", { id: "reg-h" }, "Regulations"),
      h(
        "ul",
        {},
        env.regulations.map((r) => h("li", {}, h("code", {}, r), " — ", regulationName(r))),
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "sig-h" },
      h("h2", { id: "sig-h" }, "Signature and log position"),
      facts([
        ["Schema", h("code", {}, env.schema)],
        ["Signing key ID", h("code", {}, env.receipt.key_id)],
        ["Algorithm", env.receipt.signature_alg],
        ["Envelope SHA-256", h("code", { class: "hash" }, env.receipt.sha256)],
        ["Timestamp", env.timestamp ? value(env.timestamp) : "none"],
        ["Leaf hash", h("code", { class: "hash" }, bundle.leaf_hash)],
        ["Tree size of the proof", String(bundle.tree_size)],
      ]),
      h("details", {}, h("summary", {}, "tlog-proof@v1 receipt"), h("pre", {}, bundle.tlog_proof)),
    ),
  );
}
