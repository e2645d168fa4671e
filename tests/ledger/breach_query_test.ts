/**
 * The `breached` query filter: the one breach rule (core/primitives/breach.ts)
 * against the output schemas and the regaudit-fhe fixtures, and the filter
 * through `Ledger.query`, over HTTP (`GET /v1/log/entries?breached=`, the
 * in-process app) and through `LogClient.query` against a real server.
 */
import assert from "node:assert/strict";
import { parseEnvelopeText } from "../../core/envelope.ts";
import type { Envelope } from "../../core/envelope_types.ts";
import { BREACH_FIELD, resultBreached } from "../../core/primitives/breach.ts";
import { LogClient, LogClientError } from "../../ledger/client.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { MemoryStore } from "../../ledger/memory_store.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import type { QueryOptions } from "../../ledger/wire.ts";
import { DEFAULT_CONFIG, parseApiKeys } from "../../server/config.ts";
import { startServer } from "../../server/serve.ts";
import { auth, harness, signedEnvelope } from "../server/_helpers.ts";
import { contractEnvelope } from "./store_contract.ts";

const FIX = new URL("../fixtures/regaudit-fhe/", import.meta.url);

Deno.test("resultBreached reads the breach bit each output schema documents, and only it", async () => {
  for (const p of ["fairness", "disagreement", "drift"]) {
    const schema = JSON.parse(
      await Deno.readTextFile(new URL(`../../schemas/${p}.output.json`, import.meta.url)),
    );
    const field = BREACH_FIELD[p];
    assert.equal(schema.properties[field].type, "boolean", `${p}.${field}`);
    assert.ok(schema.required.includes(field));
    assert.equal(resultBreached(p, { [field]: true }), true);
    assert.equal(resultBreached(p, { [field]: false }), false);
    assert.equal(resultBreached(p, { [field]: "true" }), false, "only the boolean true breaches");
  }
  for (const p of ["provenance", "concordance", "calibration"]) {
    const schema = JSON.parse(
      await Deno.readTextFile(new URL(`../../schemas/${p}.output.json`, import.meta.url)),
    );
    for (const [k, v] of Object.entries(schema.properties as Record<string, { type?: string }>)) {
      assert.notEqual(v.type, "boolean", `${p}.${k}: a boolean would be a breach bit`);
    }
    assert.equal(
      resultBreached(p, { breach: true, drift_bit: true, threshold_breached: true }),
      false,
    );
  }
  assert.equal(resultBreached("drift", null), false);
  assert.equal(resultBreached("toString", { toString: true }), false);
  // The legacy fixtures: the bit each carries.
  let seen = 0;
  for await (const f of Deno.readDir(new URL("envelopes/", FIX))) {
    const env = JSON.parse(await Deno.readTextFile(new URL(`envelopes/${f.name}`, FIX)));
    const field = BREACH_FIELD[env.primitive];
    if (field === undefined) continue;
    assert.equal(resultBreached(env.primitive, env.result), env.result[field] === true, f.name);
    seen++;
  }
  assert.ok(seen >= 6);
});

Deno.test("Ledger.query breached filter pages through breaches only, with cursors", async () => {
  const key = await Ed25519NoteSigner.generate("breach.example/log");
  const ledger = await openLedger({ store: new MemoryStore(), logKey: key, origin: key.name });
  try {
    // Sparse breaches: 1 in 7 drift results, among calibration results that never breach.
    for (let i = 0; i < 250; i++) {
      await ledger.append(
        await contractEnvelope(i, {
          primitive: i % 2 === 0 ? "drift" : "calibration",
          breach: i % 7 === 0,
        }),
      );
    }
    const want = Array.from({ length: 250 }, (_, i) => i).filter((i) => i % 2 === 0 && i % 7 === 0);
    const got: number[] = [];
    let cursor: string | undefined;
    do {
      const p = await ledger.query({ breached: true, limit: 4, cursor });
      got.push(...p.entries.map((e) => e.index));
      cursor = p.next_cursor ?? undefined;
    } while (cursor);
    // Entries share second-granular times: order is (issued_at, index).
    const order = (i: number) => [i % 60, i] as const;
    want.sort((a, b) => order(a)[0] - order(b)[0] || a - b);
    assert.deepEqual(got, want);
    const none = await ledger.query({ breached: true, primitive: "calibration" });
    assert.deepEqual(none, { entries: [], next_cursor: null });
    await assert.rejects(
      () => ledger.query({ breached: "yes" as unknown as boolean }),
      /breached: must be a boolean/,
    );
  } finally {
    await ledger.close();
  }
});

Deno.test("GET /v1/log/entries?breached= filters in the app; anything but true/false is a 400", async () => {
  const h = await harness();
  try {
    const bits = [true, false, true, false, false];
    for (let i = 0; i < bits.length; i++) {
      const env = await signedEnvelope(i) as Envelope;
      env.result = { ...env.result, drift_bit: bits[i] };
      await h.ledger.append(parseEnvelopeText(JSON.stringify(env)));
    }
    const get = async (q: string) => {
      const r = await h.app.request(`/v1/log/entries?${q}`, { headers: auth("ledger:read") });
      return { status: r.status, body: await r.json() };
    };
    const yes = await get("breached=true");
    assert.equal(yes.status, 200);
    assert.deepEqual(yes.body.entries.map((e: { index: number }) => e.index), [0, 2]);
    const no = await get("breached=false&limit=2");
    assert.deepEqual(no.body.entries.map((e: { index: number }) => e.index), [1, 3]);
    assert.equal(typeof no.body.next_cursor, "string");
    const bad = await get("breached=1");
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /breached/);
  } finally {
    await h.close();
  }
});

Deno.test({
  name: "LogClient.query against a real server returns what Ledger.query returns locally",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-client-query-" });
    const token = "tok-client-query-0123456789";
    const server = await startServer({
      host: "127.0.0.1",
      port: 0,
      dataDir: `${dir}/server`,
      trustedKeys: new URL("trust_store.json", FIX).pathname,
      config: { ...DEFAULT_CONFIG, apiKeys: parseApiKeys(`${token}:admin`), verifyWorkers: 0 },
      signals: false,
      status: () => {},
    });
    try {
      const client = new LogClient(`http://127.0.0.1:${server.addr.port}`, { token });
      const expected = JSON.parse(await Deno.readTextFile(new URL("expected.json", FIX)));
      for (const [name, verdict] of Object.entries(expected)) {
        if (verdict !== "valid") continue;
        const bytes = await Deno.readFile(new URL(`envelopes/${name}.json`, FIX));
        const r = await client.append(bytes);
        assert.ok(r.ok, name);
      }
      // The same data directory opened locally (a second handle on the KV file).
      const local = await openLedger({ dataDir: `${dir}/server` });
      try {
        const cases: QueryOptions[] = [
          {},
          { breached: true },
          { breached: false },
          { breached: true, primitive: "fairness" },
          { limit: 2 },
          { from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00+02:00", limit: 3 },
        ];
        for (const o of cases) {
          const want = await local.query(o);
          assert.deepEqual(await client.query(o), want, JSON.stringify(o));
          if (want.next_cursor !== null) {
            const o2 = { ...o, cursor: want.next_cursor };
            assert.deepEqual(await client.query(o2), await local.query(o2));
          }
        }
        assert.ok((await client.query({ breached: true })).entries.length > 0);
      } finally {
        await local.close();
      }
      await assert.rejects(
        () => client.query({ cursor: "!!" }),
        (e: unknown) => e instanceof LogClientError && e.status === 400,
      );
      assert.throws(() => new LogClient("ftp://x", { name: "--server" }), /--server must be/);
    } finally {
      await server.shutdown();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
