/**
 * Timestamps are checked, never stored unchecked (CONTRACT §3, issue 12):
 * a native envelope's block needs a configured verifier; a legacy envelope
 * gets regaudit-fhe 0.0.8's verdicts (a block needs a non-empty `token_b64`;
 * `"timestamp": null` is absent), a block nobody checked is reported
 * `not-checked` and refused for storage. Library, CLI and HTTP API.
 */
import assert from "node:assert/strict";
import { main } from "../../cli/main.ts";
import { parseEnvelopeText, parseEnvelopeValue } from "../../core/envelope.ts";
import { TimestampInvalid } from "../../core/errors.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { checkEnvelope, verifyEnvelope } from "../../core/verify.ts";
import { captureIO } from "../cli/_capture.ts";
import { harness, jsonAuth, post, signedEnvelope, testIssuer } from "../server/_helpers.ts";
import { signed, signer, stamp, tsaVerifier } from "./_envelope.ts";

const FIXTURES = new URL("../fixtures/regaudit-fhe/", import.meta.url);
const legacyText = await Deno.readTextFile(new URL("envelopes/drift-valid.json", FIXTURES));
const fixtureStore = TrustStore.fromJsonText(
  await Deno.readTextFile(new URL("trust_store.json", FIXTURES)),
);
/** The legacy fixture with a `timestamp` member written into its text. */
const legacyWith = (ts: string) => legacyText.replace(/^\{/, `{"timestamp": ${ts},`);

Deno.test("native: a timestamp block needs a configured verifier", async () => {
  const store = TrustStore.fromObject({ [signer.keyId]: signer.publicKeyPem });
  const env = parseEnvelopeValue(await signed({ timestamp: stamp("tsa", "2026-11-21T12:00:01Z") }));
  const r = await checkEnvelope(env, store);
  assert.equal(r.valid ? "" : r.reason, "TimestampInvalid");
  await assert.rejects(verifyEnvelope(env, store), TimestampInvalid);
  const ok = await verifyEnvelope(env, store, { timestampVerifier: tsaVerifier });
  assert.equal(ok.timestamp, "verified");
  // No block at all: nothing to check.
  assert.equal(
    (await verifyEnvelope(parseEnvelopeValue(await signed()), store)).timestamp,
    "absent",
  );
});

Deno.test("legacy: regaudit-fhe's timestamp verdicts; unchecked blocks are not stored", async () => {
  const nul = parseEnvelopeText(legacyWith("null"));
  const r = await verifyEnvelope(nul, fixtureStore);
  assert.deepEqual([r.valid, r.timestamp], [true, "absent"]);
  for (const bad of ["{}", '{"token_b64": ""}', '{"token_b64": 5}', '{"issuer": "tsa"}']) {
    const c = await checkEnvelope(parseEnvelopeText(legacyWith(bad)), fixtureStore);
    assert.equal(c.valid ? "" : c.reason, "TimestampInvalid", bad);
  }
  const tok = parseEnvelopeText(legacyWith('{"token_b64": "AAAA"}'));
  assert.equal((await verifyEnvelope(tok, fixtureStore)).timestamp, "not-checked");
  await assert.rejects(verifyEnvelope(tok, fixtureStore, { forStorage: true }), TimestampInvalid);
  const checked = await verifyEnvelope(tok, fixtureStore, {
    forStorage: true,
    timestampVerifier: (_b, ts) => ts.token_b64 === "AAAA",
  });
  assert.equal(checked.timestamp, "verified");
  const rejected = await checkEnvelope(tok, fixtureStore, { timestampVerifier: () => false });
  assert.equal(rejected.valid ? "" : rejected.reason, "TimestampInvalid");
});

Deno.test("CLI: verify reports not-checked; ledger append refuses an unchecked timestamp", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-ts-" });
  try {
    await Deno.writeTextFile(`${dir}/env.json`, legacyWith('{"token_b64": "AAAA"}'));
    await Deno.writeTextFile(`${dir}/null.json`, legacyWith("null"));
    await Deno.writeTextFile(`${dir}/store.json`, JSON.stringify(fixtureStore.toJSON()));
    const cli = async (...args: string[]) => {
      const io = captureIO();
      const code = await main(args, io);
      return { code, out: io.out, err: io.err };
    };
    const v = await cli("verify", "-i", `${dir}/env.json`, "--trusted-keys", `${dir}/store.json`);
    assert.equal(v.code, 0, v.err);
    assert.equal(JSON.parse(v.out).timestamp, "not-checked");
    const data = `${dir}/data`;
    const store = `${dir}/store.json`;
    const a = await cli(
      "ledger",
      "append",
      "--data",
      data,
      "-i",
      `${dir}/env.json`,
      "--trusted-keys",
      store,
    );
    assert.equal(a.code, 1);
    assert.equal(JSON.parse(a.out).reason, "TimestampInvalid");
    const n = await cli(
      "ledger",
      "append",
      "--data",
      data,
      "-i",
      `${dir}/null.json`,
      "--trusted-keys",
      store,
    );
    assert.equal(n.code, 0, n.err);
    assert.equal(JSON.parse(n.out).index, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP: /v1/verify says not-checked; /v1/envelopes stores no unchecked timestamp", async () => {
  const h = await harness();
  try {
    const text = legacyWith('{"token_b64": "AAAA"}');
    const v = await post(h.app, "/v1/verify", text, jsonAuth("verify"));
    const vj = await v.json();
    assert.deepEqual([v.status, vj.valid, vj.timestamp], [200, true, "not-checked"]);
    const a = await post(h.app, "/v1/envelopes", text, jsonAuth("ledger:append"));
    assert.equal(a.status, 422);
    assert.equal((await a.json()).reason, "TimestampInvalid");
    // A native envelope with a timestamp block: no verifier on the server, refused.
    const native = await signedEnvelope(1);
    const stamped = { ...native, timestamp: { token_b64: "AAAA" } };
    const s = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(stamped),
      jsonAuth("ledger:append"),
    );
    assert.equal(s.status, 422);
    assert.equal((await s.json()).reason, "TimestampInvalid");
    assert.equal(await h.ledger.size(), 0);
    // The same body without the block is stored; re-sent with junk PEM whitespace it is the same entry.
    const first = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(native),
      jsonAuth("ledger:append"),
    );
    assert.equal(first.status, 201);
    for (let i = 1; i <= 40; i++) {
      const pem = (await testIssuer()).publicKeyPem.replace(
        "\n-----END",
        "\n".repeat(i * 1000) + "-----END",
      );
      const again = { ...native, receipt: { ...native.receipt, public_key_pem: pem } };
      const r = await post(
        h.app,
        "/v1/envelopes",
        JSON.stringify(again),
        jsonAuth("ledger:append"),
      );
      assert.equal(r.status, 200);
      assert.equal((await r.json()).index, 0);
    }
    assert.equal(await h.ledger.size(), 1);
    // Now that its body is logged, the stamped copy is that entry (200), its block not stored.
    const dup = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(stamped),
      jsonAuth("ledger:append"),
    );
    assert.equal(dup.status, 200);
    assert.equal((await dup.json()).index, 0);
    const vs = await (await post(h.app, "/v1/verify", JSON.stringify(stamped), jsonAuth("verify")))
      .json();
    assert.deepEqual([vs.valid, vs.reason, vs.logged_index], [false, "TimestampInvalid", 0]);
    assert.equal(await h.ledger.size(), 1);
    assert.equal((await h.ledger.get(0))!.envelope.includes("timestamp"), false);
  } finally {
    await h.close();
  }
});
