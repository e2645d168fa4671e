/**
 * The contract every {@link LedgerStore} meets, as a test suite any store
 * runs by passing a factory: `storeContract("Deno KV", kvHarness)`. It is
 * written against the interface only (no engine's keys or limits), so the
 * next engine (PostgreSQL) runs it unchanged.
 *
 * Covered: an empty store; commit with its version check (two writers on
 * one head: exactly one wins, the loser writes nothing; stale versions and
 * already indexed envelopes are refused); reads of entries, ranges,
 * checkpoints and identity; stored hashes behind inclusion and consistency
 * proofs (checked with the pure verifiers against an independent tree);
 * the envelope index (idempotent re-submission); index scans by issuer,
 * primitive and time with cursors (and the breach filter above them);
 * concurrent appends through two ledgers on two handles (no fork, gap or
 * duplicate); faults (a commit that throws before or after writing leaves
 * the store consistent; a store opened again sees every acknowledged entry);
 * and `verifyLog` auditing the store.
 *
 * @module
 */
import assert from "node:assert/strict";
import { sha256, toBase64 } from "../../core/bytes.ts";
import { parseEnvelopeValue, signedBodySha256 } from "../../core/envelope.ts";
import type { Envelope, ParsedEnvelope, PrimitiveName } from "../../core/envelope_types.ts";
import { type Ledger, openLedger } from "../../ledger/ledger.ts";
import { ZERO_PREV } from "../../ledger/leaf.ts";
import {
  EMPTY_TREE_HASH,
  leafHash,
  MemoryHashStore,
  storedHashCount,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from "../../ledger/merkle/mod.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import type { LedgerStore, NewEntry } from "../../ledger/store.ts";
import { verifyLog } from "../../ledger/verify_log.ts";
import { FaultyStore } from "./_faulty_store.ts";
import { storeTileContract } from "./store_contract_tiles.ts";
import { storeIndexContract } from "./store_contract_index.ts";
import { templateEnvelope } from "./_helpers.ts";

/** Storage a contract test runs on: open it (again after close: the same data), then dispose. */
export interface StoreHarness {
  /** A handle on the harness's storage; every handle sees the same log. */
  open(): Promise<LedgerStore>;
  /** Remove the storage. */
  dispose(): Promise<void>;
}

const ORIGIN = "contract.example/log";
const dec = new TextDecoder();

/** Envelope `i` with the given issuer, primitive, time and breach bit. */
export async function contractEnvelope(
  i: number,
  o: { issuer?: string; primitive?: PrimitiveName; issuedAt?: string; breach?: boolean } = {},
): Promise<ParsedEnvelope> {
  const env = structuredClone(await templateEnvelope()) as Envelope;
  const primitive = o.primitive ?? "drift";
  env.primitive = primitive;
  env.issuer = o.issuer ?? "acme";
  env.issued_at = o.issuedAt ?? `2026-03-01T00:00:${String(i % 60).padStart(2, "0")}Z`;
  const bit = o.breach ?? false;
  env.result = primitive === "fairness"
    ? { n: i, threshold_breached: bit }
    : primitive === "disagreement"
    ? { n: i, breach: bit }
    : primitive === "drift"
    ? { n: i, drift_bit: bit }
    : { n: i };
  return parseEnvelopeValue(env);
}

/** A fabricated entry for commit-level tests (the store does not interpret leaves). */
function fakeEntry(index: number, envelope: string): NewEntry {
  const env = new TextEncoder().encode(envelope);
  const leaf = new TextEncoder().encode(`leaf-${index}-${envelope}`);
  return {
    index,
    leaf,
    hashes: [leafHash(leaf)],
    endsCommit: true,
    envelope: env,
    envelopeSha256: sha256(env),
    // The store does not interpret bodies either: one fake body per envelope text.
    bodySha256: sha256(new TextEncoder().encode(`body-${envelope}`)),
    issuer: "i",
    primitive: "drift",
    issuedAt: "2026-01-01T00:00:00Z",
  };
}

function head(size: number) {
  return { size, root: new Uint8Array(32).fill(size), lastLeafHash: new Uint8Array(32) };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  return await Array.fromAsync(it);
}

/** Run the store contract against the stores `factory` makes. */
export function storeContract(name: string, factory: () => Promise<StoreHarness>): void {
  const test = (what: string, fn: (h: StoreHarness, key: Ed25519NoteSigner) => Promise<void>) =>
    Deno.test({
      name: `${name} store contract: ${what}`,
      sanitizeResources: false,
      fn: async () => {
        const h = await factory();
        try {
          await fn(h, await Ed25519NoteSigner.generate(ORIGIN));
        } finally {
          await h.dispose();
        }
      },
    });
  storeTileContract(
    (what, fn) => test(what, (h, key) => fn(() => h.open(), key)),
    ORIGIN,
    (i) => contractEnvelope(i),
  );
  storeIndexContract(
    (what, fn) => test(what, (h, key) => fn(() => h.open(), key)),
    ORIGIN,
    (i, o) => contractEnvelope(i, o),
  );
  const ledgerOn = (store: LedgerStore, key: Ed25519NoteSigner, maxBatch = 4) =>
    openLedger({ store, logKey: key, origin: ORIGIN, maxBatch });

  test("a fresh store is empty and has limits", async (h) => {
    const s = await h.open();
    try {
      const vh = await s.readHead();
      assert.equal(vh.version, null);
      assert.deepEqual(vh.head, { size: 0, root: EMPTY_TREE_HASH, lastLeafHash: ZERO_PREV });
      assert.equal(await s.readMeta(), null);
      assert.equal(await s.readEntry(0), null);
      assert.deepEqual(await s.readEntries(0, 5), []);
      assert.equal(await s.readCheckpoint(1), null);
      assert.deepEqual(await all(s.readCheckpoints(1, 10)), []);
      assert.deepEqual(await s.findEnvelopes([new Uint8Array(32)]), [null]);
      assert.deepEqual(await s.scanIndex({}, 10), []);
      assert.deepEqual(await all(s.scanDerived(0)), []);
      assert.ok(s.limits.maxBatchEntries >= 1 && s.limits.maxEnvelopeBytes >= 65536);
      const budget = s.commitBudget();
      assert.equal(budget.add({ envelopeBytes: s.limits.maxEnvelopeBytes, fieldBytes: 100 }), true);
      assert.equal(s.isTransient(new Error("nothing special")), false);
    } finally {
      s.close();
    }
  });

  test("commit checks the version: of two writers on one head exactly one wins", async (h) => {
    const [a, b] = [await h.open(), await h.open()];
    try {
      const meta = { origin: ORIGIN, verifierKey: "k" };
      const batch = (e: NewEntry, size: number) => ({
        entries: [e],
        head: head(size),
        checkpoint: `cp-${size}-${dec.decode(e.envelope)}`,
        meta,
      });
      // A loser answers {ok: false}, or throws an error the store calls transient (a lock).
      const tryCommit = (s: LedgerStore, e: NewEntry) =>
        s.commit(null, batch(e, 1)).catch((err) => {
          if (!s.isTransient(err)) throw err;
          return { ok: false as const };
        });
      const rs = await Promise.all([
        tryCommit(a, fakeEntry(0, "a")),
        tryCommit(b, fakeEntry(0, "b")),
      ]);
      if (rs.every((r) => !r.ok)) {
        // Both lost to each other's lock: nothing written; the next writer alone wins.
        assert.equal((await a.readHead()).head.size, 0);
        rs[0] = await a.commit(null, batch(fakeEntry(0, "a"), 1));
      }
      assert.equal(rs.filter((r) => r.ok).length, 1, "exactly one writer wins");
      const winner = rs[0].ok ? "a" : "b";
      const loser = winner === "a" ? "b" : "a";
      for (const s of [a, b]) {
        const vh = await s.readHead();
        assert.equal(vh.head.size, 1);
        assert.equal(vh.version, (rs.find((r) => r.ok) as { version: string }).version);
        assert.equal(dec.decode((await s.readEntry(0))!.envelope), winner);
        assert.deepEqual(await s.findEnvelopes([sha256(new TextEncoder().encode(loser))]), [null]);
        assert.equal(await s.readCheckpoint(1), `cp-1-${winner}`);
        assert.deepEqual(await s.readMeta(), meta);
      }
      const v1 = (await a.readHead()).version;
      // A stale version: refused, nothing written.
      assert.equal((await b.commit(null, batch(fakeEntry(0, "c"), 1))).ok, false);
      // The right version, but an envelope already indexed: refused, nothing written.
      assert.equal((await b.commit(v1, batch(fakeEntry(1, winner), 2))).ok, false);
      // Another envelope whose signed body is already indexed: refused too.
      const sameBody = {
        ...fakeEntry(1, "other bytes"),
        bodySha256: fakeEntry(0, winner).bodySha256,
      };
      assert.equal((await b.commit(v1, batch(sameBody, 2))).ok, false);
      assert.deepEqual(await a.findBodies([sameBody.bodySha256]), [0]);
      assert.equal((await a.readHead()).head.size, 1);
      assert.equal(await a.readEntry(1), null);
      assert.equal(await a.readCheckpoint(2), null);
      // The right version and a new envelope: written, visible through the other handle.
      const r = await b.commit(v1, batch(fakeEntry(1, "d"), 2));
      assert.ok(r.ok);
      assert.equal((await a.readHead()).version, r.version);
      assert.deepEqual((await a.readEntries(0, 5)).map((e) => e.index), [0, 1]);
      assert.deepEqual(
        (await all(a.readCheckpoints(1, 3))).map((c) => c.size),
        [1, 2],
      );
    } finally {
      a.close();
      b.close();
    }
  });

  test("reads, re-submission and proofs over a ledger on the store", async (h, key) => {
    const store = await h.open();
    const ledger = await ledgerOn(store, key);
    try {
      const envs = await Promise.all(
        Array.from({ length: 23 }, (_, i) => contractEnvelope(i, { issuer: `iss-${i % 3}` })),
      );
      const rs = await Promise.all(envs.map((e) => ledger.append(e)));
      const N = envs.length;
      assert.deepEqual(rs.map((r) => r.index).sort((x, y) => x - y), [...Array(N).keys()]);
      // Entries, one at a time and in ranges (a range stops at the end of the log).
      const entries = await store.readEntries(0, N);
      assert.deepEqual(entries.map((e) => e.index), [...Array(N).keys()]);
      assert.deepEqual((await store.readEntries(20, 30)).map((e) => e.index), [20, 21, 22]);
      assert.equal(await store.readEntry(N), null);
      for (const r of rs) {
        const e = (await store.readEntry(r.index))!;
        assert.equal(toBase64(e.hashes[0]), r.leaf_hash);
        assert.equal(toBase64(sha256(e.envelope)), r.envelope_sha256);
      }
      // A checkpoint exactly where a commit ended; the last is the ledger's.
      const ends = entries.filter((e) => e.endsCommit).map((e) => e.index + 1);
      const cps = await all(store.readCheckpoints(1, N + 1));
      assert.deepEqual(cps.map((c) => c.size), ends);
      for (const c of cps) assert.equal(await store.readCheckpoint(c.size), c.text);
      assert.equal(cps[cps.length - 1].text, await ledger.checkpoint());
      assert.deepEqual(await store.readMeta(), { origin: ORIGIN, verifierKey: key.verifierKey() });
      // The envelope index; the same envelope again is its existing entry.
      const shas = envs.map((e) => e.sha256);
      const found = await store.findEnvelopes(shas);
      rs.forEach((r) =>
        assert.equal(found[shas.findIndex((s) => toBase64(s) === r.envelope_sha256)], r.index)
      );
      const again = await ledger.append(envs[5]);
      assert.equal(again.existing, true);
      assert.equal(again.index, rs[5].index);
      assert.equal(await ledger.size(), N);
      // The signed-body index names the same entries.
      const bodies = await store.findBodies(envs.map((e) => signedBodySha256(e)));
      assert.deepEqual(bodies, found);
      // The same signed body with other unsigned members (receipt PEM
      // whitespace, a timestamp block) is the existing entry: nothing stored.
      const v = envs[6].value;
      const variant = parseEnvelopeValue({
        ...v,
        timestamp: { token_b64: "AAAA" },
        receipt: { ...v.receipt, public_key_pem: v.receipt.public_key_pem + "\n" },
      });
      const same = await ledger.append(variant);
      assert.deepEqual([same.existing, same.index], [true, rs[6].index]);
      assert.equal(same.envelope_sha256, rs[6].envelope_sha256); // the stored entry's identity
      assert.equal(await ledger.size(), N);
      // Proofs from the store's stored hashes, checked against an independent tree.
      const mem = new MemoryHashStore();
      for (const e of entries) await mem.append(e.leaf);
      const roots = [EMPTY_TREE_HASH];
      for (let t = 1; t <= N; t++) roots.push(await treeHash(t, mem));
      assert.deepEqual((await store.readHead()).head.root, roots[N]);
      for (let t = 1; t <= N; t += 4) {
        for (let i = 0; i < t; i++) {
          const p = await ledger.proveInclusion(i, t);
          verifyInclusion(entries[i].hashes[0], i, t, p.proof.map(fromB64), roots[t]);
        }
        for (let m = 0; m <= t; m++) {
          const p = await ledger.proveConsistency(m, t);
          verifyConsistency(m, t, p.proof.map(fromB64), roots[m], roots[t]);
        }
      }
      assert.deepEqual(await verifyLog(store, { verifierKey: key.verifierKey(), origin: ORIGIN }), {
        ok: true,
        size: N,
      });
    } finally {
      await ledger.close();
    }
  });

  test(
    "readHashes on a fresh handle: every stored hash, any order, repeats; past the log rejects",
    async (h, key) => {
      const N = 29;
      const ledger = await ledgerOn(await h.open(), key, 5);
      try {
        await Promise.all(
          Array.from({ length: N }, async (_, i) => ledger.append(await contractEnvelope(i))),
        );
      } finally {
        await ledger.close();
      }
      // Another handle: nothing cached, every hash is looked up through the record that stored it.
      const store = await h.open();
      try {
        const mem = new MemoryHashStore();
        for (const e of await store.readEntries(0, N)) await mem.append(e.leaf);
        const all = [...Array(storedHashCount(N)).keys()];
        const mixed = [...all].reverse().concat([0, 5, 5, all.length - 1]);
        assert.deepEqual(await store.readHashes(mixed), mixed.map((i) => mem.hashes[i]));
        // Now from the cache, or the store again: the same hashes.
        assert.deepEqual(await store.readHashes(all), all.map((i) => mem.hashes[i]));
        // A rejected promise, not a synchronous throw, from every store.
        const past = store.readHashes([storedHashCount(N) + 3]);
        await assert.rejects(past, RangeError);
      } finally {
        store.close();
      }
    },
  );

  test(
    "index scans by issuer, primitive and time page with cursors; breach filter",
    async (h, key) => {
      const ledger = await ledgerOn(await h.open(), key);
      try {
        const prims: PrimitiveName[] = ["fairness", "drift", "calibration", "disagreement"];
        const spec = Array.from({ length: 40 }, (_, i) => ({
          issuer: `iss-${i % 3}`,
          primitive: prims[i % 4],
          // Out of append order, with offsets: 01:00+01:00 is 00:00Z.
          issuedAt: i % 5 === 0
            ? `2026-04-${String(1 + (i % 9)).padStart(2, "0")}T01:00:00+01:00`
            : `2026-04-${String(1 + (i % 9)).padStart(2, "0")}T00:${
              String(i).padStart(2, "0")
            }:00Z`,
          breach: i % 3 === 1,
        }));
        const idx = new Map<number, number>();
        for (let i = 0; i < spec.length; i++) {
          idx.set((await ledger.append(await contractEnvelope(i, spec[i]))).index, i);
        }
        const instant = (i: number) => Date.parse(spec[i].issuedAt);
        const expect = (f: (i: number) => boolean) =>
          [...idx.entries()].filter(([, i]) => f(i)).sort((x, y) =>
            instant(x[1]) - instant(y[1]) || x[0] - y[0]
          ).map(([n]) => n);
        const pages = async (o: Parameters<Ledger["query"]>[0]) => {
          const out: number[] = [];
          let cursor: string | undefined;
          for (let k = 0; k < 50; k++) {
            const p = await ledger.query({ ...o, cursor, limit: 3 });
            assert.ok(p.entries.length <= 3);
            out.push(...p.entries.map((e) => e.index));
            if (p.next_cursor === null) return out;
            cursor = p.next_cursor;
          }
          throw new Error("cursor never ended");
        };
        const from = "2026-04-03T00:00:00Z";
        const to = "2026-04-07T00:00:00Z";
        const inRange = (i: number) =>
          instant(i) >= Date.parse(from) && instant(i) < Date.parse(to);
        assert.deepEqual(await pages({}), expect(() => true));
        assert.deepEqual(
          await pages({ issuer: "iss-1" }),
          expect((i) => spec[i].issuer === "iss-1"),
        );
        assert.deepEqual(
          await pages({ primitive: "drift" }),
          expect((i) => spec[i].primitive === "drift"),
        );
        assert.deepEqual(
          await pages({ issuer: "iss-2", primitive: "fairness", from, to }),
          expect((i) =>
            spec[i].issuer === "iss-2" && spec[i].primitive === "fairness" && inRange(i)
          ),
        );
        assert.deepEqual(await pages({ from, to }), expect(inRange));
        const breaches = (i: number) => spec[i].breach && spec[i].primitive !== "calibration";
        assert.deepEqual(await pages({ breached: true }), expect(breaches));
        assert.deepEqual(await pages({ breached: false }), expect((i) => !breaches(i)));
        assert.deepEqual(
          await pages({ breached: true, issuer: "iss-1", from }),
          expect((i) =>
            breaches(i) && spec[i].issuer === "iss-1" && instant(i) >= Date.parse(from)
          ),
        );
        // The store's own scan with `after` resumes strictly after a position.
        const hits = await ledger.store.scanIndex({ issuer: "iss-0" }, 100);
        const second = await ledger.store.scanIndex({ issuer: "iss-0", after: hits[3] }, 100);
        assert.deepEqual(second, hits.slice(4));
      } finally {
        await ledger.close();
      }
    },
  );

  test(
    "concurrent appends through two ledgers on two handles: no fork, gap or duplicate",
    async (h, key) => {
      const [l1, l2] = [
        await ledgerOn(await h.open(), key, 8),
        await ledgerOn(await h.open(), key, 8),
      ];
      try {
        const envs = await Promise.all(Array.from({ length: 60 }, (_, i) => contractEnvelope(i)));
        // Every envelope through both ledgers at once, the second in reverse order.
        const rs = await Promise.all([
          ...envs.map((e) => l1.append(e)),
          ...[...envs].reverse().map((e) => l2.append(e)),
        ]);
        const bySha = new Map<string, number>();
        for (const r of rs) {
          const had = bySha.get(r.envelope_sha256);
          if (had !== undefined) assert.equal(r.index, had, "one envelope, one entry");
          bySha.set(r.envelope_sha256, r.index);
        }
        assert.equal(bySha.size, envs.length);
        assert.deepEqual([...bySha.values()].sort((a, b) => a - b), [...Array(envs.length).keys()]);
        assert.equal(await l1.size(), envs.length);
        assert.deepEqual(await l2.verify(), { ok: true, size: envs.length });
      } finally {
        await l1.close();
        await l2.close();
      }
    },
  );

  test(
    "a commit that throws leaves the store consistent; reopened, it has every acknowledged entry",
    async (h, key) => {
      const faulty = new FaultyStore(await h.open());
      const ledger = await ledgerOn(faulty, key);
      const acked: { index: number; sha: string }[] = [];
      try {
        const envs = await Promise.all(Array.from({ length: 12 }, (_, i) => contractEnvelope(i)));
        // Fails before writing, then after writing (the outcome is unknown to the ledger).
        for (const [k, mode] of [[0, "before"], [1, "after"]] as const) {
          faulty.failNext(mode);
          const r = await ledger.append(envs[k]);
          acked.push({ index: r.index, sha: r.envelope_sha256 });
        }
        assert.deepEqual(acked.map((a) => a.index), [0, 1]);
        for (let k = 2; k < 8; k++) {
          const r = await ledger.append(envs[k]);
          acked.push({ index: r.index, sha: r.envelope_sha256 });
        }
        // Every commit fails: the append is refused and nothing is half-written.
        faulty.failAlways = true;
        await assert.rejects(() => ledger.append(envs[9]));
        faulty.failAlways = false;
        assert.equal(await ledger.size(), 8);
        assert.deepEqual(await ledger.verify(), { ok: true, size: 8 });
      } finally {
        await ledger.close();
      }
      const store = await h.open();
      try {
        const entries = await store.readEntries(0, 100);
        assert.equal(entries.length, acked.length);
        for (const a of acked) {
          assert.equal(toBase64(sha256(entries[a.index].envelope)), a.sha);
        }
        assert.deepEqual(
          await verifyLog(store, { verifierKey: key.verifierKey(), origin: ORIGIN }),
          {
            ok: true,
            size: acked.length,
          },
        );
      } finally {
        store.close();
      }
    },
  );
}

function fromB64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}
