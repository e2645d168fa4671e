/**
 * The signed-head record (ledger/signed_head.ts): a store that lost signed
 * entries (emptied, deleted, restored from an older copy, swapped) is refused
 * by name instead of silently becoming a new log that forks the published one.
 */
import assert from "node:assert/strict";
import { LedgerStateError, openLedger } from "../../ledger/ledger.ts";
import { LogKeyError } from "../../ledger/log_key.ts";
import { readSignedHead, SIGNED_HEAD_FILE } from "../../ledger/signed_head.ts";
import { fromBase64 } from "../../core/bytes.ts";
import { makeEnvelope, tempDir } from "./_helpers.ts";

async function appendN(dir: string, from: number, n: number): Promise<string> {
  const ledger = await openLedger({ dataDir: dir });
  try {
    let cp = "";
    for (let i = from; i < from + n; i++) {
      cp = (await ledger.append(await makeEnvelope(i))).checkpoint;
    }
    return cp;
  } finally {
    await ledger.close();
  }
}

async function copyKv(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.name.startsWith("ledger.kv")) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

async function removeKv(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith("ledger.kv")) await Deno.remove(`${dir}/${e.name}`);
  }
}

Deno.test("signed-head: every receipt's checkpoint is recorded durably, outside the KV file", async () => {
  await using t = await tempDir();
  const cp = await appendN(t.dir, 0, 3);
  const rec = await readSignedHead(t.dir);
  assert.ok(rec);
  assert.equal(rec.size, 3);
  assert.equal(rec.checkpoint, cp);
  const rootLine = cp.split("\n")[2];
  assert.deepEqual(rec.root, fromBase64(rootLine));
});

Deno.test("signed-head: a deleted ledger.kv beside the log key is refused, not a new log", async () => {
  await using t = await tempDir();
  await appendN(t.dir, 0, 2);
  await removeKv(t.dir);
  await assert.rejects(
    () => openLedger({ dataDir: t.dir }),
    (e) => e instanceof LedgerStateError && /behind the log: it holds 0 entries/.test(e.message),
  );
  // The refusal is stable: nothing was signed in between.
  await assert.rejects(() => openLedger({ dataDir: t.dir }), LedgerStateError);
  assert.equal((await readSignedHead(t.dir))!.size, 2);
});

Deno.test("signed-head: an older KV copy restored over the log is refused; an audit says so", async () => {
  await using t = await tempDir();
  await appendN(t.dir, 0, 2);
  const backup = `${t.dir}/backup`;
  await copyKv(t.dir, backup);
  await appendN(t.dir, 2, 3);
  await removeKv(t.dir);
  await copyKv(backup, t.dir);
  await assert.rejects(
    () => openLedger({ dataDir: t.dir }),
    (e) =>
      e instanceof LedgerStateError && /holds 2 entries/.test(e.message) &&
      /size 5/.test(e.message),
  );
  const audit = await openLedger({ dataDir: t.dir, audit: true });
  try {
    const r = await audit.verify();
    assert.equal(r.ok, false);
    assert.match(r.reason!, /behind the log/);
  } finally {
    await audit.close();
  }
});

Deno.test("signed-head: another log's store of the same size or larger (fork) is refused", async () => {
  await using t = await tempDir();
  await appendN(t.dir, 0, 2);
  // A different log of 2 and of 3 entries under the same key: swap its KV in.
  const other = `${t.dir}/other`;
  await Deno.mkdir(other);
  await Deno.copyFile(`${t.dir}/log-key`, `${other}/log-key`);
  await appendN(other, 100, 2);
  await removeKv(t.dir);
  await copyKv(other, t.dir);
  await assert.rejects(
    () => openLedger({ dataDir: t.dir }),
    (e) => e instanceof LedgerStateError && /inconsistent/.test(e.message),
  );
  await appendN(other, 102, 1);
  await removeKv(t.dir);
  await copyKv(other, t.dir);
  await assert.rejects(
    () => openLedger({ dataDir: t.dir }),
    (e) => e instanceof LedgerStateError && /does not extend/.test(e.message),
  );
});

Deno.test("signed-head: newLogUnderExistingKey starts a new log and keeps the old record aside", async () => {
  await using t = await tempDir();
  await appendN(t.dir, 0, 2);
  await removeKv(t.dir);
  const ledger = await openLedger({ dataDir: t.dir, newLogUnderExistingKey: true });
  try {
    assert.equal(await ledger.size(), 0);
    await ledger.append(await makeEnvelope(50));
  } finally {
    await ledger.close();
  }
  assert.equal((await readSignedHead(t.dir))!.size, 1);
  const names = [];
  for await (const e of Deno.readDir(t.dir)) names.push(e.name);
  assert.ok(names.some((n) => n.startsWith(`${SIGNED_HEAD_FILE}.replaced-`)), names.join());
});

Deno.test("signed-head: a log made before the record gets one from its head on first open", async () => {
  await using t = await tempDir();
  await appendN(t.dir, 0, 3);
  await Deno.remove(`${t.dir}/${SIGNED_HEAD_FILE}`);
  const ledger = await openLedger({ dataDir: t.dir });
  await ledger.close();
  assert.equal((await readSignedHead(t.dir))!.size, 3);
});

Deno.test("signed-head: a store extended by another writer is accepted and recorded", async () => {
  await using t = await tempDir();
  await appendN(t.dir, 0, 2);
  // Simulate a process that appended without updating the record (crash before writing it).
  const rec = await Deno.readTextFile(`${t.dir}/${SIGNED_HEAD_FILE}`);
  await appendN(t.dir, 2, 2);
  await Deno.writeTextFile(`${t.dir}/${SIGNED_HEAD_FILE}`, rec);
  const ledger = await openLedger({ dataDir: t.dir });
  await ledger.close();
  assert.equal((await readSignedHead(t.dir))!.size, 4);
});

Deno.test("log key: a read-only open never creates it; a log with entries and no key is refused", async () => {
  await using t = await tempDir();
  await appendN(t.dir, 0, 1);
  await Deno.remove(`${t.dir}/log-key`);
  await assert.rejects(
    () => openLedger({ dataDir: t.dir, readOnly: true, audit: true }),
    (e) => e instanceof LogKeyError && /never creates/.test(e.message),
  );
  await assert.rejects(
    () => openLedger({ dataDir: t.dir }),
    (e) => e instanceof LogKeyError && /is missing/.test(e.message),
  );
  await assert.rejects(() => Deno.stat(`${t.dir}/log-key`), Deno.errors.NotFound);
});

Deno.test("signed-head: receipts delivered after a later commit are covered, not refused", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir, maxBatch: 3 });
  try {
    const envs = await Promise.all(Array.from({ length: 120 }, (_, i) => makeEnvelope(i)));
    // checkpoint() reads an older head while later commits record larger trees.
    const cps: Promise<string>[] = [];
    const rs = await Promise.all(envs.map((e, i) => {
      const p = ledger.append(e);
      if (i % 4 === 0) cps.push(p.then(() => ledger.checkpoint()));
      return p;
    }));
    assert.equal(new Set(rs.map((r) => r.index)).size, 120);
    assert.equal((await Promise.all(cps)).length, 30);
    // Two handles on one store: the second records what the first appended.
    const other = await openLedger({ dataDir: t.dir, maxBatch: 3 });
    try {
      await Promise.all(envs.slice(0, 10).map((e) => other.append(e)));
      await other.append(await makeEnvelope(500));
    } finally {
      await other.close();
    }
  } finally {
    await ledger.close();
  }
  assert.equal((await readSignedHead(t.dir))!.size, 121);
});
