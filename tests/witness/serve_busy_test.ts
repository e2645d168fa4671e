/**
 * The per-log waiting cap over real HTTP: the witness app behind
 * `Deno.serve` on 127.0.0.1, its first cosignature held open by a gated
 * cosigner, so that `MAX_WAITING_PER_LOG` (256) `add-checkpoint` requests
 * for one log are in flight at once (seen in `/metrics` as
 * `witness_waiting_requests`). The next one is 503 with `Retry-After`,
 * another log is still served, and once the gate opens every waiting
 * request is answered (one 200, the rest 409) and requests are taken again.
 */
import assert from "node:assert/strict";
import { Ed25519NoteSigner, type NoteSigner } from "../../ledger/note.ts";
import { formatAddCheckpointRequest } from "../../ledger/witness/add_checkpoint.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { createWitnessApp } from "../../server/witness/app.ts";
import { witnessLogs } from "../../server/witness/logs.ts";
import { WitnessMetrics } from "../../server/witness/metrics.ts";
import { MAX_WAITING_PER_LOG, WitnessStore } from "../../server/witness/state.ts";
import { ORIGIN, TestLog } from "./_log.ts";

const OTHER = "other.example/log";

Deno.test("HTTP: 256 requests waiting for one log, the next is 503 with Retry-After", async () => {
  const logKey = await Ed25519NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(41));
  const otherKey = await Ed25519NoteSigner.fromSeed(OTHER, new Uint8Array(32).fill(42));
  const inner = await Ed25519CosignatureSigner.generate("witness.example/busy");
  // The first cosignature of ORIGIN waits for `open`; every other signs at once.
  const entered = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  let held = false;
  const gated: NoteSigner = {
    name: inner.name,
    keyId: inner.keyId,
    async sign(msg: Uint8Array): Promise<Uint8Array> {
      if (!held && new TextDecoder().decode(msg).startsWith(`${ORIGIN}\n`)) {
        held = true;
        entered.resolve();
        await gate.promise;
      }
      return await inner.sign(msg);
    },
  } as NoteSigner;

  const dir = await Deno.makeTempDir({ prefix: "regledger-witness-busy-" });
  const store = await WitnessStore.open(`${dir}/witness.kv`);
  const metrics = new WitnessMetrics(store);
  const app = createWitnessApp({
    store,
    logs: witnessLogs([logKey.verifierKey(), otherKey.verifierKey()]),
    cosigners: [gated],
    metrics,
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => app.fetch(req, {}),
  );
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  const waitingGauge = async (): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = text.match(/^witness_waiting_requests\{origin="example\.com\/log"\} (\d+)$/m);
    return m ? Number(m[1]) : 0;
  };
  try {
    const cp = await (await new TestLog([logKey]).grow(3)).checkpoint();
    const body = formatAddCheckpointRequest(0, [], cp);
    const send = () =>
      fetch(`${url}/add-checkpoint`, { method: "POST", body }).then(async (r) => ({
        status: r.status,
        retryAfter: r.headers.get("retry-after"),
        body: await r.text(),
      }));
    const first = send();
    await entered.promise;
    const rest = Array.from({ length: MAX_WAITING_PER_LOG - 1 }, send);
    // Every one of them has reached the log's queue.
    for (let polls = 0; await waitingGauge() < MAX_WAITING_PER_LOG; polls++) {
      assert.ok(polls < 1500, "witness_waiting_requests never reached the cap");
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await waitingGauge(), MAX_WAITING_PER_LOG);

    // Answered at once, or (were the cap missing) seen queueing as the 257th.
    let answered = false;
    const queued = async () => {
      while (!answered) {
        if (await waitingGauge() > MAX_WAITING_PER_LOG) throw new Error("the 257th was queued");
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const refused = await Promise.race([
      send().finally(() => answered = true),
      queued().then(() => ({ status: 0, retryAfter: null, body: "" })),
    ]);
    assert.equal(refused.status, 503, refused.body);
    assert.equal(refused.retryAfter, "1");
    assert.equal(refused.body, "too many requests for this log are waiting\n");
    // The cap is per log: another log is cosigned meanwhile.
    const other = await (await new TestLog([otherKey], OTHER).grow(2)).checkpoint();
    const res = await fetch(`${url}/add-checkpoint`, {
      method: "POST",
      body: formatAddCheckpointRequest(0, [], other),
    });
    assert.equal(res.status, 200, await res.text());

    gate.resolve();
    const answers = await Promise.all([first, ...rest]);
    assert.equal(answers[0].status, 200, answers[0].body);
    assert.ok(answers.slice(1).every((a) => a.status === 409), "the rest see size 3 cosigned");
    assert.equal(await waitingGauge(), 0);
    assert.equal((await send()).status, 409, "taken again once the queue drained");
    assert.equal(metrics.requests(503, "busy"), 1);
    assert.match(
      await (await fetch(`${url}/metrics`)).text(),
      /^witness_add_checkpoint_requests_total\{status="503",reason="busy"\} 1$/m,
    );
  } finally {
    gate.resolve();
    await server.shutdown();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
