/**
 * The log's side of tlog-witness (ledger/witness/client.ts): `--witness
 * URL=VKEY` parsing and each kind of `add-checkpoint` answer, with answers
 * made by the pure witness decision (`decideAddCheckpoint`) over a split
 * view of a test log.
 */
import assert from "node:assert/strict";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import {
  cosignatureLines,
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  parseAddCheckpointRequest,
  type WitnessLogState,
} from "../../ledger/witness/add_checkpoint.ts";
import {
  parseWitnessArg,
  readAddCheckpointResponse,
  WitnessConfigError,
  witnessEndpoints,
  witnessQuorum,
} from "../../ledger/witness/client.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { MlDsa44NoteSigner } from "../../ledger/witness/mldsa.ts";
import { ORIGIN, TestLog } from "./_log.ts";

Deno.test("parseWitnessArg: split at the first '=', URL and key checked with messages naming the part", async () => {
  const w = await Ed25519CosignatureSigner.generate("w.example/one");
  const vkey = w.verifierKey();
  const p = parseWitnessArg(`https://w.example/one/=${vkey}`);
  assert.equal(p.url, "https://w.example/one");
  assert.equal(p.key.vkey, vkey);
  assert.equal(parseWitnessArg(`http://127.0.0.1:7380=${vkey}`).url, "http://127.0.0.1:7380");

  const refuses = (arg: string, re: RegExp) =>
    assert.throws(
      () => parseWitnessArg(arg),
      (e) => e instanceof WitnessConfigError && re.test(e.message),
    );
  refuses("https://w.example/one", /wants URL=VKEY/);
  refuses(`w.example/one=${vkey}`, /is not a URL/);
  refuses(`ftp://w.example=${vkey}`, /http or https/);
  refuses(`https://user:pw@w.example=${vkey}`, /credentials/);
  refuses(`https://w.example/?a=${vkey}`, /query or fragment/);
  refuses("https://w.example=not-a-key", /not a verifier key/);
  refuses(`https://w.example=${vkey.slice(0, -4)}AAA=`, /not a verifier key/);
  const log = await Ed25519NoteSigner.generate("log.example");
  refuses(`https://w.example=${log.verifierKey()}`, /type 0x01 \(an Ed25519 note key/);
  // ML-DSA-44 witness keys are accepted; their base64 ends in '=': the split is at the first '='.
  const pq = MlDsa44NoteSigner.generate("w.example/pq");
  assert.ok(pq.verifierKey().endsWith("="));
  const parsed = parseWitnessArg(`https://w.example=${pq.verifierKey()}`);
  assert.equal(parsed.key.type, 0x06);
  assert.equal(parsed.key.vkey, pq.verifierKey());
});

Deno.test("witnessEndpoints groups keys by URL, refuses repeated keys and names; witnessQuorum is 1..n", async () => {
  const ed = await Ed25519CosignatureSigner.generate("w.example/one");
  const pq = MlDsa44NoteSigner.generate("w.example/one");
  const other = await Ed25519CosignatureSigner.generate("w.example/two");
  const ws = witnessEndpoints([
    `http://127.0.0.1:1=${ed.verifierKey()}`,
    `http://127.0.0.1:1/=${pq.verifierKey()}`,
    `http://127.0.0.1:2=${other.verifierKey()}`,
  ]);
  assert.equal(ws.length, 2);
  assert.equal(ws[0].keys.length, 2);
  assert.equal(ws[0].name, "w.example/one");
  assert.throws(
    () => witnessEndpoints([`http://a=${ed.verifierKey()}`, `http://b=${ed.verifierKey()}`]),
    /given twice/,
  );
  const sameName = await Ed25519CosignatureSigner.generate("w.example/one");
  assert.throws(
    () => witnessEndpoints([`http://a=${ed.verifierKey()}`, `http://b=${sameName.verifierKey()}`]),
    /each witness needs its own name/,
  );
  assert.equal(witnessQuorum(undefined, 3), 3);
  assert.equal(witnessQuorum(2, 3), 2);
  assert.throws(() => witnessQuorum(4, 3), /from 1 to 3/);
  assert.throws(() => witnessQuorum(0, 3), /from 1 to 3/);
  assert.throws(() => witnessQuorum(1, 0), /needs at least one --witness/);
});

async function answer(
  log: TestLog,
  oldSize: number,
  state: WitnessLogState | undefined,
  witness: Ed25519CosignatureSigner,
) {
  const cp = await log.checkpoint();
  const body = formatAddCheckpointRequest(oldSize, await log.proof(oldSize), cp);
  const d = await decideAddCheckpoint(
    parseAddCheckpointRequest(body),
    { origin: ORIGIN, verifiers: log.signers.map((s) => (s as Ed25519NoteSigner).verifier()) },
    state,
    [witness],
  );
  return { cp, d };
}

Deno.test("readAddCheckpointResponse: cosigned, conflict, split view (422 and 409 at the sent size), refusals, unavailable", async () => {
  const logKey = await Ed25519NoteSigner.generate(ORIGIN);
  const witness = await Ed25519CosignatureSigner.generate("w.example/one");
  const keys = [parseNoteVerifierKey(witness.verifierKey())];
  const log = await new TestLog([logKey]).grow(5);
  const read = (
    d: { status: number; contentType: string; body: string },
    old: number,
    cp: string,
  ) =>
    readAddCheckpointResponse(
      { status: d.status, contentType: d.contentType, body: d.body },
      old,
      cp,
      keys,
    );

  // 200: the cosignature line, verified.
  const first = await answer(log, 0, undefined, witness);
  const ok = await read(first.d, 0, first.cp);
  assert.equal(ok.kind, "cosigned");
  assert.equal(ok.kind === "cosigned" && ok.lines.length, 1);
  const state = first.d.status === 200 ? first.d.newState : undefined;

  // 409 with the witness's size: the log asks again from it.
  await log.grow(3);
  const stale = await answer(log, 0, state, witness);
  assert.deepEqual(await read(stale.d, 0, stale.cp), { kind: "conflict", witnessSize: 5 });
  const again = await answer(log, 5, state, witness);
  assert.equal((await read(again.d, 5, again.cp)).kind, "cosigned");

  // A fork of the first 3 entries grown to 8: the proof from 5 is refused (422).
  const fork = await (await log.fork(3)).grow(5, "other");
  const forked = await answer(fork, 5, state, witness);
  assert.equal(forked.d.status, 422);
  const sv = await read(forked.d, 5, forked.cp);
  assert.equal(sv.kind, "split-view");
  assert.match(
    sv.kind === "split-view" ? sv.message : "",
    /refused the consistency proof from size 5/,
  );
  // 409 naming the very size sent: another root at that size.
  const same = await readAddCheckpointResponse(
    { status: 409, contentType: "text/x.tlog.size", body: "8\n" },
    8,
    forked.cp,
    keys,
  );
  assert.equal(same.kind, "split-view");
  // A 409 without the size body is malformed.
  const bad409 = await readAddCheckpointResponse(
    { status: 409, contentType: "text/plain", body: "8\n" },
    0,
    forked.cp,
    keys,
  );
  assert.equal(bad409.kind === "refused" && bad409.reason, "malformed");

  for (
    const [status, reason] of [[404, "unknown-log"], [403, "bad-signature"], [
      400,
      "malformed",
    ]] as const
  ) {
    const r = await readAddCheckpointResponse(
      { status, contentType: "text/plain", body: "nope\u0000\n" },
      0,
      first.cp,
      keys,
    );
    assert.equal(r.kind, "refused");
    assert.equal(r.kind === "refused" && r.reason, reason);
    assert.ok(r.kind === "refused" && !r.message.includes("\u0000"), "control bytes stripped");
  }
  for (const status of [500, 503, 429, 302]) {
    const r = await readAddCheckpointResponse(
      { status, contentType: null, body: "" },
      0,
      first.cp,
      keys,
    );
    assert.equal(r.kind, "unavailable");
  }

  // 200 but the cosignature is by an impostor key of the same name, or for another checkpoint.
  const impostor = await Ed25519CosignatureSigner.generate("w.example/one");
  const text = first.cp.slice(0, first.cp.indexOf("\n\n") + 1);
  const forged = await readAddCheckpointResponse(
    { status: 200, contentType: "text/plain", body: await cosignatureLines(text, [impostor]) },
    0,
    first.cp,
    keys,
  );
  assert.equal(forged.kind === "refused" && forged.reason, "bad-cosignature");
  const other = await readAddCheckpointResponse(
    { status: 200, contentType: "text/plain", body: ok.kind === "cosigned" ? ok.lines[0] : "" },
    0,
    again.cp,
    keys,
  );
  assert.equal(other.kind === "refused" && other.reason, "bad-cosignature");
  assert.match(other.kind === "refused" ? other.message : "", /does not verify/);
  const junk = await readAddCheckpointResponse(
    { status: 200, contentType: "text/plain", body: "hello\n" },
    0,
    first.cp,
    keys,
  );
  assert.equal(junk.kind === "refused" && junk.reason, "bad-cosignature");
});
