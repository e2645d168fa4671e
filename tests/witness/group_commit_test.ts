/**
 * server/witness/group_commit.ts on a real Deno KV file: concurrent
 * check-and-set writes share commits, a failed check fails only its own
 * write, and nothing is lost across batches.
 */
import assert from "node:assert/strict";
import { KvGroupCommitter, MAX_BATCH_WRITES } from "../../server/witness/group_commit.ts";

Deno.test("group commit: batched writes land; a stale check fails only its own write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-group-commit-" });
  const kv = await Deno.openKv(`${dir}/g.kv`);
  try {
    const stale = await kv.set(["k", "moved"], 1);
    await kv.set(["k", "moved"], 2); // `stale.versionstamp` is now out of date
    const c = new KvGroupCommitter(kv);
    const n = MAX_BATCH_WRITES * 2 + 5; // more than one batch
    const writes = Array.from({ length: n }, (_, i) => c.write(["k", i], null, { i }, 16));
    const bad = c.write(["k", "moved"], stale.versionstamp, 3, 16);
    const outcomes = await Promise.all(writes);
    assert.ok(
      outcomes.every((o) => o.kind === "ok"),
      JSON.stringify(outcomes.find((o) => o.kind !== "ok")),
    );
    assert.deepEqual(await bad, { kind: "conflict" });
    const stamps = new Set(outcomes.map((o) => o.kind === "ok" ? o.versionstamp : ""));
    assert.ok(stamps.size < n, "writes shared commits");
    for (let i = 0; i < n; i++) assert.deepEqual((await kv.get(["k", i])).value, { i });
    assert.equal((await kv.get(["k", "moved"])).value, 2, "the stale write changed nothing");
    // Versionstamps returned are the records' own: a follow-up check-and-set succeeds.
    const first = outcomes[0];
    assert.equal(first.kind, "ok");
    if (first.kind === "ok") {
      assert.deepEqual(await c.write(["k", 0], first.versionstamp, { i: -1 }, 16), {
        kind: "ok",
        versionstamp: (await kv.get(["k", 0])).versionstamp!,
      });
    }
    await c.idle();
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
