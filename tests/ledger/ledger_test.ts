/**
 * Ledger API tests: receipts verified by the pure verifiers, idempotent
 * re-append, legacy envelopes byte-exact, proofs against an independent
 * in-memory tree, typed range errors, paginated queries against brute force,
 * log-key handling and log identity.
 */
import assert from "node:assert/strict";
import { fromBase64, sha256, toBase64 } from "../../core/bytes.ts";
import { openCheckpoint, parseCheckpointText } from "../../ledger/checkpoint.ts";
import { decodeLeaf } from "../../ledger/leaf.ts";
import { leafHash, MemoryHashStore, treeHash } from "../../ledger/merkle/mod.ts";
import { checkRecord, checkTree } from "./tlog_check.ts";
import { Ed25519NoteSigner, parseVerifierKey } from "../../ledger/note.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import {
  entryToJson,
  LedgerInputError,
  LedgerRangeError,
  LedgerStateError,
  LogKeyError,
  MAX_ENVELOPE_BYTES,
  openLedger,
} from "../../ledger/index.ts";
import { fixtureEnvelope, makeEnvelope, tempDir } from "./_helpers.ts";

function assertEquals(a: unknown, b: unknown, msg?: string): void {
  assert.deepStrictEqual(a, b, msg);
}
function assertNotEquals(a: unknown, b: unknown): void {
  assert.notDeepStrictEqual(a, b);
}
const assertRejects = (f: () => Promise<unknown>, c: new (...a: never[]) => Error) =>
  assert.rejects(f, c);

const PRIMS = ["fairness", "drift", "calibration"] as const;

Deno.test("append: receipts verify offline, chain links, checkpoint signed by the log key", async () => {
  await using t = await tempDir();
  const commits: { tree_size: number; entries: number; attempts: number }[] = [];
  const ledger = await openLedger({ dataDir: t.dir, onCommit: (c) => commits.push(c) });
  try {
    const envs = await Promise.all(Array.from({ length: 70 }, (_, i) => makeEnvelope(i)));
    const results = await Promise.all(envs.map((e) => ledger.append(e)));
    // Distinct, dense indexes.
    assertEquals(results.map((r) => r.index).sort((a, b) => a - b), [...Array(70).keys()]);
    const verifier = parseVerifierKey(ledger.verifierKey);
    let prevLeaf: Uint8Array | null = null;
    const byIndex = [...results].sort((a, b) => a.index - b.index);
    for (const r of byIndex) {
      assertEquals(r.existing, false);
      const env = envs[results.indexOf(r)];
      assertEquals(r.envelope_sha256, toBase64(sha256(env.canonical)));
      const cp = await openCheckpoint(r.checkpoint, verifier);
      assertEquals(cp.size, r.tree_size);
      assert(r.index < r.tree_size);
      checkRecord(
        r.inclusion_proof.map(fromBase64),
        cp.size,
        cp.root,
        r.index,
        fromBase64(r.leaf_hash),
      );
      const v = await verifyTlogProof(r.tlog_proof, ledger.verifierKey, {
        envelopeSha256: env.sha256,
      });
      assertEquals(v.index, r.index);
      assertEquals(toBase64(leafHash(v.leaf)), r.leaf_hash);
      // The chain: prev is the previous leaf's hash.
      const fields = decodeLeaf(v.leaf);
      assertEquals(fields.prev, toBase64(prevLeaf ? leafHash(prevLeaf) : new Uint8Array(32)));
      assertEquals(fields.issuer, "acme");
      prevLeaf = v.leaf;
    }
    // Group commit happened: fewer checkpoints than entries.
    const sizes = new Set(results.map((r) => r.tree_size));
    assert(sizes.size < 70, `expected grouped commits, got ${sizes.size} commits for 70 entries`);
    assertEquals(commits.map((c) => c.tree_size), [...sizes].sort((a, b) => a - b));
    assertEquals(commits.reduce((n, c) => n + c.entries, 0), 70);
    assertEquals(await ledger.size(), 70);
    const latest = parseCheckpointText((await ledger.checkpoint()).split("\n\n")[0] + "\n");
    assertEquals(latest.size, 70);
    const progress: { checked: number; total: number }[] = [];
    assertEquals(await ledger.verify({ onProgress: (p) => progress.push(p) }), {
      ok: true,
      size: 70,
    });
    assertEquals(progress[progress.length - 1], { checked: 70, total: 70 });
  } finally {
    await ledger.close();
  }
});

Deno.test("append: the same envelope again returns its entry with existing: true", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir });
  try {
    const e = await makeEnvelope(1);
    const first = await ledger.append(e);
    await ledger.append(await makeEnvelope(2));
    const again = await ledger.append(await makeEnvelope(1));
    assertEquals(again.existing, true);
    assertEquals(again.index, first.index);
    assertEquals(again.leaf_hash, first.leaf_hash);
    assertEquals(again.tree_size, 2);
    await verifyTlogProof(again.tlog_proof, ledger.verifierKey, { envelopeSha256: e.sha256 });
    // Duplicates inside one group commit.
    const e3 = await makeEnvelope(3);
    const [a, b, c] = await Promise.all([ledger.append(e3), ledger.append(e3), ledger.append(e3)]);
    assertEquals(new Set([a.index, b.index, c.index]).size, 1);
    assertEquals([a, b, c].filter((r) => !r.existing).length, 1);
    assertEquals(await ledger.size(), 3);
  } finally {
    await ledger.close();
  }
});

Deno.test("legacy envelopes are stored and served byte-exactly (numbers as received)", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir });
  try {
    const env = await fixtureEnvelope("calibration-valid.json");
    assertEquals(env.kind, "legacy");
    const r = await ledger.append(env);
    const entry = (await ledger.get(r.index))!;
    assertEquals(entry.envelope, new TextDecoder().decode(env.canonical));
    const json = entryToJson(entry);
    const parsed = JSON.parse(json);
    assertEquals(Object.keys(parsed), ["index", "leaf", "leaf_hash", "envelope"]);
    assertEquals(parsed.leaf_hash, r.leaf_hash);
    // The envelope text is spliced raw, so its exact bytes appear in the JSON.
    assert(json.includes(entry.envelope));
    assertEquals(toBase64(sha256(new TextEncoder().encode(entry.envelope))), r.envelope_sha256);
    assertEquals(await ledger.get(r.index + 1), null);
  } finally {
    await ledger.close();
  }
});

Deno.test("proofs match an independent in-memory tree for every index and size pair", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir, maxBatch: 7 });
  try {
    const N = 37;
    const mem = new MemoryHashStore();
    for (let i = 0; i < N; i++) {
      const r = await ledger.append(await makeEnvelope(i));
      await mem.appendLeafHash(fromBase64(r.leaf_hash));
    }
    for (let size = 1; size <= N; size++) {
      const root = await treeHash(size, mem);
      for (let i = 0; i < size; i++) {
        const p = await ledger.proveInclusion(i, size);
        assertEquals(p.tree_size, size);
        assert(p.proof.length <= 20);
        checkRecord(p.proof.map(fromBase64), size, root, i, fromBase64(p.leaf_hash));
      }
      for (let first = 0; first <= size; first++) {
        const c = await ledger.proveConsistency(first, size);
        if (first > 0) {
          checkTree(c.proof.map(fromBase64), size, root, first, await treeHash(first, mem));
        } else assertEquals(c.proof, []);
      }
    }
    const latest = await ledger.proveInclusion(5);
    assertEquals(latest.tree_size, N);
  } finally {
    await ledger.close();
  }
});

Deno.test("range and input errors are typed and name the argument", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir });
  try {
    await ledger.append(await makeEnvelope(0));
    await ledger.append(await makeEnvelope(1));
    const cases: [() => Promise<unknown>, string][] = [
      [() => ledger.get(-1), "index"],
      [() => ledger.get(1.5), "index"],
      [() => ledger.proveInclusion(2), "index"],
      [() => ledger.proveInclusion(0, 3), "tree_size"],
      [() => ledger.proveInclusion(0, 0), "tree_size"],
      [() => ledger.proveConsistency(2, 1), "first"],
      [() => ledger.proveConsistency(1, 3), "second"],
      [() => ledger.query({ limit: 0 }), "limit"],
      [() => ledger.query({ cursor: "bogus!" }), "cursor"],
    ];
    for (const [f, arg] of cases) {
      const e = await f().then(() => null, (e) => e);
      assert(e instanceof LedgerRangeError, `expected LedgerRangeError for ${arg}, got ${e}`);
      assertEquals(e.argument, arg);
    }
    const big = await makeEnvelope(9, { pad: MAX_ENVELOPE_BYTES });
    await assertRejects(() => ledger.append(big), LedgerInputError);
    const longIssuer = await makeEnvelope(9, { issuer: "x".repeat(600) });
    const err = await ledger.append(longIssuer).catch((e) => e);
    assert(err instanceof LedgerInputError);
    assertEquals(err.pointer, "/issuer");
    assertEquals(await ledger.size(), 2);
  } finally {
    await ledger.close();
  }
});

Deno.test("envelopes over one KV value are chunked and read back exactly", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir });
  try {
    const sizes = [60_000, 70_000, 200_000, MAX_ENVELOPE_BYTES - 2000];
    const envs = await Promise.all(sizes.map((s, i) => makeEnvelope(i, { pad: s })));
    const rs = await Promise.all(envs.map((e) => ledger.append(e)));
    for (let i = 0; i < envs.length; i++) {
      const entry = (await ledger.get(rs[i].index))!;
      assertEquals(entry.envelope, new TextDecoder().decode(envs[i].canonical));
    }
    assertEquals((await ledger.verify()).ok, true);
  } finally {
    await ledger.close();
  }
});

/** `ms` (a UTC instant) written with `offsetMin` minutes of offset and `frac` fraction digits. */
function rfc3339(ms: number, offsetMin: number, frac: number): string {
  const local = new Date(ms + offsetMin * 60_000).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = local.slice(20, 23).padEnd(9, "0").slice(0, frac);
  const zone = offsetMin === 0 && frac % 2 === 0
    ? "Z"
    : `${offsetMin < 0 ? "-" : "+"}${
      String(Math.floor(Math.abs(offsetMin) / 60)).padStart(2, "0")
    }:${String(Math.abs(offsetMin) % 60).padStart(2, "0")}`;
  return local.slice(0, 19) + (frac > 0 ? "." + digits : "") + zone;
}

Deno.test("query: issuer, primitive and time filters with cursors equal brute force, across offsets", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir });
  try {
    const meta: { issuer: string; primitive: string; issuedAt: string; ms: number }[] = [];
    const envs = [];
    const offsets = [0, 120, -330, 0, 345, -600];
    for (let i = 0; i < 60; i++) {
      // Instants a few hours apart around month boundaries, written with different offsets
      // and precisions: text order differs from time order for many pairs.
      const ms = Date.UTC(
        2026,
        0,
        1 + ((i * 7) % 28),
        (i * 5) % 24,
        (i * 13) % 60,
        0,
        (i * 37) % 1000,
      );
      const m = {
        issuer: `issuer-${i % 3}`,
        primitive: PRIMS[i % PRIMS.length],
        issuedAt: rfc3339(ms, offsets[i % offsets.length], [0, 3, 6, 9][i % 4]),
        ms,
      };
      assertEquals(Date.parse(m.issuedAt), m.issuedAt.includes(".") ? ms : ms - (ms % 1000));
      m.ms = Date.parse(m.issuedAt);
      meta.push(m);
      envs.push(await makeEnvelope(i, m));
    }
    const rs = await Promise.all(envs.map((e) => ledger.append(e)));
    const rows = rs.map((r, i) => ({ index: r.index, ...meta[i] }));
    const filters: Record<string, string>[] = [
      {},
      { issuer: "issuer-1" },
      { primitive: "drift" },
      { issuer: "issuer-2", primitive: "fairness" },
      { from: "2026-01-10T00:00:00Z", to: "2026-01-20T00:00:00Z" },
      { issuer: "issuer-0", from: "2026-01-05T03:00:00+03:00" },
      { primitive: "calibration", to: "2026-01-15T12:00:00.5-04:00" },
      { from: "2026-01-08T00:00:00Z", to: "2026-01-08T23:59:59.999999999Z" },
    ];
    for (const f of filters) {
      const fromMs = f.from === undefined ? -Infinity : Date.parse(f.from);
      const toMs = f.to === undefined ? Infinity : Date.parse(f.to);
      const want = rows.filter((r) =>
        (!("issuer" in f) || r.issuer === f.issuer) &&
        (!("primitive" in f) || r.primitive === f.primitive) &&
        r.ms >= fromMs && r.ms < toMs
      ).sort((a, b) => a.ms - b.ms || a.index - b.index)
        .map((r) => r.index);
      for (const limit of [1, 4, 100]) {
        const got: number[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 100; page++) {
          const q = await ledger.query({ ...f, limit, cursor });
          assert(q.entries.length <= limit);
          for (const e of q.entries) {
            const row = rows.find((r) => r.index === e.index)!;
            // Entries keep the issuer's own text.
            assertEquals([e.issuer, e.primitive, e.issued_at], [
              row.issuer,
              row.primitive,
              row.issuedAt,
            ]);
          }
          got.push(...q.entries.map((e) => e.index));
          if (q.next_cursor === null) break;
          cursor = q.next_cursor;
        }
        assertEquals(got, want, `filter ${JSON.stringify(f)} limit ${limit}`);
      }
    }
    await assertRejects(() => ledger.query({ from: "last tuesday" }), LedgerRangeError);
    // The log with its UTC index keys audits clean.
    assertEquals((await ledger.verify()).ok, true);
  } finally {
    await ledger.close();
  }
});

Deno.test("log key: generated once with mode 0600, reused, origin checked, identity pinned", async () => {
  await using t = await tempDir();
  const a = await openLedger({ dataDir: t.dir });
  const vkey = a.verifierKey;
  await a.append(await makeEnvelope(0));
  await a.close();
  const st = await Deno.stat(`${t.dir}/log-key`);
  assertEquals(st.mode! & 0o777, 0o600);
  const text = await Deno.readTextFile(`${t.dir}/log-key`);
  assert(text.startsWith("PRIVATE+KEY+regledger.local/log+"));
  const b = await openLedger({ dataDir: t.dir });
  assertEquals(b.verifierKey, vkey);
  const cp = await b.checkpoint();
  assert(cp.startsWith("regledger.local/log\n1\n"));
  await b.close();
  // Another origin does not match the stored key.
  await assertRejects(
    () => openLedger({ dataDir: t.dir, origin: "example.com/other" }),
    LogKeyError,
  );
  // Another key on the same database is refused.
  const other = await Ed25519NoteSigner.generate("regledger.local/log");
  await assertRejects(
    () => openLedger({ path: `${t.dir}/ledger.kv`, logKey: other }),
    LedgerStateError,
  );
  // A group/world readable key file is refused.
  await Deno.chmod(`${t.dir}/log-key`, 0o644);
  await assertRejects(() => openLedger({ dataDir: t.dir }), LogKeyError);
});

Deno.test("openLedger: custom origin, supplied key text, :memory: and KV Connect URL arguments", async () => {
  const signer = await Ed25519NoteSigner.generate("example.com/audit-log");
  const l = await openLedger({
    path: ":memory:",
    origin: "example.com/audit-log",
    logKey: signer.toSignerKey(),
  });
  try {
    const cp0 = await l.checkpoint();
    assert(cp0.startsWith("example.com/audit-log\n0\n"));
    const r = await l.append(await makeEnvelope(0));
    assert(r.checkpoint.startsWith("example.com/audit-log\n1\n"));
    assertEquals(l.verifierKey, signer.verifierKey());
  } finally {
    await l.close();
  }
  await assertRejects(() => openLedger({ path: ":memory:" }), TypeError);
  await assertRejects(() => openLedger({ path: "https://kv.example.invalid/db" }), TypeError);
  await assertRejects(
    () => openLedger({ path: "http://kv.example.invalid/db", logKey: signer }),
    TypeError,
  );
  await assertRejects(() => openLedger({}), TypeError);
  await assertRejects(() => openLedger({ path: ":memory:", logKey: signer }), TypeError);
  const closed = await openLedger({
    path: ":memory:",
    origin: "example.com/audit-log",
    logKey: signer,
  });
  await closed.close();
  await assertRejects(async () => closed.append(await makeEnvelope(1)), LedgerStateError);
});

Deno.test("checkpoints of successive commits are consistent with each other", async () => {
  await using t = await tempDir();
  const ledger = await openLedger({ dataDir: t.dir, maxBatch: 5 });
  try {
    const cps: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await ledger.append(await makeEnvelope(i));
      cps.push(r.checkpoint);
    }
    const v = parseVerifierKey(ledger.verifierKey);
    for (let i = 1; i < cps.length; i++) {
      const a = await openCheckpoint(cps[i - 1], v);
      const b = await openCheckpoint(cps[i], v);
      assertNotEquals(toBase64(a.root), toBase64(b.root));
      const c = await ledger.proveConsistency(a.size, b.size);
      checkTree(c.proof.map(fromBase64), b.size, b.root, a.size, a.root);
    }
  } finally {
    await ledger.close();
  }
});
