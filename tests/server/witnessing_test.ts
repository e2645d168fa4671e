/**
 * The log server's witnessing (server/witnessing.ts) against real HTTP
 * witnesses (tests/server/_witness.ts) over a real ledger: cosigned
 * checkpoints at /checkpoint, `?wait=witnessed` receipts that pass
 * `proof verify --policy`, retries, 504s, metrics and readiness.
 */
import assert from "node:assert/strict";
import type { RegledgerApp } from "../../server/app.ts";
import type { ServerMetrics } from "../../server/metrics.ts";
import { Witnessing, type WitnessingOptions } from "../../server/witnessing.ts";
import { witnessEndpoints } from "../../ledger/witness/client.ts";
import { openNote } from "../../ledger/note.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { parseTlogProof } from "../../ledger/tlog_proof.ts";
import { type Harness, harness, signedEnvelope } from "./_helpers.ts";
import {
  appendEnvelope as append,
  startTestWitness,
  type TestWitness,
  witnessedApp,
} from "./_witness.ts";
import { assertSchema } from "./_assert.ts";
import { runCli } from "../cli/_capture.ts";
import {
  cosignatureLines,
  parseAddCheckpointRequest,
} from "../../ledger/witness/add_checkpoint.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";

interface Setup {
  h: Harness;
  app: RegledgerApp;
  witnessing: Witnessing;
  witnesses: TestWitness[];
  metrics: ServerMetrics;
  lines: string[];
  close(): Promise<void>;
}

async function setup(
  n: number,
  opts: Partial<WitnessingOptions> & {
    trustLog?: boolean;
    /** Called before witnessing starts (faults in place before the first request). */
    before?: (witnesses: TestWitness[]) => void;
  } = {},
): Promise<Setup> {
  const h = await harness();
  const witnesses: TestWitness[] = [];
  for (let i = 0; i < n; i++) {
    witnesses.push(
      await startTestWitness(
        `witness.test/w${i + 1}`,
        opts.trustLog === false ? [] : [h.ledger.verifierKey],
      ),
    );
  }
  opts.before?.(witnesses);
  const w = await witnessedApp(h, witnesses, h.deps.log, { pollIntervalMs: 50, ...opts });
  return { h, witnesses, ...w };
}

/** Names of the witnesses whose valid cosignature is on `checkpoint`. */
async function cosigners(checkpoint: string, ws: TestWitness[]): Promise<string[]> {
  const out: string[] = [];
  for (const w of ws) {
    try {
      await openNote(checkpoint, [parseNoteVerifierKey(w.vkey).verifier]);
      out.push(w.signer.name);
    } catch { /* not cosigned by w */ }
  }
  return out;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("wait=witnessed: the receipt carries a checkpoint both witnesses cosigned, and proof verify --policy accepts it", async () => {
  const s = await setup(2);
  try {
    const plain = await append(s.app, 1);
    assert.equal(plain.status, 201);
    const plainReceipt = await plain.json();
    assert.deepEqual(await cosigners(plainReceipt.checkpoint, s.witnesses), []);

    const res = await append(s.app, 2, "?wait=witnessed");
    assert.equal(res.status, 201);
    const r = await res.json();
    assert.equal(r.index, 1);
    assert.ok(r.tree_size >= 2);
    assert.deepEqual(await cosigners(r.checkpoint, s.witnesses), [
      "witness.test/w1",
      "witness.test/w2",
    ]);
    assert.equal(parseTlogProof(r.tlog_proof).checkpoint, r.checkpoint);
    assertSchema("append-response", r); // cosignature lines are signature lines of the schema

    // The same envelope again: 200, its existing entry, witnessed.
    const again = await append(s.app, 2, "?wait=witnessed");
    assert.equal(again.status, 200);
    assert.equal((await again.json()).index, 1);

    // /checkpoint serves a quorum-cosigned checkpoint covering the entry.
    const cp = await (await s.app.request("/checkpoint")).text();
    assert.equal((await cosigners(cp, s.witnesses)).length, 2);
    assert.ok(Number(cp.split("\n")[1]) >= 2);
    // The log's own checkpoint route carries the cosignatures once its newest one is witnessed.
    await until("the newest checkpoint to be witnessed", async () => {
      const latest = await (await s.app.request("/v1/log/checkpoint")).text();
      return (await cosigners(latest, s.witnesses)).length === 2;
    });
    assert.equal(await (await s.app.request("/v1/log/checkpoint")).text(), cp);

    // proof verify --policy: the regulator's policy names both witnesses.
    const dir = await Deno.makeTempDir({ prefix: "regledger-witnessed-" });
    try {
      const envelope = JSON.stringify(await signedEnvelope(2));
      await Deno.writeTextFile(`${dir}/e.json`, envelope);
      await Deno.writeTextFile(`${dir}/r.txt`, r.tlog_proof);
      await Deno.writeTextFile(`${dir}/plain.txt`, plainReceipt.tlog_proof);
      const [w1, w2] = s.witnesses;
      const policy = (quorum: string, extra = "") =>
        `log ${s.h.ledger.verifierKey}\nwitness W1 ${w1.vkey} ${w1.url}\n` +
        `witness W2 ${w2.vkey} ${w2.url}\n${extra}group both all W1 W2\nquorum ${quorum}\n`;
      await Deno.writeTextFile(`${dir}/both.policy`, policy("both"));
      const ok = await runCli(
        "proof",
        "verify",
        "--proof",
        `${dir}/r.txt`,
        "--policy",
        `${dir}/both.policy`,
        "--envelope",
        `${dir}/e.json`,
      );
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.deepEqual(JSON.parse(ok.stdout).policy.witnesses, ["W1", "W2"]);
      // A policy it does not meet: a third witness that never cosigned is required.
      const w3 = await startTestWitness("witness.test/w3");
      await w3.close();
      await Deno.writeTextFile(
        `${dir}/three.policy`,
        `log ${s.h.ledger.verifierKey}\nwitness W1 ${w1.vkey}\nwitness W2 ${w2.vkey}\n` +
          `witness W3 ${w3.vkey}\ngroup all3 all W1 W2 W3\nquorum all3\n`,
      );
      const bad = await runCli(
        "proof",
        "verify",
        "--proof",
        `${dir}/r.txt`,
        "--policy",
        `${dir}/three.policy`,
        "--envelope",
        `${dir}/e.json`,
      );
      assert.equal(bad.code, 1);
      assert.equal(JSON.parse(bad.stdout).reason, "policy-quorum");
      // The receipt without wait has no cosignatures: the policy refuses it.
      const plainEnv = JSON.stringify(await signedEnvelope(1));
      await Deno.writeTextFile(`${dir}/e1.json`, plainEnv);
      const unwitnessed = await runCli(
        "proof",
        "verify",
        "--proof",
        `${dir}/plain.txt`,
        "--policy",
        `${dir}/both.policy`,
        "--envelope",
        `${dir}/e1.json`,
      );
      assert.equal(unwitnessed.code, 1);
      assert.equal(JSON.parse(unwitnessed.stdout).reason, "policy-quorum");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  } finally {
    await s.close();
  }
});

Deno.test("quorum 1 of 2 with one witness down: witnessed receipts still come, the dead witness shows lag and failures", async () => {
  const s = await setup(2, {
    quorum: 1,
    before: (ws) => ws[1].fault = () => new Response("down for maintenance\n", { status: 503 }),
  });
  try {
    for (let i = 0; i < 3; i++) {
      const res = await append(s.app, 10 + i, "?wait=witnessed");
      assert.equal(res.status, 201);
      const r = await res.json();
      assert.deepEqual(await cosigners(r.checkpoint, s.witnesses), ["witness.test/w1"]);
    }
    await until("w2 to have failed", () => s.witnessing.status().witnesses[1].failures > 0);
    const metrics = s.metrics.render();
    const failures = Number(
      /^regledger_witness_failures_total\{witness="witness\.test\/w2",reason="unavailable"\} (\d+)$/m
        .exec(metrics)?.[1],
    );
    assert.ok(failures >= 1, metrics);
    assert.match(metrics, /^regledger_witness_lag_entries\{witness="witness\.test\/w2"\} 3$/m);
    assert.match(metrics, /^regledger_witness_lag_entries\{witness="witness\.test\/w1"\} 0$/m);
    const ready = await (await s.app.request("/readyz")).json();
    assert.equal(ready.ready, true);
    assert.equal(ready.witnessing.witnesses[1].state, "failing");
    assert.match(ready.witnessing.witnesses[1].last_error, /503/);
    assert.equal(ready.witnessing.split_view, false);
    // One warn line when it started failing, not one per retry.
    const warned = s.lines.filter((l) => l.includes("witness failing"));
    assert.equal(warned.length, 1, s.lines.join("\n"));
    // It recovers: the next rounds reach it, and it catches up.
    s.witnesses[1].fault = undefined;
    const res = await append(s.app, 20, "?wait=witnessed");
    assert.equal(res.status, 201);
    await until("w2 to catch up", () => s.witnessing.status().witnesses[1].lag === 0);
    assert.ok(s.lines.some((l) => l.includes("witness cosigns again")));
  } finally {
    await s.close();
  }
});

Deno.test("without wait appends do not wait for witnesses; with wait and no quorum in time: 504 NotWitnessed with the receipt", async () => {
  const s = await setup(1, {
    waitTimeoutMs: 500,
    before: ([w]) => w.fault = () => new Response("no\n", { status: 500 }),
  });
  try {
    const plain = await append(s.app, 1);
    assert.equal(plain.status, 201);
    const res = await append(s.app, 2, "?wait=witnessed");
    assert.equal(res.status, 504);
    const body = await res.json();
    assert.equal(body.reason, "NotWitnessed");
    assert.equal(body.receipt.index, 1);
    assert.match(body.error, /entry 1 is in the log/);
    assertSchema("error", body);
    assertSchema("append-response", body.receipt);
    assert.equal(body.witnessing.witnesses[0].state, "failing");
    // The entry is in the log; once the witness is back, the same envelope gets its receipt.
    s.witnesses[0].fault = undefined;
    assert.ok(await s.witnessing.waitForWitnessed(2, 30_000));
    const again = await append(s.app, 2, "?wait=witnessed");
    assert.equal(again.status, 200);
    assert.equal((await cosigners((await again.json()).checkpoint, s.witnesses)).length, 1);
  } finally {
    await s.close();
  }
});

Deno.test("wait: a bad value and a server without witnesses are 400s naming the parameter", async () => {
  const s = await setup(1);
  try {
    const bad = await append(s.app, 1, "?wait=forever");
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).parameter, "wait");
  } finally {
    await s.close();
  }
  const h = await harness();
  try {
    const res = await append(h.app, 1, "?wait=witnessed");
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /no witnesses/);
    // And /checkpoint is the log's own, as before.
    assert.equal((await append(h.app, 2)).status, 201);
    assert.equal(await (await h.app.request("/checkpoint")).text(), await h.ledger.checkpoint());
  } finally {
    await h.close();
  }
});

Deno.test("a witness that already holds a size (server restart) answers 409; the server proves consistency from it", async () => {
  const s = await setup(1);
  try {
    for (let i = 0; i < 5; i++) {
      assert.equal((await append(s.app, i, "?wait=witnessed")).status, 201);
    }
    await s.witnessing.close();
    const size = s.witnesses[0].state.get("regledger.local/log")!.size;
    assert.equal(size, 5);
    // A new Witnessing (a restarted server) starts believing the witness is at 0.
    const before = s.witnesses[0].answered.length;
    const again = new Witnessing({
      log: s.h.deps.log,
      witnesses: witnessEndpoints([s.witnesses[0].arg]),
      logLine: () => {},
    });
    s.witnessing = again;
    await again.start();
    for (let i = 5; i < 8; i++) {
      await s.h.deps.log.append(s.h.deps.envelopes.parse(JSON.stringify(await signedEnvelope(i))));
    }
    again.notify(8);
    const cp = await again.waitForWitnessed(8, 10_000);
    assert.ok(cp !== undefined);
    const answers = s.witnesses[0].answered.slice(before);
    assert.ok(answers.includes(409), `answers ${answers}`);
    assert.equal(answers.at(-1), 200);
    assert.ok(!answers.includes(422));
  } finally {
    await s.close();
  }
});

Deno.test("a witness that does not know the log is refused loudly (error line, state refused), and appends go on", async () => {
  const s = await setup(1, { trustLog: false, waitTimeoutMs: 100 });
  try {
    assert.equal((await append(s.app, 1)).status, 201);
    await until("the refusal", () => s.witnessing.status().witnesses[0].state === "refused");
    const line = s.lines.map((l) => JSON.parse(l)).find((l) => l.level === "error");
    assert.ok(line, s.lines.join("\n"));
    assert.equal(line.reason, "unknown-log");
    assert.equal((await append(s.app, 2, "?wait=witnessed")).status, 504);
  } finally {
    await s.close();
  }
});

Deno.test("a 200 whose cosignature does not verify against the configured key is not counted", async () => {
  // An impostor with the witness's name but another key answers 200.
  const impostor = await Ed25519CosignatureSigner.generate("witness.test/w1");
  const s = await setup(1, {
    waitTimeoutMs: 300,
    before: ([w]) =>
      w.fault = async (body) => {
        const req = parseAddCheckpointRequest(body);
        return new Response(await cosignatureLines(req.text, [impostor]), { status: 200 });
      },
  });
  try {
    assert.equal((await append(s.app, 1, "?wait=witnessed")).status, 504);
    const st = s.witnessing.status().witnesses[0];
    assert.equal(st.state, "refused");
    assert.match(st.last_error!, /no cosignature by witness\.test\/w1\+/);
    assert.match(s.metrics.render(), /reason="bad-cosignature"/);
    assert.equal(s.witnessing.status().witnessed_size, null);
  } finally {
    await s.close();
  }
});
