/**
 * Tests of ledger/witness/add_checkpoint.ts: the C2SP tlog-witness
 * `add-checkpoint` codec and the witness decision, every status code of the
 * spec, and split views (two logs sharing one key: same size with another
 * root; a fork that grows past the witness's size).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { toBase64 } from "../../core/bytes.ts";
import { signCheckpoint } from "../../ledger/checkpoint.ts";
import { EMPTY_TREE_HASH } from "../../ledger/merkle/mod.ts";
import { Ed25519NoteSigner, NoteError, type NoteSigner, openNote } from "../../ledger/note.ts";
import {
  type AddCheckpointDecision,
  AddCheckpointFormatError,
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  mergeCosignatures,
  originHash,
  parseAddCheckpointRequest,
  parseConflictBody,
  TLOG_SIZE_CONTENT_TYPE,
  verifyCosignatureResponse,
  type WitnessLog,
  type WitnessLogState,
} from "../../ledger/witness/add_checkpoint.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { MlDsa44NoteSigner } from "../../ledger/witness/mldsa.ts";
import { ORIGIN, TestLog } from "./_log.ts";

const logKey = await Ed25519NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(1));
const logPq = MlDsa44NoteSigner.fromSeed(ORIGIN, new Uint8Array(32).fill(2));
const wEd = await Ed25519CosignatureSigner.fromSeed(
  "witness.example/w1",
  new Uint8Array(32).fill(3),
  {
    clock: () => 1700000000,
  },
);
const wPq = MlDsa44NoteSigner.fromSeed("witness.example/w1", new Uint8Array(32).fill(4), {
  clock: () => 1700000000,
});
const LOG: WitnessLog = { origin: ORIGIN, verifiers: [logKey.verifier()] };
const LOG_BOTH: WitnessLog = { origin: ORIGIN, verifiers: [logKey.verifier(), logPq.verifier()] };

/** A witness holding its state in a variable, as the server would in KV. */
class Witness {
  state: WitnessLogState | undefined;
  constructor(readonly log: WitnessLog = LOG, readonly cosigners: NoteSigner[] = [wEd]) {}
  async add(oldSize: number, proof: Uint8Array[], cp: string): Promise<AddCheckpointDecision> {
    const req = parseAddCheckpointRequest(formatAddCheckpointRequest(oldSize, proof, cp));
    const d = await decideAddCheckpoint(req, this.log, this.state, this.cosigners);
    if (d.status === 200) this.state = d.newState;
    return d;
  }
  /** What an honest client does: send from the witness's size with a proof from it. */
  async submit(log: TestLog): Promise<AddCheckpointDecision> {
    const old = this.state?.size ?? 0;
    return await this.add(old, await log.proof(old), await log.checkpoint());
  }
}

function status(d: AddCheckpointDecision, s: number, reason?: string) {
  assert.equal(d.status, s, `${d.status} ${d.body}`);
  if (reason !== undefined && d.status !== 200) assert.equal(d.reason, reason);
}

Deno.test("request codec: the spec's example shape round-trips", async () => {
  const log = await new TestLog([logKey]).grow(9);
  const cp = await log.checkpoint();
  const proof = await log.proof(5);
  const body = formatAddCheckpointRequest(5, proof, cp);
  assert.ok(body.startsWith(`old 5\n${toBase64(proof[0])}\n`));
  assert.ok(body.includes(`\n\n${ORIGIN}\n9\n`));
  const req = parseAddCheckpointRequest(new TextEncoder().encode(body));
  assert.equal(req.oldSize, 5);
  assert.deepEqual(req.proof, proof);
  assert.equal(req.signedCheckpoint, cp);
  assert.equal(req.checkpoint.size, 9);
  assert.equal(req.text, cp.slice(0, cp.lastIndexOf("\n\n") + 1));
  assert.throws(() => formatAddCheckpointRequest(-1, [], cp), RangeError);
  assert.throws(() => formatAddCheckpointRequest(0, Array(64).fill(proof[0]), cp), RangeError);
});

Deno.test("request codec: malformed bodies are 400s with a named rule", async () => {
  const cp = await new TestLog([logKey]).checkpoint();
  const h = toBase64(new Uint8Array(32));
  const bad = [
    "",
    `${cp}`,
    `old\n\n${cp}`,
    `old 01\n\n${cp}`,
    `old -1\n\n${cp}`,
    `old 1 \n\n${cp}`,
    `Old 1\n\n${cp}`,
    `old 99999999999999999\n\n${cp}`,
    `old 1\n${h}`,
    `old 1\n${h}\n${cp}`,
    `old 1\nnot-base64!\n\n${cp}`,
    `old 1\n${toBase64(new Uint8Array(31))}\n\n${cp}`,
    `old 1\n${(h + "\n").repeat(64)}\n${cp}`,
    `old 0\n\n${ORIGIN}\n0\n`,
    `old 0\n\nnot\na checkpoint\n\n— x AAAA\n`,
  ];
  for (const b of bad) {
    assert.throws(() => parseAddCheckpointRequest(b), AddCheckpointFormatError, JSON.stringify(b));
  }
  assert.throws(
    () => parseAddCheckpointRequest(new Uint8Array([0x6f, 0x6c, 0x64, 0x20, 0x30, 0x0a, 0xff])),
    AddCheckpointFormatError,
  );
  // 63 proof lines are allowed.
  const ok = parseAddCheckpointRequest(`old 1\n${(h + "\n").repeat(63)}\n${cp}`);
  assert.equal(ok.proof.length, 63);
});

Deno.test("200: first checkpoint from old 0, then growth with proofs; cosignatures verify", async () => {
  const log = await new TestLog([logKey]).grow(5);
  const w = new Witness(LOG, [wEd, wPq]);
  const d1 = await w.submit(log);
  status(d1, 200);
  assert.equal(w.state?.size, 5);
  assert.deepEqual(w.state?.root, await log.root());
  if (d1.status !== 200) return;
  assert.equal(d1.body.split("\n").filter((l) => l.startsWith("— witness.example/w1 ")).length, 2);
  const lines = await verifyCosignatureResponse(await log.checkpoint(), d1.body, [
    wEd.verifier(),
    wPq.verifier(),
  ]);
  assert.equal(lines.length, 2);
  const opened = await openNote(d1.cosignedCheckpoint, [
    logKey.verifier(),
    wEd.verifier(),
    wPq.verifier(),
  ]);
  assert.equal(opened.sigs.length, 3);
  for (const n of [6, 7, 8, 16, 17, 100]) {
    await log.grow(n - log.size);
    status(await w.submit(log), 200);
    assert.equal(w.state?.size, n);
  }
});

Deno.test("200: resubmitting the cosigned checkpoint (old = size, same root) cosigns again", async () => {
  const log = await new TestLog([logKey]).grow(4);
  const w = new Witness();
  status(await w.submit(log), 200);
  const again = await w.add(4, [], await log.checkpoint());
  status(again, 200);
  assert.equal(w.state?.size, 4);
  status(await w.add(0, [], await new TestLog([logKey]).checkpoint()), 409, "conflict");
});

Deno.test("200: the empty tree (size 0, empty-tree root) from old 0", async () => {
  const w = new Witness();
  status(await w.submit(new TestLog([logKey])), 200);
  assert.equal(w.state?.size, 0);
  assert.deepEqual(w.state?.root, EMPTY_TREE_HASH);
});

Deno.test("404: a checkpoint for an origin the witness does not know", async () => {
  const other = await Ed25519NoteSigner.generate("other.example/log");
  const log = await new TestLog([other], "other.example/log").grow(3);
  const req = parseAddCheckpointRequest(formatAddCheckpointRequest(0, [], await log.checkpoint()));
  status(await decideAddCheckpoint(req, undefined, undefined, [wEd]), 404, "unknown-log");
  status(await decideAddCheckpoint(req, LOG, undefined, [wEd]), 404, "unknown-log");
});

Deno.test("403: unsigned by a known key, signed by an impostor, or a bad known signature", async () => {
  const impostor = await Ed25519NoteSigner.generate(ORIGIN);
  const w = new Witness();
  status(await w.submit(await new TestLog([impostor]).grow(3)), 403, "bad-signature");
  const log = await new TestLog([logKey]).grow(3);
  const cp = await log.checkpoint();
  const sigAt = cp.lastIndexOf(" ") + 10;
  const flipped = cp.slice(0, sigAt) + (cp[sigAt] === "A" ? "B" : "A") + cp.slice(sigAt + 1);
  status(await w.add(0, [], flipped), 403, "bad-signature");
  // A valid log signature beside a bad one by another known key is still refused.
  const pqLog = await new TestLog([logKey, logPq]).grow(3);
  const both = await pqLog.checkpoint();
  const lines = both.split("\n");
  const pqLine = lines.findIndex((l) => l.length > 2000);
  lines[pqLine] = lines[pqLine].slice(0, 100) + (lines[pqLine][100] === "A" ? "B" : "A") +
    lines[pqLine].slice(101);
  status(await new Witness(LOG_BOTH).add(0, [], lines.join("\n")), 403);
  status(await new Witness(LOG_BOTH).add(0, [], both), 200);
  assert.equal(w.state, undefined, "nothing was cosigned");
});

Deno.test("400: old size above the checkpoint size", async () => {
  const log = await new TestLog([logKey]).grow(3);
  status(await new Witness().add(4, [], await log.checkpoint()), 400, "malformed");
});

Deno.test("409: old size is not the witness's size; the body is that size", async () => {
  const log = await new TestLog([logKey]).grow(10);
  const w = new Witness();
  const never = await w.add(5, await log.proof(5), await log.checkpoint());
  status(never, 409, "conflict");
  assert.equal(never.body, "0\n");
  assert.equal(never.contentType, TLOG_SIZE_CONTENT_TYPE);
  status(await w.add(0, [], await log.checkpoint(8)), 200);
  const behind = await w.add(5, await log.proof(5), await log.checkpoint());
  status(behind, 409);
  assert.equal(parseConflictBody(behind.body), 8);
  if (behind.status !== 200) assert.equal(behind.witnessSize, 8);
  // Rolling back: an older checkpoint claiming to start from its own size.
  status(await w.add(3, [], await log.checkpoint(3)), 409);
  assert.equal(w.state?.size, 8);
  // A client that learned the size from the 409 succeeds.
  status(await w.add(8, await log.proof(8), await log.checkpoint()), 200);
  assert.throws(() => parseConflictBody("8"), AddCheckpointFormatError);
  assert.throws(() => parseConflictBody("08\n"), AddCheckpointFormatError);
});

Deno.test("422: size 0 with a non-empty root, a proof from 0, a wrong proof", async () => {
  const w = new Witness();
  const zero = await signCheckpoint({ origin: ORIGIN, size: 0, root: new Uint8Array(32) }, [
    logKey,
  ]);
  status(await w.add(0, [], zero), 422, "bad-proof");
  const log = await new TestLog([logKey]).grow(6);
  status(await w.add(0, [new Uint8Array(32)], await log.checkpoint()), 422, "bad-proof");
  status(await w.add(0, [], await log.checkpoint(4)), 200);
  const proof = await log.proof(4);
  for (let i = 0; i < proof.length; i++) {
    const bad = proof.map((h) => h.slice());
    bad[i][0] ^= 1;
    status(await w.add(4, bad, await log.checkpoint()), 422, "bad-proof");
  }
  status(await w.add(4, proof.slice(1), await log.checkpoint()), 422);
  status(await w.add(4, [...proof, proof[0]], await log.checkpoint()), 422);
  assert.equal(w.state?.size, 4);
  status(await w.add(4, proof, await log.checkpoint()), 200);
});

Deno.test("split view at the same size: two roots for size N, only the first is cosigned", async () => {
  const a = await new TestLog([logKey]).grow(5);
  const b = await a.fork();
  await a.grow(3, "a");
  await b.grow(3, "b");
  assert.notDeepEqual(await a.root(), await b.root());
  const w = new Witness();
  status(await w.add(5, await a.proof(5), await a.checkpoint()), 409);
  status(await w.submit(a), 200);
  const sameSize = await w.add(8, [], await b.checkpoint());
  status(sameSize, 422, "bad-proof");
  const fromFork = await w.add(5, await b.proof(5), await b.checkpoint());
  status(fromFork, 409);
  assert.equal(parseConflictBody(fromFork.body), 8);
  assert.deepEqual(w.state?.root, await a.root());
});

Deno.test("split view at a later size: the fork grows past the witness and is refused", async () => {
  const a = await new TestLog([logKey]).grow(8);
  const w = new Witness();
  status(await w.submit(a), 200);
  const b = await a.fork(6);
  await b.grow(10, "b"); // b: 6 shared leaves, then its own; size 16.
  await a.grow(4, "a"); // a: size 12.
  // b's honest proof from 8 is a proof between b's own trees, not from the witness's root.
  status(await w.add(8, await b.proof(8), await b.checkpoint()), 422, "bad-proof");
  status(await w.add(8, await a.proof(8, 12), await b.checkpoint()), 422);
  status(await w.submit(a), 200);
  assert.equal(w.state?.size, 12);
  const later = await w.add(12, await b.proof(12), await b.checkpoint());
  status(later, 422);
  assert.deepEqual(w.state?.root, await a.root(12));
});

Deno.test("property: honest growth is always cosigned; any corrupted proof hash never is", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 40 }),
      fc.nat(),
      async (m, extra, pick) => {
        const log = await new TestLog([logKey]).grow(m);
        const w = new Witness();
        status(await w.submit(log), 200);
        await log.grow(extra);
        const proof = await log.proof(m);
        if (proof.length > 0) {
          const bad = proof.map((h) => h.slice());
          bad[pick % bad.length][pick % 32] ^= 1 << (pick % 8);
          status(await w.add(m, bad, await log.checkpoint()), 422);
          assert.equal(w.state?.size, m);
        }
        status(await w.add(m, proof, await log.checkpoint()), 200);
        assert.equal(w.state?.size, m + extra);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("verifyCosignatureResponse: drops unknown keys, rejects bad cosignatures and non-lines", async () => {
  const log = await new TestLog([logKey]).grow(3);
  const cp = await log.checkpoint();
  const w = new Witness(LOG, [wEd, wPq]);
  const d = await w.submit(log);
  if (d.status !== 200) throw new Error("not cosigned");
  assert.equal((await verifyCosignatureResponse(cp, d.body, [wEd.verifier()])).length, 1);
  await assert.rejects(verifyCosignatureResponse(cp, d.body, [logPq.verifier()]), NoteError);
  const at = d.body.indexOf("\n") - 5; // inside the first line's base64
  const tampered = d.body.slice(0, at) + (d.body[at] === "A" ? "B" : "A") + d.body.slice(at + 1);
  await assert.rejects(
    verifyCosignatureResponse(cp, tampered, [wEd.verifier(), wPq.verifier()]),
    NoteError,
  );
  for (const bad of ["", "hello\n", d.body.trimEnd()]) {
    await assert.rejects(
      verifyCosignatureResponse(cp, bad, [wEd.verifier()]),
      AddCheckpointFormatError,
    );
  }
});

Deno.test("originHash: lowercase hex SHA-256 of the origin line (monitoring path)", () => {
  const want = Array.from(
    nobleSha256(new TextEncoder().encode(ORIGIN)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  assert.equal(originHash(ORIGIN), want);
  assert.match(originHash("x"), /^[0-9a-f]{64}$/);
});

Deno.test("fuzz: any body either parses or is an AddCheckpointFormatError (never a 5xx)", async () => {
  const log = await new TestLog([logKey]).grow(7);
  const valid = formatAddCheckpointRequest(3, await log.proof(3), await log.checkpoint());
  const w = new Witness();
  w.state = { size: 3, root: await log.root(3) };
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string(),
        fc.uint8Array({ maxLength: 400 }),
        fc.tuple(fc.nat(valid.length), fc.nat(valid.length), fc.string({ maxLength: 8 })).map(
          ([a, b, s]) => valid.slice(0, Math.min(a, b)) + s + valid.slice(Math.max(a, b)),
        ),
      ),
      async (body) => {
        let req;
        try {
          req = parseAddCheckpointRequest(body);
        } catch (e) {
          assert.ok(e instanceof AddCheckpointFormatError, String(e));
          return;
        }
        const d = await decideAddCheckpoint(req, LOG, w.state, [wEd]);
        assert.ok([200, 400, 403, 404, 409, 422].includes(d.status));
        if (d.status === 200) assert.equal(body, valid, "only the untouched body is cosigned");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("mergeCosignatures: two witnesses' lines join the log's checkpoint once each", async () => {
  const log = await new TestLog([logKey]).grow(5);
  const cp = await log.checkpoint();
  const w1 = new Witness(LOG, [wEd]);
  const w2Key = await Ed25519CosignatureSigner.generate("witness.example/w2");
  const w2 = new Witness(LOG, [w2Key]);
  const d1 = await w1.submit(log);
  const d2 = await w2.submit(log);
  if (d1.status !== 200 || d2.status !== 200) throw new Error("not cosigned");
  const l1 = await verifyCosignatureResponse(cp, d1.body, [wEd.verifier()]);
  const l2 = await verifyCosignatureResponse(cp, d2.body, [w2Key.verifier()]);
  const merged = mergeCosignatures(mergeCosignatures(cp, l1), [...l2, ...l1]);
  assert.equal(merged.split("\n").filter((l) => l.startsWith("— ")).length, 3);
  const opened = await openNote(merged, [logKey.verifier(), wEd.verifier(), w2Key.verifier()]);
  assert.equal(opened.sigs.length, 3);
  assert.equal(mergeCosignatures(cp, []), cp);
  assert.throws(() => mergeCosignatures(cp, ["hello"]), AddCheckpointFormatError);
  assert.throws(() => mergeCosignatures(cp, ["— a b\n— c d"]), AddCheckpointFormatError);
});
