/**
 * Tests of ledger/witness/cosignature.ts (C2SP tlog-cosignature
 * `cosignature/v1`, type 0x04) and ledger/witness/keys.ts. Key IDs and
 * messages are recomputed here from the spec text; the spec's own example
 * message is checked byte for byte.
 */
import assert from "node:assert/strict";
import { concatBytes, fromBase64, sha256, toBase64, utf8 } from "../../core/bytes.ts";
import { Ed25519PublicKey } from "../../core/ed25519.ts";
import { openCheckpoint, signCheckpoint } from "../../ledger/checkpoint.ts";
import { Ed25519NoteSigner, NoteError, openNote, signNote } from "../../ledger/note.ts";
import {
  ALG_COSIGNATURE_V1,
  cosignatureV1Message,
  cosignatureV1VerifierKey,
  Ed25519CosignatureSigner,
  Ed25519CosignatureVerifier,
} from "../../ledger/witness/cosignature.ts";
import { parseNoteSignerKey, parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { CosignatureError, MAX_COSIGNATURE_TIMESTAMP } from "../../ledger/witness/timestamp.ts";

const SEED = new Uint8Array(32).map((_, i) => i + 1);
const SOFA =
  "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const fixed = (t: number | bigint) => () => t;

function specKeyId(name: string, type: number, pub: Uint8Array): number {
  const h = sha256(utf8(name + "\n"), new Uint8Array([type]), pub);
  return new DataView(h.buffer, h.byteOffset).getUint32(0);
}

Deno.test("message: the spec's example bytes (header, time line, whole note body)", () => {
  const m = cosignatureV1Message(utf8(SOFA), 1679315147n);
  assert.equal(
    new TextDecoder().decode(m),
    "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n" +
      "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
  );
});

Deno.test("key ID and vkey follow the spec: SHA-256(name || \\n || 0x04 || key)[:4]", async () => {
  const s = await Ed25519CosignatureSigner.fromSeed("witness.example/w1", SEED);
  const pub = s.privateKey.publicKey.raw;
  assert.equal(s.keyId, specKeyId("witness.example/w1", 0x04, pub));
  assert.notEqual(s.keyId, specKeyId("witness.example/w1", 0x01, pub));
  const vkey = s.verifierKey();
  assert.equal(
    vkey,
    `witness.example/w1+${s.keyId.toString(16).padStart(8, "0")}+${
      toBase64(concatBytes(new Uint8Array([4]), pub))
    }`,
  );
  assert.equal(vkey, cosignatureV1VerifierKey("witness.example/w1", pub));
  const parsed = parseNoteVerifierKey(vkey);
  assert.equal(parsed.type, ALG_COSIGNATURE_V1);
  assert.ok(parsed.verifier instanceof Ed25519CosignatureVerifier);
  assert.equal(parsed.verifier.keyId, s.keyId);
  assert.equal(String(parsed.verifier), vkey);
});

Deno.test("signature bytes are u64 big-endian timestamp || Ed25519 over the v1 message", async () => {
  const s = await Ed25519CosignatureSigner.fromSeed("w", SEED, { clock: fixed(1679315147) });
  const sig = await s.sign(utf8(SOFA));
  assert.equal(sig.length, 72);
  assert.deepEqual([...sig.subarray(0, 8)], [0, 0, 0, 0, 0x64, 0x18, 0x50, 0xcb]);
  const pub = Ed25519PublicKey.fromRaw(s.privateKey.publicKey.raw);
  const msg = utf8("cosignature/v1\ntime 1679315147\n" + SOFA);
  assert.equal(await pub.verify(sig.subarray(8), msg), true);
  // The bare note text is NOT what is signed (domain separation).
  assert.equal(await pub.verify(sig.subarray(8), utf8(SOFA)), false);
});

Deno.test("a cosigned checkpoint opens with the log key, the witness key, or both", async () => {
  const log = await Ed25519NoteSigner.fromSeed("example.com/log", new Uint8Array(32).fill(9));
  const w = await Ed25519CosignatureSigner.fromSeed("example.com/w", SEED, { clock: fixed(42) });
  const cp = { origin: "example.com/log", size: 5, root: new Uint8Array(32).fill(3) };
  const signed = await signCheckpoint(cp, [log, w]);
  const byLog = await openCheckpoint(signed, log.verifier());
  assert.equal(byLog.note.sigs.length, 1);
  assert.equal(byLog.note.unverifiedSigs[0].name, "example.com/w");
  const both = await openNote(signed, [log.verifier(), w.verifier()]);
  assert.deepEqual(both.sigs.map((x) => x.name), ["example.com/log", "example.com/w"]);
  const wOnly = await openNote(signed, [w.verifier()]);
  assert.equal(wOnly.sigs.length, 1);
  const raw = fromBase64(wOnly.sigs[0].base64);
  assert.equal(new DataView(raw.buffer, raw.byteOffset).getUint32(0), w.keyId);
  assert.equal(new DataView(raw.buffer, raw.byteOffset + 4).getBigUint64(0), 42n);
});

Deno.test("tampering: text, timestamp, signature or length all fail", async () => {
  const w = await Ed25519CosignatureSigner.fromSeed("w", SEED, { clock: fixed(1000) });
  const v = w.verifier();
  const sig = await w.sign(utf8(SOFA));
  assert.equal(await v.verify(utf8(SOFA), sig), true);
  assert.equal(await v.verify(utf8(SOFA.replace("20852163", "20852164")), sig), false);
  const ts = sig.slice();
  ts[7] ^= 1;
  assert.equal(await v.verify(utf8(SOFA), ts), false);
  const bad = sig.slice();
  bad[40] ^= 1;
  assert.equal(await v.verify(utf8(SOFA), bad), false);
  assert.equal(await v.verify(utf8(SOFA), sig.subarray(0, 71)), false);
  assert.equal(await v.verify(utf8(SOFA), sig.subarray(8)), false);
  const note = await signNote(SOFA, [w]);
  await assert.rejects(
    openNote(note.replace("20852163", "20852164"), [v]),
    (e) => e instanceof NoteError && e.rule === "invalid-signature",
  );
});

Deno.test("timestamps: 0 and > 2^63-1 are refused when signing and verifying", async () => {
  for (const t of [0, -1, 1.5, 1n << 63n]) {
    const w = await Ed25519CosignatureSigner.fromSeed("w", SEED, { clock: fixed(t) });
    await assert.rejects(w.sign(utf8(SOFA)), (e) => e instanceof CosignatureError);
  }
  const max = await Ed25519CosignatureSigner.fromSeed("w", SEED, {
    clock: fixed(MAX_COSIGNATURE_TIMESTAMP),
  });
  const sig = await max.sign(utf8(SOFA));
  assert.equal(await max.verifier().verify(utf8(SOFA), sig), true);
  // A well-signed cosignature whose timestamp is 2^63 is still rejected.
  const t = 1n << 63n;
  const inner = await max.privateKey.sign(cosignatureV1Message(utf8(SOFA), t));
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigUint64(0, t);
  assert.equal(await max.verifier().verify(utf8(SOFA), concatBytes(ts, inner)), false);
});

Deno.test("signer keys round-trip through parseNoteSignerKey; the seed never leaks", async () => {
  const w = await Ed25519CosignatureSigner.fromSeed("example.com/w", SEED, { clock: fixed(7) });
  const skey = w.toSignerKey();
  assert.match(skey, /^PRIVATE\+KEY\+example\.com\/w\+[0-9a-f]{8}\+BA/);
  const back = await parseNoteSignerKey(skey, { clock: fixed(7) });
  assert.ok(back instanceof Ed25519CosignatureSigner);
  assert.equal(back.verifierKey(), w.verifierKey());
  assert.deepEqual(await back.sign(utf8(SOFA)), await w.sign(utf8(SOFA)));
  const seedB64 = toBase64(SEED);
  assert.ok(!JSON.stringify(w).includes(seedB64.slice(0, 20)));
  assert.ok(!Deno.inspect(w).includes(seedB64.slice(0, 20)));
  const wrongId = skey.replace(/\+[0-9a-f]{8}\+/, "+00000000+");
  await assert.rejects(
    parseNoteSignerKey(wrongId),
    (e) =>
      e instanceof CosignatureError && e.rule === "key-id-mismatch" && !e.message.includes(skey),
  );
});

Deno.test("parseNoteVerifierKey: dispatches 0x01, rejects bad IDs, lengths and types", async () => {
  const log = await Ed25519NoteSigner.fromSeed("example.com/log", SEED);
  const p = parseNoteVerifierKey(log.verifierKey() + "\n");
  assert.equal(p.type, 0x01);
  assert.equal(p.verifier.keyId, log.keyId);
  const rule = (r: string) => (e: unknown) => e instanceof CosignatureError && e.rule === r;
  const name = "n";
  const mk = (type: number, key: Uint8Array) => {
    const typed = concatBytes(new Uint8Array([type]), key);
    return `${name}+${specKeyId(name, type, key).toString(16).padStart(8, "0")}+${toBase64(typed)}`;
  };
  assert.throws(() => parseNoteVerifierKey(mk(0x04, new Uint8Array(31))), rule("malformed-key"));
  assert.throws(() => parseNoteVerifierKey(mk(0x06, new Uint8Array(32))), rule("malformed-key"));
  assert.throws(
    () => parseNoteVerifierKey(mk(0x02, new Uint8Array(32))),
    rule("unknown-algorithm"),
  );
  const good = mk(0x04, SEED);
  assert.equal(parseNoteVerifierKey(good).type, 0x04);
  assert.throws(
    () => parseNoteVerifierKey(good.replace(/\+[0-9a-f]{8}\+/, "+00000000+")),
    rule("key-id-mismatch"),
  );
  for (const bad of ["", "n", "n+1234", "n+zzzzzzzz+BA==", "a b+00000000+BAAA", "n+00000000+!!"]) {
    assert.throws(() => parseNoteVerifierKey(bad), rule("malformed-key"), bad);
  }
});
