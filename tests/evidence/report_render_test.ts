/**
 * `report.html` of a real pack: self-contained (no scripts, no external
 * references), every entry's numbers link to its envelope and receipt in
 * the pack, and Debian Chromium renders it offline to a PNG (kept as
 * docs/evidence/report.png when REGLEDGER_KEEP_REPORT_PNG names a path).
 */
import assert from "node:assert/strict";
import { runCli } from "../cli/_capture.ts";
import { readZip } from "../../ledger/evidence/zip.ts";
import { packServer, TOKEN } from "./_pack.ts";

const CHROMIUM = "/usr/bin/chromium";

Deno.test({
  name: "evidence report: self-contained, linked, rendered offline by Chromium",
  sanitizeResources: false,
  fn: async () => {
    const s = await packServer(60);
    try {
      const pack = `${s.dir}/p.zip`;
      const r = await runCli("evidence", "export", "--server", s.url, "--token", TOKEN, "-o", pack);
      assert.equal(r.code, 0, r.stderr);
      const files = readZip(await Deno.readFile(pack));
      const out = `${s.dir}/unzipped`;
      for (const f of files) {
        await Deno.mkdir(`${out}/${f.name.split("/").slice(0, -1).join("/")}`, { recursive: true });
        await Deno.writeFile(`${out}/${f.name}`, f.data);
      }
      const html = await Deno.readTextFile(`${out}/report.html`);
      for (const banned of ["<script", "http:", "https:", "src=", "url(", "@import", "<link"]) {
        assert.ok(!html.toLowerCase().includes(banned), `report.html contains ${banned}`);
      }
      // Every link points at a file inside the pack.
      const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
      const names = new Set(files.map((f) => f.name));
      for (const h of hrefs) assert.ok(names.has(h), `link to ${h} outside the pack`);
      const manifest = JSON.parse(
        new TextDecoder().decode(files.find((f) => f.name === "manifest.json")!.data),
      );
      for (const i of manifest.entries) {
        assert.ok(
          hrefs.includes(`envelopes/${i}.json`) && hrefs.includes(`envelopes/${i}.receipt`),
          `entry ${i}`,
        );
      }
      // Summary rows per issuer and primitive, charts with thresholds and breaches, tables per regulation.
      for (const t of ["acme</td><td>drift", "acme</td><td>fairness", "globex</td><td>drift"]) {
        assert.ok(html.includes(t), t);
      }
      assert.ok(html.includes("stroke-dasharray"), "threshold line");
      assert.ok(html.includes("BREACH"), "breach markers");
      for (const reg of ["EU_AI_ACT_ART10", "EU_AI_ACT_ART72", "NYC_LL144"]) {
        assert.ok(html.includes(`<h3>${reg} `), reg);
      }

      const png = `${s.dir}/report.png`;
      const run = await new Deno.Command(CHROMIUM, {
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--no-first-run",
          `--user-data-dir=${s.dir}/chromium-profile`,
          "--window-size=1200,2200",
          `--screenshot=${png}`,
          `file://${out}/report.html`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
      const image = await Deno.readFile(png);
      assert.deepEqual([...image.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
      assert.ok(image.length > 20_000, `a blank page is small: ${image.length} bytes`);
      const keep = Deno.env.get("REGLEDGER_KEEP_REPORT_PNG");
      if (keep) await Deno.copyFile(png, keep);
    } finally {
      await s.close();
    }
  },
});
