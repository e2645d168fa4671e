// deno-lint-ignore-file no-explicit-any -- the test reads untyped JSON answers
/**
 * A split view caught end to end: two `regledger serve` processes share one
 * log key but have diverged (a copied data directory, then different
 * appends to each). One real witness (`startWitness`: HTTP, its own Deno KV
 * state) cosigns the first; the second cannot get its checkpoint cosigned —
 * the witness answers 409 with its size, and the consistency proof from that
 * size is refused (422) — and says so loudly: an error line on stderr, the
 * `regledger_witness_split_view` metric, `/readyz`'s witnessing detail, and
 * 504 for `wait=witnessed`. The first server keeps being witnessed. A third
 * copy, shorter than the size the witness holds, cannot even make a proof
 * and reports that too.
 */
import assert from "node:assert/strict";
import { openNote } from "../../ledger/note.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { startWitness } from "../../server/witness/serve.ts";
import { signedEnvelope, writeTrustFile } from "./_helpers.ts";
import { fetchAs, type ServeChild, startServeChild } from "./_serve_child.ts";
import { runCli } from "../cli/_capture.ts";

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true, mode: 0o700 });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(`${from}/${e.name}`, `${to}/${e.name}`);
    else await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

async function appendOffline(dir: string, tmp: string, n: number): Promise<void> {
  const file = `${tmp}/e-${n}.json`;
  await Deno.writeTextFile(file, JSON.stringify(await signedEnvelope(n)));
  const r = await runCli("ledger", "append", "--data", dir, "-i", file);
  assert.equal(r.code, 0, r.stderr);
}

async function readyz(base: string): Promise<any> {
  return await (await fetch(`${base}/readyz`)).json();
}

async function until(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function submitWitnessed(base: string, n: number): Promise<Response> {
  return await fetchAs("ledger:append", `${base}/v1/envelopes?wait=witnessed`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(await signedEnvelope(n)),
  });
}

Deno.test("split view: two servers with one log key and diverged data cannot both be cosigned by a witness; the second reports it loudly", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "regledger-split-view-" });
  const a = `${tmp}/a`;
  const b = `${tmp}/b`;
  const c = `${tmp}/c`;
  const children: ServeChild[] = [];
  let witness: Awaited<ReturnType<typeof startWitness>> | undefined;
  try {
    // One log, three entries; its data directory copied; then each copy grows differently.
    for (let i = 0; i < 3; i++) await appendOffline(a, tmp, i);
    const key = await runCli("ledger", "key", "--data", a);
    assert.equal(key.code, 0, key.stderr);
    const logKey = key.stdout.trim();
    await copyDir(a, b);
    await copyDir(a, c);
    for (const n of [10, 11]) await appendOffline(a, tmp, n);
    await appendOffline(c, tmp, 30); // a copy that stays shorter than what the witness saw
    for (const n of [20, 21, 22]) await appendOffline(b, tmp, n);

    witness = await startWitness({
      dataDir: `${tmp}/witness`,
      name: "witness.test/split",
      logs: [logKey],
      mlDsa: false,
    });
    const wkey = witness.verifierKeys[0];
    const wverifier = parseNoteVerifierKey(wkey).verifier;
    const cosigned = async (cp: string) => {
      try {
        await openNote(cp, [wverifier]);
        return true;
      } catch {
        return false;
      }
    };
    const trust = `${tmp}/trust.json`;
    await writeTrustFile(trust);
    const args = [
      "--trusted-keys",
      trust,
      "--witness",
      `${witness.url}=${wkey}`,
      "--witness-timeout",
      "1500",
    ];

    const first = await startServeChild(a, args);
    children.push(first);
    await until(
      "the first server to be witnessed",
      async () => (await readyz(first.base)).witnessing?.witnessed_size === 5,
    );
    const cp = await (await fetch(`${first.base}/checkpoint`)).text();
    assert.ok(cp.startsWith("regledger.local/log\n5\n"), cp);
    assert.ok(await cosigned(cp), "the first server's /checkpoint carries the cosignature");

    const second = await startServeChild(b, args);
    children.push(second);
    await until(
      "the second server to see the split view",
      async () => (await readyz(second.base)).witnessing?.split_view === true,
    );
    const ready = await readyz(second.base);
    assert.equal(ready.ready, true);
    const w = ready.witnessing.witnesses[0];
    assert.equal(w.state, "split-view");
    assert.equal(w.size, 5, "the witness's size, learnt from its 409");
    assert.match(w.last_error, /refused the consistency proof from size 5/);
    assert.equal(ready.witnessing.witnessed_size, null);

    // Loud: an error line on stderr naming the witness and both sizes.
    const alarm = second.stderr.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
      .find((l) => l.level === "error" && /SPLIT VIEW/.test(l.msg));
    assert.ok(alarm, second.stderr.join("\n"));
    assert.equal(alarm.witness, "witness.test/split");
    assert.equal(alarm.witness_size, 5);
    assert.equal(alarm.log_size, 6);
    // ... and in the metrics.
    const metrics = await (await fetchAs("metrics", `${second.base}/metrics`)).text();
    assert.match(metrics, /^regledger_witness_split_view\{witness="witness\.test\/split"\} 1$/m);
    assert.match(
      metrics,
      /^regledger_witness_failures_total\{witness="witness\.test\/split",reason="split-view"\} [1-9]/m,
    );
    // Its entries are never witnessed: wait=witnessed times out with the receipt.
    const res = await submitWitnessed(second.base, 23);
    assert.equal(res.status, 504);
    const body = await res.json();
    assert.equal(body.reason, "NotWitnessed");
    assert.equal(body.receipt.index, 6);
    assert.ok(!(await cosigned(await (await fetch(`${second.base}/checkpoint`)).text())));

    // The witness stayed with the first log, which keeps getting cosignatures.
    const ok = await submitWitnessed(first.base, 12);
    assert.equal(ok.status, 201);
    const receipt = await ok.json();
    assert.equal(receipt.index, 5);
    assert.ok(await cosigned(receipt.checkpoint));
    const metricsA = await (await fetchAs("metrics", `${first.base}/metrics`)).text();
    assert.match(metricsA, /^regledger_witness_split_view\{witness="witness\.test\/split"\} 0$/m);
    assert.equal((await readyz(first.base)).witnessing.split_view, false);

    // A copy behind the witness: the witness's size is beyond its log, no proof can exist.
    const third = await startServeChild(c, args);
    children.push(third);
    await until(
      "the third server to see the split view",
      async () => (await readyz(third.base)).witnessing?.split_view === true,
    );
    const w3 = (await readyz(third.base)).witnessing.witnesses[0];
    assert.match(w3.last_error, /cosigned size 6 of this log's origin, but this log has 4 entries/);
    assert.ok(third.stderr.some((l) => l.includes("SPLIT VIEW") && l.includes("witness-ahead")));

    for (const child of children.splice(0)) assert.equal(await child.stop(), 0);
  } finally {
    for (const child of children) await child.stop();
    await witness?.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
