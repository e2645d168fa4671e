/**
 * `startWitness` over real HTTP on 127.0.0.1: C2SP tlog-witness
 * conformance (every status code, response formats), the monitoring
 * checkpoint, metrics, health, body and rate limits, restart keeps state,
 * key files 0600 and reused.
 */
import assert from "node:assert/strict";
import { signCheckpoint } from "../../ledger/checkpoint.ts";
import { Ed25519NoteSigner, type NoteVerifier, openNote } from "../../ledger/note.ts";
import {
  formatAddCheckpointRequest,
  originHash,
  parseConflictBody,
  TLOG_SIZE_CONTENT_TYPE,
  verifyCosignatureResponse,
} from "../../ledger/witness/add_checkpoint.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { MlDsa44NoteSigner } from "../../ledger/witness/mldsa.ts";
import { type RunningWitness, startWitness } from "../../server/witness/serve.ts";
import { ORIGIN, TestLog } from "./_log.ts";

const logKey = await Ed25519NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(7));
const logPq = MlDsa44NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(8));
const otherKey = await Ed25519NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(9));

async function post(
  w: RunningWitness,
  oldSize: number,
  proof: Uint8Array[],
  checkpoint: string,
): Promise<{ status: number; body: string; type: string | null }> {
  return await postBody(w, formatAddCheckpointRequest(oldSize, proof, checkpoint));
}

async function postBody(
  w: RunningWitness,
  body: string | Uint8Array<ArrayBuffer>,
): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(`${w.url}/add-checkpoint`, { method: "POST", body });
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type") };
}

function verifiers(w: RunningWitness): NoteVerifier[] {
  return w.verifierKeys.map((k) => parseNoteVerifierKey(k).verifier);
}

async function withWitness(
  fn: (w: RunningWitness, dir: string) => Promise<void>,
  opts: { mlDsa?: boolean; logs?: string[]; rateLimit?: { ratePerSecond: number; burst: number } } =
    {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-witness-serve-" });
  const w = await startWitness({
    dataDir: dir,
    name: "witness.example/w1",
    logs: opts.logs ?? [logKey.verifierKey(), logPq.verifierKey()],
    mlDsa: opts.mlDsa ?? false,
    rateLimit: opts.rateLimit ?? null,
  });
  try {
    await fn(w, dir);
  } finally {
    await w.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("200: cosignature lines that verify, with Ed25519 and ML-DSA-44 witness keys", async () => {
  await withWitness(async (w) => {
    assert.equal(w.verifierKeys.length, 2);
    assert.equal(parseNoteVerifierKey(w.verifierKeys[0]).type, 0x04, "Ed25519 cosigner first");
    assert.equal(parseNoteVerifierKey(w.verifierKeys[1]).type, 0x06);
    const log = await new TestLog([logKey]).grow(5);
    const cp = await log.checkpoint();
    const r = await post(w, 0, [], cp);
    assert.equal(r.status, 200, r.body);
    assert.match(r.type ?? "", /^text\/plain/);
    const lines = r.body.split("\n").slice(0, -1);
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => l.startsWith("— witness.example/w1 ")));
    // The witness signs ML-DSA-44 with liboqs (WebAssembly) where it loads;
    // these verifiers use @noble/post-quantum: two implementations agree.
    const good = await verifyCosignatureResponse(cp, r.body, verifiers(w));
    assert.equal(good.length, 2);
    // The next checkpoint, with a proof from 5, signed by both log keys.
    await log.grow(7);
    const both = new TestLog([logKey, logPq]);
    for (let i = 0; i < log.size; i++) await both.grow(1);
    const cp2 = await both.checkpoint();
    const r2 = await post(w, 5, await both.proof(5), cp2);
    assert.equal(r2.status, 200, r2.body);
    const opened = await openNote(cp2 + r2.body, [...verifiers(w), logKey.verifier()]);
    assert.equal(opened.sigs.length, 3);
  }, { mlDsa: true });
});

Deno.test("400: malformed bodies and old size above the checkpoint size", async () => {
  await withWitness(async (w) => {
    const log = await new TestLog([logKey]).grow(3);
    const cp = await log.checkpoint();
    const bad: (string | Uint8Array<ArrayBuffer>)[] = [
      "",
      "new 0\n\n" + cp,
      "old 01\n\n" + cp,
      "old 0\n" + cp,
      "old 0\nnot base64!\n\n" + cp,
      "old 0\nAAAA\n\n" + cp,
      "old 0\n\nexample.com/log\nx\nroot\n\n— k sig\n",
      `old 0\n${"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".repeat(64)}\n${cp}`,
      new Uint8Array([0x6f, 0x6c, 0x64, 0x20, 0x30, 0x0a, 0x0a, 0xff, 0xfe]),
    ];
    for (const b of bad) {
      const r = await postBody(w, b);
      assert.equal(r.status, 400, `${JSON.stringify(b).slice(0, 60)} → ${r.status} ${r.body}`);
      assert.ok(r.body.endsWith("\n") && r.body.length > 1);
    }
    assert.equal((await post(w, 4, [], cp)).status, 400, "old size > checkpoint size");
    assert.equal(w.metrics.requests(400, "malformed"), bad.length + 1);
  });
});

Deno.test("404 unknown origin, 403 no trusted signature or a failing one", async () => {
  await withWitness(async (w) => {
    const stranger = await Ed25519NoteSigner.fromSeed("other.example/log", new Uint8Array(32));
    const foreign = await new TestLog([stranger], "other.example/log").grow(2);
    assert.equal((await post(w, 0, [], await foreign.checkpoint())).status, 404);
    // Signed only by an untrusted key with the log's name.
    const impostor = await new TestLog([otherKey]).grow(2);
    const r = await post(w, 0, [], await impostor.checkpoint());
    assert.equal(r.status, 403, r.body);
    // A trusted key's signature that fails (checkpoint text changed after signing).
    const log = await new TestLog([logKey]).grow(2);
    const cp = await log.checkpoint();
    const lines = cp.split("\n");
    lines[1] = "3";
    assert.equal((await post(w, 0, [], lines.join("\n"))).status, 403);
    // Size 0 must carry the empty-tree root.
    const zero = await signCheckpoint({ origin: ORIGIN, size: 0, root: await log.root() }, [
      logKey,
    ]);
    assert.equal((await post(w, 0, [], zero)).status, 422);
    assert.equal((await post(w, 0, [], cp)).status, 200, "the honest one still works");
  });
});

Deno.test("409: the witness's size in text/x.tlog.size; 422: bad proofs and split views", async () => {
  await withWitness(async (w) => {
    const log = await new TestLog([logKey]).grow(8);
    assert.equal((await post(w, 0, [], await log.checkpoint())).status, 200);
    const stale = await post(w, 0, [], await log.checkpoint());
    assert.equal(stale.status, 409);
    assert.equal(stale.type, TLOG_SIZE_CONTENT_TYPE);
    assert.equal(parseConflictBody(stale.body), 8);
    await log.grow(5);
    const proof = await log.proof(8);
    const broken = proof.map((h) => h.slice());
    broken[0][3] ^= 0x40;
    assert.equal((await post(w, 8, broken, await log.checkpoint())).status, 422);
    // Split view: a fork with the same key and 6 shared leaves.
    const fork = await (await log.fork(6)).grow(9, "b");
    assert.equal((await post(w, 8, await fork.proof(8), await fork.checkpoint())).status, 422);
    // Same size, other root.
    const twin = await (await log.fork(6)).grow(2, "b");
    assert.equal((await post(w, 8, [], await twin.checkpoint())).status, 422);
    assert.equal(w.metrics.requests(422, "bad-proof"), 3);
    assert.equal((await post(w, 8, proof, await log.checkpoint())).status, 200);
    assert.equal(parseConflictBody((await post(w, 0, [], await log.checkpoint())).body), 13);
  });
});

Deno.test("413 over the body limit; 429 over the client's rate with Retry-After", async () => {
  await withWitness(async (w) => {
    const big = "old 0\n\n" + "x".repeat(70_000);
    assert.equal((await postBody(w, big)).status, 413);
    // Streamed (chunked, no Content-Length): stopped once past the limit.
    const chunk = new TextEncoder().encode("x".repeat(16_384));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent++ < 8) ctl.enqueue(chunk);
        else ctl.close();
      },
    });
    const streamed = await fetch(`${w.url}/add-checkpoint`, { method: "POST", body: stream });
    assert.equal(streamed.status, 413);
    assert.match(await streamed.text(), /over the limit of 65536 bytes/);
    const log = await new TestLog([logKey]).grow(1);
    const cp = await log.checkpoint();
    const statuses: number[] = [];
    let retry: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${w.url}/add-checkpoint`, {
        method: "POST",
        body: formatAddCheckpointRequest(0, [], cp),
      });
      statuses.push(res.status);
      if (res.status === 429) retry = res.headers.get("retry-after");
      await res.body?.cancel();
    }
    assert.deepEqual(statuses.slice(0, 1), [200], "within the burst (the 413s took two)");
    assert.ok(statuses.slice(1).every((s) => s === 429), String(statuses));
    assert.match(retry ?? "", /^[1-9][0-9]*$/);
    const metrics = await (await fetch(`${w.url}/metrics`)).text();
    assert.match(metrics, /requests_total\{status="413",reason="too-large"\} 2$/m);
    assert.match(metrics, /requests_total\{status="429",reason="rate-limited"\} 4$/m);
  }, { rateLimit: { ratePerSecond: 0.001, burst: 3 } });
});

Deno.test("monitoring checkpoint, /metrics and /healthz", async () => {
  await withWitness(async (w) => {
    const hash = originHash(ORIGIN);
    assert.equal(
      await fetch(`${w.url}/${hash}/checkpoint`).then(async (r) => {
        await r.body?.cancel();
        return r.status;
      }),
      404,
      "nothing cosigned yet",
    );
    const log = await new TestLog([logKey]).grow(4);
    const cp = await log.checkpoint();
    const r = await post(w, 0, [], cp);
    const served = await (await fetch(`${w.url}/${hash}/checkpoint`)).text();
    assert.equal(served, cp + r.body, "log signature, then the cosignatures");
    const opened = await openNote(served, [logKey.verifier(), ...verifiers(w)]);
    assert.equal(opened.sigs.length, 2);
    const metrics = await (await fetch(`${w.url}/metrics`)).text();
    assert.match(
      metrics,
      /^witness_add_checkpoint_requests_total\{status="200",reason="cosigned"\} 1$/m,
    );
    assert.match(metrics, /^witness_cosignatures_total\{origin="example\.com\/log"\} 1$/m);
    assert.match(metrics, /^witness_log_size\{origin="example\.com\/log"\} 4$/m);
    assert.match(metrics, /^process_resident_memory_bytes \d+$/m);
    const get = await fetch(`${w.url}/add-checkpoint`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    await get.body?.cancel();
    const health = await fetch(`${w.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "ok\n");
  });
});
