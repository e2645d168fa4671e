/**
 * One signed body is one entry (CONTRACT §3, docs/formats.md §2.6): the
 * ledger deduplicates by the SHA-256 of the canonical signed body, so what
 * the signature does not cover (`timestamp`, `receipt` PEM whitespace) never
 * makes a second entry; and a log written before the signed-body index
 * existed gets it built when opened.
 */
import assert from "node:assert/strict";
import { parseEnvelopeValue, signedBodySha256 } from "../../core/envelope.ts";
import type { ParsedEnvelope } from "../../core/envelope_types.ts";
import { KvStore } from "../../ledger/kv_store.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import type { CommitBatch, CommitResult } from "../../ledger/store.ts";
import { FaultyStore } from "./_faulty_store.ts";
import { contractEnvelope } from "./store_contract.ts";

const ORIGIN = "identity.example/log";
const key = await Ed25519NoteSigner.generate(ORIGIN);

/** `env` with other unsigned members: `junk` characters in a timestamp block and in PEM whitespace. */
function variant(env: ParsedEnvelope, n: number, junk = 0): ParsedEnvelope {
  const v = env.value;
  return parseEnvelopeValue({
    ...v,
    timestamp: { token_b64: "AAAA", junk: `${n}:` + "x".repeat(junk) },
    receipt: { ...v.receipt, public_key_pem: v.receipt.public_key_pem + "\n".repeat(n + 1) },
  });
}

async function kvBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const f of Deno.readDir(dir)) {
    if (f.name.startsWith("ledger.kv")) total += (await Deno.stat(`${dir}/${f.name}`)).size;
  }
  return total;
}

Deno.test("one signature, 40 re-submissions with 400 KB of unsigned junk: one entry, no growth", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-identity-" });
  try {
    const ledger = await openLedger({ dataDir: dir, logKey: key, origin: ORIGIN });
    const env = await contractEnvelope(1);
    const first = await ledger.append(env);
    assert.equal(first.existing, false);
    const before = await kvBytes(dir);
    for (let n = 0; n < 40; n++) {
      const r = await ledger.append(variant(env, n, 400_000));
      assert.deepEqual([r.existing, r.index], [true, first.index]);
      assert.equal(r.envelope_sha256, first.envelope_sha256); // the stored entry's identity
    }
    assert.equal(await ledger.size(), 1);
    // The stored envelope is the first one, untouched.
    assert.equal((await ledger.get(0))!.envelope, new TextDecoder().decode(env.canonical));
    // Several variants in one batch: still one entry.
    const rs = await Promise.all([0, 1, 2].map((n) => ledger.append(variant(env, 50 + n, 10))));
    assert.ok(rs.every((r) => r.existing && r.index === 0));
    assert.equal(await ledger.size(), 1);
    assert.deepEqual(await ledger.verify(), { ok: true, size: 1 });
    await ledger.close();
    // 40 × 400 KB would be 16 MB; allow SQLite's page and WAL slack.
    const grown = (await kvBytes(dir)) - before;
    assert.ok(grown < 1_000_000, `the store grew by ${grown} bytes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A writer as the code before the signed-body index was: dedup by the whole envelope. */
class OldWriter extends FaultyStore {
  override commit(v: string | null, batch: CommitBatch): Promise<CommitResult> {
    const entries = batch.entries.map((e) => ({ ...e, bodySha256: e.envelopeSha256 }));
    return this.inner.commit(v, { ...batch, entries });
  }
}

Deno.test("a log written before the signed-body index gets it on open; audits stay clean", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-identity-old-" });
  const path = `${dir}/ledger.kv`;
  try {
    const env = await contractEnvelope(7);
    const other = await contractEnvelope(8);
    // The old ledger logged one signed body three times (the attack), then another.
    const old = await openLedger({
      store: new OldWriter(await KvStore.open(path)),
      logKey: key,
      origin: ORIGIN,
    });
    for (const e of [env, variant(env, 1), variant(env, 2), other]) await old.append(e);
    assert.equal(await old.size(), 4);
    await old.close();
    // Remove what the old code never wrote: the signed-body records and their mark.
    const kv = await Deno.openKv(path);
    for await (const r of kv.list({ prefix: ["b"] })) await kv.delete(r.key);
    await kv.delete(["bm"]);
    kv.close();

    const ledger = await openLedger({ path, logKey: key, origin: ORIGIN });
    try {
      // The rebuilt index names the first entry of each body; the audit agrees.
      assert.deepEqual(
        await ledger.store.findBodies([signedBodySha256(env), signedBodySha256(other)]),
        [0, 3],
      );
      assert.deepEqual(await ledger.verify(), { ok: true, size: 4 });
      // Re-submitting the body once more is the first entry, not a fifth.
      const again = await ledger.append(variant(env, 9));
      assert.deepEqual([again.existing, again.index], [true, 0]);
      assert.equal(await ledger.size(), 4);
      const fresh = await ledger.append(await contractEnvelope(9));
      assert.deepEqual([fresh.existing, fresh.index], [false, 4]);
      assert.deepEqual(await ledger.verify(), { ok: true, size: 5 });
      // A stray body record naming a later duplicate is found by the audit.
      const raw = (ledger.store as KvStore).kv;
      await raw.set(["b", signedBodySha256(env)], new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]));
      const bad = await ledger.verify();
      assert.equal(bad.ok, false);
      assert.equal(bad.first_bad_index, 0);
    } finally {
      await ledger.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
