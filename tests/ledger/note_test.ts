/**
 * Tests of ledger/note.ts (C2SP signed-note). Known answers and the
 * malformed-input cases come from Go's golang.org/x/mod/sumdb/note
 * note_test.go (v0.7.0, Debian golang-golang-x-mod-dev): the PeterNeumann
 * and EnochRoot keys and signatures, TestNewVerifier's manglings, TestOpen's
 * bad messages.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256, toBase64, utf8 } from "../../core/bytes.ts";
import {
  Ed25519NoteSigner,
  ed25519VerifierKey,
  isValidKeyName,
  NoteError,
  noteKeyId,
  type NoteVerifier,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from "../../ledger/note.ts";

const PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT = "If you think cryptography is the answer to your problem,\n" +
  "then you don't know what your problem is.\n";
const PETER_SIG =
  "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG =
  "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

function rule(r: string) {
  return (e: unknown) => e instanceof NoteError && e.rule === r;
}

Deno.test("Go known answer: signing Peter Neumann's note gives Go's exact bytes", async () => {
  const signer = await parseSignerKey(PETER_SKEY);
  assert.equal(signer.name, "PeterNeumann");
  assert.equal(signer.keyId, 0xc74f20a3);
  assert.equal(signer.verifierKey(), PETER_VKEY);
  assert.equal(signer.toSignerKey(), PETER_SKEY);
  assert.equal(await signNote(TEXT, [signer]), TEXT + "\n" + PETER_SIG);
});

Deno.test("Go known answer: key IDs are SHA-256(name || 0x0A || 0x01 || key)[:4]", () => {
  const v = parseVerifierKey(PETER_VKEY);
  const typed = new Uint8Array([1, ...v.publicKey.raw]);
  const h = sha256(utf8("PeterNeumann\n"), typed);
  assert.equal(v.keyId, ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0);
  assert.equal(noteKeyId("PeterNeumann", typed), 0xc74f20a3);
  assert.equal(ed25519VerifierKey("PeterNeumann", v.publicKey.raw), PETER_VKEY);
  assert.equal(String(v), PETER_VKEY);
  assert.equal(parseVerifierKey(ENOCH_VKEY).keyId, 0xaf0cfe78);
});

Deno.test("Go TestOpen: one known and one unknown signature", async () => {
  const peter = parseVerifierKey(PETER_VKEY);
  const enoch = parseVerifierKey(ENOCH_VKEY);
  const msg = TEXT + "\n" + PETER_SIG + ENOCH_SIG;
  const n = await openNote(msg, [peter]);
  assert.equal(n.text, TEXT);
  assert.deepEqual(n.sigs.map((s) => [s.name, s.keyId]), [["PeterNeumann", 0xc74f20a3]]);
  assert.deepEqual(n.unverifiedSigs.map((s) => [s.name, s.keyId]), [["EnochRoot", 0xaf0cfe78]]);
  const both = await openNote(utf8(msg), [peter, enoch]);
  assert.equal(both.sigs.length, 2);
  assert.equal(both.unverifiedSigs.length, 0);
  await assert.rejects(openNote(msg, []), rule("unverified-note"));
});

Deno.test("Go TestOpen: ambiguous, duplicated, too many and invalid signatures", async () => {
  const peter = parseVerifierKey(PETER_VKEY);
  const enoch = parseVerifierKey(ENOCH_VKEY);
  await assert.rejects(
    openNote(TEXT + "\n" + ENOCH_SIG, [enoch, peter, enoch]),
    rule("ambiguous-key"),
  );
  // An unused duplicated verifier is fine.
  await openNote(TEXT + "\n" + PETER_SIG, [enoch, peter, enoch]);
  await assert.rejects(
    openNote(TEXT + "\n" + PETER_SIG.repeat(101), [peter]),
    rule("malformed-note"),
  );
  await assert.rejects(
    openNote(TEXT + "\n" + PETER_SIG.slice(0, 60) + "ABCD" + PETER_SIG.slice(60), [peter]),
    rule("invalid-signature"),
  );
  // Duplicated verified and unverified signatures are reported once each.
  const enochABCD = ENOCH_SIG.slice(0, 60) + "ABCD" + ENOCH_SIG.slice(60);
  const n = await openNote(
    TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enochABCD,
    [peter],
  );
  assert.equal(n.sigs.length, 1);
  assert.equal(n.unverifiedSigs.length, 2);
});

Deno.test("Go TestOpen: malformed messages", async () => {
  const peter = parseVerifierKey(PETER_VKEY);
  const bad: (string | Uint8Array)[] = [
    TEXT,
    TEXT + "\n",
    TEXT + "\n" + PETER_SIG.slice(0, -1),
    "\x01" + TEXT + "\n" + PETER_SIG,
    new Uint8Array([0xff, ...utf8(TEXT + "\n" + PETER_SIG)]),
    TEXT + "\n" +
    "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
    TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    TEXT + "\n" + "— PeterNeumann \n",
    TEXT + "\n" + "— PeterNeumann AAAA\n",
    TEXT + "\r\n" + PETER_SIG,
    "\ud800" + TEXT + "\n" + PETER_SIG,
  ];
  for (const msg of bad) {
    await assert.rejects(openNote(msg, [peter]), rule("malformed-note"), JSON.stringify(msg));
  }
});

Deno.test("Go TestNewVerifier: every substring and every single-byte mangling is rejected", () => {
  assert.equal(parseVerifierKey(PETER_VKEY).name, "PeterNeumann");
  for (let i = 0; i <= PETER_VKEY.length; i++) {
    for (let j = i + 1; j <= PETER_VKEY.length; j++) {
      if (i === 0 && j === PETER_VKEY.length) continue;
      assert.throws(() => parseVerifierKey(PETER_VKEY.slice(i, j)), NoteError, `[${i}:${j}]`);
    }
  }
  for (let i = 0; i < PETER_VKEY.length; i++) {
    const k = PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) +
      PETER_VKEY.slice(i + 1);
    assert.throws(() => parseVerifierKey(k), NoteError, k);
  }
  // Wrong key length and unknown algorithm, each with an adjusted key hash.
  assert.throws(
    () =>
      parseVerifierKey(
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
      ),
    rule("malformed-key"),
  );
  assert.throws(
    () => parseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
    rule("unknown-algorithm"),
  );
  // As served over HTTP (text/plain with a final newline).
  assert.equal(parseVerifierKey(PETER_VKEY + "\n").keyId, 0xc74f20a3);
});

Deno.test("Go TestNewSigner: substrings and manglings of the signer key are rejected", async () => {
  const seen: string[] = [];
  for (let i = 0; i <= PETER_SKEY.length; i += 3) {
    for (let j = i + 1; j <= PETER_SKEY.length; j += 2) {
      if (i === 0 && j === PETER_SKEY.length) continue;
      seen.push(PETER_SKEY.slice(i, j));
    }
  }
  for (let i = 0; i < PETER_SKEY.length; i++) {
    seen.push(
      PETER_SKEY.slice(0, i) + String.fromCharCode(PETER_SKEY.charCodeAt(i) + 1) +
        PETER_SKEY.slice(i + 1),
    );
  }
  for (const k of seen) await assert.rejects(parseSignerKey(k), NoteError, k);
});

Deno.test("signer secrets never appear in JSON or inspection", async () => {
  const signer = await parseSignerKey(PETER_SKEY);
  const seedB64 = PETER_SKEY.split("+").at(-1)!;
  assert.ok(!JSON.stringify(signer).includes(seedB64.slice(4, 20)));
  assert.ok(!Deno.inspect(signer).includes(seedB64.slice(4, 20)));
  assert.ok(Deno.inspect(signer).includes(PETER_VKEY));
  // Error messages for a bad signer key do not echo it.
  try {
    await parseSignerKey(PETER_SKEY.replace("PeterNeumann", "Peter+Neumann"));
    assert.fail("accepted");
  } catch (e) {
    assert.ok(e instanceof NoteError);
    assert.ok(!e.message.includes(seedB64.slice(4, 20)));
  }
});

Deno.test("signNote rejects text Go could not open, and invalid names", async () => {
  const signer = await Ed25519NoteSigner.generate("example.com/log");
  await assert.rejects(signNote("no newline", [signer]), rule("malformed-note"));
  await assert.rejects(signNote("tab\there\n", [signer]), rule("malformed-note"));
  await assert.rejects(signNote("\ud800\n", [signer]), rule("malformed-note"));
  await assert.rejects(Ed25519NoteSigner.generate("has space"), rule("invalid-name"));
  await assert.rejects(Ed25519NoteSigner.generate("a+b"), rule("invalid-name"));
  await assert.rejects(Ed25519NoteSigner.generate(""), rule("invalid-name"));
  for (const name of ["a\u00a0b", "a\u2003b", "a\u3000b", "a\nb"]) assert.ok(!isValidKeyName(name));
  assert.ok(isValidKeyName("regledger.local/log"));
  assert.ok(isValidKeyName("ünïcode.example/λ"));
});

Deno.test("property: random texts sign and open; any change to text or signature is caught", async () => {
  const signer = await Ed25519NoteSigner.generate("example.com/log");
  const other = await Ed25519NoteSigner.generate("witness.example");
  const verifier = signer.verifier();
  const lineArb = fc.string({ unit: "grapheme", maxLength: 30 }).map((s) =>
    // deno-lint-ignore no-control-regex
    s.replace(/[\x00-\x1f]/g, "")
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(lineArb, { minLength: 1, maxLength: 5 }),
      fc.nat(),
      async (lines, c) => {
        const text = lines.join("\n") + "\n";
        const msg = await signNote(text, [signer, other]);
        const n = await openNote(msg, [verifier]);
        assert.equal(n.text, text);
        assert.equal(n.sigs.length, 1);
        assert.equal(n.unverifiedSigs.length, 1);
        // Change one character of the text (keeping it well formed).
        const i = c % text.length;
        const changed = text.slice(0, i) + (text[i] === "x" ? "y" : "x") + text.slice(i + 1);
        if (changed.endsWith("\n") && changed !== text) {
          await assert.rejects(
            openNote(changed + msg.slice(text.length), [verifier]),
            (e: unknown) => e instanceof NoteError,
          );
        }
      },
    ),
    { numRuns: 60 },
  );
  // A flipped signature byte is an invalid signature, not an ignored one.
  const msg = await signNote("hello\n", [signer]);
  const line = msg.split("\n")[2];
  const b64 = line.split(" ")[2];
  const raw = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  raw[10] ^= 1;
  const forged = msg.replace(b64, toBase64(raw));
  await assert.rejects(openNote(forged, [verifier]), rule("invalid-signature"));
});

Deno.test("a verifier for the same name but another key ignores the signature", async () => {
  const a = await Ed25519NoteSigner.generate("example.com/log");
  const b = await Ed25519NoteSigner.generate("example.com/log");
  const msg = await signNote("x\n", [a]);
  await assert.rejects(openNote(msg, [b.verifier()]), rule("unverified-note"));
  const custom: NoteVerifier = {
    name: "example.com/log",
    keyId: a.keyId,
    verify: () => Promise.resolve(false),
  };
  await assert.rejects(openNote(msg, [custom]), rule("invalid-signature"));
});
