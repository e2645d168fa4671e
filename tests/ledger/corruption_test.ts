/**
 * Fault injection: flip one random byte in one stored value, or one random
 * bit in one component of one stored key (moving the value there), in a
 * real on-disk Deno KV ledger file, many times from a pristine copy.
 * `verifyLog` must detect every single one, and for an entry value name
 * that entry as the first bad index. (Deno KV specific: keys come from
 * ledger/kv_layout.ts; the store-generic audit tests are in verify_log_test.ts.)
 */
import assert from "node:assert/strict";
import { openLedger } from "../../ledger/index.ts";
import { parseEnvelopeValue } from "../../core/envelope.ts";
import { entryKey, KIND } from "../../ledger/kv_layout.ts";
import { fixtureEnvelope, makeEnvelope } from "./_helpers.ts";
import { countingWorkers } from "./_workers.ts";
import type { Ledger } from "../../ledger/ledger.ts";
import { verifyLog } from "../../ledger/verify_log.ts";
import { seededRandom } from "../_random.ts";

/** The audit with the entries checked on a worker finds what it finds on one thread. */
async function sameOnWorker(l: Ledger, what: string): Promise<void> {
  const opts = {
    verifierKey: l.verifierKey,
    extraVerifierKeys: l.verifierKeys.slice(1),
    origin: l.origin,
  };
  const here = await verifyLog(l.store, { ...opts, checkWorker: false });
  const w = await countingWorkers(() => verifyLog(l.store, { ...opts, checkWorker: true }));
  assert.deepEqual(w.result, here, `${what}: worker and one-thread audits differ`);
  // A fault found before the entries (meta, head) ends the audit before any worker starts.
  assert.ok(w.created <= 1, what);
}

/** The seed of a randomized test: `REGLEDGER_TEST_SEED` when set, else the clock. */
function testSeed(): number {
  const env = Deno.env.get("REGLEDGER_TEST_SEED");
  if (env === undefined || env === "") return Date.now() >>> 0;
  const n = Number(env);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`REGLEDGER_TEST_SEED must be a non-negative integer, got ${env}`);
  }
  return n >>> 0;
}

/** Most milliseconds one trial's audit may take (a 31-entry log audits in well under one). */
const TRIAL_LIMIT_MS = 20_000;

async function withinMs<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: audit did not finish in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A seeded PRNG, so a failure can be replayed from its seed. */
const rng = seededRandom;

const FILES = ["ledger.kv", "ledger.kv-wal", "ledger.kv-shm"];

async function copyDb(from: string, to: string): Promise<void> {
  for (const f of FILES) {
    await Deno.remove(`${to}/${f}`).catch(() => {});
    try {
      await Deno.copyFile(`${from}/${f}`, `${to}/${f}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}

function flipKeyPart(p: Deno.KvKeyPart, r: () => number): Deno.KvKeyPart {
  if (typeof p === "string") {
    const i = Math.floor(r() * p.length);
    const bit = 1 << Math.floor(r() * 7);
    return p.slice(0, i) + String.fromCharCode(p.charCodeAt(i) ^ bit) + p.slice(i + 1);
  }
  if (typeof p === "number") {
    const b = new DataView(new ArrayBuffer(8));
    b.setFloat64(0, p);
    const byte = Math.floor(r() * 8);
    b.setUint8(byte, b.getUint8(byte) ^ (1 << Math.floor(r() * 8)));
    return b.getFloat64(0);
  }
  if (p instanceof Uint8Array) {
    const q = p.slice();
    q[Math.floor(r() * q.length)] ^= 1 << Math.floor(r() * 8);
    return q;
  }
  return p;
}

Deno.test("verifyLog detects 100% of single-byte value flips and single-bit key flips", async () => {
  const root = await Deno.makeTempDir({ prefix: "regledger-corrupt-" });
  const pristine = `${root}/pristine`;
  const work = `${root}/work`;
  try {
    // A ledger with several commits, issuers, primitives, a legacy entry and a chunked envelope.
    const ledger = await openLedger({ dataDir: pristine, maxBatch: 6 });
    const envs = [];
    for (let i = 0; i < 30; i++) {
      envs.push(
        await makeEnvelope(i, {
          issuer: `iss-${i % 3}`,
          primitive: (["drift", "fairness", "calibration"] as const)[i % 3],
          issuedAt: `2026-02-${String(1 + (i % 20)).padStart(2, "0")}T00:00:00Z`,
          pad: i === 11 ? 90_000 : undefined,
        }),
      );
    }
    envs.push(await fixtureEnvelope("drift-valid.json"));
    await Promise.all(envs.map((e) => ledger.append(e)));
    assert.deepEqual(await ledger.verify(), { ok: true, size: 31 });
    await ledger.close();
    await Deno.mkdir(work);
    // Both log keys: with the ML-DSA-44 key known, its checkpoint lines are checked too.
    for (const f of ["log-key", "log-key-mldsa44"]) {
      await Deno.copyFile(`${pristine}/${f}`, `${work}/${f}`);
      await Deno.chmod(`${work}/${f}`, 0o600);
    }

    // Printed on every run; REGLEDGER_TEST_SEED=<seed> replays one.
    const seed = testSeed();
    console.log(`corruption test seed ${seed} (replay: REGLEDGER_TEST_SEED=${seed})`);
    const r = rng(seed);
    const TRIALS = Number(Deno.env.get("REGLEDGER_CORRUPTION_TRIALS") ?? 240);
    let values = 0;
    let keys = 0;
    for (let t = 0; t < TRIALS; t++) {
      await copyDb(pristine, work);
      const kv = await Deno.openKv(`${work}/ledger.kv`);
      const all: Deno.KvEntry<unknown>[] = [];
      for await (const e of kv.list({ prefix: [] })) all.push(e);
      let what: string;
      let entryIndex: number | undefined;
      if (t % 2 === 0) {
        // Value flip: one random byte of one non-empty value.
        const candidates = all.filter((e) => e.value instanceof Uint8Array && e.value.length > 0);
        const e = candidates[Math.floor(r() * candidates.length)];
        const v = (e.value as Uint8Array).slice();
        const pos = Math.floor(r() * v.length);
        v[pos] ^= 1 + Math.floor(r() * 255);
        await kv.set(e.key, v);
        what = `value of ${fmtKey(e.key)} byte ${pos}`;
        if (e.key[0] === KIND.entry) entryIndex = e.key[1] as number;
        values++;
      } else {
        // Key flip: one bit of one component; the value moves to the flipped key.
        const e = all[Math.floor(r() * all.length)];
        const ci = Math.floor(r() * e.key.length);
        const newKey = e.key.slice();
        newKey[ci] = flipKeyPart(e.key[ci], r);
        await kv.atomic().delete(e.key).set(newKey, e.value).commit();
        what = `key ${fmtKey(e.key)} -> ${fmtKey(newKey)}`;
        keys++;
      }
      kv.close();
      // A fault must be named, never spun on: each trial's audit has a time limit.
      const l = await openLedger({ dataDir: work, audit: true });
      let res;
      try {
        res = await withinMs(TRIAL_LIMIT_MS, l.verify(), `seed ${seed} trial ${t}: ${what}`);
        await sameOnWorker(l, `seed ${seed} trial ${t}: ${what}`);
      } finally {
        await l.close();
      }
      assert.equal(res.ok, false, `seed ${seed} trial ${t}: undetected ${what}`);
      assert.equal(typeof res.reason, "string");
      if (entryIndex !== undefined) {
        assert.equal(
          res.first_bad_index,
          entryIndex,
          `seed ${seed} trial ${t}: ${what} reported as ${res.first_bad_index} (${res.reason})`,
        );
      }
    }
    assert.equal(values + keys, TRIALS);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

function fmtKey(k: Deno.KvKey): string {
  return JSON.stringify(k.map((p) => p instanceof Uint8Array ? `bytes(${p.length})` : String(p)));
}

Deno.test("verifyLog reads entries in ranges: faults at and between range edges are named", async () => {
  const root = await Deno.makeTempDir({ prefix: "regledger-ranges-" });
  const pristine = `${root}/pristine`;
  const work = `${root}/work`;
  try {
    const ledger = await openLedger({ dataDir: pristine });
    const template = await makeEnvelope(0);
    const envs = [];
    for (let i = 0; i < 2101; i++) {
      const v = structuredClone(template.value) as unknown as Record<string, unknown>;
      v.result = { ...(v.result as Record<string, unknown>), n: i };
      envs.push(parseEnvelopeValue(v));
    }
    await Promise.all(envs.map((e) => ledger.append(e)));
    assert.deepEqual(await ledger.verify(), { ok: true, size: 2101 });
    await ledger.close();
    await Deno.mkdir(work);
    // Both log keys: with the ML-DSA-44 key known, its checkpoint lines are checked too.
    for (const f of ["log-key", "log-key-mldsa44"]) {
      await Deno.copyFile(`${pristine}/${f}`, `${work}/${f}`);
      await Deno.chmod(`${work}/${f}`, 0o600);
    }
    const cases: [string, (kv: Deno.Kv) => Promise<unknown>, number | undefined][] = [
      ["entry 999 deleted", (kv) => kv.delete(entryKey(999)), 999],
      ["entry 1000 deleted", (kv) => kv.delete(entryKey(1000)), 1000],
      ["entry 2100 deleted", (kv) => kv.delete(entryKey(2100)), 2100],
      [
        "stray key between 999 and 1000",
        (kv) => kv.set([KIND.entry, 999.5], new Uint8Array(1)),
        1000,
      ],
      [
        "stray key after entry 1999",
        (kv) => kv.set([...entryKey(1999), 0], new Uint8Array(1)),
        2000,
      ],
      ["stray string key", (kv) => kv.set([KIND.entry, "x"], new Uint8Array(1)), 0],
    ];
    for (const [what, corrupt, bad] of cases) {
      await copyDb(pristine, work);
      const kv = await Deno.openKv(`${work}/ledger.kv`);
      await corrupt(kv);
      kv.close();
      // A fault must be named, never spun on: each trial's audit has a time limit.
      const l = await openLedger({ dataDir: work, audit: true });
      let res;
      try {
        res = await withinMs(TRIAL_LIMIT_MS, l.verify(), what);
        await sameOnWorker(l, what);
      } finally {
        await l.close();
      }
      assert.equal(res.ok, false, `undetected: ${what}`);
      assert.equal(res.first_bad_index, bad, `${what}: ${res.reason}`);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a head whose size is not a safe integer is named by the audit, not thrown at open", async () => {
  // Seed 993661916 of the flip test above hit this: a flipped top byte of the head's size made
  // the audit's open throw "head: size too large" instead of the audit reporting it.
  const dir = await Deno.makeTempDir({ prefix: "regledger-corrupt-head-" });
  try {
    const ledger = await openLedger({ dataDir: dir });
    for (let i = 0; i < 3; i++) await ledger.append(await makeEnvelope(i));
    await ledger.close();
    const kv = await Deno.openKv(`${dir}/ledger.kv`);
    const head = (await kv.get<Uint8Array>([KIND.head])).value!.slice();
    head[0] ^= 0x80; // size ≥ 2^63
    await kv.set([KIND.head], head);
    kv.close();
    const l = await openLedger({ dataDir: dir, audit: true });
    try {
      const res = await l.verify();
      assert.equal(res.ok, false);
      assert.match(String(res.reason), /head/);
    } finally {
      await l.close();
    }
    // A writer still refuses to open on it.
    await assert.rejects(() => openLedger({ dataDir: dir }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
