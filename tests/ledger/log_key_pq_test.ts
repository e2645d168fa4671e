/**
 * The log's ML-DSA-44 checkpoint key (ledger/log_key_pq.ts) and dual-signed
 * checkpoints: made on first append-capable open (0600), never by a
 * read-only one, added to a log made before it existed, and every
 * checkpoint and receipt verifies under each key alone.
 */
import assert from "node:assert/strict";
import { fromBase64, toBase64 } from "../../core/bytes.ts";
import { CheckpointError, openCheckpoint } from "../../ledger/checkpoint.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { LogKeyError } from "../../ledger/log_key.ts";
import {
  loadLogKeyPq,
  loadOrCreateLogKeyPq,
  LOG_KEY_PQ_FILE,
  logKeyPqFromText,
} from "../../ledger/log_key_pq.ts";
import { MemoryStore } from "../../ledger/memory_store.ts";
import { Ed25519NoteSigner, noteKeyId } from "../../ledger/note.ts";
import { verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { MlDsa44NoteSigner, MlDsa44NoteVerifier } from "../../ledger/witness/mldsa.ts";
import { makeEnvelope, tempDir } from "./_helpers.ts";

const ORIGIN = "regledger.local/log";

function assertEquals(a: unknown, b: unknown): void {
  assert.deepStrictEqual(a, b);
}
async function assertRejects(
  f: () => Promise<unknown>,
  c?: new (...a: never[]) => Error,
  includes?: string,
): Promise<void> {
  const e = await f().then(() => undefined, (e) => e);
  assert(e !== undefined, "expected a rejection");
  if (c) assert(e instanceof c, `expected ${c.name}, got ${e}`);
  if (includes) assert((e as Error).message.includes(includes), (e as Error).message);
}

/** The signature lines of a signed note: [name, key ID, signature bytes]. */
function sigLines(note: string): { name: string; keyId: number; sig: Uint8Array }[] {
  const block = note.slice(note.lastIndexOf("\n\n") + 2).trimEnd().split("\n");
  return block.map((l) => {
    const [, name, b64] = l.split(" ");
    const raw = fromBase64(b64);
    const keyId = ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0;
    return { name, keyId, sig: raw.subarray(4) };
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("pq log key: made on first open (0600), reused, listed second; checkpoints carry both", async () => {
  await using t = await tempDir();
  const a = await openLedger({ dataDir: t.dir });
  const st = await Deno.stat(`${t.dir}/${LOG_KEY_PQ_FILE}`);
  assertEquals(st.mode! & 0o777, 0o600);
  const text = await Deno.readTextFile(`${t.dir}/${LOG_KEY_PQ_FILE}`);
  assert.match(text, /^PRIVATE\+KEY\+regledger\.local\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+\n$/);
  assertEquals(a.verifierKeys.length, 2);
  assertEquals(a.verifierKeys[0], a.verifierKey);
  const pq = parseNoteVerifierKey(a.verifierKeys[1]);
  assertEquals(pq.type, 0x06);
  assertEquals(pq.verifier.name, ORIGIN);
  // Key ID rule: SHA-256(name || 0x0A || 0x06 || public key)[:4].
  assertEquals(
    pq.verifier.keyId,
    noteKeyId(ORIGIN, new Uint8Array([0x06, ...pq.publicKey])),
  );
  const r = await a.append(await makeEnvelope(0));
  await a.append(await makeEnvelope(1));
  await a.close();

  const b = await openLedger({ dataDir: t.dir });
  assertEquals(b.verifierKeys, a.verifierKeys);
  const cp = await b.checkpoint();
  const lines = sigLines(cp);
  // Ed25519 first (Go's note), then ML-DSA-44: timestamp (8) + 2420-byte signature.
  assertEquals(lines.length, 2);
  const ed = parseNoteVerifierKey(b.verifierKey).verifier;
  assertEquals(lines[0].keyId, ed.keyId);
  assertEquals(lines[1].keyId, pq.verifier.keyId);
  assertEquals(lines[1].sig.length, 8 + 2420);
  // Each key alone opens it; a wrong ML-DSA key does not.
  assertEquals((await openCheckpoint(cp, ed)).size, 2);
  assertEquals((await openCheckpoint(cp, pq.verifier)).size, 2);
  const both = await openCheckpoint(cp, [ed, pq.verifier]);
  assertEquals(both.note.sigs.length, 2);
  const stranger = MlDsa44NoteSigner.generate(ORIGIN).verifier();
  await assertRejects(() => openCheckpoint(cp, stranger), CheckpointError);
  // A tampered ML-DSA signature fails even beside a good Ed25519 one.
  const pqLine = cp.trimEnd().split("\n").at(-1)!;
  const raw = fromBase64(pqLine.split(" ")[2]);
  raw[4 + 8 + 100] ^= 1;
  const bad = cp.replace(pqLine, `— ${ORIGIN} ${toBase64(raw)}`);
  assert.notEqual(bad, cp);
  await assertRejects(() => openCheckpoint(bad, [ed, pq.verifier]), CheckpointError);
  // The receipt's checkpoint verifies under each key.
  await verifyTlogProof(r.tlog_proof, b.verifierKey);
  await verifyTlogProof(r.tlog_proof, [pq.verifier]);
  assertEquals((await b.verify()).ok, true);
  await b.close();
});

Deno.test("pq log key: a log made before it gets one on the next append-capable open, not a read-only one", async () => {
  await using t = await tempDir();
  const old = await openLedger({ dataDir: t.dir, pqLogKey: false });
  assertEquals(old.verifierKeys, [old.verifierKey]);
  const r0 = await old.append(await makeEnvelope(0));
  assertEquals(sigLines(r0.checkpoint).length, 1);
  await old.close();
  assertEquals(await exists(`${t.dir}/${LOG_KEY_PQ_FILE}`), false);

  // Read-only and audit opens create nothing and sign with what exists.
  for (const o of [{ readOnly: true }, { audit: true }]) {
    const ro = await openLedger({ dataDir: t.dir, ...o });
    assertEquals(ro.verifierKeys, [ro.verifierKey]);
    assertEquals(sigLines(await ro.checkpoint()).length, 1);
    assertEquals((await ro.verify()).ok, true);
    await ro.close();
    assertEquals(await exists(`${t.dir}/${LOG_KEY_PQ_FILE}`), false);
  }

  // The next append-capable open adds the key; the identity (Ed25519) is unchanged.
  const upgraded = await openLedger({ dataDir: t.dir });
  assertEquals(upgraded.verifierKey, old.verifierKey);
  assertEquals(upgraded.verifierKeys.length, 2);
  assertEquals(await exists(`${t.dir}/${LOG_KEY_PQ_FILE}`), true);
  const r1 = await upgraded.append(await makeEnvelope(1));
  assertEquals(sigLines(r1.checkpoint).length, 2);
  const pq = parseNoteVerifierKey(upgraded.verifierKeys[1]).verifier;
  await verifyTlogProof(r1.tlog_proof, [pq]);
  // The old receipt still verifies with the Ed25519 key; it has no ML-DSA signature.
  await verifyTlogProof(r0.tlog_proof, old.verifierKey);
  await assertRejects(() => verifyTlogProof(r0.tlog_proof, [pq]));
  assertEquals((await upgraded.verify()).ok, true);
  await upgraded.close();

  // A read-only open now loads the key and signs the empty-log case with both.
  const ro = await openLedger({ dataDir: t.dir, readOnly: true });
  assertEquals(ro.verifierKeys, upgraded.verifierKeys);
  await ro.close();
});

Deno.test("pq log key: bad files, wrong origin, wrong type and supplied keys", async () => {
  await using t = await tempDir();
  assertEquals(await loadLogKeyPq(t.dir, ORIGIN), null);
  const k = await loadOrCreateLogKeyPq(t.dir, ORIGIN);
  assertEquals((await loadOrCreateLogKeyPq(t.dir, ORIGIN)).verifierKey(), k.verifierKey());
  // Another origin.
  await assertRejects(() => loadLogKeyPq(t.dir, "example.com/other"), LogKeyError);
  // An Ed25519 key in the ML-DSA file.
  const ed = await Ed25519NoteSigner.generate(ORIGIN);
  await assertRejects(
    () => logKeyPqFromText(ed.toSignerKey(), ORIGIN),
    LogKeyError,
    "another type",
  );
  await assertRejects(() => logKeyPqFromText("not a key", ORIGIN), LogKeyError);
  // The error message never holds key material.
  const skey = k.toSignerKey();
  const err = await logKeyPqFromText(skey.replace(/.$/, "!"), ORIGIN).catch((e) => e);
  assert(err instanceof LogKeyError);
  assert(!String(err.message).includes(skey.slice(-20, -1)));
  // Group/world readable: refused.
  await Deno.chmod(`${t.dir}/${LOG_KEY_PQ_FILE}`, 0o644);
  await assertRejects(() => openLedger({ dataDir: t.dir }), LogKeyError, "chmod 600");
  await Deno.chmod(`${t.dir}/${LOG_KEY_PQ_FILE}`, 0o600);

  // Supplied keys: text, a signer, a signer for another origin.
  const log = await Ed25519NoteSigner.generate(ORIGIN);
  const fromText = await openLedger({ store: new MemoryStore(), logKey: log, pqLogKey: skey });
  assertEquals(fromText.verifierKeys[1], k.verifierKey());
  await fromText.close();
  const noPq = await openLedger({ store: new MemoryStore(), logKey: log });
  assertEquals(noPq.verifierKeys.length, 1); // nowhere to keep a key: Ed25519 only
  await noPq.close();
  await assertRejects(
    () =>
      openLedger({
        store: new MemoryStore(),
        logKey: log,
        pqLogKey: MlDsa44NoteSigner.generate("example.com/other"),
      }),
    TypeError,
  );
});

Deno.test("pq log key: concurrent first opens agree on one key", async () => {
  await using t = await tempDir();
  const keys = await Promise.all(
    Array.from({ length: 4 }, () => loadOrCreateLogKeyPq(t.dir, ORIGIN)),
  );
  for (const k of keys) assertEquals(k.verifierKey(), keys[0].verifierKey());
  const names = [];
  for await (const e of Deno.readDir(t.dir)) names.push(e.name);
  assertEquals(names, [LOG_KEY_PQ_FILE]); // no temporary file left behind
  assert(new MlDsa44NoteVerifier(ORIGIN, keys[0].publicKey).keyId === keys[0].keyId);
});
