/**
 * `proof verify` reads a receipt the way Go's `note.Open` does: the exact
 * signed bytes, ending with exactly one newline, no carriage returns. Each
 * variant of a real receipt (as issued, without its final newline, with one
 * more, with CRLF line endings, with a CR before the last newline) gets the
 * same verdict from regledger as from Go's golang.org/x/mod/sumdb/note and
 * tlog (tests/go/interop), and regledger names the rule it broke.
 *
 * Needs Go like tests/ledger/go_interop_test.ts (same skip and require rules).
 */
import assert from "node:assert/strict";
import { runCli } from "./_capture.ts";
import { buildInterop, exists, GO_REQUIRED, goVersion, runInterop, XMOD } from "../go/_interop.ts";

const GO_AVAILABLE = (await goVersion()) !== undefined && (await exists(XMOD));
const SKIP = Deno.env.get("REGLEDGER_SKIP_GO") === "1" || (!GO_AVAILABLE && !GO_REQUIRED);

Deno.test({
  name: "proof verify: final-newline and CR rules match Go's note.Open on every variant",
  ignore: SKIP,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-proof-nl-" });
    const p = (f: string) => `${dir}/${f}`;
    try {
      const trust = await runCli("keygen", "--issuer", "acme", "--key-id", "a-1", "-o", p("k.pem"));
      assert.equal(trust.code, 0, trust.stderr);
      await Deno.writeTextFile(p("in.json"), JSON.stringify({ p: [1, 2, 3], q: [3, 2, 1] }));
      const audit = await runCli(
        "audit",
        "drift",
        "-i",
        p("in.json"),
        "--key",
        p("k.pem"),
        "--key-id",
        "a-1",
        "--issuer",
        "acme",
        "-o",
        p("e.json"),
      );
      assert.equal(audit.code, 0, audit.stderr);
      const app = await runCli("ledger", "append", "--data", p("data"), "-i", p("e.json"));
      assert.equal(app.code, 0, app.stderr);
      const receipt = JSON.parse(app.stdout).tlog_proof as string;
      const vkey = (await runCli("ledger", "key", "--data", p("data"))).stdout.trim();

      const variants: Record<string, string> = {
        "as issued": receipt,
        "no final newline": receipt.slice(0, -1),
        "one extra final newline": receipt + "\n",
        "three extra final newlines": receipt + "\n\n\n",
        "CRLF line endings": receipt.replaceAll("\n", "\r\n"),
        "CR before the final newline": receipt.slice(0, -1) + "\r\n",
      };
      const names = Object.keys(variants);
      const bin = await buildInterop();
      try {
        const go = await runInterop<{ receipts_err: string[] }>(bin, {
          verifier_key: vkey,
          check: [],
          receipts: names.map((n) => variants[n]),
          sign: [],
          generate: { seed: 1, sizes: [] },
        });
        for (const [k, name] of names.entries()) {
          await Deno.writeTextFile(p("r.txt"), variants[name]);
          const ours = await runCli(
            "proof",
            "verify",
            "--proof",
            p("r.txt"),
            "--key",
            vkey,
            "--envelope",
            p("e.json"),
          );
          const goAccepts = go.receipts_err[k] === "";
          assert.equal(
            ours.code === 0,
            goAccepts,
            `${name}: regledger exit ${ours.code} (${ours.stderr.trim()}), Go ${
              go.receipts_err[k] || "accepts"
            }`,
          );
          if (!goAccepts) {
            assert.equal(ours.code, 2, name);
            assert.match(ours.stderr, /newline|carriage return/, name);
          }
        }
        assert.equal(go.receipts_err[0], "", "Go accepts the receipt as issued");
      } finally {
        await Deno.remove(bin.slice(0, bin.lastIndexOf("/")), { recursive: true });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
