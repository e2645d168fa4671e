/**
 * The records one entry occupies in Deno KV are stated once
 * (`entryRecords` in `ledger/kv_layout.ts`): a commit and a mirror's staging
 * write exactly those, plus the signed-body row, and nothing else per entry.
 */
import assert from "node:assert/strict";
import { sha256, toBase64 } from "../../core/bytes.ts";
import { encodeIndexValue, KV_MAX_VALUE } from "../../ledger/kv_codec.ts";
import { stageEntries } from "../../ledger/kv_import.ts";
import { bodyKey, entryRecords, KIND } from "../../ledger/kv_layout.ts";
import { KvStore } from "../../ledger/kv_store.ts";
import { leafHash } from "../../ledger/merkle/mod.ts";
import type { NewEntry } from "../../ledger/store.ts";

const enc = new TextEncoder();

function entry(index: number, envelopeBytes: number): NewEntry {
  const envelope = new Uint8Array(envelopeBytes).map((_, i) => (i * 7 + index) & 0xff);
  const leaf = enc.encode(`leaf-${index}`);
  return {
    index,
    leaf,
    hashes: [leafHash(leaf)],
    endsCommit: index === 2,
    envelope,
    envelopeSha256: sha256(envelope),
    bodySha256: sha256(enc.encode(`body-${index}`)),
    issuer: `issuer-${index % 2}`,
    primitive: "drift",
    issuedAt: `2026-03-01T00:00:0${index}Z`,
  };
}

/** Every per-entry row in the store, as "key = value" lines (heads, marks and checkpoints left out). */
async function entryRows(store: KvStore): Promise<string[]> {
  const perEntry: string[] = [
    KIND.entry,
    KIND.chunk,
    KIND.envelope,
    KIND.body,
    KIND.issuer,
    KIND.primitive,
    KIND.issuerPrimitive,
  ];
  const rows: string[] = [];
  for await (const r of store.kv.list<Uint8Array>({ prefix: [] })) {
    if (perEntry.includes(r.key[0] as string)) rows.push(row(r.key, r.value));
  }
  return rows.sort();
}

function row(key: Deno.KvKey, value: Uint8Array): string {
  const k = key.map((p) =>
    p instanceof Uint8Array ? `b64:${toBase64(p)}` : `${typeof p}:${String(p)}`
  );
  return `${k.join("|")} = ${toBase64(value)}`;
}

Deno.test("a commit and a mirror's staging write the same records per entry: entryRecords and the body row", async () => {
  // Entry 1's envelope spans three KV values (two chunks).
  const entries = [entry(0, 300), entry(1, 2 * KV_MAX_VALUE + 10), entry(2, 0)];
  const expected = entries.flatMap((e) => [
    ...entryRecords(e).map(([k, v]) => row(k, v)),
    row(bodyKey(e.bodySha256), encodeIndexValue(e.index)),
  ]).sort();
  // Per entry: e, s, b, i, p and ip rows; entry 1 also its chunks 1 and 2.
  const kinds = expected.map((r) => r.slice(0, r.indexOf("|")));
  for (const k of ["e", "s", "b", "i", "p", "ip"]) {
    assert.equal(kinds.filter((x) => x === `string:${k}`).length, 3, k);
  }
  assert.equal(kinds.filter((x) => x === `string:${KIND.chunk}`).length, 2);
  assert.equal(expected.length, 20);

  const committed = await KvStore.open(":memory:");
  const staged = await KvStore.open(":memory:");
  try {
    const r = await committed.commit(null, {
      entries,
      head: { size: 3, root: new Uint8Array(32).fill(1), lastLeafHash: entries[2].hashes[0] },
      checkpoint: "contract.example/log\n3\nAAAA\n",
      meta: { origin: "contract.example/log", verifierKey: "contract.example/log+00000000+AAAA" },
    });
    assert.equal(r.ok, true);
    await stageEntries(staged, entries, []);
    assert.deepEqual(await entryRows(committed), expected);
    assert.deepEqual(await entryRows(staged), expected);
  } finally {
    committed.close();
    staged.close();
  }
});
