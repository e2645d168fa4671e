/**
 * `regledger keygen` and `regledger verify` through `cli/main.ts`: key files,
 * exit codes and JSON of docs/formats.md §9, the legacy fixtures, and hostile
 * 1 MB inputs (exit 2 with a message, never a crash or a hang), in-process
 * and as real processes reading standard input.
 */
import assert from "node:assert/strict";
import { main } from "../../cli/main.ts";
import { buildEnvelope } from "../../core/envelope.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { captureIO as capture } from "./_capture.ts";

const FIXTURES = new URL("../fixtures/regaudit-fhe/", import.meta.url);
const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

async function cli(...args: string[]) {
  const io = capture();
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

const dir = await Deno.makeTempDir({ prefix: "regledger-cli-" });
const p = (name: string) => `${dir}/${name}`;

async function freshKey(name: string, keyId: string) {
  const r = await cli("keygen", "--issuer", "acme-bank", "--key-id", keyId, "-o", p(name));
  assert.equal(r.code, 0, r.err);
  return r;
}

async function envelopeFile(name: string, keyFile: string, keyId: string) {
  const signer = await InProcessKeyProvider.fromFile(keyId, p(keyFile));
  const env = await buildEnvelope({
    primitive: "calibration",
    backend: "plaintext",
    parameterSet: { backend: "plaintext", multiplicative_depth: 6 },
    regulations: ["FDA_SAMD_UQ"],
    result: { set_size: 3, membership: [0.5, 1, 0] },
    inputs: { scores: [0.25, 0.75] },
    depthBudget: { declared: 6, consumed: 3 },
    issuer: "acme-bank",
  }, signer);
  await Deno.writeTextFile(p(name), JSON.stringify(env, null, 2));
  return env;
}

Deno.test("keygen: writes a 0600 PKCS#8 key and prints a loadable trust store", async () => {
  const r = await freshKey("k1.pem", "acme-2026-11");
  const store = JSON.parse(r.out);
  assert.deepEqual(Object.keys(store), ["keys"]);
  assert.deepEqual(Object.keys(store.keys), ["acme-2026-11"]);
  assert.equal(TrustStore.fromObject(store).has("acme-2026-11"), true);
  const pem = await Deno.readTextFile(p("k1.pem"));
  // RFC 7468 explanatory text naming the key, then the PKCS#8 PEM block.
  assert.match(
    pem,
    /^regledger issuer key .*\nIssuer: "acme-bank"\nKey-Id: "acme-2026-11"\n-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=]+\n-----END PRIVATE KEY-----\n$/,
  );
  const body = pem.split("\n")[4];
  assert.ok(!r.out.includes(body), "the private key never reaches stdout");
  assert.ok(!r.err.includes(body), "nor stderr");
  assert.equal((await Deno.stat(p("k1.pem"))).mode! & 0o777, 0o600);
  const provider = await InProcessKeyProvider.fromFile("acme-2026-11", p("k1.pem"));
  assert.equal(provider.publicKeyPem, store.keys["acme-2026-11"]);
});

Deno.test("keygen: refuses to overwrite; --force replaces with mode 0600", async () => {
  await freshKey("k2.pem", "k2");
  const before = await Deno.readTextFile(p("k2.pem"));
  const again = await cli("keygen", "--issuer", "acme", "--key-id", "k2", "-o", p("k2.pem"));
  assert.equal(again.code, 2);
  assert.match(again.err, /exists; refusing to overwrite/);
  assert.equal(again.out, "");
  assert.equal(await Deno.readTextFile(p("k2.pem")), before);
  await Deno.chmod(p("k2.pem"), 0o644);
  const forced = await cli(
    "keygen",
    "--issuer",
    "acme",
    "--key-id",
    "k2",
    "-o",
    p("k2.pem"),
    "--force",
  );
  assert.equal(forced.code, 0);
  assert.notEqual(await Deno.readTextFile(p("k2.pem")), before);
  assert.equal((await Deno.stat(p("k2.pem"))).mode! & 0o777, 0o600);
});

Deno.test("keygen: bad use is exit 2; --help is exit 0; default key id is ISSUER-YYYY-MM", async () => {
  for (
    const args of [
      ["keygen", "-o", p("x.pem")],
      ["keygen", "--issuer", "a"],
      ["keygen", "--issuer", "a", "-o", "-"],
      ["keygen", "--issuer", "a", "--key-id", "has space", "-o", p("y.pem")],
      ["keygen", "--bogus"],
    ]
  ) {
    const r = await cli(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.ok(r.err.length > 0);
  }
  const help = await cli("keygen", "--help");
  assert.equal(help.code, 0);
  assert.match(help.out, /usage: regledger keygen/);
  assert.match(help.out, /example/);
  const r = await cli("keygen", "--issuer", "acme", "-o", p("d.pem"));
  assert.match(Object.keys(JSON.parse(r.out).keys)[0], /^acme-\d{4}-\d{2}$/);
});

Deno.test("verify: valid, tampered, strict and self-signed-only envelopes", async () => {
  const store = (await freshKey("v.pem", "v1")).out;
  await Deno.writeTextFile(p("store.json"), store);
  const env = await envelopeFile("env.json", "v.pem", "v1");

  const ok = await cli(
    "verify",
    "-i",
    p("env.json"),
    "--trusted-keys",
    p("store.json"),
    "--strict",
  );
  assert.equal(ok.code, 0, ok.err);
  const okJson = JSON.parse(ok.out);
  assert.equal(okJson.valid, true);
  assert.equal(okJson.trust, "trust-store");
  assert.equal(okJson.key_id, "v1");

  const tampered = structuredClone(env);
  tampered.result.set_size = 4;
  await Deno.writeTextFile(p("tampered.json"), JSON.stringify(tampered));
  const bad = await cli("verify", "-i", p("tampered.json"), "--trusted-keys", p("store.json"));
  assert.equal(bad.code, 1);
  const badJson = JSON.parse(bad.out);
  assert.equal(badJson.valid, false);
  assert.equal(badJson.reason, "HashMismatch");
  assert.equal(badJson.key_id, "v1");

  const strict = await cli("verify", "-i", p("env.json"), "--strict");
  assert.equal(strict.code, 2);
  assert.match(strict.err, /--strict needs --trusted-keys/);
  assert.equal(strict.out, "");

  const self = await cli("verify", "-i", p("env.json"));
  assert.equal(self.code, 0);
  const selfJson = JSON.parse(self.out);
  assert.equal(selfJson.trust, "self-signed-only");
  assert.match(selfJson.warning, /not checked against a trust store/);
  assert.match(self.err, /NOT authenticated/);
  const selfBad = await cli("verify", "-i", p("tampered.json"));
  assert.equal(selfBad.code, 1);
  assert.equal(JSON.parse(selfBad.out).reason, "HashMismatch");

  // Another issuer's store: UntrustedIssuer, exit 1.
  await Deno.writeTextFile(p("other.json"), (await freshKey("o.pem", "other")).out);
  const untrusted = await cli("verify", "-i", p("env.json"), "--trusted-keys", p("other.json"));
  assert.equal(untrusted.code, 1);
  assert.equal(JSON.parse(untrusted.out).reason, "UntrustedIssuer");
});

Deno.test("verify: every legacy fixture gets its verdict and exit code", async () => {
  const expected: Record<string, string> = JSON.parse(
    await Deno.readTextFile(new URL("expected.json", FIXTURES)),
  );
  const store = new URL("trust_store.json", FIXTURES).pathname;
  for (const [name, verdict] of Object.entries(expected)) {
    const file = new URL(`envelopes/${name}.json`, FIXTURES).pathname;
    const r = await cli("verify", "-i", file, "--trusted-keys", store, "--strict");
    const json = JSON.parse(r.out);
    assert.equal(json.valid ? "valid" : json.reason, verdict, name);
    assert.equal(r.code, verdict === "valid" ? 0 : 1, name);
  }
});

Deno.test("verify: bad trust stores, missing files and bad use are exit 2 with a message", async () => {
  const env = new URL("envelopes/drift-valid.json", FIXTURES).pathname;
  await Deno.writeTextFile(p("empty-store.json"), "{}");
  await Deno.writeTextFile(p("junk-store.json"), '{"a": ');
  const cases = [
    ["verify", "-i", env, "--trusted-keys", p("empty-store.json")],
    ["verify", "-i", env, "--trusted-keys", p("junk-store.json")],
    ["verify", "-i", env, "--trusted-keys", p("nope.json")],
    ["verify", "-i", p("nope.json")],
    ["verify", "-i", dir],
    ["verify"],
    ["verify", "-i", env, "extra"],
    ["verify", "--frobnicate"],
  ];
  for (const args of cases) {
    const r = await cli(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.out, "");
    assert.ok(r.err.trim().length > 0);
  }
  const help = await cli("verify", "--help");
  assert.equal(help.code, 0);
  assert.match(help.out, /--trusted-keys/);
  assert.match(help.out, /example/);
});

const MB = 1024 * 1024;
const validText = await Deno.readTextFile(new URL("envelopes/fairness-valid.json", FIXTURES));

function garbage(): Uint8Array {
  const out = new Uint8Array(MB);
  for (let i = 0; i < MB; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/** 1 MB hostile or malformed inputs. */
function hostileInputs(): [string, Uint8Array][] {
  const e = new TextEncoder();
  const bigResult = validText.replace('"result": {', `"result": {"pad": "${"x".repeat(MB)}",`);
  const invalidUtf8 = e.encode(bigResult);
  invalidUtf8[MB / 2] = 0xff;
  return [
    ["deep nesting", e.encode("[".repeat(MB))],
    ["deep objects", e.encode('{"a":'.repeat(MB / 5))],
    ["huge number", e.encode(`{"schema": ${"9".repeat(MB)}}`)],
    ["huge exponent", e.encode(`[1e${"9".repeat(400)}]`)],
    ["invalid UTF-8", invalidUtf8],
    ["truncated", e.encode(bigResult).subarray(0, MB - 7)],
    ["1 MB of garbage", garbage()],
    ["many duplicate keys", e.encode("{" + '"a":1,'.repeat(MB / 6) + '"a":1}')],
    ["a valid JSON array", e.encode(JSON.stringify(Array(MB / 8).fill(1.5)))],
    ["a lone surrogate", e.encode(validText.replace('"acme-bank"', '"acme-\\ud800"'))],
    ["empty", new Uint8Array(0)],
    [
      "100k distinct keys",
      e.encode(
        JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]))),
      ),
    ],
    ["1 MB of escapes", e.encode(`{"schema": "${"\\u0041\\n".repeat(MB / 8)}"}`)],
    ["unterminated 1 MB string", e.encode(`{"schema": "${"x".repeat(MB)}`)],
  ];
}

Deno.test("verify: 1 MB hostile or malformed inputs are exit 2 with a message, never a crash", async () => {
  const store = new URL("trust_store.json", FIXTURES).pathname;
  for (const [name, bytes] of hostileInputs()) {
    await Deno.writeFile(p("hostile.json"), bytes);
    const r = await cli("verify", "-i", p("hostile.json"), "--trusted-keys", store);
    assert.equal(r.code, 2, name);
    assert.equal(r.out, "", name);
    assert.match(r.err, /regledger verify: .+ is not a valid envelope: /, name);
  }
  // Over the 16 MiB limit: refused before it is read.
  const big = await Deno.open(p("big.json"), { write: true, create: true });
  await big.truncate(17 * MB);
  big.close();
  const r = await cli("verify", "-i", p("big.json"), "--trusted-keys", store);
  assert.equal(r.code, 2);
  assert.match(r.err, /limited to/);
});

async function processVerify(stdin: Uint8Array, ...args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", MAIN, "verify", "-i", "-", ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(stdin).catch(() => {});
  await writer.close().catch(() => {});
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    out: dec.decode(out.stdout),
    err: dec.decode(out.stderr),
    signal: out.signal,
  };
}

Deno.test("verify process: -i - reads standard input; hostile stdin is exit 2", async () => {
  const store = new URL("trust_store.json", FIXTURES).pathname;
  const ok = await processVerify(
    new TextEncoder().encode(validText),
    "--trusted-keys",
    store,
    "--strict",
  );
  assert.equal(ok.code, 0, ok.err);
  assert.equal(JSON.parse(ok.out).valid, true);
  const flipped = await processVerify(
    await Deno.readFile(new URL("envelopes/fairness-signature-flipped.json", FIXTURES)),
    "--trusted-keys",
    store,
  );
  assert.equal(flipped.code, 1);
  assert.equal(JSON.parse(flipped.out).reason, "InvalidSignature");
  const deep = await processVerify(
    new TextEncoder().encode("[".repeat(MB)),
    "--trusted-keys",
    store,
  );
  assert.equal(deep.code, 2);
  assert.equal(deep.signal, null);
  assert.equal(deep.out, "");
  assert.match(deep.err, /standard input is not a valid envelope: .*nesting deeper than 64/);
});

Deno.test({
  name: "cleanup temp dir",
  fn: async () => {
    await Deno.remove(dir, { recursive: true });
  },
});
