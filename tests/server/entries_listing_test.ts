/**
 * The entries listing the console charts from (`GET /v1/log/entries`): each
 * entry's regulations and result summary (statistics, breach bit, thresholds
 * read back from the signed input commitments) against the stored envelopes,
 * the `key_id` and `regulation` filters, and the scan budget of filtered pages.
 */
import assert from "node:assert/strict";
import { commitInput } from "../../core/commitments.ts";
import { parseEnvelopeValue } from "../../core/envelope.ts";
import type { Envelope } from "../../core/envelope_types.ts";
import { BREACH_FIELD, resultSummary, STATISTICS } from "../../core/primitives/breach.ts";
import { committedThreshold, THRESHOLD_RULES } from "../../core/primitives/thresholds.ts";
import { LogClient } from "../../ledger/client.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { MemoryStore } from "../../ledger/memory_store.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import { SCAN_BUDGET } from "../../ledger/query.ts";
import type { EntrySummary } from "../../ledger/wire.ts";
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { startServer } from "../../server/serve.ts";
import { fixtureText, signedEnvelope, testKeys, TOKENS, writeTrustFile } from "./_helpers.ts";
import { templateEnvelope } from "../ledger/_helpers.ts";

const PRIMITIVES = Object.keys(STATISTICS);

Deno.test("resultSummary names numeric result fields of each output schema, and the breach rule's fields", async () => {
  for (const p of PRIMITIVES) {
    const schema = JSON.parse(
      await Deno.readTextFile(new URL(`../../schemas/${p}.output.json`, import.meta.url)),
    );
    if (p !== "provenance") {
      for (const n of STATISTICS[p]) {
        assert.ok(["number", "integer"].includes(schema.properties[n]?.type), `${p}.${n}`);
      }
    }
    const rule = THRESHOLD_RULES[p];
    if (rule === undefined) {
      assert.equal(BREACH_FIELD[p], undefined, p);
      continue;
    }
    for (const n of rule.statistics) assert.ok(STATISTICS[p].includes(n), `${p}.${n}`);
    const input = JSON.parse(
      await Deno.readTextFile(new URL(`../../schemas/${p}.input.json`, import.meta.url)),
    );
    assert.equal(input.properties[rule.input].default, rule.default, `${p}.${rule.input}`);
  }
  // Non-finite, missing and mistyped values are null; the breach bit only when boolean.
  assert.deepEqual(
    resultSummary("drift", { distance: "0.1", drift_bit: "true" }),
    { breached: null, statistics: { distance: null, w1_distance: null }, thresholds: {} },
  );
  assert.deepEqual(
    resultSummary("provenance", { bucket_aggregates: [1, 7.5, 2], topk_indices: [1, 2] })
      .statistics,
    { top_bucket: 1, top_bucket_aggregate: 7.5 },
  );
  assert.deepEqual(resultSummary("provenance", { topk_indices: [-1] }).statistics, {
    top_bucket: null,
    top_bucket_aggregate: null,
  });
  assert.deepEqual(resultSummary("unknown", { x: 1 }), {
    breached: null,
    statistics: {},
    thresholds: {},
  });
  // Thresholds: on the grid, the default, and off the grid (unknown, never guessed).
  for (const t of [0, 0.0001, 0.0375, 0.285, 0.005, 1]) {
    assert.equal(committedThreshold("fairness", [commitInput("threshold", t)]), t);
  }
  assert.equal(committedThreshold("fairness", [commitInput("threshold", 0.12345)]), undefined);
  assert.equal(committedThreshold("fairness", [commitInput("threshold", 0.2345)]), undefined);
  assert.equal(committedThreshold("fairness", [commitInput("threshold", 2)]), undefined);
  assert.equal(committedThreshold("drift", [commitInput("threshold", 0.1)]), undefined);
  // The legacy fixtures: Python's commitments give the thresholds back, and with them
  // the breach bits the results carry (fairness compares magnitudes).
  let seen = 0;
  for (const f of ["fairness", "disagreement"]) {
    const env = JSON.parse(await fixtureText(`envelopes/${f}-valid.json`));
    const s = resultSummary(f, env.result, env.input_commitments);
    const stats = Object.keys(s.thresholds);
    assert.deepEqual(stats, THRESHOLD_RULES[f].statistics);
    const t = s.thresholds[stats[0]];
    const over = stats.some((n) => Math.abs(s.statistics[n]!) > t);
    assert.equal(over, s.breached, f);
    seen++;
  }
  assert.equal(seen, 2);
});

Deno.test({
  name:
    "GET /v1/log/entries on a real server: summaries match the stored envelopes; key_id and regulation filter",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "regledger-entries-listing-" });
    const trust = `${dir}/trust.json`;
    await writeTrustFile(trust);
    const server = await startServer({
      host: "127.0.0.1",
      port: 0,
      dataDir: `${dir}/data`,
      trustedKeys: trust,
      config: { ...DEFAULT_CONFIG, apiKeys: testKeys(), rateLimit: null, verifyWorkers: 0 },
      signals: false,
      status: () => {},
    });
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      const call = async (path: string, scope: keyof typeof TOKENS, body?: unknown) => {
        const r = await fetch(`${base}${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: {
            authorization: `Bearer ${TOKENS[scope]}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: r.status, body: await r.json() };
      };
      // Every fixture case of every primitive, audited and signed by the server; one fairness
      // case with a threshold off the grid.
      const cases = JSON.parse(await fixtureText("primitives.json")).cases;
      const thresholdOf: number[] = [];
      for (const p of PRIMITIVES) {
        for (const c of cases[p]) {
          const r = await call(`/v1/audit/${p}`, "audit:run", c.input);
          assert.equal(r.status, 201, JSON.stringify(r.body));
          const rule = THRESHOLD_RULES[p];
          thresholdOf[r.body.receipt.index] = rule ? (c.input[rule.input] ?? rule.default) : NaN;
        }
      }
      const odd = { ...cases.fairness[0].input, threshold: 0.12345 };
      const oddIndex = (await call("/v1/audit/fairness", "audit:run", odd)).body.receipt.index;
      // Two envelopes signed under the test issuer's key, not the server's.
      for (const n of [1, 2]) {
        const r = await call("/v1/envelopes", "ledger:append", await signedEnvelope(n));
        assert.equal(r.status, 201);
      }
      const page = await call("/v1/log/entries?limit=1000", "ledger:read");
      assert.equal(page.status, 200);
      assert.equal(page.body.next_cursor, null);
      const entries: EntrySummary[] = page.body.entries;
      assert.equal(entries.length, PRIMITIVES.length * 6 + 3);
      let breaches = 0;
      for (const e of entries) {
        const stored = await call(`/v1/log/entries/${e.index}`, "ledger:read");
        const env = stored.body.envelope;
        assert.deepEqual(e.regulations, env.regulations);
        assert.equal(e.key_id, env.receipt.key_id);
        for (const n of STATISTICS[e.primitive] ?? []) {
          if (e.primitive === "provenance") continue;
          const v = env.result[n];
          assert.equal(
            e.summary.statistics[n],
            typeof v === "number" ? v : null,
            `${e.index} ${n}`,
          );
        }
        if (e.primitive === "provenance") {
          const top = env.result.topk_indices[0];
          assert.deepEqual(e.summary.statistics, {
            top_bucket: top,
            top_bucket_aggregate: env.result.bucket_aggregates[top],
          });
        }
        const field = BREACH_FIELD[e.primitive];
        const bit = field === undefined ? undefined : env.result[field];
        assert.equal(e.summary.breached, typeof bit === "boolean" ? bit : null);
        if (e.summary.breached) breaches++;
        const rule = THRESHOLD_RULES[e.primitive];
        if (rule === undefined || e.index === oddIndex || e.issuer === "acme") {
          assert.deepEqual(e.summary.thresholds, {}, `${e.index}`);
        } else {
          const want = Object.fromEntries(rule.statistics.map((n) => [n, thresholdOf[e.index]]));
          assert.deepEqual(e.summary.thresholds, want, `${e.index}`);
        }
      }
      assert.ok(breaches > 0);
      // key_id: the two appended envelopes only, or every audit.
      const acme = await call("/v1/log/entries?key_id=test-issuer-2026", "ledger:read");
      assert.deepEqual(acme.body.entries.map((e: EntrySummary) => e.issuer), ["acme", "acme"]);
      const own = entries.find((e) => e.issuer !== "acme")!.key_id;
      const audits = await call(`/v1/log/entries?key_id=${own}&limit=1000`, "ledger:read");
      assert.equal(audits.body.entries.length, entries.length - 2);
      // regulation: exactly the entries listing the tag, alone and with other filters.
      for (const tag of ["NYC_LL144", "HIPAA", "EU_AI_ACT_ART15", "NOT_A_TAG"]) {
        const want = entries.filter((e) => e.regulations.includes(tag)).map((e) => e.index);
        const got: number[] = [];
        let cursor: string | null = null;
        do {
          const q = `regulation=${tag}&limit=4${cursor ? `&cursor=${cursor}` : ""}`;
          const r = await call(`/v1/log/entries?${q}`, "ledger:read");
          assert.equal(r.status, 200);
          assert.ok(r.body.entries.length <= 4);
          got.push(...r.body.entries.map((e: EntrySummary) => e.index));
          cursor = r.body.next_cursor;
        } while (cursor !== null);
        assert.deepEqual(got, want, tag);
      }
      const both = await call(
        "/v1/log/entries?regulation=NYC_LL144&breached=true&limit=1000",
        "ledger:read",
      );
      assert.deepEqual(
        both.body.entries.map((e: EntrySummary) => e.index),
        entries.filter((e) => e.primitive === "fairness" && e.summary.breached).map((e) => e.index),
      );
      // The log client passes the new filters through.
      const client = new LogClient(base, { token: TOKENS["ledger:read"] });
      assert.deepEqual(await client.query({ key_id: "test-issuer-2026" }), acme.body);
      // Bad filters are 400s naming the parameter.
      for (const q of ["key_id=", "regulation=", `regulation=${"x".repeat(257)}`, "kid=x"]) {
        const r = await call(`/v1/log/entries?${q}`, "ledger:read");
        assert.equal(r.status, 400, q);
        assert.match(JSON.stringify(r.body), /key_id|regulation|kid/);
      }
    } finally {
      await server.shutdown();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a filtered page reads at most SCAN_BUDGET index hits; its cursor continues to the matches", async () => {
  const key = await Ed25519NoteSigner.generate("budget.example/log");
  const ledger = await openLedger({ store: new MemoryStore(), logKey: key, origin: key.name });
  try {
    const template = await templateEnvelope();
    const total = SCAN_BUDGET + 1500;
    // Two matches past the first budget's worth of entries, one inside it.
    const tagged = new Set([17, SCAN_BUDGET + 100, total - 1]);
    const envs = Array.from({ length: total }, (_, i) => {
      const env = structuredClone(template) as Envelope;
      env.result = { n: i };
      env.issued_at = `2026-03-01T00:00:00.${String(i).padStart(6, "0")}Z`;
      if (tagged.has(i)) env.regulations = ["RARE_TAG"];
      return parseEnvelopeValue(env);
    });
    for (let i = 0; i < total; i += 500) {
      await Promise.all(envs.slice(i, i + 500).map((e) => ledger.append(e)));
    }
    const first = await ledger.query({ regulation: "RARE_TAG", limit: 10 });
    assert.deepEqual(first.entries.map((e) => e.index), [17]);
    assert.notEqual(first.next_cursor, null, "the budget ran out before the index did");
    const second = await ledger.query({
      regulation: "RARE_TAG",
      limit: 10,
      cursor: first.next_cursor!,
    });
    assert.deepEqual(second.entries.map((e) => e.index), [SCAN_BUDGET + 100, total - 1]);
    assert.equal(second.next_cursor, null);
    // Unfiltered pages are not budgeted: limit entries, always.
    assert.equal((await ledger.query({ limit: 1000 })).entries.length, 1000);
  } finally {
    await ledger.close();
  }
});
