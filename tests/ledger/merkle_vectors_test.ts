/**
 * ledger/merkle/ against the published RFC 6962 reference vectors of
 * certificate-transparency (via transparency-dev/merkle): roots, stored
 * node hashes, exact proofs, and the corruption probes both verifiers reject.
 */
import assert from "node:assert/strict";
import { fromHex, sha256, toHex } from "../../core/bytes.ts";
import {
  EMPTY_TREE_HASH,
  leafHash,
  MemoryHashStore,
  ProofError,
  proveRecord,
  proveTree,
  storedHashCount,
  storedHashIndex,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from "../../ledger/merkle/mod.ts";
import { checkRecord, checkTree } from "./tlog_check.ts";
import { hexes } from "./_merkle.ts";

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
