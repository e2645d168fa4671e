/**
 * ledger/merkle/ against an independent naive implementation of RFC 6962
 * §2.1, and random properties of proofs over large trees.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256, toHex } from "../../core/bytes.ts";
import {
  leafHash,
  MemoryHashStore,
  ProofError,
  proveRecord,
  proveTree,
  storedHashIndex,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from "../../ledger/merkle/mod.ts";
import { checkRecord, checkTree } from "./tlog_check.ts";
import { hexes, leavesOf } from "./_merkle.ts";

// ---------------------------------------------------------------------------
// An independent, deliberately naive implementation of RFC 6962 §2.1:
// MTH (§2.1), PATH (§2.1.1) and PROOF/SUBPROOF (§2.1.2), written from the
// RFC's recursive definitions over the full leaf list.

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256();
  if (d.length === 1) return sha256(new Uint8Array([0]), d[0]);
  const s = k(d.length);
  return sha256(new Uint8Array([1]), mth(d.slice(0, s)), mth(d.slice(s)));
}

function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return [];
  const s = k(d.length);
  if (m < s) return [...path(m, d.slice(0, s)), mth(d.slice(s))];
  return [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}

function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  const n = d.length;
  if (m === n) return b ? [] : [mth(d)];
  const s = k(n);
  if (m <= s) return [...subproof(m, d.slice(0, s), b), mth(d.slice(s))];
  return [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}

function naiveProof(m: number, d: Uint8Array[]): Uint8Array[] {
  return subproof(m, d, true);
}

Deno.test("naive RFC 6962: tree hashes, all inclusion and consistency proofs for sizes 1..48", async () => {
  const d = leavesOf(48);
  const s = new MemoryHashStore();
  for (let t = 1; t <= 48; t++) {
    await s.append(d[t - 1]);
    const prefix = d.slice(0, t);
    const root = await treeHash(t, s);
    assert.equal(toHex(root), toHex(mth(prefix)), `MTH ${t}`);
    for (let m = 0; m < t; m++) {
      assert.deepEqual(
        hexes(await proveRecord(t, m, s)),
        hexes(path(m, prefix)),
        `PATH(${m}, ${t})`,
      );
    }
    for (let m = 1; m <= t; m++) {
      assert.deepEqual(
        hexes(await proveTree(t, m, s)),
        hexes(naiveProof(m, prefix)),
        `PROOF(${m}, ${t})`,
      );
    }
  }
});

Deno.test("naive RFC 6962: sampled proofs for sizes up to 200 agree", async () => {
  const d = leavesOf(200, 1);
  const s = new MemoryHashStore();
  for (const leaf of d) await s.append(leaf);
  fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 200 }), fc.nat(), fc.nat(), async (t, a, b) => {
      const prefix = d.slice(0, t);
      const m = a % t;
      const m2 = (b % t) + 1;
      assert.deepEqual(hexes(await proveRecord(t, m, s)), hexes(path(m, prefix)));
      assert.deepEqual(hexes(await proveTree(t, m2, s)), hexes(naiveProof(m2, prefix)));
      assert.equal(toHex(await treeHash(t, s)), toHex(mth(prefix)));
    }),
    { numRuns: 150 },
  );
});

// ---------------------------------------------------------------------------
// Random properties.

Deno.test("property: proofs for random trees verify, and any single mutation fails", async () => {
  const s = new MemoryHashStore();
  await s.appendLeafHashes(leavesOf(3000, 4).map(leafHash));
  const roots = new Map<number, Uint8Array>();
  const root = async (n: number) => {
    if (!roots.has(n)) roots.set(n, await treeHash(n, s));
    return roots.get(n)!;
  };
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3000 }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      async (t, a, b, c) => {
        const n = a % t;
        const m = (b % t) + 1;
        const [lh] = await s.readHashes([storedHashIndex(0, n)]);
        const rt = await root(t);
        const rm = await root(m);
        const p = await proveRecord(t, n, s);
        checkRecord(p, t, rt, n, lh);
        verifyInclusion(lh, n, t, p, rt);
        const q = await proveTree(t, m, s);
        checkTree(q, t, rt, m, rm);
        verifyConsistency(m, t, q, rm, rt);
        // Mutations: a flipped proof bit, another index, another size.
        if (p.length > 0) {
          const bad = p.map((h) => h.slice());
          bad[c % p.length][c % 32] ^= 1 << (c % 8);
          assert.throws(() => checkRecord(bad, t, rt, n, lh), ProofError);
          assert.throws(() => verifyInclusion(lh, n, t, bad, rt), ProofError);
        }
        if (t > 1) {
          const n2 = (n + 1 + (c % (t - 1))) % t;
          assert.throws(() => checkRecord(p, t, rt, n2, lh), ProofError);
          assert.throws(() => verifyInclusion(lh, n2, t, p, rt), ProofError);
        }
        // (Claiming another size with the same root is not always detectable:
        // leaf 0 has the same audit-path shape in trees of 65 and 66 leaves.
        // Against that size's real root it must fail.)
        if (t < 3000) {
          const t2 = t + 1 + (c % (3000 - t));
          const rt2 = await root(t2);
          assert.throws(() => verifyInclusion(lh, n, t2, p, rt2), ProofError);
        }
        if (q.length > 0) {
          const bad = q.map((h) => h.slice());
          bad[c % q.length][c % 32] ^= 1 << (c % 8);
          assert.throws(() => checkTree(bad, t, rt, m, rm), ProofError);
          assert.throws(() => verifyConsistency(m, t, bad, rm, rt), ProofError);
        }
        if (m < t) {
          // A consistency proof from m is never a proof from another size.
          const m3 = 1 + ((m + c % (t - 1)) % (t - 1));
          if (m3 !== m) {
            const rm3 = await root(m3);
            assert.throws(() => verifyConsistency(m3, t, q, rm3, rt), ProofError);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});
