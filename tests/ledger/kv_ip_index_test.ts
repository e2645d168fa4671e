/**
 * The Deno KV issuer+primitive index (`["ip", issuer, primitive, t, n]`,
 * ledger/kv_layout.ts): queries by issuer and primitive give what a naive
 * filter over the entries gives, with the index and through the fallback
 * that filters the issuer index; a log written before the index gets it
 * built when a writer opens it (never by an audit or a read-only open); the
 * audit names a missing, extra or altered row and a lost mark.
 */
import assert from "node:assert/strict";
import type { PrimitiveName } from "../../core/envelope_types.ts";
import { KvStore } from "../../ledger/kv_store.ts";
import { IP_MARK_KEY, KIND } from "../../ledger/kv_layout.ts";
import { openLedger } from "../../ledger/ledger.ts";
import type { IndexHit, IndexSelector } from "../../ledger/store.ts";
import { indexTime } from "../../ledger/time_key.ts";
import { makeEnvelope } from "./_helpers.ts";
import { type IndexRow, indexRows, naiveScan, rng, testSeed } from "./_index_naive.ts";

const ISSUERS = ["acme", "globex", "initech"];
const PRIMS: PrimitiveName[] = ["drift", "fairness", "calibration"];
const N = 90;

const seed = testSeed();
const r = rng(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
/** A time among few days and hours, so that many entries share one. */
const randomTime = () =>
  `2026-03-${String(1 + Math.floor(r() * 6)).padStart(2, "0")}T${
    String(Math.floor(r() * 3) * 7).padStart(2, "0")
  }:00:00Z`;

type Row = IndexRow;
const naive = naiveScan;

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const f of Deno.readDir(from)) {
    if (f.isFile) await Deno.copyFile(`${from}/${f.name}`, `${to}/${f.name}`);
  }
}

async function ipKeys(kv: Deno.Kv): Promise<Deno.KvKey[]> {
  const out: Deno.KvKey[] = [];
  for await (const e of kv.list({ prefix: [KIND.issuerPrimitive] })) out.push(e.key);
  return out;
}

/** A copy of `dir` as a log written before the index: no "ip" rows, no mark. */
async function asOldLog(dir: string, to: string): Promise<void> {
  await copyDir(dir, to);
  const kv = await Deno.openKv(`${to}/ledger.kv`);
  for (const k of await ipKeys(kv)) await kv.delete(k);
  await kv.delete(IP_MARK_KEY);
  kv.close();
}

/** Random selectors with both fields, and some with one or none, checked against `naive`. */
async function compareQueries(store: KvStore, rows: Row[], trials: number): Promise<number> {
  let nonEmpty = 0;
  for (let i = 0; i < trials; i++) {
    const sel: IndexSelector = {};
    const mode = r();
    if (mode < 0.8) {
      sel.issuer = r() < 0.9 ? pick(ISSUERS) : "nobody";
      sel.primitive = r() < 0.9 ? pick(PRIMS) : "fhe";
    } else if (mode < 0.9) sel.issuer = pick(ISSUERS);
    else if (mode < 0.95) sel.primitive = pick(PRIMS);
    if (r() < 0.4) sel.from = indexTime(randomTime());
    if (r() < 0.4) sel.to = indexTime(randomTime());
    if (r() < 0.4) {
      const x = pick(rows);
      sel.after = { issuedAt: x.t, index: r() < 0.8 ? x.index : Math.floor(r() * N) };
    }
    const limit = 1 + Math.floor(r() * 25);
    const want = naive(rows, sel, limit);
    const got = await store.scanIndex(sel, limit);
    assert.deepEqual(got, want, `seed ${seed}: ${JSON.stringify(sel)} limit ${limit}`);
    if (want.length > 0) nonEmpty++;
    // Paging with the last hit as the cursor walks the whole answer.
    if (sel.issuer !== undefined && sel.primitive !== undefined && r() < 0.3) {
      const all = naive(rows, { ...sel, after: undefined }, N);
      const walked: IndexHit[] = [];
      let after: IndexSelector["after"];
      for (;;) {
        const page = await store.scanIndex({ ...sel, after }, 3);
        walked.push(...page);
        if (page.length < 3) break;
        after = page[2];
      }
      assert.deepEqual(walked, all, `seed ${seed}: paging ${JSON.stringify(sel)}`);
    }
  }
  return nonEmpty;
}

const root = await Deno.makeTempDir({ prefix: "regledger-ip-index-" });
const pristine = `${root}/pristine`;
let rows: Row[] = [];

Deno.test({
  name: "issuer+primitive index: setup and queries equal a naive filter, with the index",
  async fn() {
    console.log(`ip index test seed ${seed} (replay: REGLEDGER_TEST_SEED=${seed})`);
    const ledger = await openLedger({ dataDir: pristine, maxBatch: 7 });
    const envs = [];
    for (let i = 0; i < N; i++) {
      envs.push(
        await makeEnvelope(i, {
          issuer: pick(ISSUERS),
          primitive: pick(PRIMS),
          issuedAt: randomTime(),
        }),
      );
    }
    await Promise.all(envs.map((e) => ledger.append(e)));
    const store = ledger.store as KvStore;
    rows = await indexRows(store, N);
    assert.equal(rows.length, N);
    // One "ip" row per entry, written with the entry; the mark by the first commit.
    assert.equal((await ipKeys(store.kv)).length, N);
    assert.notEqual((await store.kv.get(IP_MARK_KEY)).versionstamp, null);
    assert.ok((await compareQueries(store, rows, 300)) > 50);
    assert.deepEqual(await ledger.verify(), { ok: true, size: N });
    await ledger.close();
  },
});

Deno.test("issuer+primitive index: an old log is read by filtering, and built by a writer's open", async () => {
  const old = `${root}/old`;
  await asOldLog(pristine, old);
  // An audit of the old log: clean, and it writes nothing.
  const audit = await openLedger({ dataDir: old, audit: true });
  assert.deepEqual(await audit.verify(), { ok: true, size: N });
  await audit.close();
  // A read-only open never migrates; its queries filter the issuer index and agree.
  const ro = await KvStore.open(`${old}/ledger.kv`, { migrate: false });
  assert.equal((await ipKeys(ro.kv)).length, 0);
  assert.ok((await compareQueries(ro, rows, 200)) > 30);
  assert.equal((await ipKeys(ro.kv)).length, 0);
  assert.equal((await ro.kv.get(IP_MARK_KEY)).versionstamp, null);
  ro.close();
  // A writer's open builds it: the same rows the commits wrote, then the mark.
  const w = await KvStore.open(`${old}/ledger.kv`);
  const fresh = await KvStore.open(`${pristine}/ledger.kv`, { migrate: false });
  assert.deepEqual(await ipKeys(w.kv), await ipKeys(fresh.kv));
  fresh.close();
  assert.notEqual((await w.kv.get(IP_MARK_KEY)).versionstamp, null);
  assert.ok((await compareQueries(w, rows, 200)) > 30);
  w.close();
  const l = await openLedger({ dataDir: old, audit: true });
  assert.deepEqual(await l.verify(), { ok: true, size: N });
  await l.close();
});

Deno.test("issuer+primitive index: the audit names a missing, extra or altered row and a lost mark", async () => {
  const some = rows[Math.floor(N / 3)];
  const other = rows.find((x) => x.primitive !== some.primitive)!;
  const key = (x: Row, over: Partial<Row> = {}): Deno.KvKey => {
    const y = { ...x, ...over };
    return [KIND.issuerPrimitive, y.issuer, y.primitive, y.t, y.index];
  };
  const cases: [string, (kv: Deno.Kv) => Promise<unknown>, number | undefined, RegExp][] = [
    ["a row deleted", (kv) => kv.delete(key(some)), some.index, /issuer\+primitive .*missing/],
    [
      "an extra row for an entry",
      (kv) => kv.set(key(some, { t: indexTime("2027-01-01T00:00:00Z") }), new Uint8Array(0)),
      some.index,
      /issuer\+primitive/,
    ],
    [
      "a row moved to another primitive",
      (kv) =>
        kv.atomic().delete(key(some)).set(
          key(some, { primitive: other.primitive }),
          new Uint8Array(0),
        )
          .commit(),
      some.index,
      /does not match entry/,
    ],
    [
      "a row naming another entry's issuer",
      (kv) =>
        kv.atomic().delete(key(some)).set(key(some, { issuer: "mallory" }), new Uint8Array(0))
          .commit(),
      some.index,
      /does not match entry/,
    ],
    ["a row with a value", (kv) => kv.set(key(some), new Uint8Array([1])), some.index, /malformed/],
    ["the mark deleted", (kv) => kv.delete(IP_MARK_KEY), undefined, /mark .* missing but/],
  ];
  for (const [what, tamper, index, reason] of cases) {
    const dir = `${root}/tamper`;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await copyDir(pristine, dir);
    const kv = await Deno.openKv(`${dir}/ledger.kv`);
    await tamper(kv);
    kv.close();
    const l = await openLedger({ dataDir: dir, audit: true });
    const res = await l.verify();
    await l.close();
    assert.equal(res.ok, false, `${what}: undetected`);
    assert.equal(res.first_bad_index, index, `${what}: ${res.reason}`);
    assert.match(res.reason ?? "", reason, what);
  }
});

Deno.test("issuer+primitive index: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
