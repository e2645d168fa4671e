/**
 * CkksRunner: CKKS jobs run in a worker, one at a time, and the event loop
 * keeps turning while they do; results equal the in-thread ones' guarantees
 * (tolerances, typed validation errors with their pointer); close() fails
 * what is queued.
 */
import assert from "node:assert/strict";
import { CkksRunner } from "../../server/ckks_runner.ts";
import { EncryptedAuditClient } from "../../core/fhe/split.ts";
import { InputValidationError } from "../../core/errors.ts";
import { PRIMITIVE_SPECS } from "../../core/primitives/registry.ts";
import { runAuditWith } from "../../core/audit/index.ts";
import { CKKS_TOLERANCES } from "../../core/fhe/tolerances.ts";

const raw = { p: [5, 9, 14, 20, 17, 11, 6, 3, 1, 1], q: [2, 4, 8, 13, 18, 19, 15, 10, 6, 3] };
const exact = PRIMITIVE_SPECS.drift.statistic(PRIMITIVE_SPECS.drift.parse(raw));
const LIMITS = { maxBytes: 64 << 20, maxDegree: 16384 } as const;
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

Deno.test({
  name: "CkksRunner: evaluation and whole audits in a worker; the event loop keeps turning",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const runner = new CkksRunner();
    try {
      const client = await EncryptedAuditClient.create("drift", PRIMITIVE_SPECS.drift.parse(raw));
      try {
        const body = new TextEncoder().encode(JSON.stringify(client.request));
        let done = false;
        const job = runner.evaluateBody(body, LIMITS).finally(() => (done = true));
        let turns = 0;
        while (!done) {
          await new Promise((r) => setTimeout(r, 5));
          turns++;
        }
        // In this thread the evaluation would block the loop for its whole duration.
        assert.ok(turns >= 3, `the event loop turned ${turns} times during the job`);
        const run = client.finish(await job);
        assert.ok(Math.abs(run.result.distance - exact.distance) <= CKKS_TOLERANCES.drift);
        assert.equal(run.result.drift_bit, exact.drift_bit);
      } finally {
        client.dispose();
      }

      // A whole encrypted audit through the AuditBackend seam, two queued at once.
      const [a, b] = await Promise.all([
        runAuditWith("drift", raw, runner.auditBackend()),
        runAuditWith("drift", { ...raw, drift_threshold: 0.5 }, runner.auditBackend()),
      ]);
      assert.equal(a.backend, "seal-ckks");
      assert.ok(Math.abs(a.result.distance - exact.distance) <= CKKS_TOLERANCES.drift);
      assert.equal(b.result.drift_bit, false);
      assert.deepEqual(a.depth, { declared: 1, consumed: 1 });

      // Typed errors come back typed, with their pointer.
      const err = await runner.evaluateBody(enc({ v: "nope" }), LIMITS).then(() => null, (e) => e);
      assert.ok(err instanceof InputValidationError, String(err));
      assert.equal(err.pointer, "/v");
      assert.ok(!err.message.startsWith("/v: /v:"), err.message);
    } finally {
      runner.close();
    }
    await assert.rejects(runner.evaluateBody(enc({}), LIMITS), /closed/);
  },
});
