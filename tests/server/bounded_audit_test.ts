/**
 * Audit routes do bounded work per request: an input whose result cannot
 * fit the ledger's envelope limit is refused before anything is computed
 * (a 68-byte provenance request with a million buckets used to cost seconds
 * of CPU and an 11 MB envelope the ledger then refused), and disagreement's
 * statistic no longer enumerates model pairs (it equals the pairwise
 * definition, checked against a naive oracle).
 *
 * @module
 */
import { InputValidationError } from "../../core/errors.ts";
import { runAudit } from "../../core/audit/run.ts";
import {
  type DisagreementInput,
  disagreementStatistic,
  evalCubic,
} from "../../core/primitives/disagreement.ts";
import { MAX_ENVELOPE_BYTES } from "../../ledger/kv_codec.ts";
import { assert, assertEquals } from "./_assert.ts";
import { harness, jsonAuth, post } from "./_helpers.ts";

Deno.test("POST /v1/audit: results that cannot fit an envelope are refused before computing; nothing is logged", async () => {
  // A larger body limit than the default, so calibration's input can outgrow an envelope.
  const h = await harness({ config: { bodyLimit: 4 << 20 } });
  try {
    const before = (await h.ledger.head()).size;
    const cases: [string, unknown, string][] = [
      [
        "provenance",
        { attributions: [1], row_ids: [1], n_buckets: 1 << 20, k: 1 << 20 },
        "/n_buckets",
      ],
      ["provenance", { attributions: [1], row_ids: [1], n_buckets: 200_000, k: 1 }, "/n_buckets"],
      [
        "calibration",
        { scores: new Array(300_000).fill(0), quantiles: new Array(300_000).fill(1) },
        "/scores",
      ],
    ];
    for (const [primitive, input, pointer] of cases) {
      const text = JSON.stringify(input);
      const r = await post(h.app, `/v1/audit/${primitive}`, text, {
        ...jsonAuth("audit:run"),
      });
      const body = await r.json();
      assertEquals(r.status, 400, `${primitive}: ${JSON.stringify(body)}`);
      assertEquals(body.rule, "result-size");
      assertEquals(body.pointer, pointer);
      assert(String(body.error).includes(String(MAX_ENVELOPE_BYTES)), body.error);
    }
    assertEquals((await h.ledger.head()).size, before);
    // Just under the floor is computed (and logged when the envelope fits).
    const ok = await post(
      h.app,
      "/v1/audit/provenance",
      JSON.stringify({ attributions: [1, 2], row_ids: [3, 4], n_buckets: 1000, k: 1000 }),
      jsonAuth("audit:run"),
    );
    assertEquals(ok.status, 201, await ok.clone().text());
    await ok.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("runAudit: maxResultBytes refuses by the field that makes the result grow; absent, no limit", () => {
  const input = { attributions: [1], row_ids: [1], n_buckets: 5000, k: 10 };
  try {
    runAudit("provenance", input, { maxResultBytes: 1000 });
    throw new Error("not refused");
  } catch (e) {
    assert(e instanceof InputValidationError, String(e));
    assertEquals([e.pointer, e.rule], ["/n_buckets", "result-size"]);
  }
  assertEquals(runAudit("provenance", input).result.bucket_aggregates.length, 5000);
});

/** xorshift32, seeded, so a failure names its input. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

Deno.test("disagreement: the O(M·n) statistic equals the pairwise definition on random inputs", () => {
  const seed = Number(Deno.env.get("REGLEDGER_SEED") ?? Date.now() % 1e9);
  const rand = rng(seed);
  for (let round = 0; round < 200; round++) {
    const m = 3 + Math.floor(rand() * 12);
    const n = 1 + Math.floor(rand() * 20);
    const scale = 10 ** Math.floor(rand() * 6 - 3);
    const input: DisagreementInput = {
      model_polynomials: Array.from(
        { length: m },
        () => Array.from({ length: 4 }, () => (rand() - 0.5) * scale),
      ),
      test_input: Array.from({ length: n }, () => rand() * 2 - 1),
    };
    const outs = input.model_polynomials.map((c) => input.test_input.map((x) => evalCubic(c, x)));
    let acc = 0;
    for (let i = 0; i < m; i++) {
      for (let j = i + 1; j < m; j++) {
        let s = 0;
        for (let t = 0; t < n; t++) s += (outs[i][t] - outs[j][t]) ** 2;
        acc += s / n;
      }
    }
    const naive = acc / (m * (m - 1) / 2);
    const got = disagreementStatistic(input).pairwise_variance;
    assert(
      Math.abs(got - naive) <= 1e-12 * Math.max(Math.abs(naive), 1e-300),
      `seed ${seed} round ${round}: ${got} vs ${naive}`,
    );
  }
});
