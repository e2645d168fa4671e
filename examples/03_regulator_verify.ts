/**
 * Example 3 — the regulator verifies envelopes and their receipts offline,
 * with nothing but its trust store and the log's verifier key.
 *
 * Run it without any network permission: nothing is fetched. For each
 * envelope it checks
 *
 * 1. the envelope's signature and key against the trust store (who claims
 *    the result, unrevoked, with the pinned parameter set if any);
 * 2. the receipt: the checkpoint is signed by the log key and the leaf that
 *    names this envelope's hash is included in that tree (RFC 6962);
 * 3. that the latest checkpoint extends the receipt's (consistency proof):
 *    nothing logged before was changed, dropped or reordered since.
 *
 *   deno run --allow-read examples/03_regulator_verify.ts WORKDIR TRUST_STORE
 *
 * @module
 */
import {
  checkEnvelope,
  fromBase64,
  parseEnvelopeText,
  PRIMITIVES,
  readTrustStoreFile,
  TlogProofError,
  verifyReceiptConsistency,
  verifyTlogProof,
} from "../mod.ts";

const [work, trustFile] = Deno.args;
if (!work || !trustFile) {
  console.error("usage: 03_regulator_verify.ts WORKDIR TRUST_STORE");
  Deno.exit(2);
}
const store = await readTrustStoreFile(trustFile);
const logKey = (await Deno.readTextFile(`${work}/log.vkey`)).trim();
const latest = await Deno.readTextFile(`${work}/latest.checkpoint`);

let failures = 0;
for (const primitive of PRIMITIVES) {
  const envelope = parseEnvelopeText(await Deno.readFile(`${work}/envelopes/${primitive}.json`));
  const receipt = await Deno.readTextFile(`${work}/receipts/${primitive}.tlog-proof`);
  const consistency = JSON.parse(
    await Deno.readTextFile(`${work}/consistency/${primitive}.json`),
  ) as { proof: string[] };

  const verdict = await checkEnvelope(envelope, store);
  let logged = "";
  try {
    const proven = await verifyTlogProof(receipt, logKey, { envelopeSha256: envelope.sha256 });
    const newer = await verifyReceiptConsistency(
      receipt,
      latest,
      consistency.proof.map(fromBase64),
      logKey,
    );
    logged = `entry ${proven.index} of ${proven.checkpoint.size}, consistent with ${newer.size}`;
  } catch (e) {
    if (!(e instanceof TlogProofError)) throw e;
    logged = `RECEIPT FAILS (${e.rule}): ${e.message}`;
    failures++;
  }
  if (!verdict.valid) failures++;
  console.error(
    `${primitive.padEnd(13)} ${
      verdict.valid ? `signed by ${verdict.key_id}` : verdict.reason
    }; ${logged}`,
  );
}
if (failures > 0) {
  console.error(`${failures} check(s) failed`);
  Deno.exit(1);
}
console.error("all envelopes are trusted and provably in the log");
