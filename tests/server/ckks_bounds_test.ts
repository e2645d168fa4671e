/**
 * `POST /v1/ckks/evaluate` does bounded work: the body is parsed with the
 * hostile-input parser (deep nesting is a 400, not a 500), a full queue is
 * refused at once with 503 and `Retry-After` (before the body is read),
 * ring dimensions above the configured maximum are refused before keys are
 * loaded, the body limit is derived from that maximum (and real requests
 * fit under it), and an idle worker is stopped so its WebAssembly memory
 * is returned.
 */
import assert from "node:assert/strict";
import { EncryptedAuditClient } from "../../core/fhe/split.ts";
import { maxEvaluateRequestBytes, maxRequestBytesFor } from "../../core/fhe/request_bound.ts";
import { PRIMITIVE_SPECS } from "../../core/primitives/registry.ts";
import { CkksBusyError, CkksRunner } from "../../server/ckks_runner.ts";
import {
  configFromEnv,
  DEFAULT_CONFIG,
  parseApiKeys,
  type ServerConfig,
} from "../../server/config.ts";
import { startServer } from "../../server/serve.ts";

const TOKEN = "ckks-bounds-test-token-0123";
const raw = { p: [5, 9, 14, 20, 17, 11, 6, 3, 1, 1], q: [2, 4, 8, 13, 18, 19, 15, 10, 6, 3] };

async function withServer(
  config: Partial<ServerConfig>,
  f: (url: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-ckks-bounds-" });
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: dir,
    config: {
      ...DEFAULT_CONFIG,
      apiKeys: parseApiKeys(`${TOKEN}:audit:run`),
      verifyWorkers: 0,
      ckks: true,
      ...config,
    },
    signals: false,
    status: () => {},
  });
  try {
    await f(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

const post = (url: string, body: string) =>
  fetch(`${url}/v1/ckks/evaluate`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body,
  });

Deno.test({
  name: "POST /v1/ckks/evaluate: hostile JSON is a 400; a full queue is a 503 with Retry-After",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const client = await EncryptedAuditClient.create("drift", PRIMITIVE_SPECS.drift.parse(raw));
    try {
      const good = JSON.stringify(client.request);
      await withServer({ ckksQueue: 0 }, async (url) => {
        for (
          const [body, rule] of [
            ["[".repeat(100_000) + "]".repeat(100_000), "max-depth"],
            ['{"v":1,"v":2}', "duplicate-key"],
            ["{", "syntax"],
          ]
        ) {
          const r = await post(url, body);
          const j = await r.json();
          assert.equal(r.status, 400, `${rule}: ${JSON.stringify(j)}`);
          assert.equal(j.rule, rule);
        }
        // One evaluation running and none may wait: other requests are refused at
        // once. (The evaluation itself is refused when it lands while a probe
        // runs: then it is sent again.)
        let refused: Response | null = null;
        let answer: Response | null = null;
        for (let attempt = 0; attempt < 20 && answer === null; attempt++) {
          const first = post(url, good);
          let done = false;
          first.finally(() => (done = true));
          while (!done) {
            const r = await post(url, "{}");
            if (r.status === 503 && refused === null) refused = r;
            else await r.body?.cancel();
          }
          const a = await first;
          if (a.status === 200) answer = a;
          else await a.body?.cancel();
        }
        assert.ok(answer !== null, "the evaluation was never accepted");
        const run = client.finish(await answer.json());
        assert.equal(
          run.result.drift_bit,
          PRIMITIVE_SPECS.drift.statistic(PRIMITIVE_SPECS.drift.parse(raw)).drift_bit,
        );
        assert.ok(refused !== null, "no request was refused while the evaluation ran");
        assert.match(refused.headers.get("retry-after") ?? "", /^[1-9][0-9]*$/);
        assert.equal((await refused.json()).reason, "busy");
        // Once it is done, the next one is accepted again.
        const after = await post(url, good);
        assert.equal(after.status, 200);
        await after.body?.cancel();
      });
    } finally {
      client.dispose();
    }
  },
});

Deno.test({
  name: "POST /v1/ckks/evaluate: ring dimensions above the maximum are refused before keys load",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const client = await EncryptedAuditClient.create("drift", PRIMITIVE_SPECS.drift.parse(raw), {
      polyModulusDegree: 16384,
    });
    try {
      await withServer({ ckksMaxDegree: 8192 }, async (url) => {
        const r = await post(url, JSON.stringify(client.request));
        const j = await r.json();
        assert.equal(r.status, 400, JSON.stringify(j));
        assert.equal(j.pointer, "/parameter_set/poly_modulus_degree");
        assert.equal(j.rule, "max-degree");
      });
    } finally {
      client.dispose();
    }
  },
});

Deno.test({
  name: "CKKS body limit: derived from the maximum ring dimension; real requests fit under it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    assert.equal(
      DEFAULT_CONFIG.ckksBodyLimit,
      maxEvaluateRequestBytes(DEFAULT_CONFIG.ckksMaxDegree),
    );
    const small = configFromEnv({ REGLEDGER_CKKS_MAX_DEGREE: "8192" });
    assert.equal(small.ckksBodyLimit, maxEvaluateRequestBytes(8192));
    assert.ok(small.ckksBodyLimit < DEFAULT_CONFIG.ckksBodyLimit);
    assert.equal(
      configFromEnv({ REGLEDGER_CKKS_MAX_DEGREE: "8192", REGLEDGER_CKKS_BODY_LIMIT: "5000" })
        .ckksBodyLimit,
      5000,
    );
    assert.throws(() => configFromEnv({ REGLEDGER_CKKS_MAX_DEGREE: "4096" }), /MAX_DEGREE/);
    const cases = JSON.parse(
      await Deno.readTextFile(new URL("../fixtures/regaudit-fhe/primitives.json", import.meta.url)),
    ).cases;
    for (const p of ["fairness", "drift", "provenance", "calibration"] as const) {
      const c = await EncryptedAuditClient.create(p, PRIMITIVE_SPECS[p].parse(cases[p][0].input), {
        polyModulusDegree: 8192,
      });
      try {
        const size = new TextEncoder().encode(JSON.stringify(c.request)).length;
        assert.ok(size <= maxRequestBytesFor(p, 8192), `${p}: ${size} > bound`);
      } finally {
        c.dispose();
      }
    }
  },
});

Deno.test({
  name: "CkksRunner: a full queue refuses with CkksBusyError; an idle worker is stopped",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const runner = new CkksRunner({ maxQueued: 0, idleMs: 50 });
    try {
      const job = runner.auditBackend().run(
        "drift",
        undefined as never,
        PRIMITIVE_SPECS.drift.parse(raw),
      );
      assert.equal(runner.pending, 1);
      const busy = runner.busy();
      assert.ok(busy instanceof CkksBusyError);
      assert.equal(busy.status, 503);
      await assert.rejects(
        runner.evaluateBody(new TextEncoder().encode("{}"), { maxBytes: 1024, maxDegree: 8192 }),
        CkksBusyError,
      );
      await job;
      assert.equal(runner.busy(), null);
      assert.ok(runner.workerAlive);
      for (let i = 0; i < 200 && runner.workerAlive; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal(runner.workerAlive, false, "the idle worker was not stopped");
    } finally {
      runner.close();
    }
  },
});
