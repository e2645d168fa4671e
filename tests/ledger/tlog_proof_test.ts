/**
 * Tests of ledger/tlog_proof.ts (C2SP tlog-proof@v1 receipts) and of the
 * leaf format and hash-chain rule in ledger/leaf.ts that receipts carry.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fromBase64, sha256, toBase64, toHex, utf8 } from "../../core/bytes.ts";
import { signCheckpoint } from "../../ledger/checkpoint.ts";
import { checkEntry, EntryCheckError } from "../../ledger/entry_check.ts";
import {
  decodeLeaf,
  encodeLeaf,
  LEAF_VERSION,
  LeafError,
  type LeafFields,
  prevFor,
  ZERO_PREV,
} from "../../ledger/leaf.ts";
import {
  leafHash,
  MemoryHashStore,
  proveRecord,
  proveTree,
  treeHash,
} from "../../ledger/merkle/mod.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import {
  formatTlogProof,
  parseTlogProof,
  TLOG_PROOF_HEADER,
  TlogProofError,
  verifyReceiptConsistency,
  verifyTlogProof,
} from "../../ledger/tlog_proof.ts";

const ORIGIN = "regledger.local/log";

function leafFields(index: number, prev: Uint8Array | null, env = `env-${index}`): LeafFields {
  return {
    envelope_sha256: toBase64(sha256(utf8(env))),
    index,
    issued_at: "2026-11-21T12:00:00Z",
    issuer: "acme-ai/ünïcödé",
    key_id: "k1",
    prev: prevFor(prev),
    primitive: "fairness",
    v: LEAF_VERSION,
  };
}

/** A log of `n` chained leaves in memory. */
async function buildLog(n: number) {
  const store = new MemoryHashStore();
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const leaf = encodeLeaf(leafFields(i, i === 0 ? null : leaves[i - 1]));
    leaves.push(leaf);
    await store.append(leaf);
  }
  return { store, leaves };
}

const ruleOf = (r: string) => (e: unknown) => e instanceof TlogProofError && e.rule === r;

// ---------------------------------------------------------------------------
// Leaf format.

Deno.test("leaf bytes are the JCS of the documented fields (known answer)", () => {
  const f = leafFields(0, null, "x");
  const bytes = encodeLeaf(f);
  const want = `{"envelope_sha256":"${f.envelope_sha256}","index":0,` +
    `"issued_at":"2026-11-21T12:00:00Z","issuer":"acme-ai/ünïcödé","key_id":"k1",` +
    `"prev":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","primitive":"fairness",` +
    `"v":"regledger.leaf.v1"}`;
  assert.equal(new TextDecoder().decode(bytes), want);
  assert.deepEqual(decodeLeaf(bytes), f);
  assert.deepEqual(fromBase64(f.prev), ZERO_PREV);
});

Deno.test("decodeLeaf is strict: fields, types, hashes, version, canonical form", () => {
  const good = leafFields(3, new Uint8Array([1]));
  const enc = (o: unknown) => utf8(JSON.stringify(o));
  const cases: [unknown, string, string][] = [
    [{ ...good, extra: 1 }, "", "fields"],
    [{ ...good, index: -1 }, "index", "type"],
    [{ ...good, index: 1.5 }, "index", "type"],
    [{ ...good, index: "3" }, "index", "type"],
    [{ ...good, issuer: 7 }, "issuer", "type"],
    [{ ...good, prev: toBase64(new Uint8Array(31)) }, "prev", "hash"],
    [{ ...good, envelope_sha256: toHex(new Uint8Array(32)) }, "envelope_sha256", "hash"],
    [{ ...good, v: "regledger.leaf.v2" }, "v", "version"],
    [[good], "", "type"],
  ];
  for (const [obj, field, rule] of cases) {
    const sorted = Array.isArray(obj) ? obj : Object.fromEntries(
      Object.entries(obj as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    assert.throws(
      () => decodeLeaf(enc(sorted)),
      (e: unknown) => e instanceof LeafError && e.field === field && e.rule === rule,
      JSON.stringify(obj),
    );
  }
  const { index: _i, ...missing } = good;
  assert.throws(
    () => decodeLeaf(enc(missing)),
    (e: unknown) => e instanceof LeafError && e.rule === "fields",
  );
  // Same content, not canonical: whitespace, key order, duplicate keys.
  const canon = new TextDecoder().decode(encodeLeaf(good));
  for (
    const t of [
      canon.replace(",", ", "),
      JSON.stringify(Object.fromEntries(Object.entries(good).reverse())),
      canon.slice(0, -1) + `,"v":"${LEAF_VERSION}"}`,
      " " + canon,
    ]
  ) {
    assert.throws(() => decodeLeaf(utf8(t)), (e: unknown) => e instanceof LeafError, t);
  }
  assert.throws(
    () => decodeLeaf(new Uint8Array([0xff])),
    (e: unknown) => e instanceof LeafError && e.rule === "utf8",
  );
  assert.throws(
    () => decodeLeaf(utf8("{")),
    (e: unknown) => e instanceof LeafError && e.rule === "json",
  );
  assert.throws(
    () => encodeLeaf({ ...good, issuer: "x".repeat(9000) }),
    (e: unknown) => e instanceof LeafError && e.rule === "size",
  );
});

Deno.test("hash chain: the entry checker accepts every link; a rewritten entry breaks the next", async () => {
  const { leaves } = await buildLog(30);
  const env = (i: number, e = `env-${i}`) => utf8(e);
  let prev = ZERO_PREV;
  for (let i = 0; i < leaves.length; i++) {
    const c = checkEntry(i, leaves[i], env(i), prev);
    assert.equal(c.fields.index, i);
    assert.deepEqual(c.envelopeSha256, sha256(env(i)));
    prev = c.leafHash;
  }
  // prev of entry i is SHA-256(0x00 || leaf(i-1)).
  assert.deepEqual(fromBase64(decodeLeaf(leaves[5]).prev), sha256(new Uint8Array([0]), leaves[4]));
  // Rewrite entry 10 (another envelope): entry 10 checks against its own envelope, entry 11's
  // link breaks.
  const forged = encodeLeaf(leafFields(10, leaves[9], "forged"));
  checkEntry(10, forged, env(10, "forged"), leafHash(leaves[9]));
  const rule = (index: number, r: string) => (e: unknown) =>
    e instanceof EntryCheckError && e.index === index && e.rule === r;
  assert.throws(() => checkEntry(11, leaves[11], env(11), leafHash(forged)), rule(11, "prev"));
  // The original envelope no longer matches the forged leaf.
  assert.throws(
    () => checkEntry(10, forged, env(10), leafHash(leaves[9])),
    rule(10, "envelope_sha256"),
  );
  // Entry 11 where entry 10 was expected, and entry 1 first.
  assert.throws(() => checkEntry(10, leaves[11], env(11), leafHash(leaves[9])), rule(10, "index"));
  assert.throws(() => checkEntry(0, leaves[1], env(1), ZERO_PREV), rule(0, "index"));
  // Entry 0 must chain to 32 zero bytes.
  const notZero = encodeLeaf({ ...decodeLeaf(leaves[0]), prev: toBase64(sha256()) });
  assert.throws(() => checkEntry(0, notZero, env(0), ZERO_PREV), rule(0, "prev"));
  // Leaf bytes that are not canonical JCS.
  const spaced = utf8(new TextDecoder().decode(leaves[0]).replace(":", ": "));
  assert.throws(() => checkEntry(0, spaced, env(0), ZERO_PREV), rule(0, "leaf"));
});

// ---------------------------------------------------------------------------
// tlog-proof@v1.

Deno.test("format matches the spec layout and parses back", async () => {
  const key = await Ed25519NoteSigner.generate(ORIGIN);
  const { store, leaves } = await buildLog(13);
  const proof = await proveRecord(13, 6, store);
  const checkpoint = await signCheckpoint(
    { origin: ORIGIN, size: 13, root: await treeHash(13, store) },
    [key],
  );
  const text = formatTlogProof({ extra: leaves[6], index: 6, proof, checkpoint });
  const lines = text.split("\n");
  assert.equal(lines[0], TLOG_PROOF_HEADER);
  assert.equal(lines[1], "extra " + toBase64(leaves[6]));
  assert.equal(lines[2], "index 6");
  assert.deepEqual(lines.slice(3, 3 + proof.length), proof.map(toBase64));
  assert.equal(lines[3 + proof.length], "");
  assert.equal(lines.slice(4 + proof.length).join("\n"), checkpoint);
  const parsed = parseTlogProof(text);
  assert.deepEqual(parsed, { extra: leaves[6], index: 6, proof, checkpoint });
  // Without extra data, and with an empty proof (a one-entry tree).
  const t2 = formatTlogProof({ index: 0, proof: [], checkpoint });
  assert.equal(t2, `${TLOG_PROOF_HEADER}\nindex 0\n\n${checkpoint}`);
  assert.deepEqual(parseTlogProof(t2), { index: 0, proof: [], checkpoint });
});

Deno.test("parseTlogProof rejects malformed texts", () => {
  const h = toBase64(sha256());
  const cp = "o\n1\n" + h + "\n\n— o AAAAAAA=\n";
  const bad = [
    `c2sp.org/tlog-proof@v2\nindex 0\n\n${cp}`,
    `${TLOG_PROOF_HEADER}\nindex 01\n\n${cp}`,
    `${TLOG_PROOF_HEADER}\nindex -1\n\n${cp}`,
    `${TLOG_PROOF_HEADER}\nindex\n\n${cp}`,
    `${TLOG_PROOF_HEADER}\nextra !!\nindex 0\n\n${cp}`,
    `${TLOG_PROOF_HEADER}\nindex 0\n${h.slice(4)}\n\n${cp}`,
    `${TLOG_PROOF_HEADER}\nindex 0\n${toBase64(new Uint8Array(20))}\n\n${cp}`,
    `${TLOG_PROOF_HEADER}\nindex 0\n${(h + "\n").repeat(65)}\n${cp}`,
    `${TLOG_PROOF_HEADER}\nindex 0\n${h}\n`,
    `${TLOG_PROOF_HEADER}\nindex 0\n${h}`,
    `${TLOG_PROOF_HEADER}\r\nindex 0\n\n${cp}`,
    `${TLOG_PROOF_HEADER}\nextra ${"A".repeat(1 << 20)}\nindex 0\n\n${cp}`,
  ];
  for (const t of bad) {
    assert.throws(() => parseTlogProof(t), ruleOf("malformed"), JSON.stringify(t));
  }
});

Deno.test("receipts for every entry of logs of many sizes verify offline", async () => {
  const key = await Ed25519NoteSigner.generate(ORIGIN);
  const vkey = key.verifierKey();
  const { store, leaves } = await buildLog(70);
  for (const size of [1, 2, 3, 7, 8, 9, 33, 64, 70]) {
    const checkpoint = await signCheckpoint(
      { origin: ORIGIN, size, root: await treeHash(size, store) },
      [key],
    );
    for (let i = 0; i < size; i++) {
      const text = formatTlogProof({
        extra: leaves[i],
        index: i,
        proof: await proveRecord(size, i, store),
        checkpoint,
      });
      const env = sha256(utf8(`env-${i}`));
      const v = await verifyTlogProof(text, vkey, { envelopeSha256: toHex(env) });
      assert.equal(v.index, i);
      assert.equal(v.checkpoint.size, size);
      assert.deepEqual(v.leaf, leaves[i]);
      await verifyTlogProof(text, [key.verifier()], { envelopeSha256: env, leaf: leaves[i] });
      await verifyTlogProof(text, key.verifier(), { envelopeSha256: toBase64(env) });
    }
  }
});

Deno.test("tampered receipts fail with the rule that names the problem", async () => {
  const key = await Ed25519NoteSigner.generate(ORIGIN);
  const other = await Ed25519NoteSigner.generate(ORIGIN);
  const vkey = key.verifierKey();
  const { store, leaves } = await buildLog(21);
  const root = await treeHash(21, store);
  const checkpoint = await signCheckpoint({ origin: ORIGIN, size: 21, root }, [key]);
  const proof = await proveRecord(21, 9, store);
  const good = { extra: leaves[9], index: 9, proof, checkpoint };
  const env9 = sha256(utf8("env-9"));
  await verifyTlogProof(formatTlogProof(good), vkey, { envelopeSha256: env9 });

  const cases: [string, string, Parameters<typeof verifyTlogProof>[2]?][] = [
    // Another entry's leaf bytes at this index.
    [formatTlogProof({ ...good, extra: leaves[10] }), "inclusion"],
    // The right leaf claimed at another index.
    [formatTlogProof({ ...good, index: 8 }), "inclusion"],
    // A flipped proof hash.
    [
      formatTlogProof({ ...good, proof: proof.map((h, i) => (i === 1 ? sha256(h) : h)) }),
      "inclusion",
    ],
    // A dropped proof hash.
    [formatTlogProof({ ...good, proof: proof.slice(1) }), "inclusion"],
    // A checkpoint signed by another key.
    [
      formatTlogProof({
        ...good,
        checkpoint: await signCheckpoint({ origin: ORIGIN, size: 21, root }, [other]),
      }),
      "checkpoint",
    ],
    // The checkpoint's size edited (signature breaks).
    [
      formatTlogProof({ ...good, checkpoint: checkpoint.replace("\n21\n", "\n22\n") }),
      "checkpoint",
    ],
    // A different envelope than the one held.
    [formatTlogProof(good), "envelope-mismatch", { envelopeSha256: sha256(utf8("env-8")) }],
    // A leaf given by the caller that differs from the extra data.
    [formatTlogProof(good), "leaf-mismatch", { leaf: leaves[8] }],
    // No leaf at all.
    [formatTlogProof({ ...good, extra: undefined }), "missing-leaf"],
    // Origin other than expected.
    [formatTlogProof(good), "checkpoint", { origin: "elsewhere/log" }],
    [formatTlogProof(good).replace("index 9", "index 09"), "malformed"],
  ];
  for (const [text, rule, opts] of cases) {
    await assert.rejects(verifyTlogProof(text, vkey, opts), ruleOf(rule), rule);
  }
  // Without extra data, the caller's leaf is used.
  await verifyTlogProof(formatTlogProof({ ...good, extra: undefined }), vkey, { leaf: leaves[9] });
});

Deno.test("a leaf included at one index but naming another is rejected", async () => {
  // A malicious log appends a copy of entry 2's leaf bytes as entry 5.
  const key = await Ed25519NoteSigner.generate(ORIGIN);
  const { store, leaves } = await buildLog(5);
  await store.append(leaves[2]);
  const checkpoint = await signCheckpoint(
    { origin: ORIGIN, size: 6, root: await treeHash(6, store) },
    [key],
  );
  const text = formatTlogProof({
    extra: leaves[2],
    index: 5,
    proof: await proveRecord(6, 5, store),
    checkpoint,
  });
  await assert.rejects(verifyTlogProof(text, key.verifierKey()), ruleOf("index-mismatch"));
});

Deno.test("receipt consistency: a newer checkpoint that extends the receipt's tree", async () => {
  const key = await Ed25519NoteSigner.generate(ORIGIN);
  const vkey = key.verifierKey();
  const { store, leaves } = await buildLog(50);
  const sign = async (n: number, s = store) =>
    signCheckpoint({ origin: ORIGIN, size: n, root: await treeHash(n, s) }, [key]);
  const receipt = formatTlogProof({
    extra: leaves[3],
    index: 3,
    proof: await proveRecord(17, 3, store),
    checkpoint: await sign(17),
  });
  await verifyTlogProof(receipt, vkey);
  const newer = await verifyReceiptConsistency(
    receipt,
    await sign(50),
    await proveTree(50, 17, store),
    vkey,
  );
  assert.equal(newer.size, 50);
  // Same size: empty proof.
  await verifyReceiptConsistency(receipt, await sign(17), [], vkey);
  // A forked log (entry 10 rewritten) signed by the same key is caught.
  const fork = new MemoryHashStore();
  for (let i = 0; i < 50; i++) await fork.append(i === 10 ? utf8("rewritten") : leaves[i]);
  await assert.rejects(
    verifyReceiptConsistency(receipt, await sign(50, fork), await proveTree(50, 17, fork), vkey),
    ruleOf("inconsistent"),
  );
  // An older checkpoint is not "newer".
  await assert.rejects(
    verifyReceiptConsistency(receipt, await sign(10), [], vkey),
    ruleOf("inconsistent"),
  );
  // A checkpoint from another key.
  const other = await Ed25519NoteSigner.generate(ORIGIN);
  const foreign = await signCheckpoint(
    { origin: ORIGIN, size: 50, root: await treeHash(50, store) },
    [other],
  );
  await assert.rejects(
    verifyReceiptConsistency(receipt, foreign, await proveTree(50, 17, store), vkey),
    ruleOf("checkpoint"),
  );
});

Deno.test("property: random receipts verify and one flipped byte anywhere before the signatures fails", async () => {
  const key = await Ed25519NoteSigner.generate(ORIGIN);
  const vkey = key.verifierKey();
  const { store, leaves } = await buildLog(100);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 100 }), fc.nat(), fc.nat(), async (size, a, c) => {
      const i = a % size;
      const text = formatTlogProof({
        extra: leaves[i],
        index: i,
        proof: await proveRecord(size, i, store),
        checkpoint: await signCheckpoint(
          { origin: ORIGIN, size, root: await treeHash(size, store) },
          [key],
        ),
      });
      await verifyTlogProof(text, vkey, { envelopeSha256: sha256(utf8(`env-${i}`)) });
      // Change one character in the part that carries meaning: header,
      // extra, index, proof, checkpoint body (signature lines excluded).
      const end = text.indexOf("\n\n—");
      const pos = c % end;
      const ch = text[pos];
      const repl = ch === "A" ? "B" : ch === "\n" ? "x" : "A";
      const changed = text.slice(0, pos) + repl + text.slice(pos + 1);
      await assert.rejects(
        verifyTlogProof(changed, vkey, { envelopeSha256: sha256(utf8(`env-${i}`)) }),
        (e: unknown) => e instanceof TlogProofError,
      );
    }),
    { numRuns: 120 },
  );
  assert.ok(leafHash(leaves[0]).length === 32);
});
