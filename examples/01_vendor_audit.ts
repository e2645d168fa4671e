/**
 * Example 1 — a vendor audits a model locally, signs, and archives the envelopes.
 *
 * Runs all six primitives on the sample inputs in `examples/data/` with the
 * plaintext backend, signs each result with the vendor's issuer key and
 * writes the envelopes to `WORKDIR/envelopes/`. Also writes the vendor's
 * trust-store entry (`WORKDIR/vendor-trust.json`), which the vendor hands
 * to the regulator once, out of band.
 *
 *   deno run --allow-read --allow-write examples/01_vendor_audit.ts WORKDIR
 *
 * @module
 */
import {
  checkEnvelope,
  InProcessKeyProvider,
  parseEnvelopeValue,
  PRIMITIVES,
  runAudit,
  signAuditRun,
  TrustStore,
} from "../mod.ts";

const work = Deno.args[0];
if (!work) {
  console.error("usage: 01_vendor_audit.ts WORKDIR");
  Deno.exit(2);
}
await Deno.mkdir(`${work}/envelopes`, { recursive: true });

// The vendor's issuer key: made once, kept secret (mode 0600), reused for every audit.
const keyId = "acme-bank-2026";
const keyFile = `${work}/vendor-key.pem`;
let key: InProcessKeyProvider;
try {
  key = await InProcessKeyProvider.fromFile(keyId, keyFile);
} catch {
  key = await InProcessKeyProvider.generate(keyId);
  await Deno.writeTextFile(keyFile, key.privateKey.toPkcs8Pem(), { mode: 0o600 });
}

const dataDir = new URL("./data/", import.meta.url);
for (const primitive of PRIMITIVES) {
  const input = JSON.parse(await Deno.readTextFile(new URL(`${primitive}.json`, dataDir)));
  const run = runAudit(primitive, input);
  const envelope = await signAuditRun(run, key, { issuer: "Acme Bank" });
  await Deno.writeTextFile(
    `${work}/envelopes/${primitive}.json`,
    JSON.stringify(envelope, null, 2) + "\n",
  );
  console.error(
    `${primitive.padEnd(13)} depth ${run.depth.consumed}/${run.depth.declared}  ` +
      `${Object.keys(run.result).join(", ")}`,
  );
}

// What the regulator needs from the vendor: the public key under its key id.
const entry = { keys: { [keyId]: key.publicKeyPem } };
await Deno.writeTextFile(`${work}/vendor-trust.json`, JSON.stringify(entry, null, 2) + "\n");

// Self-check before anything leaves the vendor: every archived envelope verifies.
const store = TrustStore.fromObject(entry);
for (const primitive of PRIMITIVES) {
  const text = await Deno.readTextFile(`${work}/envelopes/${primitive}.json`);
  const verdict = await checkEnvelope(parseEnvelopeValue(JSON.parse(text)), store);
  if (!verdict.valid) throw new Error(`${primitive}: ${verdict.reason}`);
}
console.error(`archived ${PRIMITIVES.length} signed envelopes in ${work}/envelopes/`);
