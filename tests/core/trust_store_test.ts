/** Trust stores: both docs/formats.md §2 shapes, and a named TrustStoreError for every malformation. */
import assert from "node:assert/strict";
import { TrustStore } from "../../core/trust_store.ts";
import { readTrustStoreFile } from "../../core/trust_store_file.ts";
import { TrustStoreError } from "../../core/errors.ts";
import { Ed25519PrivateKey } from "../../core/ed25519.ts";

const a = (await Ed25519PrivateKey.generate()).publicKey.toPem();
const b = (await Ed25519PrivateKey.generate()).publicKey.toPem();
const X25519 =
  "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEAwIDafDPyAq7r1sTYLxKtMewVwIHpIgLLyKO2KsLXH0w=\n-----END PUBLIC KEY-----\n";
const PIN = "ab".repeat(32);

Deno.test("trust store: full shape", () => {
  const s = TrustStore.fromObject({
    keys: { a, b },
    revoked: ["b"],
    parameter_set_pins: { a: PIN.toUpperCase() },
  });
  assert.deepEqual(s.keyIds, ["a", "b"]);
  assert.equal(s.has("a") && s.has("b") && !s.has("c"), true);
  assert.equal(s.isRevoked("b"), true);
  assert.equal(s.isRevoked("a"), false);
  assert.equal(s.parameterSetPin("a"), PIN);
  assert.equal(s.parameterSetPin("b"), undefined);
  assert.equal(s.publicKey("a")!.toPem(), a);
  assert.deepEqual(s.toJSON(), { keys: { a, b }, revoked: ["b"], parameter_set_pins: { a: PIN } });
  // Round-trips through its own JSON.
  assert.deepEqual(TrustStore.fromObject(s.toJSON()).toJSON(), s.toJSON());
});

Deno.test("trust store: bare key_id → PEM mapping, including a key id named 'keys'", () => {
  const s = TrustStore.fromObject({ a, keys: b });
  assert.deepEqual(s.keyIds, ["a", "keys"]);
  assert.equal(s.isRevoked("a"), false);
  assert.equal(TrustStore.fromObject({ keys: { a } }).keyIds.length, 1);
});

Deno.test("trust store: the fixtures' store loads from file and from text", async () => {
  const path = new URL("../fixtures/regaudit-fhe/trust_store.json", import.meta.url).pathname;
  const s = await readTrustStoreFile(path);
  assert.deepEqual(s.keyIds, ["acme-2026-04", "old-2025", "pinned-1"]);
  assert.equal(s.isRevoked("old-2025"), true);
  assert.equal(s.parameterSetPin("pinned-1"), "0".repeat(64));
  assert.deepEqual(TrustStore.fromJsonText(await Deno.readFile(path)).toJSON(), s.toJSON());
});

Deno.test("trust store: each malformation is a TrustStoreError naming the problem", () => {
  const cases: [unknown, RegExp][] = [
    [null, /must be a JSON object/],
    [[a], /must be a JSON object/],
    [{}, /no keys/],
    [{ keys: {} }, /no keys/],
    [{ keys: [a] }, /'keys' must be an object/],
    [{ a: 5 }, /key "a" is not a PEM public key/],
    [{ a: "ssh-ed25519 AAAA" }, /key "a" is not a PEM public key/],
    [{ a: X25519 }, /key "a" is not an Ed25519 public key/],
    [{ a: a.replace("MCow", "MC!w") }, /key "a" is not an Ed25519 public key/],
    [{ keys: { a }, revoked: "a" }, /'revoked' must be a list/],
    [{ keys: { a }, revoked: [1] }, /'revoked' must be a list/],
    [{ keys: { a }, revoked: ["zz", "b"] }, /'revoked' names unknown key_id\(s\): \["b","zz"\]/],
    [{ keys: { a }, parameter_set_pins: [] }, /'parameter_set_pins' must be an object/],
    [
      { keys: { a }, parameter_set_pins: { q: PIN } },
      /'parameter_set_pins' names unknown key_id\(s\): \["q"\]/,
    ],
    [{ keys: { a }, parameter_set_pins: { a: "abc" } }, /pin for "a" must be 64 hex digits/],
    [
      { keys: { a }, parameter_set_pins: { a: "zz".repeat(32) } },
      /pin for "a" must be 64 hex digits/,
    ],
    [{ keys: { a }, extra: 1 }, /unknown member "extra"/],
    [{ "": a }, /empty key_id/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => TrustStore.fromObject(input), (e: unknown) => {
      assert.ok(e instanceof TrustStoreError, `${JSON.stringify(input)}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("trust store: unreadable JSON text is a TrustStoreError; a missing file is NotFound", async () => {
  assert.throws(() => TrustStore.fromJsonText('{"a": '), TrustStoreError);
  assert.throws(() => TrustStore.fromJsonText(new Uint8Array([0x7b, 0xff])), TrustStoreError);
  assert.throws(
    () => TrustStore.fromJsonText(`{"a": ${JSON.stringify(a)}, "a": ${JSON.stringify(b)}}`),
    /duplicate key/,
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/s.json`, "{}");
    await assert.rejects(readTrustStoreFile(`${dir}/s.json`), (e: unknown) => {
      assert.ok(e instanceof TrustStoreError);
      assert.ok(e.message.startsWith(`${dir}/s.json: `));
      return true;
    });
    await assert.rejects(readTrustStoreFile(`${dir}/missing.json`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
