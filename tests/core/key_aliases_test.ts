/**
 * Revocation and pins follow the public key, not the key id that names it
 * (CONTRACT §3): a key listed under two ids and revoked or pinned under one
 * is revoked or pinned under both. Checked through the library, the CLI
 * `verify` and the HTTP API, with a regaudit-fhe fixture envelope.
 */
import assert from "node:assert/strict";
import { main } from "../../cli/main.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { RevokedIssuer, TrustStoreError, WrongParameterSet } from "../../core/errors.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { checkEnvelope, verifyEnvelope } from "../../core/verify.ts";
import { captureIO } from "../cli/_capture.ts";
import { harness, jsonAuth, post, writeTrustFile } from "../server/_helpers.ts";

const FIXTURES = new URL("../fixtures/regaudit-fhe/", import.meta.url);
const text = await Deno.readTextFile(new URL("envelopes/drift-valid.json", FIXTURES));
const fixtureStore = JSON.parse(await Deno.readTextFile(new URL("trust_store.json", FIXTURES)));
const PEM: string = fixtureStore.keys["acme-2026-04"];
const ID = "acme-2026-04"; // the id the envelope's receipt names
const PIN = "00".repeat(32);

/** The fixture key under its own id and under `alias`, with `extra` applied. */
function aliased(extra: { revoked?: string[]; parameter_set_pins?: Record<string, string> }) {
  // The alias writes the same key with other PEM whitespace: still the same key.
  const alias = PEM.replace("\n-----END", "\n\n-----END");
  return { keys: { [ID]: PEM, alias }, ...extra };
}

Deno.test("trust store: revoking a key under one id revokes it under every id", async () => {
  const env = parseEnvelopeText(text);
  const revokedAlias = TrustStore.fromObject(aliased({ revoked: ["alias"] }));
  assert.equal(revokedAlias.isRevoked(ID), true);
  assert.equal(revokedAlias.isRevoked("alias"), true);
  await assert.rejects(verifyEnvelope(env, revokedAlias), RevokedIssuer);
  // The store's JSON still says what the file said.
  assert.deepEqual(revokedAlias.toJSON().revoked, ["alias"]);
  // Without the revocation the envelope verifies under the same store shape.
  assert.equal((await verifyEnvelope(env, TrustStore.fromObject(aliased({})))).valid, true);
  // A different key is not touched by the revocation.
  const other = fixtureStore.keys["pinned-1"];
  const s = TrustStore.fromObject({ keys: { [ID]: PEM, x: other }, revoked: ["x"] });
  assert.equal(s.isRevoked(ID), false);
});

Deno.test("trust store: a pin on one id applies to the key under every id", async () => {
  const env = parseEnvelopeText(text);
  const pinnedAlias = TrustStore.fromObject(aliased({ parameter_set_pins: { alias: PIN } }));
  assert.equal(pinnedAlias.parameterSetPin(ID), PIN);
  await assert.rejects(verifyEnvelope(env, pinnedAlias), WrongParameterSet);
  // The envelope's own hash pinned under the alias: valid.
  const own = env.value.parameter_set_hash;
  const ok = TrustStore.fromObject(aliased({ parameter_set_pins: { alias: own } }));
  assert.equal((await verifyEnvelope(env, ok)).valid, true);
  // Two different pins for one key cannot both hold: the store is refused.
  assert.throws(
    () => TrustStore.fromObject(aliased({ parameter_set_pins: { alias: PIN, [ID]: own } })),
    TrustStoreError,
  );
  const r = await checkEnvelope(env, pinnedAlias);
  assert.equal(r.valid ? "" : r.reason, "WrongParameterSet");
});

Deno.test("CLI verify: a key revoked or pinned under an alias fails under its other id", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-alias-" });
  try {
    await Deno.writeTextFile(`${dir}/env.json`, text);
    const run = async (store: unknown) => {
      await Deno.writeTextFile(`${dir}/store.json`, JSON.stringify(store));
      const io = captureIO();
      const code = await main(
        ["verify", "-i", `${dir}/env.json`, "--trusted-keys", `${dir}/store.json`, "--strict"],
        io,
      );
      return { code, out: JSON.parse(io.out) };
    };
    const revoked = await run(aliased({ revoked: ["alias"] }));
    assert.deepEqual([revoked.code, revoked.out.reason], [1, "RevokedIssuer"]);
    const pinned = await run(aliased({ parameter_set_pins: { alias: PIN } }));
    assert.deepEqual([pinned.code, pinned.out.reason], [1, "WrongParameterSet"]);
    const fine = await run(aliased({}));
    assert.deepEqual([fine.code, fine.out.valid], [0, true]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP: /v1/verify and /v1/envelopes refuse a key revoked under an alias", async () => {
  const h = await harness();
  try {
    await writeTrustFile(h.trustFile, (s) => {
      s.keys.alias = PEM;
      s.revoked = ["old-2025", "alias"];
    });
    await h.envelopes.reloadTrustStore();
    const v = await post(h.app, "/v1/verify", text, jsonAuth("verify"));
    const vj = await v.json();
    assert.equal(v.status, 200);
    assert.deepEqual([vj.valid, vj.reason], [false, "RevokedIssuer"]);
    const a = await post(h.app, "/v1/envelopes", text, jsonAuth("ledger:append"));
    const aj = await a.json();
    assert.equal(a.status, 422);
    assert.equal(aj.reason, "RevokedIssuer");
    assert.equal(await h.ledger.size(), 0);
  } finally {
    await h.close();
  }
});
