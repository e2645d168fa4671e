/**
 * Tests of ledger/witness/mldsa.ts: ML-DSA-44 checkpoint signatures in the
 * C2SP tlog-cosignature form (type 0x06).
 *
 * - Known answers: NIST ACVP ML-DSA-44 keyGen / sigGen / sigVer vectors
 *   (tests/witness/vectors/, see the README there) against the ML-DSA
 *   implementation we use (@noble/post-quantum) and our key derivation.
 * - Cross-check: liboqs (@oqs/liboqs-js, the Open Quantum Safe C library
 *   compiled to WebAssembly; an independent implementation) verifies our
 *   signatures over the spec's `cosigned_message`, and our verifier accepts
 *   liboqs's signatures.
 * - The message layout is rebuilt here byte by byte from the spec text.
 */
import assert from "node:assert/strict";
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import { createMLDSA44 } from "@oqs/liboqs-js";
import { concatBytes, fromHex, sha256, toBase64, toHex, utf8 } from "../../core/bytes.ts";
import { openCheckpoint, signCheckpoint } from "../../ledger/checkpoint.ts";
import { Ed25519NoteSigner, NoteError, openNote, signNote } from "../../ledger/note.ts";
import { parseNoteSignerKey, parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import {
  ALG_ML_DSA_44,
  MlDsa44NoteSigner,
  MlDsa44NoteVerifier,
  subtreeMessage,
} from "../../ledger/witness/mldsa.ts";
import { CosignatureError } from "../../ledger/witness/timestamp.ts";
import { createLiboqsMlDsa44Engine } from "../../ledger/witness/mldsa_liboqs.ts";

const VECTORS = new URL("./vectors/", import.meta.url);
// deno-lint-ignore no-explicit-any
const load = (f: string): any => JSON.parse(Deno.readTextFileSync(new URL(f, VECTORS)));
const hex = (s: string) => fromHex(s.toLowerCase());
const up = (b: Uint8Array) => toHex(b).toUpperCase();
const SEED = new Uint8Array(32).map((_, i) => 200 - i);
const CP = { origin: "example.com/log", size: 20852163, root: new Uint8Array(32).fill(0xab) };
const TEXT = `example.com/log\n20852163\n${toBase64(CP.root)}\n`;
const fixed = (t: number) => () => t;

Deno.test("ACVP keyGen: seed ξ gives NIST's pk and sk; our signer derives the same pk", () => {
  const v = load("ML-DSA-44-keyGen.json");
  let n = 0;
  for (const g of v.testGroups) {
    assert.equal(g.parameterSet, "ML-DSA-44");
    for (const t of g.tests) {
      const k = ml_dsa44.keygen(hex(t.seed));
      assert.equal(up(k.publicKey), t.pk, `tcId ${t.tcId} pk`);
      assert.equal(up(k.secretKey), t.sk, `tcId ${t.tcId} sk`);
      assert.equal(up(MlDsa44NoteSigner.fromSeed("n", hex(t.seed)).publicKey), t.pk);
      n++;
    }
  }
  assert.equal(n, 3);
});

Deno.test("ACVP sigGen: deterministic and hedged (rnd) signatures match NIST's", () => {
  const v = load("ML-DSA-44-sigGen.json");
  const seen = { det: 0, hedged: 0 };
  for (const g of v.testGroups) {
    for (const t of g.tests) {
      const extraEntropy = g.deterministic ? false : hex(t.rnd);
      const sig = ml_dsa44.internal.sign(hex(t.message), hex(t.sk), { extraEntropy });
      assert.equal(up(sig), t.signature, `tgId ${g.tgId} tcId ${t.tcId}`);
      seen[g.deterministic ? "det" : "hedged"]++;
    }
  }
  assert.deepEqual(seen, { det: 3, hedged: 3 });
});

Deno.test("ACVP sigVer: accepts the good signature, rejects each kind of bad one", () => {
  const v = load("ML-DSA-44-sigVer.json");
  const results: [string, boolean][] = [];
  for (const g of v.testGroups) {
    for (const t of g.tests) {
      const ok = ml_dsa44.internal.verify(hex(t.signature), hex(t.message), hex(g.pk));
      assert.equal(ok, t.testPassed, `tcId ${t.tcId} (${t.reason})`);
      results.push([t.reason, ok]);
    }
  }
  assert.ok(results.some(([, ok]) => ok) && results.filter(([, ok]) => !ok).length >= 3);
});

Deno.test("cosigned_message: exact layout from the spec", () => {
  const m = subtreeMessage({
    cosignerName: "w",
    timestamp: 0x0102n,
    origin: "o.example",
    start: 0,
    end: 258,
    hash: new Uint8Array(32).fill(7),
  });
  const want = concatBytes(
    utf8("subtree/v1\n"),
    new Uint8Array([0, 1]),
    utf8("w"),
    new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2]),
    new Uint8Array([9]),
    utf8("o.example"),
    new Uint8Array(8),
    new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2]),
    new Uint8Array(32).fill(7),
  );
  assert.deepEqual(m, want);
  assert.equal(m.length, 12 + 2 + 8 + 10 + 8 + 8 + 32);
  const base = { cosignerName: "w", timestamp: 1n, origin: "o", start: 0, end: 1 };
  assert.throws(() => subtreeMessage({ ...base, hash: new Uint8Array(31) }), CosignatureError);
  assert.throws(
    () => subtreeMessage({ ...base, origin: "x".repeat(256), hash: new Uint8Array(32) }),
    CosignatureError,
  );
  assert.throws(
    () => subtreeMessage({ ...base, start: 1, end: 2, hash: new Uint8Array(32) }),
    (e) => e instanceof CosignatureError && e.rule === "timestamp",
  );
});

Deno.test("key ID = SHA-256(name || \\n || 0x06 || 1312-byte key)[:4]; vkeys and signer keys round-trip", async () => {
  const s = MlDsa44NoteSigner.fromSeed("example.com/log", SEED);
  const h = sha256(utf8("example.com/log\n"), new Uint8Array([0x06]), s.publicKey);
  assert.equal(s.keyId, new DataView(h.buffer, h.byteOffset).getUint32(0));
  const vkey = s.verifierKey();
  const p = parseNoteVerifierKey(vkey);
  assert.equal(p.type, ALG_ML_DSA_44);
  assert.ok(p.verifier instanceof MlDsa44NoteVerifier);
  assert.equal(p.verifier.keyId, s.keyId);
  assert.deepEqual(p.publicKey, s.publicKey);
  const back = await parseNoteSignerKey(s.toSignerKey());
  assert.ok(back instanceof MlDsa44NoteSigner);
  assert.equal(back.verifierKey(), vkey);
  assert.ok(!JSON.stringify(s).includes(toBase64(SEED).slice(0, 16)));
  assert.ok(!Deno.inspect(s).includes(toBase64(SEED).slice(0, 16)));
});

Deno.test("dual-signed checkpoint: Ed25519 and ML-DSA-44 both verify; each alone suffices", async () => {
  const ed = await Ed25519NoteSigner.fromSeed("example.com/log", SEED);
  const pq = MlDsa44NoteSigner.fromSeed("example.com/log", SEED, { clock: fixed(1700000000) });
  const signed = await signCheckpoint(CP, [ed, pq]);
  const lines = signed.split("\n").filter((l) => l.startsWith("— "));
  assert.equal(lines.length, 2);
  const both = await openCheckpoint(signed, [ed.verifier(), pq.verifier()]);
  assert.equal(both.note.sigs.length, 2);
  assert.equal((await openCheckpoint(signed, ed.verifier())).size, CP.size);
  assert.equal((await openCheckpoint(signed, pq.verifier())).size, CP.size);
  // 4-byte key ID + 8-byte timestamp + 2420-byte signature.
  const pqLine = both.note.sigs.find((x) => x.keyId === pq.keyId)!;
  assert.equal(atob(pqLine.base64).length, 4 + 8 + 2420);
  await assert.rejects(
    openNote(signed.replace("20852163", "20852164"), [pq.verifier()]),
    (e) => e instanceof NoteError && e.rule === "invalid-signature",
  );
});

Deno.test("hedged by default (two signatures differ, both verify); deterministic on request", async () => {
  const hedged = MlDsa44NoteSigner.fromSeed("n", SEED, { clock: fixed(5) });
  const a = await hedged.sign(utf8(TEXT));
  const b = await hedged.sign(utf8(TEXT));
  assert.notDeepEqual(a, b);
  assert.equal(await hedged.verifier().verify(utf8(TEXT), a), true);
  assert.equal(await hedged.verifier().verify(utf8(TEXT), b), true);
  const det = MlDsa44NoteSigner.fromSeed("n", SEED, { clock: fixed(5), deterministic: true });
  assert.deepEqual(await det.sign(utf8(TEXT)), await det.sign(utf8(TEXT)));
});

Deno.test("the signature commits to name, timestamp, origin, size and root", async () => {
  const s = MlDsa44NoteSigner.fromSeed("n", SEED, { clock: fixed(5) });
  const sig = await s.sign(utf8(TEXT));
  const v = s.verifier();
  assert.equal(await v.verify(utf8(TEXT), sig), true);
  const other = new MlDsa44NoteVerifier("m", s.publicKey);
  assert.equal(await other.verify(utf8(TEXT), sig), false, "name is signed");
  const ts = sig.slice();
  ts[7] ^= 1;
  assert.equal(await v.verify(utf8(TEXT), ts), false, "timestamp is signed");
  for (const t of [TEXT.replace("example.com", "example.org"), TEXT.replace("63\n", "64\n")]) {
    assert.equal(await v.verify(utf8(t), sig), false);
  }
  assert.equal(await v.verify(utf8(TEXT), sig.subarray(0, sig.length - 1)), false);
  assert.equal(await v.verify(utf8("not a checkpoint\n"), sig), false);
});

Deno.test("extension lines: refused when signing, rejected when verifying", async () => {
  const s = MlDsa44NoteSigner.fromSeed("n", SEED, { clock: fixed(5) });
  const sig = await s.sign(utf8(TEXT));
  assert.equal(await s.verifier().verify(utf8(TEXT + "ext\n"), sig), false);
  await assert.rejects(
    signNote(TEXT + "ext\n", [s]),
    (e) => e instanceof CosignatureError && e.rule === "extension-lines",
  );
  await assert.rejects(
    s.sign(utf8("hello\n")),
    (e) => e instanceof CosignatureError && e.rule === "malformed-checkpoint",
  );
});

Deno.test("liboqs (independent implementation) cross-check, both directions", async () => {
  const oqs = await createMLDSA44();
  try {
    const t = 1700000123;
    const s = MlDsa44NoteSigner.fromSeed("witness.example/w1", SEED, { clock: fixed(t) });
    const msg = subtreeMessage({
      cosignerName: "witness.example/w1",
      timestamp: BigInt(t),
      origin: CP.origin,
      start: 0,
      end: CP.size,
      hash: CP.root,
    });
    for (let i = 0; i < 3; i++) {
      const sig = await s.sign(utf8(TEXT));
      assert.equal(oqs.verify(msg, sig.subarray(8), s.publicKey), true, "liboqs verifies ours");
      assert.equal(oqs.verify(msg.subarray(1), sig.subarray(8), s.publicKey), false);
    }
    const kp = oqs.generateKeyPair();
    const theirs = oqs.sign(
      subtreeMessage({
        cosignerName: "oqs",
        timestamp: BigInt(t),
        origin: CP.origin,
        start: 0,
        end: CP.size,
        hash: CP.root,
      }),
      kp.secretKey,
    );
    assert.equal(theirs.length, 2420);
    const ts = new Uint8Array(8);
    new DataView(ts.buffer).setBigUint64(0, BigInt(t));
    const v = new MlDsa44NoteVerifier("oqs", kp.publicKey);
    assert.equal(await v.verify(utf8(TEXT), concatBytes(ts, theirs)), true, "we verify liboqs's");
    assert.equal(
      await v.verify(utf8(TEXT.replace("63\n", "62\n")), concatBytes(ts, theirs)),
      false,
    );
    const note = `${TEXT}\n— oqs ${
      toBase64(concatBytes(
        new Uint8Array([
          v.keyId >>> 24,
          (v.keyId >>> 16) & 255,
          (v.keyId >>> 8) & 255,
          v.keyId & 255,
        ]),
        ts,
        theirs,
      ))
    }\n`;
    assert.equal((await openCheckpoint(note, v, { origin: CP.origin })).size, CP.size);
  } finally {
    oqs.destroy();
  }
});

Deno.test("liboqs engine: signs hedged; noble verifies its signatures and it verifies noble's", async () => {
  const engine = await createLiboqsMlDsa44Engine();
  try {
    const fast = MlDsa44NoteSigner.fromSeed("n", SEED, { clock: fixed(9), engine });
    const plain = MlDsa44NoteSigner.fromSeed("n", SEED, { clock: fixed(9) });
    assert.deepEqual(fast.publicKey, plain.publicKey);
    assert.equal(fast.verifierKey(), plain.verifierKey());
    const a = await fast.sign(utf8(TEXT));
    const b = await fast.sign(utf8(TEXT));
    assert.notDeepEqual(a, b, "hedged");
    assert.equal(await plain.verifier().verify(utf8(TEXT), a), true, "noble verifies liboqs");
    assert.equal(await fast.verifier().verify(utf8(TEXT), await plain.sign(utf8(TEXT))), true);
    assert.equal(await fast.verifier().verify(utf8(TEXT.replace("63\n", "6\n")), a), false);
    assert.equal(engine.verify(new Uint8Array(3), utf8("m"), new Uint8Array(5)), false);
    assert.throws(
      () => MlDsa44NoteSigner.fromSeed("n", SEED, { engine, deterministic: true }),
      RangeError,
    );
  } finally {
    engine.destroy();
  }
});
