/**
 * Privacy-budget statements in evidence packs: a real server with configured
 * budgets and DP releases naming datasets; packs from `--server`,
 * `GET /v1/evidence` and `--data --privacy-budgets` (same file) are the same
 * bytes; each statement carries every spending envelope (also those the
 * selection leaves out), agrees with `GET /v1/privacy/budget`, verifies
 * offline; a forged statement (spend changed, an index dropped, the budget
 * lowered below the spend) with a consistent manifest is exit 1 naming it.
 */
import assert from "node:assert/strict";
import { runAudit, signAuditRun } from "../../core/audit/index.ts";
import { sha256Hex } from "../../core/bytes.ts";
import type { DpSpec } from "../../core/dp/index.ts";
import { canonicalBytes } from "../../core/jcs.ts";
import { readZip, ZipWriter } from "../../ledger/evidence/zip.ts";
import { verifyEvidencePack } from "../../ledger/evidence/verify.ts";
import { runCli } from "../cli/_capture.ts";
import { packServer, TOKEN } from "./_pack.ts";

const BUDGETS = JSON.stringify({
  budgets: [
    { issuer: "acme", dataset: "cohort-7", epsilon: 3 },
    { issuer: "acme", dataset: "cohort-g", epsilon: 4, delta: 1e-5 },
  ],
});

const dec = new TextDecoder();

/** Rebuild a pack with `edit` applied to its files, the manifest's hashes recomputed. */
async function rebuild(
  bytes: Uint8Array,
  edit: (files: Map<string, Uint8Array>, manifest: Record<string, unknown>) => void,
): Promise<Uint8Array> {
  const files = new Map<string, Uint8Array>(readZip(bytes).map((f) => [f.name, f.data.slice()]));
  const manifest = JSON.parse(dec.decode(files.get("manifest.json")!));
  edit(files, manifest);
  manifest.files = (manifest.files as { path: string }[]).map(({ path }) => ({
    path,
    sha256: sha256Hex(files.get(path)!),
    bytes: files.get(path)!.length,
  }));
  files.set("manifest.json", canonicalBytes(manifest));
  const chunks: Uint8Array[] = [];
  const zip = new ZipWriter((c) => {
    chunks.push(c.slice());
    return Promise.resolve();
  });
  for (const [name, data] of files) await zip.add(name, data);
  await zip.finish();
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) out.set(c, (at += c.length) - c.length);
  return out;
}

// deno-lint-ignore no-explicit-any
const editJson = (files: Map<string, Uint8Array>, path: string, f: (v: any) => void) => {
  const v = JSON.parse(dec.decode(files.get(path)!));
  f(v);
  files.set(path, canonicalBytes(v));
};

Deno.test({
  name: "evidence packs: privacy-budget statements, identical across sources, checked offline",
  sanitizeResources: false,
  fn: async () => {
    const s = await packServer(6, { privacyBudgets: BUDGETS }) as
      & Awaited<ReturnType<typeof packServer>>
      & { stop(): Promise<void> };
    try {
      const d = s.dir;
      const release = async (day: number, dataset: string, spec: DpSpec, issuer = "acme") => {
        const run = runAudit("drift", { p: [5, 3, 2], q: [4, 4, 2] }, {
          dp: { specs: { distance: spec }, dataset },
        });
        const env = await signAuditRun(run, s.key, {
          issuer,
          issuedAt: `2026-01-0${day}T12:00:00Z`,
        });
        const r = await s.client.append(new TextEncoder().encode(JSON.stringify(env)));
        if (!r.ok) throw new Error(`append refused: ${JSON.stringify(r.body)}`);
      };
      const lap = { mechanism: "laplace" as const, epsilon: 0.5, sensitivity: 0.1 };
      const gauss = { mechanism: "gaussian" as const, epsilon: 0.8, delta: 1e-6, sensitivity: 0.1 };
      for (let day = 1; day <= 4; day++) await release(day, "cohort-7", lap); // 6..9
      await release(2, "cohort-g", gauss); // 10
      await release(5, "cohort-g", gauss); // 11
      await release(5, "cohort-7", lap, "globex"); // 12: another issuer, not selected
      const budgetOf = async (dataset: string) =>
        await (await fetch(`${s.url}/v1/privacy/budget?issuer=acme&dataset=${dataset}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })).json();
      const server7 = await budgetOf("cohort-7");
      const serverG = await budgetOf("cohort-g");
      assert.deepEqual(server7.entries, [6, 7, 8, 9]);

      await Deno.writeTextFile(
        `${d}/in-force.json`,
        await (await fetch(`${s.url}/v1/trust-store`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })).text(),
      );
      const sel = ["--issuer", "acme", "--from", "2026-01-03T00:00:00Z"];
      const r1 = await runCli(
        "evidence",
        "export",
        "--server",
        s.url,
        "--token",
        TOKEN,
        ...sel,
        "-o",
        `${d}/server.zip`,
      );
      assert.equal(r1.code, 0, r1.stderr);
      const res = await fetch(
        `${s.url}/v1/evidence?issuer=acme&from=${encodeURIComponent("2026-01-03T00:00:00Z")}`,
        { headers: { authorization: `Bearer ${TOKEN}` } },
      );
      assert.equal(res.status, 200);
      const viaRoute = new Uint8Array(await res.arrayBuffer());
      await s.stop();
      const data = ["evidence", "export", "--data", `${d}/data`, "--trusted-keys"];
      const r2 = await runCli(
        ...data,
        `${d}/in-force.json`,
        "--privacy-budgets",
        `${d}/budgets.json`,
        ...sel,
        "-o",
        `${d}/data.zip`,
      );
      assert.equal(r2.code, 0, r2.stderr);
      const pack = await Deno.readFile(`${d}/server.zip`);
      assert.deepEqual(await Deno.readFile(`${d}/data.zip`), pack);
      assert.deepEqual(viaRoute, pack);

      const files = new Map(readZip(pack).map((f) => [f.name, f.data]));
      const manifest = JSON.parse(dec.decode(files.get("manifest.json")!));
      // Selected: acme from 3 January; the earlier cohort releases 6, 7, 10 are added for the statements.
      assert.ok(!manifest.entries.includes(6) && manifest.entries.includes(8));
      assert.deepEqual(manifest.privacy_budgets, {
        statements: ["budgets/0.json", "budgets/1.json"],
        entries: [6, 7, 10],
      });
      for (const i of [6, 7, 10]) {
        assert.ok(files.has(`envelopes/${i}.json`) && files.has(`envelopes/${i}.receipt`));
      }
      assert.ok(!files.has("envelopes/12.json"));
      const st7 = JSON.parse(dec.decode(files.get("budgets/0.json")!));
      const stG = JSON.parse(dec.decode(files.get("budgets/1.json")!));
      // The statements agree with the server's own accounting at the same size.
      for (const [st, srv] of [[st7, server7], [stG, serverG]]) {
        assert.equal(st.tree_size, srv.tree_size);
        assert.deepEqual(st.entries, srv.entries);
        assert.deepEqual(st.budget, srv.budget);
        assert.deepEqual(st.spent, srv.spent);
        assert.deepEqual(st.remaining, srv.remaining);
      }
      assert.equal(st7.spent.epsilon, 2);
      assert.equal(stG.spent.composition, "rdp");
      assert.ok(
        manifest.files.some((f: { path: string }) => f.path === "budgets/0.json"),
      );
      const report = dec.decode(files.get("report.html")!);
      assert.match(report, /<h2>Privacy budgets<\/h2>/);
      assert.match(
        report,
        /<td>cohort-7<\/td><td>3 \/ 0<\/td><td>2 \/ 0 \(basic\)<\/td><td>1 \/ 0<\/td>/,
      );

      const ok = await runCli("evidence", "verify", `${d}/server.zip`);
      assert.equal(ok.code, 0, ok.stdout);

      // --data without --privacy-budgets: the same spend, no budget.
      const r3 = await runCli(...data, `${d}/in-force.json`, ...sel, "-o", `${d}/nobudget.zip`);
      assert.equal(r3.code, 0, r3.stderr);
      const nb = new Map(readZip(await Deno.readFile(`${d}/nobudget.zip`)).map((f) => [f.name, f]));
      const nb7 = JSON.parse(dec.decode(nb.get("budgets/0.json")!.data));
      assert.equal(nb7.budget, null);
      assert.equal(nb7.spent.epsilon, 2);
      assert.equal((await runCli("evidence", "verify", `${d}/nobudget.zip`)).code, 0);
      const refused = await runCli(
        "evidence",
        "export",
        "--server",
        "http://127.0.0.1:9",
        "--privacy-budgets",
        `${d}/budgets.json`,
        "-o",
        `${d}/x.zip`,
      );
      assert.equal(refused.code, 2);

      // Forgeries with a consistent manifest: each is named with its reason.
      // deno-lint-ignore no-explicit-any
      const cases: [string, (f: Map<string, Uint8Array>, m: any) => void, string, string][] = [
        [
          "spend changed",
          (f) =>
            editJson(f, "budgets/0.json", (v) => {
              v.spent.epsilon = 1.5;
              v.remaining.epsilon = 1.5;
            }),
          "budgets/0.json",
          "budget-spend",
        ],
        [
          "index dropped",
          (f) =>
            editJson(f, "budgets/0.json", (v) => {
              v.entries = v.entries.filter((i: number) => i !== 7);
            }),
          "budgets/0.json",
          "budget-entries",
        ],
        [
          "spending envelope dropped",
          (f, m) => {
            f.delete("envelopes/6.json");
            f.delete("envelopes/6.receipt");
            m.files = m.files.filter((x: { path: string }) => !x.path.startsWith("envelopes/6."));
            m.privacy_budgets.entries = [7, 10];
          },
          "budgets/0.json",
          "budget-entries",
        ],
        [
          "budget below the spend",
          (f) =>
            editJson(f, "budgets/0.json", (v) => {
              v.budget.epsilon = 1.5;
              v.remaining.epsilon = 0;
            }),
          "budgets/0.json",
          "budget-exceeded",
        ],
        [
          "statement removed",
          (f, m) => {
            f.delete("budgets/1.json");
            m.files = m.files.filter((x: { path: string }) => x.path !== "budgets/1.json");
            m.privacy_budgets.statements = ["budgets/0.json"];
          },
          "manifest.json",
          "budget-missing",
        ],
      ];
      for (const [what, edit, file, reason] of cases) {
        await Deno.writeFile(`${d}/forged.zip`, await rebuild(pack, edit));
        const v = await runCli("evidence", "verify", `${d}/forged.zip`);
        assert.equal(v.code, 1, `${what}: ${v.stdout}${v.stderr}`);
        const out = JSON.parse(v.stdout);
        assert.equal(out.file, file, what);
        assert.equal(out.reason, reason, `${what}: ${out.error}`);
      }
      // An unchanged rebuild still verifies (the forgeries fail for their edit alone).
      assert.ok((await verifyEvidencePack(await rebuild(pack, () => {}))).ok);
      // A byte changed in a statement as stored: named by its CRC-32.
      const st = readZip(pack).find((f) => f.name === "budgets/0.json")!;
      const flipped = pack.slice();
      flipped[st.data.byteOffset - pack.byteOffset + 5] ^= 1;
      const fv = await verifyEvidencePack(flipped);
      assert.equal(fv.problems[0].file, "budgets/0.json");
      assert.equal(fv.problems[0].reason, "crc");
    } finally {
      await s.close();
    }
  },
});
