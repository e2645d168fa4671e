/**
 * The key file `keygen` writes names its issuer and key id, so
 * `audit <p> -i IN --key FILE` alone signs as them (docs/formats.md §9);
 * `--issuer`/`--key-id` override; OpenSSL reads the file as a plain PEM and
 * derives the same public key; a bare PEM from an older keygen works with
 * the flags and without them is exit 2 naming what to give.
 */
import assert from "node:assert/strict";
import { formatIssuerKeyFile, InProcessKeyProvider, parseIssuerKeyFile } from "../../core/keys.ts";
import { runCli } from "./_capture.ts";

const INPUT = new URL("../../examples/data/drift.json", import.meta.url).pathname;

async function tempDir() {
  const dir = await Deno.makeTempDir({ prefix: "regledger-keyfile-" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function keygen(dir: string, issuer: string, keyId: string) {
  const key = `${dir}/issuer.pem`;
  const r = await runCli("keygen", "--issuer", issuer, "--key-id", keyId, "-o", key);
  assert.equal(r.code, 0, r.stderr);
  await Deno.writeTextFile(`${dir}/trust.json`, r.stdout);
  return { key, trust: `${dir}/trust.json`, store: JSON.parse(r.stdout) };
}

async function auditAndVerify(dir: string, trust: string, ...flags: string[]) {
  const out = `${dir}/envelope-${crypto.randomUUID()}.json`;
  const a = await runCli("audit", "drift", "-i", INPUT, "-o", out, ...flags);
  assert.equal(a.code, 0, a.stderr);
  const env = JSON.parse(await Deno.readTextFile(out));
  const v = await runCli("verify", "-i", out, "--trusted-keys", trust, "--strict");
  return { env, verify: v };
}

Deno.test("key file: audit --key FILE alone signs with keygen's issuer and key id", async () => {
  await using t = await tempDir();
  const { key, trust } = await keygen(t.dir, "Acme Bank", "acme-1");
  const { env, verify } = await auditAndVerify(t.dir, trust, "--key", key);
  assert.equal(env.issuer, "Acme Bank");
  assert.equal(env.receipt.key_id, "acme-1");
  assert.equal(verify.code, 0, verify.stdout);
  assert.equal(JSON.parse(verify.stdout).valid, true);
});

Deno.test("key file: --issuer and --key-id override the file's names", async () => {
  await using t = await tempDir();
  const { key, trust, store } = await keygen(t.dir, "Acme Bank", "acme-1");
  const renamed = await auditAndVerify(t.dir, trust, "--key", key, "--issuer", "Acme Group");
  assert.equal(renamed.env.issuer, "Acme Group");
  assert.equal(renamed.env.receipt.key_id, "acme-1");
  assert.equal(renamed.verify.code, 0);
  // The same key under another id: the trust store must know that id.
  const other = `${t.dir}/other.json`;
  await Deno.writeTextFile(other, JSON.stringify({ keys: { "acme-x": store.keys["acme-1"] } }));
  const rekeyed = await auditAndVerify(t.dir, other, "--key", key, "--key-id", "acme-x");
  assert.equal(rekeyed.env.issuer, "Acme Bank");
  assert.equal(rekeyed.env.receipt.key_id, "acme-x");
  assert.equal(rekeyed.verify.code, 0, rekeyed.verify.stdout);
});

Deno.test("key file: OpenSSL reads it as a PEM and derives the trust store's public key", async () => {
  await using t = await tempDir();
  const { key, store } = await keygen(t.dir, "Acme Bank", "acme-1");
  const out = await new Deno.Command("openssl", {
    args: ["pkey", "-in", key, "-pubout"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout), store.keys["acme-1"]);
  assert.equal((await Deno.stat(key)).mode! & 0o777, 0o600, "the key file stays 0600");
});

Deno.test("key file: a bare PEM (older keygen) works with the flags, and without them is exit 2", async () => {
  await using t = await tempDir();
  const { key, trust } = await keygen(t.dir, "Acme Bank", "acme-1");
  const bare = `${t.dir}/bare.pem`;
  await Deno.writeTextFile(bare, parseIssuerKeyFile(await Deno.readTextFile(key)).pem);
  const withFlags = await auditAndVerify(
    t.dir,
    trust,
    "--key",
    bare,
    "--key-id",
    "acme-1",
    "--issuer",
    "Acme Bank",
  );
  assert.equal(withFlags.env.receipt.key_id, "acme-1");
  assert.equal(withFlags.env.issuer, "Acme Bank");
  assert.equal(withFlags.verify.code, 0);
  // --key-id alone: the issuer is the key id, as before.
  const idOnly = await auditAndVerify(t.dir, trust, "--key", bare, "--key-id", "acme-1");
  assert.equal(idOnly.env.issuer, "acme-1");
  const r = await runCli("audit", "drift", "-i", INPUT, "--key", bare);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /does not name its issuer and key id.*--key-id ID.*--issuer NAME/);
});

Deno.test("key file: names survive any characters; malformed metadata is refused", async () => {
  const pem = (await InProcessKeyProvider.generate("k")).privateKey.toPkcs8Pem();
  const text = formatIssuerKeyFile(pem, { issuer: 'Bank "Ü"\nLine 2', keyId: "k-1" });
  assert.deepEqual(parseIssuerKeyFile(text), { pem, issuer: 'Bank "Ü"\nLine 2', keyId: "k-1" });
  assert.deepEqual(parseIssuerKeyFile(`some note\r\n${pem.replaceAll("\n", "\r\n")}`), { pem });
  assert.throws(() => parseIssuerKeyFile(`Issuer: acme\n${pem}`), /Issuer line must hold/);
  assert.throws(
    () => parseIssuerKeyFile(`Key-Id: "a"\nKey-Id: "b"\n${pem}`),
    /Key-Id line given twice/,
  );
  assert.throws(() => parseIssuerKeyFile('Issuer: "a"\n'), /no -----BEGIN PRIVATE KEY-----/);
  assert.throws(() => formatIssuerKeyFile(pem, { issuer: "", keyId: "k" }), /issuer/);
  // A malformed file is exit 2 naming it, before any work.
  await using t = await tempDir();
  await Deno.writeTextFile(`${t.dir}/bad.pem`, `Issuer: acme\n${pem}`);
  const r = await runCli("audit", "drift", "-i", INPUT, "--key", `${t.dir}/bad.pem`);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot load the key .*bad\.pem: Issuer line/);
});
