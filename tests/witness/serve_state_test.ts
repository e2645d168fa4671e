/**
 * The witness's durable parts: its key files (0600, made once, reused,
 * refused when wrong), state that survives a restart, the check-and-set
 * that keeps two writers on one state file from both moving a log forward,
 * and the log list (`--log` keys, `--logs` tlog-policy files).
 */
import assert from "node:assert/strict";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import {
  formatAddCheckpointRequest,
  parseAddCheckpointRequest,
  parseConflictBody,
} from "../../ledger/witness/add_checkpoint.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { MlDsa44NoteSigner } from "../../ledger/witness/mldsa.ts";
import { startWitness } from "../../server/witness/serve.ts";
import { MAX_WAITING_PER_LOG, WitnessStore } from "../../server/witness/state.ts";
import type {
  AddCheckpointDecision,
  AddCheckpointRequest,
  WitnessLog,
} from "../../ledger/witness/add_checkpoint.ts";
import type { NoteSigner } from "../../ledger/note.ts";

/** A decision that was not refused for a full queue. */
async function decided(
  store: WitnessStore,
  request: AddCheckpointRequest,
  log: WitnessLog,
  cosigners: NoteSigner[],
): Promise<AddCheckpointDecision> {
  const d = await store.addCheckpoint(request, log, cosigners);
  assert.ok(d !== null, "queue not full");
  return d;
}
import { readLogsFile, witnessLogs, WitnessLogsError } from "../../server/witness/logs.ts";
import { ORIGIN, TestLog } from "./_log.ts";

const logKey = await Ed25519NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(3));

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "regledger-witness-state-" });
}

async function add(url: string, oldSize: number, proof: Uint8Array[], cp: string) {
  const res = await fetch(`${url}/add-checkpoint`, {
    method: "POST",
    body: formatAddCheckpointRequest(oldSize, proof, cp),
  });
  return { status: res.status, body: await res.text() };
}

Deno.test("keys: made on first start with mode 0600, the same after a restart, state kept", async () => {
  const dir = await tempDir();
  try {
    const opts = { dataDir: dir, name: "witness.example/w", logs: [logKey.verifierKey()] };
    const w1 = await startWitness(opts);
    for (const f of ["witness-key", "witness-key-mldsa44"]) {
      assert.equal((await Deno.stat(`${dir}/${f}`)).mode! & 0o777, 0o600, f);
      assert.match(await Deno.readTextFile(`${dir}/${f}`), /^PRIVATE\+KEY\+witness\.example\/w\+/);
    }
    const log = await new TestLog([logKey]).grow(6);
    assert.equal((await add(w1.url, 0, [], await log.checkpoint())).status, 200);
    await w1.close();
    await w1.close(); // idempotent
    const w2 = await startWitness(opts);
    try {
      assert.deepEqual(w2.verifierKeys, w1.verifierKeys, "keys reused");
      const r = await add(w2.url, 0, [], await log.checkpoint(3));
      assert.equal(r.status, 409);
      assert.equal(parseConflictBody(r.body), 6, "the size cosigned before the restart");
      await log.grow(2);
      assert.equal((await add(w2.url, 6, await log.proof(6), await log.checkpoint())).status, 200);
    } finally {
      await w2.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys: a group-readable key, another name or another type stops the start", async () => {
  const dir = await tempDir();
  try {
    const opts = { dataDir: dir, name: "witness.example/w", logs: [logKey.verifierKey()] };
    await (await startWitness({ ...opts, mlDsa: false })).close();
    await Deno.chmod(`${dir}/witness-key`, 0o640);
    await assert.rejects(startWitness(opts), /readable by group or others/);
    await Deno.chmod(`${dir}/witness-key`, 0o600);
    await assert.rejects(startWitness({ ...opts, name: "other.example/w" }), /is named/);
    await Deno.remove(`${dir}/witness-key`);
    await Deno.writeTextFile(`${dir}/witness-key`, logKey.toSignerKey() + "\n", { mode: 0o600 });
    await assert.rejects(startWitness(opts), /another type/);
    await Deno.remove(`${dir}/witness-key`);
    const cosigner = await Ed25519CosignatureSigner.generate("witness.example/w");
    await Deno.writeTextFile(`${dir}/witness-key`, cosigner.toSignerKey() + "\n", { mode: 0o600 });
    const w = await startWitness(opts);
    assert.equal(w.verifierKeys[0], cosigner.verifierKey(), "an operator-supplied key is used");
    await w.close();
    await assert.rejects(startWitness({ ...opts, name: "bad name" }), /not a valid key name/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("state: two writers on one file cannot both move a log forward from one state", async () => {
  const dir = await tempDir();
  const s1 = await WitnessStore.open(`${dir}/witness.kv`);
  const s2 = await WitnessStore.open(`${dir}/witness.kv`);
  try {
    const cosigner = await Ed25519CosignatureSigner.generate("witness.example/w");
    const logs = witnessLogs([logKey.verifierKey()]);
    const log = logs.get(ORIGIN)!;
    const req = async (l: TestLog, old: number) =>
      parseAddCheckpointRequest(
        formatAddCheckpointRequest(old, await l.proof(old), await l.checkpoint()),
      );
    const build = async (leaves: string[]) => {
      const l = new TestLog([logKey]);
      for (const leaf of leaves) await l.store.append(new TextEncoder().encode(leaf));
      return l;
    };
    let history = ["l0", "l1", "l2", "l3"];
    assert.equal(
      (await decided(s1, await req(await build(history), 0), log, [cosigner])).status,
      200,
    );
    // Both stores have read size 4 (s2 caches it now).
    assert.equal((await s2.get(ORIGIN))?.size, 4);
    for (let round = 0; round < 10; round++) {
      const size = history.length;
      const leavesA = [...history, `a${round}-1`, `a${round}-2`, `a${round}-3`];
      const leavesB = [...history, `b${round}-1`, `b${round}-2`];
      const [a, b] = [await build(leavesA), await build(leavesB)];
      // The same history up to `size`: both proofs are from the stored root.
      const [da, db] = await Promise.all([
        decided(s1, await req(a, size), log, [cosigner]),
        decided(s2, await req(b, size), log, [cosigner]),
      ]);
      const ok = [da, db].filter((d) => d.status === 200);
      assert.equal(ok.length, 1, `round ${round}: ${da.status} ${db.status}`);
      const loser = da.status === 200 ? db : da;
      assert.ok(loser.status === 422 || loser.status === 409, String(loser.status));
      history = da.status === 200 ? leavesA : leavesB;
      const winner = da.status === 200 ? a : b;
      assert.deepEqual((await s1.get(ORIGIN))!.root, await winner.root());
      assert.equal((await s2.get(ORIGIN))!.size, history.length);
    }
  } finally {
    await s1.close();
    await s2.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log list: keys grouped by origin, wrong keys named; --logs reads tlog-policy log lines", async () => {
  const pq = MlDsa44NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(5));
  const other = await Ed25519NoteSigner.fromSeed("b.example/log", new Uint8Array(32).fill(6));
  const logs = witnessLogs([logKey.verifierKey(), pq.verifierKey(), other.verifierKey()]);
  assert.deepEqual([...logs.keys()], [ORIGIN, "b.example/log"]);
  assert.equal(logs.get(ORIGIN)!.verifiers.length, 2);
  assert.throws(() => witnessLogs([]), WitnessLogsError);
  assert.throws(() => witnessLogs(["nonsense"]), /not a verifier key/);
  assert.throws(() => witnessLogs([logKey.verifierKey(), logKey.verifierKey()]), /twice/);
  const cosigner = await Ed25519CosignatureSigner.generate("w.example");
  assert.throws(() => witnessLogs([cosigner.verifierKey()]), /signature type 0x04/);

  const dir = await tempDir();
  try {
    const f = `${dir}/logs`;
    await Deno.writeTextFile(
      f,
      `# logs this witness cosigns\nlog ${logKey.verifierKey()} https://log.example/\n` +
        `log ${other.verifierKey()}\nwitness w ${cosigner.verifierKey()}\nquorum none\n`,
    );
    assert.deepEqual(await readLogsFile(f), [logKey.verifierKey(), other.verifierKey()]);
    await Deno.writeTextFile(f, `log ${logKey.verifierKey()}\n`);
    await assert.rejects(readLogsFile(f), /no quorum line/);
    await Deno.writeTextFile(f, `quorum none\n`);
    await assert.rejects(readLogsFile(f), /no 'log' line/);
    await Deno.writeTextFile(f, `log nonsense\nquorum none\n`);
    await assert.rejects(readLogsFile(f), /line 1/);
    await assert.rejects(readLogsFile(`${dir}/missing`), /cannot read log list/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("state: at most MAX_WAITING_PER_LOG requests wait for one log; the rest are refused", async () => {
  const dir = await tempDir();
  const store = await WitnessStore.open(`${dir}/witness.kv`);
  try {
    const cosigner = await Ed25519CosignatureSigner.generate("witness.example/w");
    const log = witnessLogs([logKey.verifierKey()]).get(ORIGIN)!;
    const cp = await (await new TestLog([logKey]).grow(2)).checkpoint();
    const request = parseAddCheckpointRequest(formatAddCheckpointRequest(0, [], cp));
    const all = await Promise.all(
      Array.from(
        { length: MAX_WAITING_PER_LOG + 10 },
        () => store.addCheckpoint(request, log, [cosigner]),
      ),
    );
    assert.equal(all.filter((d) => d === null).length, 10);
    assert.equal(all.filter((d) => d?.status === 200).length, 1);
    assert.equal(all.filter((d) => d?.status === 409).length, MAX_WAITING_PER_LOG - 1);
    // Once the queue drained, requests are taken again.
    assert.equal((await store.addCheckpoint(request, log, [cosigner]))?.status, 409);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
