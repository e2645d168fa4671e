/**
 * Witnessing under many waiters (server/witnessing.ts,
 * server/witnessing_proofs.ts): a round starts on the checkpoint an append
 * hands over (no store read, no timer), checkpoints signed while a round is
 * in flight are witnessed next, and every waiter a cosigned checkpoint
 * covers is answered in one batch with proofs made together.
 */
import assert from "node:assert/strict";
import type { RegledgerApp } from "../../server/app.ts";
import type { LogService } from "../../server/deps.ts";
import type { ServerMetrics } from "../../server/metrics.ts";
import type { Witnessing, WitnessingOptions } from "../../server/witnessing.ts";
import { parseAddCheckpointRequest } from "../../ledger/witness/add_checkpoint.ts";
import { parsePolicy, verifyCheckpointPolicy } from "../../ledger/witness/policy.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { type Harness, harness, jsonAuth, post, signedEnvelope } from "./_helpers.ts";
import {
  appendEnvelope as append,
  startTestWitness,
  type TestWitness,
  witnessedApp,
} from "./_witness.ts";

interface Calls {
  /** `checkpoint()` reads of the store since `start`. */
  checkpointReads: number;
  /** Whether `checkpoint()` may read the store (it throws otherwise). */
  storeReadsAllowed: boolean;
  proveInclusion: number;
  /** `proveConsistency` calls. */
  consistency: number;
  /** Sizes of the `proveInclusions` batches. */
  batches: number[];
}

interface Setup {
  h: Harness;
  app: RegledgerApp;
  witnessing: Witnessing;
  witnesses: TestWitness[];
  metrics: ServerMetrics;
  calls: Calls;
  lines: string[];
  close(): Promise<void>;
}

/** Two witnesses, quorum 2, a log that counts what witnessing asks of it; no polling timer. */
async function setup(opts: Partial<WitnessingOptions> = {}): Promise<Setup> {
  const h = await harness();
  const witnesses = [
    await startTestWitness("witness.test/b1", [h.ledger.verifierKey]),
    await startTestWitness("witness.test/b2", [h.ledger.verifierKey]),
  ];
  const calls: Calls = {
    checkpointReads: 0,
    storeReadsAllowed: true,
    proveInclusion: 0,
    consistency: 0,
    batches: [],
  };
  const real = h.deps.log;
  const log: LogService = {
    ...real,
    checkpoint: async () => {
      calls.checkpointReads++;
      if (!calls.storeReadsAllowed) throw new Error("test: the store's checkpoint was read");
      return await real.checkpoint();
    },
    proveInclusion: async (i, t) => {
      calls.proveInclusion++;
      return await real.proveInclusion(i, t);
    },
    proveConsistency: async (a, b) => {
      calls.consistency++;
      return await real.proveConsistency(a, b);
    },
    proveInclusions: async (ix, t) => {
      calls.batches.push(ix.length);
      return await real.proveInclusions!(ix, t);
    },
  };
  const w = await witnessedApp(h, witnesses, log, {
    // Nothing but appends may start a round here.
    pollIntervalMs: 3_600_000,
    waitTimeoutMs: 20_000,
    ...opts,
  });
  calls.checkpointReads = 0;
  return { h, witnesses, calls, ...w };
}

/** `p`, or a failure naming `what` after `ms` (a round that never starts must not hang the test). */
async function within<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("a checkpoint signed while a round is in flight is witnessed right after it, from the append's own checkpoint (no store read, no timer)", async () => {
  const s = await setup();
  try {
    s.calls.storeReadsAllowed = false;
    // Hold w1's first request for a non-empty checkpoint: a round in flight.
    const reached = Promise.withResolvers<number>();
    const gate = Promise.withResolvers<void>();
    let held = false;
    s.witnesses[0].fault = async (body) => {
      const size = parseAddCheckpointRequest(body).checkpoint.size;
      if (!held && size > 0) {
        held = true;
        reached.resolve(size);
        await gate.promise;
      }
      return undefined;
    };
    const seenByW2: number[] = [];
    s.witnesses[1].fault = (body) => {
      const size = parseAddCheckpointRequest(body).checkpoint.size;
      if (size > 0) seenByW2.push(size); // the start's size-0 round may still be going
      return undefined;
    };
    const first = append(s.app, 1, "?wait=witnessed");
    assert.equal(await within(reached.promise, "the round on size 1 to reach w1"), 1);
    // Two more appends while that round waits: their checkpoints arrive mid-round.
    // One at a time, so the second gets index 1 and the third index 2 (two
    // requests sent together may be sequenced either way).
    const second = append(s.app, 2, "?wait=witnessed");
    await until("two entries", () => s.witnessing.status().log_size === 2);
    const third = append(s.app, 3, "?wait=witnessed");
    await until("three entries", () => s.witnessing.status().log_size === 3);
    gate.resolve();
    const receipts = await Promise.all([first, second, third].map(async (p) => {
      const res = await within(p, "the witnessed receipts");
      const body = await res.json();
      assert.equal(res.status, 201, JSON.stringify(body));
      return body;
    }));
    assert.deepEqual(receipts.map((r) => r.index), [0, 1, 2]);
    assert.equal(receipts[0].tree_size, 1);
    // The checkpoints of sizes 2 and 3 were coalesced: the next round went straight to 3.
    assert.equal(receipts[1].tree_size, 3);
    assert.equal(receipts[2].tree_size, 3);
    assert.deepEqual(seenByW2, [1, 3]);
    // Both witnesses held size 1: the one proof from 1 to 3 was made once for both.
    assert.equal(s.calls.consistency, 1);
    assert.equal(s.calls.checkpointReads, 0, s.lines.join("\n"));
    assert.equal(s.witnessing.status().witnessed_size, 3);
  } finally {
    await s.close();
  }
});

Deno.test("200 concurrent wait=witnessed submissions: every receipt verifies against a checkpoint both witnesses cosigned, under a policy; proofs made per cosigned checkpoint in batches", async () => {
  const s = await setup();
  try {
    const N = 200;
    const envelopes = await Promise.all(
      Array.from({ length: N }, (_, i) => signedEnvelope(1000 + i)),
    );
    const responses = await Promise.all(
      envelopes.map((e) =>
        post(s.app, "/v1/envelopes?wait=witnessed", JSON.stringify(e), jsonAuth("ledger:append"))
      ),
    );
    const receipts = await Promise.all(responses.map(async (res) => {
      const body = await res.json();
      assert.equal(res.status, 201, JSON.stringify(body));
      return body;
    }));
    assert.deepEqual(
      receipts.map((r) => r.index).sort((a, b) => a - b),
      Array.from({ length: N }, (_, i) => i),
    );
    const [w1, w2] = s.witnesses;
    const policy = parsePolicy(
      `log ${s.h.ledger.verifierKey}\nwitness W1 ${w1.vkey}\nwitness W2 ${w2.vkey}\n` +
        `group both all W1 W2\nquorum both\n`,
    );
    const w3 = await startTestWitness("witness.test/b3");
    await w3.close();
    const notMet = parsePolicy(
      `log ${s.h.ledger.verifierKey}\nwitness W1 ${w1.vkey}\nwitness W3 ${w3.vkey}\n` +
        `group both all W1 W3\nquorum both\n`,
    );
    const verdicts = new Map<string, boolean>();
    for (const r of receipts) {
      const v = await verifyTlogProof(r.tlog_proof, s.h.ledger.verifierKey);
      assert.equal(v.index, r.index);
      assert.equal(v.checkpoint.size, r.tree_size);
      assert.ok(r.tree_size > r.index);
      // The batch's proof is the one the log makes for this entry alone.
      assert.deepEqual(
        r.inclusion_proof,
        (await s.h.deps.log.proveInclusion(r.index, r.tree_size)).proof,
      );
      if (!verdicts.has(r.checkpoint)) {
        const ok = await verifyCheckpointPolicy(r.checkpoint, policy);
        assert.ok(ok.valid, ok.message);
        assert.deepEqual([...ok.witnesses].sort(), ["W1", "W2"]);
        const bad = await verifyCheckpointPolicy(r.checkpoint, notMet);
        assert.equal(bad.valid, false);
        assert.equal(bad.failed, "quorum");
        verdicts.set(r.checkpoint, true);
      }
    }
    // Waiters were answered per cosigned checkpoint: far fewer checkpoints than
    // receipts, and their proofs came in batches, not one store round trip each.
    assert.ok(verdicts.size < N, `${verdicts.size} checkpoints for ${N} receipts`);
    assert.ok(s.calls.batches.some((n) => n > 1), JSON.stringify(s.calls.batches));
    const batched = s.calls.batches.reduce((a, n) => a + n, 0);
    assert.equal(batched + s.calls.proveInclusion - N, 0, JSON.stringify(s.calls));
    // Every wait is accounted for by phase.
    const m = s.metrics.render();
    assert.match(
      m,
      new RegExp(`^regledger_witnessed_phase_seconds_count\\{phase="total"\\} ${N}$`, "m"),
    );
    assert.match(
      m,
      new RegExp(`^regledger_witnessed_phase_seconds_count\\{phase="append"\\} ${N}$`, "m"),
    );
  } finally {
    await s.close();
  }
});

Deno.test("requests to a witness are spaced by a token bucket: a burst goes at once, beyond it rounds wait for the interval", async () => {
  // Start's size-0 round, then two witnessed appends: the burst of 3. A
  // fourth round would wait a minute.
  const s = await setup({ minRequestIntervalMs: 60_000, requestBurst: 3, waitTimeoutMs: 3000 });
  try {
    await until("the start's round", () => s.witnessing.status().witnessed_size === 0);
    for (const n of [1, 2]) {
      const res = await append(s.app, n, "?wait=witnessed");
      const body = await res.json();
      assert.equal(res.status, 201, JSON.stringify(body));
      assert.equal(body.tree_size, n);
    }
    const res = await append(s.app, 3, "?wait=witnessed");
    const body = await res.json();
    assert.equal(res.status, 504, JSON.stringify(body));
    assert.equal(body.reason, "NotWitnessed");
    assert.equal(s.witnessing.status().witnessed_size, 2);
  } finally {
    await s.close();
  }
});
