/**
 * `keygen --pq` (CONTRACT §9): a hybrid Ed25519 + ML-DSA-65 issuer key file
 * (mode 0600, the Ed25519 PKCS#8 block first, then the ML-DSA-65 seed
 * block), a trust-store entry listing both public keys; `audit --key FILE`
 * signs with both; `verify` accepts the envelope only with both signatures.
 */
import assert from "node:assert/strict";
import { parseIssuerKeyFile } from "../../core/keys.ts";
import { MlDsa65PrivateKey, MlDsa65PublicKey } from "../../core/ml_dsa65.ts";
import { runCli } from "./_capture.ts";

const INPUT = new URL("../../examples/data/drift.json", import.meta.url).pathname;

Deno.test("keygen --pq: hybrid key file and trust store; audit signs with both; verify needs both", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-keygen-pq-" });
  try {
    const key = `${dir}/acme.key.pem`;
    const g = await runCli("keygen", "--issuer", "Acme", "--key-id", "acme-pq", "--pq", "-o", key);
    assert.equal(g.code, 0, g.stderr);
    assert.equal((await Deno.stat(key)).mode! & 0o777, 0o600);
    const text = await Deno.readTextFile(key);
    const file = parseIssuerKeyFile(text);
    assert.equal(file.keyId, "acme-pq");
    assert.ok(file.mlDsa65Pem);
    assert.equal(text.split("-----BEGIN PRIVATE KEY-----").length, 3);
    const pq = MlDsa65PrivateKey.fromPkcs8Pem(file.mlDsa65Pem!);
    const trust = JSON.parse(g.stdout);
    const entry = trust.keys["acme-pq"];
    assert.deepEqual(Object.keys(entry).sort(), ["pq_public_key_pem", "public_key_pem"]);
    assert.ok(MlDsa65PublicKey.fromPem(entry.pq_public_key_pem).equals(pq.publicKey));
    await Deno.writeTextFile(`${dir}/trust.json`, g.stdout);

    const out = `${dir}/env.json`;
    const a = await runCli("audit", "drift", "-i", INPUT, "-o", out, "--key", key);
    assert.equal(a.code, 0, a.stderr);
    const env = JSON.parse(await Deno.readTextFile(out));
    assert.equal(env.receipt.pq_signature_alg, "ML-DSA-65");
    assert.equal(env.receipt.pq_public_key_pem, entry.pq_public_key_pem);
    const v = await runCli("verify", "-i", out, "--trusted-keys", `${dir}/trust.json`, "--strict");
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(JSON.parse(v.stdout).valid, true);

    // The same envelope without its ML-DSA-65 signature: exit 1, InvalidSignature.
    const { pq_signature_alg: _a, pq_signature_b64: _b, pq_public_key_pem: _c, ...edOnly } =
      env.receipt;
    await Deno.writeTextFile(`${dir}/stripped.json`, JSON.stringify({ ...env, receipt: edOnly }));
    const s = await runCli(
      "verify",
      "-i",
      `${dir}/stripped.json`,
      "--trusted-keys",
      `${dir}/trust.json`,
      "--strict",
    );
    assert.equal(s.code, 1, s.stdout + s.stderr);
    assert.equal(JSON.parse(s.stdout).reason, "InvalidSignature");

    // Without --pq nothing changes: one block, a PEM string in the trust store.
    const plain = await runCli("keygen", "--issuer", "Acme", "-o", `${dir}/plain.pem`);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(typeof Object.values(JSON.parse(plain.stdout).keys)[0], "string");
    assert.equal(
      parseIssuerKeyFile(await Deno.readTextFile(`${dir}/plain.pem`)).mlDsa65Pem,
      undefined,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
