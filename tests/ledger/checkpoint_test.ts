/** Tests of ledger/checkpoint.ts (C2SP tlog-checkpoint). */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fromBase64, toBase64 } from "../../core/bytes.ts";
import {
  checkCheckpointConsistency,
  type Checkpoint,
  CheckpointError,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpointText,
  signCheckpoint,
} from "../../ledger/checkpoint.ts";
import { leafHash, MemoryHashStore, proveTree, treeHash } from "../../ledger/merkle/mod.ts";
import { Ed25519NoteSigner, NoteError, parseSignerKey, signNote } from "../../ledger/note.ts";

const ORIGIN = "regledger.local/log";

function rule(r: string) {
  return (e: unknown) => e instanceof CheckpointError && e.rule === r;
}

Deno.test("the C2SP spec's example checkpoint text parses to its three fields", () => {
  // https://c2sp.org/tlog-checkpoint, the example at the top of the spec.
  const text =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  const cp = parseCheckpointText(text);
  assert.equal(cp.origin, "example.com/behind-the-sofa");
  assert.equal(cp.size, 20852163);
  assert.equal(toBase64(cp.root), "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  assert.equal(cp.extensions, undefined);
  assert.equal(formatCheckpoint(cp), text);
});

Deno.test("format and parse round-trip, with extension lines", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 52 - 1 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.array(fc.stringMatching(/^[a-z0-9 ./+=-]{1,20}$/), { maxLength: 3 }),
      (size, root, extensions) => {
        const cp: Checkpoint = { origin: ORIGIN, size, root };
        if (extensions.length > 0) cp.extensions = extensions;
        const text = formatCheckpoint(cp);
        assert.deepEqual(parseCheckpointText(text), cp);
        assert.equal(text.split("\n").length, 4 + extensions.length);
      },
    ),
  );
});

Deno.test("malformed checkpoint texts are rejected, naming the line", () => {
  const root = toBase64(new Uint8Array(32).fill(3));
  const bad = [
    `${ORIGIN}\n5\n${root}`, // no final newline
    `${ORIGIN}\n5\n`, // no root
    `\n5\n${root}\n`, // empty origin
    `${ORIGIN}\n05\n${root}\n`, // leading zero
    `${ORIGIN}\n-1\n${root}\n`,
    `${ORIGIN}\n+5\n${root}\n`,
    `${ORIGIN}\n5.0\n${root}\n`,
    `${ORIGIN}\n 5\n${root}\n`,
    `${ORIGIN}\n9007199254740993\n${root}\n`, // beyond 2^52
    `${ORIGIN}\n5\n${root.slice(0, -1)}\n`, // not base64
    `${ORIGIN}\n5\n${toBase64(new Uint8Array(31))}\n`, // 31 bytes
    `${ORIGIN}\n5\n${root.replace("=", "")}\n`, // unpadded
    `${ORIGIN}\n5\n${root}\n\n`, // empty extension line
    `${ORIGIN}\n5\n${root}\next\n\n`,
  ];
  for (const t of bad) {
    assert.throws(() => parseCheckpointText(t), rule("malformed"), JSON.stringify(t));
  }
  assert.equal(parseCheckpointText(`${ORIGIN}\n0\n${root}\n`).size, 0);
  for (
    const cp of [
      { origin: "", size: 1, root: new Uint8Array(32) },
      { origin: "a\nb", size: 1, root: new Uint8Array(32) },
      { origin: ORIGIN, size: -1, root: new Uint8Array(32) },
      { origin: ORIGIN, size: 1.5, root: new Uint8Array(32) },
      { origin: ORIGIN, size: 1, root: new Uint8Array(31) },
      { origin: ORIGIN, size: 1, root: new Uint8Array(32), extensions: [""] },
      { origin: ORIGIN, size: 1, root: new Uint8Array(32), extensions: ["a\nb"] },
    ]
  ) {
    assert.throws(() => formatCheckpoint(cp), rule("malformed"), JSON.stringify(cp));
  }
});

Deno.test("signed checkpoints open with the log key; wrong keys, origins and edits fail", async () => {
  const key = await Ed25519NoteSigner.generate(ORIGIN);
  const other = await Ed25519NoteSigner.generate(ORIGIN);
  const witness = await Ed25519NoteSigner.generate("witness.example/w1");
  const cp: Checkpoint = { origin: ORIGIN, size: 42, root: leafHash(new Uint8Array([1])) };
  const signed = await signCheckpoint(cp, [key, witness]);
  assert.ok(signed.startsWith(formatCheckpoint(cp) + "\n— regledger.local/log "));

  const opened = await openCheckpoint(signed, key.verifier());
  assert.equal(opened.size, 42);
  assert.deepEqual(opened.root, cp.root);
  assert.equal(opened.text, formatCheckpoint(cp));
  assert.equal(opened.note.unverifiedSigs.length, 1);
  // Accepts a verifier list and a key string parsed by the caller.
  await openCheckpoint(signed, [witness.verifier(), key.verifier()], { origin: ORIGIN });

  await assert.rejects(
    openCheckpoint(signed, other.verifier()),
    (e: unknown) => rule("signature")(e) && (e as Error).cause instanceof NoteError,
  );
  await assert.rejects(
    openCheckpoint(signed, key.verifier(), { origin: "other/log" }),
    rule("origin"),
  );
  // The witness alone verifies the note, but the origin is not its name.
  await assert.rejects(openCheckpoint(signed, witness.verifier()), rule("origin"));
  // Any change to the body breaks the signature.
  const edited = signed.replace("\n42\n", "\n43\n");
  await assert.rejects(openCheckpoint(edited, key.verifier()), rule("signature"));
  // A correctly signed note that is not a checkpoint.
  const notCp = await signNote(`${ORIGIN}\nhello\n`, [key]);
  await assert.rejects(openCheckpoint(notCp, key.verifier()), rule("malformed"));
});

Deno.test("a Go-format signer key signs checkpoints (the log key file format)", async () => {
  const skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
  const signer = await parseSignerKey(skey);
  const cp = { origin: "PeterNeumann", size: 1, root: new Uint8Array(32) };
  const signed = await signCheckpoint(cp, [signer]);
  // The body; go_interop_test.ts checks the whole signed text equals what Go writes.
  assert.equal(
    signed.split("\n").slice(0, 4).join("\n"),
    "PeterNeumann\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
  );
  assert.equal((await openCheckpoint(signed, signer.verifier())).size, 1);
});

Deno.test("checkCheckpointConsistency accepts real extensions and rejects forks", async () => {
  const a = new MemoryHashStore();
  const b = new MemoryHashStore();
  for (let i = 0; i < 40; i++) {
    await a.append(new Uint8Array([i]));
    await b.append(new Uint8Array([i < 20 ? i : 200 + i])); // b forks after 20 entries
  }
  const cp = async (s: MemoryHashStore, n: number): Promise<Checkpoint> => ({
    origin: ORIGIN,
    size: n,
    root: await treeHash(n, s),
  });
  const old = await cp(a, 25);
  const newer = await cp(a, 40);
  checkCheckpointConsistency(old, newer, await proveTree(40, 25, a));
  checkCheckpointConsistency(await cp(a, 20), await cp(b, 40), await proveTree(40, 20, b));
  // b's tree of 40 does not extend a's tree of 25.
  await assert.rejects(
    async () => checkCheckpointConsistency(old, await cp(b, 40), await proveTree(40, 25, b)),
    rule("inconsistent"),
  );
  assert.throws(
    () => checkCheckpointConsistency(old, { ...newer, origin: "x/y" }, []),
    rule("origin"),
  );
  assert.throws(() => checkCheckpointConsistency(newer, old, []), rule("inconsistent"));
  assert.deepEqual(fromBase64(toBase64(newer.root)), newer.root);
});
