/**
 * verifyLog on a store that is not Deno KV: a memory store seen through a
 * wrapper that corrupts what one method returns (an entry's envelope, a
 * checkpoint, one derived record, a record no entry accounts for). The
 * audit needs only the store interface, and names the first bad entry.
 */
import assert from "node:assert/strict";
import { openLedger } from "../../ledger/ledger.ts";
import { MemoryStore } from "../../ledger/memory_store.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import type { DerivedRecord, StoredCheckpoint, StoredEntry } from "../../ledger/store.ts";
import { verifyLog, type VerifyLogResult } from "../../ledger/verify_log.ts";
import { FaultyStore } from "./_faulty_store.ts";
import { countingWorkers } from "./_workers.ts";
import { contractEnvelope } from "./store_contract.ts";

/** A view of `inner` with one method's answers changed. */
class Tampered extends FaultyStore {
  entries?: (e: StoredEntry) => StoredEntry;
  checkpoints?: (c: StoredCheckpoint) => StoredCheckpoint | null;
  derived?: (r: DerivedRecord) => DerivedRecord | null;
  extra: DerivedRecord[] = [];

  override async readEntries(a: number, b: number): Promise<StoredEntry[]> {
    const rows = await this.inner.readEntries(a, b);
    return this.entries ? rows.map(this.entries) : rows;
  }
  override async *readCheckpoints(a: number, b: number): AsyncGenerator<StoredCheckpoint> {
    for await (const c of this.inner.readCheckpoints(a, b)) {
      const x = this.checkpoints ? this.checkpoints(c) : c;
      if (x) yield x;
    }
  }
  override async *scanDerived(size: number): AsyncGenerator<DerivedRecord> {
    for await (const r of this.inner.scanDerived(size)) {
      const x = this.derived ? this.derived(r) : r;
      if (x) yield x;
    }
    yield* this.extra;
  }
}

Deno.test("verifyLog audits any store and names the first bad entry", async () => {
  const key = await Ed25519NoteSigner.generate("audit.example/log");
  const mem = new MemoryStore();
  const ledger = await openLedger({
    store: mem.handle(),
    logKey: key,
    origin: key.name,
    maxBatch: 3,
  });
  for (let i = 0; i < 20; i++) {
    await ledger.append(await contractEnvelope(i, { issuer: `iss-${i % 2}` }));
  }
  await ledger.close();
  const audit = async (f: (t: Tampered) => void): Promise<VerifyLogResult> => {
    const t = new Tampered(mem.handle());
    f(t);
    const opts = { verifierKey: key.verifierKey(), origin: key.name };
    // Entries checked here and on a worker: the same findings, word for word.
    const here = await verifyLog(t, { ...opts, checkWorker: false });
    const onWorker = await countingWorkers(() => verifyLog(t, { ...opts, checkWorker: true }));
    assert.deepEqual(onWorker.result, here);
    assert.equal(onWorker.created, 1);
    assert.ok(onWorker.answers >= 1, "the worker answered no range");
    return here;
  };
  assert.deepEqual(await audit(() => {}), { ok: true, size: 20 });

  const env = await audit((t) => {
    t.entries = (e) =>
      e.index === 4
        ? { ...e, envelope: Uint8Array.from(e.envelope, (b, i) => i === 9 ? b ^ 1 : b) }
        : e;
  });
  assert.equal(env.first_bad_index, 4);
  assert.match(env.reason!, /envelope bytes do not hash/);

  const leaf = await audit((t) => {
    t.entries = (e) => e.index === 6 ? { ...e, leaf: e.leaf.slice(1) } : e;
  });
  assert.equal(leaf.first_bad_index, 6);

  const noCp = await audit((t) => {
    t.checkpoints = (c) => c.size === 9 ? null : c;
  });
  assert.equal(noCp.first_bad_index, 8);
  assert.match(noCp.reason!, /checkpoint for size 9 .* is missing/);

  const badCp = await audit((t) => {
    t.checkpoints = (c) => c.size === 12 ? { ...c, text: c.text.replace(/\n12\n/, "\n13\n") } : c;
  });
  assert.equal(badCp.first_bad_index, 11);

  const dropped = await audit((t) => {
    t.derived = (r) => r.kind === "issuer" && r.index === 7 ? null : r;
  });
  assert.equal(dropped.ok, false);
  assert.equal(dropped.first_bad_index, 7);

  const moved = await audit((t) => {
    t.derived = (r) =>
      r.kind === "primitive" && r.index === 13 ? { ...r, primitive: "fairness" } : r;
  });
  assert.equal(moved.first_bad_index, 13);

  // A record no entry implies, claiming entry 2: that entry is named.
  const stray = await audit((t) => {
    t.extra = [{ kind: "issuer", issuer: "nobody", time: "2026-01-01T00:00:00Z", index: 2 }];
  });
  assert.equal(stray.ok, false);
  assert.equal(stray.first_bad_index, 2);

  const unaccounted = await audit((t) => {
    t.extra = [{ kind: "unaccounted", what: "row 42 of table x belongs to no entry" }];
  });
  assert.deepEqual(unaccounted, {
    ok: false,
    size: 20,
    reason: "row 42 of table x belongs to no entry",
  });
});

Deno.test("verifyLog checks entries on a worker across ranges, and here when the worker cannot start", async () => {
  const key = await Ed25519NoteSigner.generate("audit.example/log");
  const mem = new MemoryStore();
  const ledger = await openLedger({ store: mem.handle(), logKey: key, origin: key.name });
  const envs = await Promise.all(
    Array.from({ length: 2500 }, (_, i) => contractEnvelope(i, { issuer: `iss-${i % 3}` })),
  );
  await Promise.all(envs.map((e) => ledger.append(e)));
  await ledger.close();
  const opts = { verifierKey: key.verifierKey(), origin: key.name };
  for (const bad of [999, 1000, 2499]) {
    const t = new Tampered(mem.handle());
    t.entries = (e) => e.index === bad ? { ...e, leaf: e.leaf.slice(0, -1) } : e;
    const here = await verifyLog(t, { ...opts, checkWorker: false });
    assert.equal(here.first_bad_index, bad);
    const w = await countingWorkers(() => verifyLog(t, { ...opts, checkWorker: true }));
    assert.deepEqual(w.result, here);
    // The ranges up to the bad entry's were checked on the worker (later ones may be too).
    const needed = Math.floor(bad / 1000) + 1;
    assert.ok(w.answers >= needed, `ranges answered by the worker: ${w.answers} < ${needed}`);
  }
  const good = await countingWorkers(() =>
    verifyLog(new Tampered(mem.handle()), { ...opts, checkWorker: true })
  );
  assert.deepEqual(good.result, { ok: true, size: 2500 });
  assert.equal(good.answers, 3); // ranges of 1,000
  // A runtime whose workers fail to start: the same audit, on this thread.
  const Real = globalThis.Worker;
  globalThis.Worker = class {
    constructor() {
      throw new Error("no workers here");
    }
  } as unknown as typeof Worker;
  try {
    const t = new Tampered(mem.handle());
    t.entries = (e) => e.index === 1500 ? { ...e, envelope: e.envelope.slice(1) } : e;
    const r = await verifyLog(t, { ...opts, checkWorker: true });
    assert.equal(r.first_bad_index, 1500);
    assert.match(r.reason!, /envelope bytes do not hash/);
  } finally {
    globalThis.Worker = Real;
  }
});
