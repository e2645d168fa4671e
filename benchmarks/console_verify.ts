/**
 * In-browser-equivalent verification benchmark (issue 14: "in-browser
 * verification of one entry ≤ 100 ms"): `verifyEntry` of
 * `server/console/web/verify.ts` on what a real server answers (bundle,
 * latest checkpoint, trust store, pinned log key), run from source and from
 * its browser bundle (`deno bundle --platform browser --minify`, the code a
 * browser runs), beside a baseline measured in the same rounds: the two
 * Ed25519 signature checks every verification needs (the issuer's over the
 * envelope body, the log's over the checkpoint) with Web Crypto, keys
 * imported each time, as a fresh page does. console-ui measures the same
 * function in Chromium.
 *
 * Also reports the bundle's size (minified, and gzip-compressed).
 *
 * Run: deno run -A benchmarks/console_verify.ts [--quick]
 * Writes benchmarks/results/console_verify.json.
 *
 * @module
 */
import { fromBase64 } from "../core/bytes.ts";
import { signedBodyBytes } from "../core/envelope.ts";
import { parseEnvelopeText } from "../core/envelope.ts";
import { runAudit, signAuditRun } from "../core/audit/index.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { DEFAULT_CONFIG, parseApiKeys } from "../server/config.ts";
import { startServer } from "../server/serve.ts";
import { verifyEntry, type VerifyEntryInput } from "../server/console/web/verify.ts";
import { median } from "./_paired.ts";

const quick = Deno.args.includes("--quick");
const ENTRIES = quick ? 64 : 1024;
const SAMPLES = quick ? 20 : 100;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];

const dir = await Deno.makeTempDir({ prefix: "regledger-console-verify-bench-" });
const issuer = await InProcessKeyProvider.generate("bench-issuer-1");
await Deno.writeTextFile(
  `${dir}/trust.json`,
  JSON.stringify({ keys: { [issuer.keyId]: issuer.publicKeyPem } }),
);
const token = "bench-console-verify-token-0123456789";
const server = await startServer({
  host: "127.0.0.1",
  port: 0,
  dataDir: `${dir}/data`,
  trustedKeys: `${dir}/trust.json`,
  config: {
    ...DEFAULT_CONFIG,
    apiKeys: parseApiKeys(`${token}:admin`),
    rateLimit: null,
    accessLog: () => {},
    verifyWorkers: 0,
  },
  signals: false,
  status: () => {},
});
const base = `http://127.0.0.1:${server.addr.port}`;
const headers = { authorization: `Bearer ${token}` };
const get = async (path: string) => {
  const r = await fetch(`${base}${path}`, { headers });
  if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
  return await r.text();
};

console.log(`appending ${ENTRIES} signed drift audits…`);
const run = runAudit("drift", { p: [5, 3, 2, 7, 1], q: [4, 4, 2, 6, 2] });
for (let i = 0; i < ENTRIES; i += 32) {
  await Promise.all(Array.from({ length: Math.min(32, ENTRIES - i) }, async (_, j) => {
    const issuedAt = new Date(Date.UTC(2026, 0, 1) + (i + j) * 60_000).toISOString();
    const env = await signAuditRun(run, issuer, { issuer: "bench-bank", issuedAt });
    const r = await fetch(`${base}/v1/envelopes`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(env),
    });
    if (r.status !== 201) throw new Error(`append: ${r.status} ${await r.text()}`);
  }));
}
const trustStore = JSON.parse(await get("/v1/trust-store"));
const logKey = (await get("/v1/log/key")).trim();
const inputs: VerifyEntryInput[] = [];
for (let k = 0; k < SAMPLES; k++) {
  const index = Math.floor((k * ENTRIES) / SAMPLES);
  inputs.push({
    bundle: await get(`/v1/log/entries/${index}/bundle`),
    checkpoint: await get("/v1/log/checkpoint"),
    trustStore,
    logKey,
  });
}
await server.shutdown();
await server.finished;

// The browser bundle, imported as a module.
const out = `${dir}/verify.js`;
const bundled = await new Deno.Command(Deno.execPath(), {
  args: [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--minify",
    "-o",
    out,
    new URL("../server/console/web/verify.ts", import.meta.url).pathname,
  ],
  stderr: "inherit",
}).output();
if (bundled.code !== 0) throw new Error("deno bundle failed");
const bundleBytes = (await Deno.readFile(out)).byteLength;
const gzipBytes = (await new Response(
  (await Deno.open(out)).readable.pipeThrough(new CompressionStream("gzip")),
).arrayBuffer()).byteLength;
const bundledModule = await import(`file://${out}`) as { verifyEntry: typeof verifyEntry };

/** A copy backed by a plain ArrayBuffer (what Web Crypto's types ask for). */
const buf = (b: Uint8Array) => new Uint8Array(b);

/** The baseline: the two Ed25519 checks, keys imported each time (Web Crypto). */
async function twoSignatures(input: VerifyEntryInput): Promise<void> {
  const b = JSON.parse(input.bundle as string);
  const env = parseEnvelopeText(JSON.stringify(b.envelope));
  const spki = fromBase64(
    env.value.receipt.public_key_pem.replace(/-----[A-Z ]+-----|\s/g, ""),
  );
  const k1 = await crypto.subtle.importKey("spki", buf(spki), "Ed25519", false, ["verify"]);
  const ok1 = await crypto.subtle.verify(
    "Ed25519",
    k1,
    buf(fromBase64(env.value.receipt.signature_b64)),
    buf(signedBodyBytes(env)),
  );
  // The log's signature line: the one whose 4-byte key hash is the pinned key's.
  const [, hash, key] = logKey.split("+");
  const [body, sigs] = input.checkpoint.split("\n\n");
  const line = sigs.split("\n").map((l) => fromBase64(l.split(" ")[2] ?? "AAAA"))
    .find((s) =>
      s.length === 68 &&
      s.slice(0, 4).every((x, i) => x === parseInt(hash.slice(2 * i, 2 * i + 2), 16))
    )!;
  const k2 = await crypto.subtle.importKey("raw", buf(fromBase64(key).slice(1)), "Ed25519", false, [
    "verify",
  ]);
  const ok2 = await crypto.subtle.verify(
    "Ed25519",
    k2,
    buf(line.slice(4)),
    new TextEncoder().encode(body + "\n"),
  );
  if (!ok1 || !ok2) throw new Error("baseline signatures do not verify");
}

const first = performance.now();
const v0 = await verifyEntry(inputs[0]);
const coldMs = performance.now() - first;
if (v0.verdict !== "valid") throw new Error(JSON.stringify(v0.checks));
const src: number[] = [];
const bun: number[] = [];
const sig: number[] = [];
for (const input of inputs) {
  let t = performance.now();
  const a = await verifyEntry(input);
  src.push(performance.now() - t);
  t = performance.now();
  const b = await bundledModule.verifyEntry(input);
  bun.push(performance.now() - t);
  t = performance.now();
  await twoSignatures(input);
  sig.push(performance.now() - t);
  if (a.verdict !== "valid" || b.verdict !== "valid") throw new Error("an entry did not verify");
}
await Deno.remove(dir, { recursive: true });

const result = {
  date: new Date().toISOString(),
  entries: ENTRIES,
  samples: SAMPLES,
  goal_ms: 100,
  cold_first_ms: coldMs,
  verify_entry_ms: { median: median(src), p95: p95(src) },
  bundle_verify_entry_ms: { median: median(bun), p95: p95(bun) },
  baseline_two_signatures_ms: { median: median(sig), p95: p95(sig) },
  ratio_to_baseline: median(src) / median(sig),
  bundle_bytes: bundleBytes,
  bundle_gzip_bytes: gzipBytes,
  note:
    "verifyEntry on real bundles (log of `entries`), from source and from the minified browser bundle, beside two Web Crypto Ed25519 verifications with key import (the signature work every verification does); all in the same rounds",
};
console.log(`log of ${ENTRIES} entries, ${SAMPLES} entries verified`);
console.log(`first verification (cold):         ${coldMs.toFixed(2)} ms`);
console.log(
  `verifyEntry, source:     median ${median(src).toFixed(2)} ms  p95 ${p95(src).toFixed(2)} ms`,
);
console.log(
  `verifyEntry, bundle:     median ${median(bun).toFixed(2)} ms  p95 ${p95(bun).toFixed(2)} ms`,
);
console.log(
  `baseline (2 Ed25519):    median ${median(sig).toFixed(2)} ms  p95 ${
    p95(sig).toFixed(2)
  } ms   ratio ×${result.ratio_to_baseline.toFixed(1)}`,
);
console.log(`bundle: ${bundleBytes} bytes minified, ${gzipBytes} gzip`);
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/console_verify.json", import.meta.url),
  JSON.stringify(result, null, 2) + "\n",
);
console.log("wrote benchmarks/results/console_verify.json");
