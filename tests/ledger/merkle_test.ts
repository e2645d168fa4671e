/**
 * Tests of ledger/merkle.ts against published RFC 6962 vectors, an
 * independent naive implementation of RFC 6962 §2.1, and random properties.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fromHex, sha256, toHex } from "../../core/bytes.ts";
import {
  checkRecord,
  checkTree,
  EMPTY_TREE_HASH,
  type HashReader,
  leafHash,
  MemoryHashStore,
  nodeHash,
  ProofError,
  proveRecord,
  proveTree,
  splitStoredHashIndex,
  storedHashCount,
  storedHashes,
  storedHashesForBatch,
  storedHashIndex,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from "../../ledger/merkle.ts";

// ---------------------------------------------------------------------------
// Known answers. Source: github.com/transparency-dev/merkle,
// testonly/constants.go (LeafInputs, NodeHashes, RootHashes) and
// proof/verify_test.go (inclusionProofs with 1-based leaf numbers,
// consistencyProofs), which carry the RFC 6962 reference vectors of
// certificate-transparency.

const LEAVES = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
].map(fromHex);

const ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const NODE_HASHES = [
  [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
  ],
  [
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
  ],
  [
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
  ],
  ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

// [leaf (1-based, as in verify_test.go), tree size, proof]
const INCLUSION: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
  ]],
  [6, 8, [
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  ]],
  [3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
  [2, 5, [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
  ]],
];

const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
  ]],
  [6, 8, [
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  ]],
  [2, 5, [
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
  ]],
  [6, 7, [
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  ]],
];

async function vectorStore(): Promise<MemoryHashStore> {
  const s = new MemoryHashStore();
  for (const l of LEAVES) await s.append(l);
  return s;
}

const hexes = (hs: Uint8Array[]) => hs.map(toHex);

Deno.test("RFC 6962 vectors: roots of every prefix of the 8 reference leaves", async () => {
  const s = new MemoryHashStore();
  assert.equal(toHex(await treeHash(0, s)), ROOTS[0]);
  assert.equal(toHex(EMPTY_TREE_HASH), ROOTS[0]);
  for (let n = 1; n <= 8; n++) {
    await s.append(LEAVES[n - 1]);
    assert.equal(toHex(await treeHash(n, s)), ROOTS[n], `root of size ${n}`);
  }
  // Every earlier size still answers from the same store.
  for (let n = 1; n <= 8; n++) assert.equal(toHex(await treeHash(n, s)), ROOTS[n]);
});

Deno.test("RFC 6962 vectors: every complete subtree hash sits at its stored hash index", async () => {
  const s = await vectorStore();
  for (let level = 0; level < NODE_HASHES.length; level++) {
    for (let n = 0; n < NODE_HASHES[level].length; n++) {
      const [h] = await s.readHashes([storedHashIndex(level, n)]);
      assert.equal(toHex(h), NODE_HASHES[level][n], `node (${level}, ${n})`);
    }
  }
  assert.equal(s.hashes.length, storedHashCount(8));
  assert.equal(storedHashCount(8), 15);
});

Deno.test("RFC 6962 vectors: inclusion proofs are produced exactly and verify both ways", async () => {
  const s = await vectorStore();
  for (const [leaf, size, want] of INCLUSION) {
    const n = leaf - 1;
    const proof = await proveRecord(size, n, s);
    assert.deepEqual(hexes(proof), want, `proof for ${n} in ${size}`);
    const root = fromHex(ROOTS[size]);
    const lh = leafHash(LEAVES[n]);
    checkRecord(proof, size, root, n, lh);
    verifyInclusion(lh, n, size, proof, root);
  }
});

Deno.test("RFC 6962 vectors: consistency proofs are produced exactly and verify both ways", async () => {
  const s = await vectorStore();
  for (const [size1, size2, want] of CONSISTENCY) {
    const proof = await proveTree(size2, size1, s);
    assert.deepEqual(hexes(proof), want, `proof ${size1} -> ${size2}`);
    const r1 = fromHex(ROOTS[size1]);
    const r2 = fromHex(ROOTS[size2]);
    checkTree(proof, size2, r2, size1, r1);
    verifyConsistency(size1, size2, proof, r1, r2);
  }
});

// The corruption probes of transparency-dev/merkle proof/verify_test.go.
Deno.test("RFC 6962 vectors: corrupted inclusion proofs are rejected by both verifiers", () => {
  const some = fromHex("abacaba000000000000000000000000000000000000000000060061e00123456");
  for (const [leaf, size, want] of INCLUSION.slice(1)) {
    const n = leaf - 1;
    const proof = want.map(fromHex);
    const root = fromHex(ROOTS[size]);
    const lh = leafHash(LEAVES[n]);
    const probes: [number, number, Uint8Array, Uint8Array, Uint8Array[], string][] = [
      [n - 1, size, root, lh, proof, "index - 1"],
      [n + 1, size, root, lh, proof, "index + 1"],
      [n ^ 2, size, root, lh, proof, "index ^ 2"],
      [n, size * 2, root, lh, proof, "size * 2"],
      [n, Math.floor(size / 2), root, lh, proof, "size / 2"],
      [n, size, root, sha256(new TextEncoder().encode("WrongLeaf")), proof, "wrong leaf"],
      [n, size, fromHex(ROOTS[0]), lh, proof, "empty root"],
      [n, size, some, lh, proof, "random root"],
      [n, size, root, lh, [...proof, root], "trailing root"],
      [n, size, root, lh, [root, ...proof], "preceding root"],
      [n, size, root, lh, proof.slice(0, -1), "removed component"],
    ];
    if (proof.length > 1) {
      probes.push([n, size, root, lh, [proof[0], some, ...proof.slice(1)], "inserted component"]);
    }
    proof.forEach((_, i) => {
      const p = proof.map((h) => h.slice());
      p[i][0] ^= 8;
      probes.push([n, size, root, lh, p, `flipped proof[${i}]`]);
    });
    for (const [i, t, r, h, p, desc] of probes) {
      assert.throws(() => checkRecord(p, t, r, i, h), ProofError, `checkRecord: ${desc}`);
      assert.throws(() => verifyInclusion(h, i, t, p, r), ProofError, `verifyInclusion: ${desc}`);
    }
  }
});

Deno.test("RFC 6962 vectors: corrupted consistency proofs are rejected by both verifiers", () => {
  for (const [size1, size2, want] of CONSISTENCY.slice(1)) {
    const proof = want.map(fromHex);
    const r1 = fromHex(ROOTS[size1]);
    const r2 = fromHex(ROOTS[size2]);
    const probes: [number, number, Uint8Array, Uint8Array, Uint8Array[], string][] = [
      [size1 - 1, size2, r1, r2, proof, "size1 - 1"],
      [size1 + 1, size2, r1, r2, proof, "size1 + 1"],
      [size1 ^ 2, size2, r1, r2, proof, "size1 ^ 2"],
      [size1, size2 * 2, r1, r2, proof, "size2 * 2"],
      [size1, Math.floor(size2 / 2), r1, r2, proof, "size2 / 2"],
      [size1, size2, r2, r2, proof, "wrong root1"],
      [size1, size2, r1, r1, proof, "wrong root2"],
      [size1, size2, r2, r1, proof, "swapped roots"],
      [size1, size2, r1, r2, [], "empty proof"],
      [size1, size2, r1, r2, [...proof, r1], "trailing root1"],
      [size1, size2, r1, r2, [...proof, r2], "trailing root2"],
      [size1, size2, r1, r2, [r1, ...proof], "preceding root1"],
      [size1, size2, r1, r2, [r2, ...proof], "preceding root2"],
      [size1, size2, r1, r2, [proof[0], ...proof], "preceding proof[0]"],
      [size1, size2, r1, r2, proof.slice(0, -1), "truncated"],
    ];
    proof.forEach((_, i) => {
      const p = proof.map((h) => h.slice());
      p[i][0] ^= 16;
      probes.push([size1, size2, r1, r2, p, `flipped proof[${i}]`]);
    });
    for (const [s1, s2, a, b, p, desc] of probes) {
      if (s1 >= 1 && s2 >= 1) {
        assert.throws(() => checkTree(p, s2, b, s1, a), ProofError, `checkTree: ${desc}`);
      }
      assert.throws(() => verifyConsistency(s1, s2, p, a, b), ProofError, `verify: ${desc}`);
    }
  }
});

Deno.test("verifyConsistency: trivial sizes follow transparency-dev semantics", () => {
  const a = sha256(new Uint8Array([1]));
  const b = sha256(new Uint8Array([2]));
  verifyConsistency(0, 0, [], a, a);
  verifyConsistency(0, 5, [], a, b);
  verifyConsistency(3, 3, [], b, b);
  assert.throws(() => verifyConsistency(3, 3, [], a, b), ProofError);
  assert.throws(() => verifyConsistency(0, 5, [a], a, b), ProofError);
  assert.throws(() => verifyConsistency(3, 3, [a], a, a), ProofError);
  assert.throws(() => verifyConsistency(2, 1, [], a, b), ProofError);
  checkTree([], 3, b, 3, b);
  assert.throws(() => checkTree([], 3, b, 3, a), ProofError);
});

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

function leavesOf(n: number, seed = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`leaf ${seed}:${i}`));
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
// Dense numbering and storage.

Deno.test("storedHashIndex and splitStoredHashIndex are inverse over the first 5000 indexes", () => {
  for (let i = 0; i < 5000; i++) {
    const [level, n] = splitStoredHashIndex(i);
    assert.equal(storedHashIndex(level, n), i, `index ${i}`);
  }
  // Known layout (Crosby–Wallach / tlog): leaf 0, leaf 1, node(1,0), leaf 2, ...
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7].map((n) => storedHashIndex(0, n)),
    [0, 1, 3, 4, 7, 8, 10, 11],
  );
  assert.equal(storedHashIndex(1, 0), 2);
  assert.equal(storedHashIndex(1, 1), 5);
  assert.equal(storedHashIndex(1, 2), 9);
  assert.equal(storedHashIndex(2, 0), 6);
  assert.equal(storedHashIndex(3, 0), 14);
  // Large indexes stay exact.
  const big = 2 ** 51 + 12345;
  const [l, n] = splitStoredHashIndex(storedHashIndex(0, big));
  assert.deepEqual([l, n], [0, big]);
});

Deno.test("storedHashes returns the leaf hash then completed subtrees, and batches agree", async () => {
  const d = leavesOf(130, 2);
  const seq = new MemoryHashStore();
  for (let n = 0; n < d.length; n++) {
    const add = await storedHashes(n, d[n], seq);
    assert.equal(storedHashIndex(0, n), seq.hashes.length);
    assert.equal(toHex(add[0]), toHex(leafHash(d[n])));
    seq.hashes.push(...add);
    assert.equal(seq.hashes.length, storedHashCount(n + 1));
  }
  // Batches of assorted sizes, from any starting size, produce the same hashes.
  for (const cut of [0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 100]) {
    const st = new MemoryHashStore();
    for (let i = 0; i < cut; i++) await st.append(d[i]);
    const batch = await storedHashesForBatch(cut, d.slice(cut).map(leafHash), st);
    assert.deepEqual(hexes([...st.hashes, ...batch]), hexes(seq.hashes), `batch from ${cut}`);
  }
});

function countingReader(inner: HashReader): HashReader & { calls: number[][] } {
  const calls: number[][] = [];
  return {
    calls,
    readHashes(indexes: number[]) {
      calls.push(indexes);
      return inner.readHashes(indexes);
    },
  };
}

Deno.test("each operation makes at most one readHashes call, with sorted indexes", async () => {
  const s = new MemoryHashStore();
  await s.appendLeafHashes(leavesOf(1000, 3).map(leafHash));
  const ops: [string, (r: HashReader) => Promise<unknown>][] = [
    ["treeHash", (r) => treeHash(777, r)],
    ["proveRecord", (r) => proveRecord(1000, 333, r)],
    ["proveTree", (r) => proveTree(1000, 333, r)],
    ["storedHashes", (r) => storedHashes(1000 - 1 + 0, new Uint8Array([1]), r)],
    ["batch", (r) => storedHashesForBatch(1000, leavesOf(50).map(leafHash), r)],
  ];
  for (const [name, op] of ops) {
    const r = countingReader(s);
    await op(r);
    assert.ok(r.calls.length <= 1, `${name}: ${r.calls.length} calls`);
    for (const c of r.calls) {
      assert.deepEqual(c, [...c].sort((a, b) => a - b), `${name}: sorted`);
      assert.ok(c.length <= 2 * 10 + 2, `${name}: ${c.length} hashes`);
    }
  }
});

Deno.test("a reader returning the wrong number or size of hashes is an error", async () => {
  const short: HashReader = {
    readHashes: (ix) => Promise.resolve(ix.slice(1).map(() => sha256())),
  };
  const wrongSize: HashReader = {
    readHashes: (ix) => Promise.resolve(ix.map(() => new Uint8Array(31))),
  };
  await assert.rejects(treeHash(5, short), RangeError);
  await assert.rejects(proveRecord(5, 1, wrongSize), RangeError);
  await assert.rejects(proveTree(5, 2, short), RangeError);
  await assert.rejects(storedHashes(3, new Uint8Array(), short), RangeError);
});

Deno.test("argument guards name the argument", async () => {
  const s = new MemoryHashStore();
  await s.append(new Uint8Array([1]));
  await assert.rejects(proveRecord(1, 1, s), /n must be < t/);
  await assert.rejects(proveRecord(0, 0, s), /t must be an integer/);
  await assert.rejects(proveTree(1, 2, s), /n must be <= t/);
  await assert.rejects(proveTree(1, 0, s), /n must be an integer/);
  await assert.rejects(treeHash(-1, s), RangeError);
  await assert.rejects(treeHash(1.5, s), RangeError);
  await assert.rejects(treeHash(2 ** 53, s), RangeError);
  assert.throws(() => storedHashIndex(-1, 0), RangeError);
  const h = sha256();
  for (
    const f of [
      () => checkRecord([], 0, h, 0, h),
      () => checkRecord([], 1, h, 1, h),
      () => checkRecord([], 1, h, -1, h),
      () => checkRecord([], 1, new Uint8Array(31), 0, h),
      () => checkRecord([new Uint8Array(5)], 2, h, 0, h),
      () => verifyInclusion(h, 0, Number.NaN, [], h),
      () => verifyInclusion(h, 3, 3, [], h),
      () => verifyConsistency(-1, 3, [], h, h),
      () => checkTree([], 2, h, 0, h),
    ]
  ) {
    assert.throws(f, (e: unknown) => e instanceof ProofError && e.rule !== undefined);
  }
  let e: unknown;
  try {
    checkRecord([], 1, h, 0, nodeHash(h, h));
  } catch (err) {
    e = err;
  }
  assert.ok(e instanceof ProofError);
  assert.equal(e.check, "inclusion");
  assert.equal(e.rule, "root-mismatch");
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

Deno.test("MemoryHashStore appends a batch of 150,000 leaves in one call", async () => {
  // Regression: spreading ~300,000 hashes into push() overflowed the stack.
  const s = new MemoryHashStore();
  const n = 150_000;
  const hs = Array.from(
    { length: n },
    (_, i) => leafHash(new Uint8Array([i & 255, i >> 8 & 255, i >> 16])),
  );
  await s.appendLeafHashes(hs);
  assert.equal(s.size, n);
  assert.equal(s.hashes.length, storedHashCount(n));
  const root = await treeHash(n, s);
  const i = 123_457;
  verifyInclusion(hs[i], i, n, await proveRecord(n, i, s), root);
});

Deno.test("wrong proof lengths are reported as proof-length, not as a root mismatch", async () => {
  const s = await vectorStore();
  const root = fromHex(ROOTS[6]);
  const lh = leafHash(LEAVES[2]);
  const proof = await proveRecord(6, 2, s);
  const isLength = (e: unknown) => e instanceof ProofError && e.rule === "proof-length";
  for (const bad of [[...proof, root], proof.slice(0, -1), [...proof, root, root]]) {
    assert.throws(() => verifyInclusion(lh, 2, 6, bad, root), isLength);
    assert.throws(() => checkRecord(bad, 6, root, 2, lh), isLength);
  }
  const r3 = fromHex(ROOTS[3]);
  const cproof = await proveTree(6, 3, s);
  for (const bad of [[...cproof, root], cproof.slice(0, -1)]) {
    assert.throws(() => verifyConsistency(3, 6, bad, r3, root), isLength);
    assert.throws(() => checkTree(bad, 6, root, 3, r3), isLength);
  }
});
