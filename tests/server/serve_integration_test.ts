// deno-lint-ignore-file no-explicit-any -- test inspects untyped JSON answers
/**
 * `regledger serve` as a real child process on loopback (a free port):
 * first start creates the keys (0600) and prints the verifier key; envelopes
 * are submitted over HTTP; receipts, bundles and consistency proofs are
 * checked offline with the ledger's pure verifiers and with Go's
 * golang.org/x/mod/sumdb/tlog and note; SIGHUP reloads the trust store;
 * SIGTERM during concurrent submissions shuts down cleanly with every
 * acknowledged entry durable and the log auditing clean; a restart keeps
 * the log's identity.
 *
 * The Go half needs `go` and Debian's golang-golang-x-mod-dev (as the ledger's
 * interop test); REGLEDGER_SKIP_GO=1 skips only that half.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import { fromBase64 } from "../../core/bytes.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { openCheckpoint } from "../../ledger/checkpoint.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { verifyConsistency } from "../../ledger/merkle/mod.ts";
import { parseVerifierKey } from "../../ledger/note.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { buildGoInterop, runGoInterop } from "../go/_interop.ts";
import { fixtureText, signedEnvelope, TOKENS, writeTrustFile } from "./_helpers.ts";
import { type ServeChild, startServeChild } from "./_serve_child.ts";

const assert: (v: unknown, msg?: string) => asserts v = nodeAssert.ok;
const assertEquals = (a: unknown, b: unknown, msg?: string) =>
  nodeAssert.deepStrictEqual(a, b, msg);

const SKIP_GO = Deno.env.get("REGLEDGER_SKIP_GO") === "1";

interface Child extends ServeChild {
  verifierKey: string;
}

/** Start `serve` on port 0 (tests/server/_serve_child.ts) and read the verifier key it printed. */
async function startChild(dir: string, trustFile: string): Promise<Child> {
  const child = await startServeChild(dir, ["--trusted-keys", trustFile], {
    REGLEDGER_ACCESS_LOG: "1",
  });
  const verifierKey = child.stderr.map((l) => /verifier key (\S+)/.exec(l)?.[1]).find((k) => k);
  assert(verifierKey, "verifier key printed");
  return { ...child, verifierKey };
}

async function submit(base: string, body: string): Promise<{ status: number; json: any }> {
  const r = await fetch(`${base}/v1/envelopes`, {
    method: "POST",
    body,
    headers: {
      authorization: `Bearer ${TOKENS["ledger:append"]}`,
      "content-type": "application/json",
    },
  });
  return { status: r.status, json: await r.json() };
}

async function getJson(base: string, path: string): Promise<any> {
  const r = await fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${TOKENS["ledger:read"]}` },
  });
  assertEquals(r.status, 200, path);
  return await r.json();
}

async function goCheck(request: unknown): Promise<any> {
  const go = await buildGoInterop();
  try {
    return await runGoInterop(go.bin, request);
  } finally {
    await go.remove();
  }
}

Deno.test({
  name:
    "serve as a child process: submit, prove, check offline and with Go, SIGHUP, SIGTERM, restart",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-serve-it-" });
    const data = `${dir}/data`;
    const trustFile = `${dir}/trust.json`;
    await writeTrustFile(trustFile);
    let child = await startChild(data, trustFile);
    try {
      // Keys created on first start, mode 0600; the printed key is the served key.
      for (const f of ["log-key", "issuer-key.pem"]) {
        assertEquals((await Deno.stat(`${data}/${f}`)).mode! & 0o777, 0o600, f);
      }
      const served = await (await fetch(`${child.base}/v1/log/key`)).text();
      assertEquals(served.trim(), child.verifierKey);
      const vkey = parseVerifierKey(child.verifierKey);

      // Submit fixtures and our own envelopes; receipts verify offline.
      const texts = [
        await fixtureText("envelopes/calibration-valid.json"),
        await fixtureText("envelopes/fairness-valid.json"),
        ...await Promise.all(
          [1, 2, 3, 4, 5].map(async (i) => JSON.stringify(await signedEnvelope(i))),
        ),
      ];
      const receipts = [];
      for (const t of texts) {
        const { status, json } = await submit(child.base, t);
        assertEquals(status, 201, JSON.stringify(json));
        const v = await verifyTlogProof(json.tlog_proof, vkey, {
          envelopeSha256: parseEnvelopeText(t).sha256,
        });
        assertEquals(v.index, json.index);
        receipts.push(json);
      }
      assertEquals((await submit(child.base, texts[0])).status, 200);
      const bad = await submit(
        child.base,
        await fixtureText("envelopes/drift-signature-flipped.json"),
      );
      assertEquals([bad.status, bad.json.reason], [422, "InvalidSignature"]);

      // Bundle and consistency against the first receipt's checkpoint.
      const bundle = await getJson(child.base, "/v1/log/entries/1/bundle");
      const bv = await verifyTlogProof(bundle.tlog_proof, bundle.verifier_key, {
        envelopeSha256: parseEnvelopeText(texts[1]).sha256,
      });
      assertEquals(bv.checkpoint.size, texts.length);
      const old = await openCheckpoint(receipts[0].checkpoint, vkey);
      const cons = await getJson(
        child.base,
        `/v1/log/proof/consistency?first=${old.size}&second=${bv.checkpoint.size}`,
      );
      verifyConsistency(
        old.size,
        bv.checkpoint.size,
        cons.proof.map(fromBase64),
        old.root,
        bv.checkpoint.root,
      );

      // Go's tlog and note accept the same checkpoint and proofs.
      if (!SKIP_GO) {
        const incl = [];
        for (let i = 0; i < texts.length; i++) {
          const p = await getJson(
            child.base,
            `/v1/log/proof/inclusion?index=${i}&tree_size=${bv.checkpoint.size}`,
          );
          incl.push({ index: i, leaf_hash: p.leaf_hash, proof: p.proof });
        }
        const go = await goCheck({
          verifier_key: child.verifierKey,
          check: [{
            checkpoint: bundle.checkpoint,
            inclusion: incl,
            consistency: [{
              old_size: old.size,
              old_root: btoa(String.fromCharCode(...old.root)),
              proof: cons.proof,
            }],
          }],
          sign: [],
          generate: { seed: 1, sizes: [] },
        });
        assertEquals(go.check[0].checkpoint_err, "");
        assertEquals(go.check[0].size, texts.length);
        assertEquals(go.check[0].inclusion_err, texts.map(() => ""));
        assertEquals(go.check[0].consistency_err, [""]);
      }

      // SIGHUP reloads the trust store without a restart.
      await writeTrustFile(trustFile, (s) => s.revoked.push("test-issuer-2026"));
      child.proc.kill("SIGHUP");
      let reason = "";
      for (let i = 0; i < 100 && reason !== "RevokedIssuer"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        reason =
          (await submit(child.base, JSON.stringify(await signedEnvelope(100 + i)))).json.reason;
      }
      assertEquals(reason, "RevokedIssuer");
      await writeTrustFile(trustFile);
      child.proc.kill("SIGHUP");
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (child.stderr.filter((l) => l.includes("trust store reloaded")).length >= 2) break;
      }

      // SIGTERM while 40 submissions are in flight: each either succeeds
      // durably or is refused/unanswered; nothing half-written.
      const envs = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => JSON.stringify(await signedEnvelope(1000 + i))),
      );
      const inflight = envs.map((t) =>
        submit(child.base, t).catch(() => ({ status: 0, json: null }))
      );
      await new Promise((r) => setTimeout(r, 5));
      child.proc.kill("SIGTERM");
      const results = await Promise.all(inflight);
      const status = await child.exit;
      assertEquals(status.code, 0, child.stderr.join("\n"));
      assert(child.stderr.some((l) => l.includes("stopped")));
      const acked = envs.filter((_, i) => results[i].status === 201);
      for (const r of results) assert([0, 201, 503].includes(r.status), `status ${r.status}`);

      // The KV file is closed and clean; acknowledged entries are all there.
      const ledger = await openLedger({ dataDir: data });
      try {
        const audit = await ledger.verify();
        assert(audit.ok, JSON.stringify(audit));
        const found = await ledger.store.findEnvelopes(
          acked.map((t) => parseEnvelopeText(t).sha256),
        );
        assert(found.every((x) => x !== null), "every acknowledged entry is durable");
      } finally {
        await ledger.close();
      }

      // Restart: same identity, log continues.
      child = await startChild(data, trustFile);
      assertEquals(child.verifierKey, served.trim());
      const again = await submit(child.base, texts[2]);
      assertEquals([again.status, again.json.index], [200, 2]);
      child.proc.kill("SIGTERM");
      assertEquals((await child.exit).code, 0);
    } finally {
      try {
        child.proc.kill("SIGKILL");
      } catch { /* already exited */ }
      await child.exit.catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
