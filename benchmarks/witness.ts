/**
 * Witness and post-quantum signature rates, each beside a raw Ed25519
 * baseline measured in the same run with interleaved rounds, rates from the
 * median round (the machine is shared: the ratios are the figures that mean
 * something).
 *
 * - `add-checkpoint` decisions per second (ledger/witness/add_checkpoint.ts,
 *   pure: parse the request, verify the log's signature, verify the
 *   consistency proof against the stored root, cosign), for an Ed25519
 *   witness, for an Ed25519 + ML-DSA-44 witness (the spec's SHOULD; with the
 *   default and with the liboqs ML-DSA engine), and for
 *   a dual-signed log checkpoint, beside raw Web Crypto Ed25519 sign+verify
 *   (the two signature operations a witness cannot avoid).
 *   Goal (issue 13): a witness handles ≥ 1,000 add-checkpoint/s.
 * - ML-DSA-44 checkpoint sign / verify (ledger/witness/mldsa.ts,
 *   @noble/post-quantum) beside raw Ed25519 sign / verify, and liboqs's
 *   ML-DSA-44 (WebAssembly) on the same message for comparison.
 *
 * Run: deno run --allow-read --allow-write=benchmarks/results benchmarks/witness.ts [--quick]
 * Writes benchmarks/results/witness.json.
 *
 * @module
 */
import { utf8 } from "../core/bytes.ts";
import { signCheckpoint } from "../ledger/checkpoint.ts";
import { MemoryHashStore, proveTree, treeHash } from "../ledger/merkle/mod.ts";
import { Ed25519NoteSigner, type NoteSigner } from "../ledger/note.ts";
import {
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  parseAddCheckpointRequest,
  type WitnessLog,
} from "../ledger/witness/add_checkpoint.ts";
import { Ed25519CosignatureSigner } from "../ledger/witness/cosignature.ts";
import { MlDsa44NoteSigner, MlDsa44NoteVerifier, subtreeMessage } from "../ledger/witness/mldsa.ts";
import { createMLDSA44 } from "@oqs/liboqs-js";
import { createLiboqsMlDsa44Engine } from "../ledger/witness/mldsa_liboqs.ts";
import { median } from "./_paired.ts";

const quick = Deno.args.includes("--quick");
const ROUNDS = quick ? 10 : 100;
const BLOCK_MS = quick ? 2 : 6;
const OLD = quick ? 4_000 : 100_000;
const NEW = quick ? 5_001 : 123_457;
const ORIGIN = "bench.example/log";

// The log: a tree of NEW leaves, the witness holds the checkpoint at OLD.
const store = new MemoryHashStore();
// Leaf hashes only matter as distinct values here: random ones are enough.
await store.appendLeafHashes(
  Array.from({ length: NEW }, () => crypto.getRandomValues(new Uint8Array(32))),
);
const oldRoot = await treeHash(OLD, store);
const newRoot = await treeHash(NEW, store);
const proof = await proveTree(NEW, OLD, store);

const logEd = await Ed25519NoteSigner.generate(ORIGIN);
const logPq = MlDsa44NoteSigner.generate(ORIGIN);
const wEd = await Ed25519CosignatureSigner.generate("bench.example/witness");
const wPq = MlDsa44NoteSigner.generate("bench.example/witness");
const liboqsEngine = await createLiboqsMlDsa44Engine();
const wPqFast = MlDsa44NoteSigner.generate("bench.example/witness", { engine: liboqsEngine });
const cp = { origin: ORIGIN, size: NEW, root: newRoot };
const signedEd = await signCheckpoint(cp, [logEd]);
const signedDual = await signCheckpoint(cp, [logEd, logPq]);
const bodyEd = formatAddCheckpointRequest(OLD, proof, signedEd);
const bodyDual = formatAddCheckpointRequest(OLD, proof, signedDual);
const logOnlyEd: WitnessLog = { origin: ORIGIN, verifiers: [logEd.verifier()] };
const logDual: WitnessLog = { origin: ORIGIN, verifiers: [logEd.verifier(), logPq.verifier()] };
const logDualFast: WitnessLog = {
  origin: ORIGIN,
  verifiers: [logEd.verifier(), new MlDsa44NoteVerifier(ORIGIN, logPq.publicKey, liboqsEngine)],
};
const state = { size: OLD, root: oldRoot };
const text = signedEd.slice(0, signedEd.lastIndexOf("\n\n") + 1);
const textBytes = utf8(text) as Uint8Array<ArrayBuffer>;

const pair = await crypto.subtle.generateKey("Ed25519", false, ["sign", "verify"]) as CryptoKeyPair;
const rawSig = new Uint8Array(await crypto.subtle.sign("Ed25519", pair.privateKey, textBytes));
const pqSig = await logPq.sign(textBytes);
const pqVerifier = logPq.verifier();
// liboqs (C compiled to WebAssembly) as a second ML-DSA-44 implementation
// over the same cosigned_message, to show what the pure-JS one costs.
const oqs = await createMLDSA44();
const oqsKeys = oqs.generateKeyPair();
const pqMessage = subtreeMessage({
  cosignerName: ORIGIN,
  timestamp: 1n,
  origin: ORIGIN,
  start: 0,
  end: NEW,
  hash: newRoot,
});
const oqsSig = oqs.sign(pqMessage, oqsKeys.secretKey);

async function decide(body: string, log: WitnessLog, cosigners: NoteSigner[]) {
  const d = await decideAddCheckpoint(parseAddCheckpointRequest(body), log, state, cosigners);
  if (d.status !== 200) throw new Error(`decision ${d.status}: ${d.body}`);
}

const ops: Record<string, () => Promise<unknown>> = {
  raw_ed25519_sign_verify: async () => {
    await crypto.subtle.verify("Ed25519", pair.publicKey, rawSig, textBytes);
    await crypto.subtle.sign("Ed25519", pair.privateKey, textBytes);
  },
  add_checkpoint_ed25519: () => decide(bodyEd, logOnlyEd, [wEd]),
  add_checkpoint_ed25519_mldsa: () => decide(bodyEd, logOnlyEd, [wEd, wPq]),
  add_checkpoint_ed25519_mldsa_liboqs: () => decide(bodyEd, logOnlyEd, [wEd, wPqFast]),
  add_checkpoint_dual_log_ed25519: () => decide(bodyDual, logDual, [wEd]),
  add_checkpoint_dual_log_liboqs_ed25519: () => decide(bodyDual, logDualFast, [wEd]),
  raw_ed25519_sign: () => crypto.subtle.sign("Ed25519", pair.privateKey, textBytes),
  raw_ed25519_verify: () => crypto.subtle.verify("Ed25519", pair.publicKey, rawSig, textBytes),
  cosign_ed25519_v1: () => wEd.sign(textBytes),
  mldsa44_sign: () => logPq.sign(textBytes),
  mldsa44_verify: () => pqVerifier.verify(textBytes, pqSig),
  liboqs_mldsa44_sign: () => Promise.resolve(oqs.sign(pqMessage, oqsKeys.secretKey)),
  liboqs_mldsa44_verify: () => Promise.resolve(oqs.verify(pqMessage, oqsSig, oqsKeys.publicKey)),
};

// Sanity: every op succeeds before it is timed.
for (const f of Object.values(ops)) await f();
if (!(await pqVerifier.verify(textBytes, pqSig))) throw new Error("ML-DSA-44 setup");
if (!oqs.verify(pqMessage, oqsSig, oqsKeys.publicKey)) throw new Error("liboqs setup");

// Interleaved rounds: every round times a block of calls of every op in turn, so
// each figure and its baseline share the machine's load. The rate is taken
// from the MEDIAN round, not the total: ML-DSA-44 allocates a lot, and the
// garbage collection it triggers lands in whichever op runs next; a median
// keeps those pauses from being charged to the Ed25519 baselines.
const perCall: Record<string, number[]> = Object.fromEntries(
  Object.keys(ops).map((k) => [k, []]),
);
// Each op gets enough calls per round for a ~BLOCK_MS block, so that timer
// granularity does not distort fast ops.
const calls: Record<string, number> = {};
for (const [name, f] of Object.entries(ops)) {
  const start = performance.now();
  for (let i = 0; i < 20; i++) await f();
  const each = (performance.now() - start) / 20;
  calls[name] = Math.max(1, Math.round(BLOCK_MS / Math.max(each, 0.001)));
}
const order = Object.entries(ops);
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, f] of r % 2 ? [...order].reverse() : order) {
    const n = calls[name];
    const start = performance.now();
    for (let i = 0; i < n; i++) await f();
    perCall[name].push((performance.now() - start) / n);
  }
}
const rates = Object.fromEntries(Object.keys(ops).map((k) => [k, 1000 / median(perCall[k])]));
const ratio = (op: string, base: string) => rates[op] / rates[base];

const rows: { figure: string; per_s: number; baseline: string; ratio: number; goal?: number }[] = [
  {
    figure: "raw Web Crypto Ed25519 verify+sign",
    per_s: rates.raw_ed25519_sign_verify,
    baseline: "-",
    ratio: 1,
  },
  {
    figure: "add-checkpoint, Ed25519 log, Ed25519 cosignature",
    per_s: rates.add_checkpoint_ed25519,
    baseline: "raw verify+sign",
    ratio: ratio("add_checkpoint_ed25519", "raw_ed25519_sign_verify"),
  },
  {
    figure: "add-checkpoint, Ed25519 log, Ed25519 + ML-DSA-44 cosignatures",
    per_s: rates.add_checkpoint_ed25519_mldsa,
    baseline: "raw verify+sign",
    ratio: ratio("add_checkpoint_ed25519_mldsa", "raw_ed25519_sign_verify"),
  },
  {
    figure: "add-checkpoint, Ed25519 log, Ed25519 + ML-DSA-44 (liboqs engine) cosignatures",
    per_s: rates.add_checkpoint_ed25519_mldsa_liboqs,
    baseline: "raw verify+sign",
    ratio: ratio("add_checkpoint_ed25519_mldsa_liboqs", "raw_ed25519_sign_verify"),
  },
  {
    figure: "add-checkpoint, dual-signed log (both verified), Ed25519 cosignature",
    per_s: rates.add_checkpoint_dual_log_ed25519,
    baseline: "raw verify+sign",
    ratio: ratio("add_checkpoint_dual_log_ed25519", "raw_ed25519_sign_verify"),
  },
  {
    figure: "add-checkpoint, dual-signed log (ML-DSA verified by liboqs), Ed25519 cosignature",
    per_s: rates.add_checkpoint_dual_log_liboqs_ed25519,
    baseline: "raw verify+sign",
    ratio: ratio("add_checkpoint_dual_log_liboqs_ed25519", "raw_ed25519_sign_verify"),
  },
  { figure: "raw Web Crypto Ed25519 sign", per_s: rates.raw_ed25519_sign, baseline: "-", ratio: 1 },
  {
    figure: "cosignature/v1 Ed25519 sign",
    per_s: rates.cosign_ed25519_v1,
    baseline: "raw sign",
    ratio: ratio("cosign_ed25519_v1", "raw_ed25519_sign"),
  },
  {
    figure: "ML-DSA-44 checkpoint sign (hedged)",
    per_s: rates.mldsa44_sign,
    baseline: "raw sign",
    ratio: ratio("mldsa44_sign", "raw_ed25519_sign"),
  },
  {
    figure: "liboqs (WASM) ML-DSA-44 sign, same message (comparison)",
    per_s: rates.liboqs_mldsa44_sign,
    baseline: "raw sign",
    ratio: ratio("liboqs_mldsa44_sign", "raw_ed25519_sign"),
  },
  {
    figure: "raw Web Crypto Ed25519 verify",
    per_s: rates.raw_ed25519_verify,
    baseline: "-",
    ratio: 1,
  },
  {
    figure: "ML-DSA-44 checkpoint verify",
    per_s: rates.mldsa44_verify,
    baseline: "raw verify",
    ratio: ratio("mldsa44_verify", "raw_ed25519_verify"),
  },
  {
    figure: "liboqs (WASM) ML-DSA-44 verify, same message (comparison)",
    per_s: rates.liboqs_mldsa44_verify,
    baseline: "raw verify",
    ratio: ratio("liboqs_mldsa44_verify", "raw_ed25519_verify"),
  },
];
const ADD_GOAL = 1000;
const goals = [
  "add_checkpoint_ed25519",
  "add_checkpoint_ed25519_mldsa",
  "add_checkpoint_ed25519_mldsa_liboqs",
  "add_checkpoint_dual_log_ed25519",
  "add_checkpoint_dual_log_liboqs_ed25519",
].map((op) => ({
  goal: `${op} >= ${ADD_GOAL}/s`,
  per_s: Math.round(rates[op]),
  met: rates[op] >= ADD_GOAL,
}));

console.log(
  `witness benchmark (${quick ? "quick" : "full"}): ${ROUNDS} rounds × ~${BLOCK_MS} ms blocks, ` +
    `proof ${OLD} → ${NEW} (${proof.length} hashes)`,
);
console.log(`${"figure".padEnd(80)} ${"per s".padStart(9)}  ${"baseline".padEnd(16)} ratio`);
for (const r of rows) {
  console.log(
    `${r.figure.padEnd(80)} ${Math.round(r.per_s).toString().padStart(9)}  ${
      r.baseline.padEnd(16)
    } ${r.ratio.toFixed(3)}`,
  );
}
for (const g of goals) console.log(`goal ${g.goal}: ${g.per_s}/s ${g.met ? "met" : "NOT met"}`);

oqs.destroy();
liboqsEngine.destroy();
await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(
  new URL("./results/witness.json", import.meta.url),
  JSON.stringify(
    {
      benchmark: "witness",
      date: new Date().toISOString(),
      quick,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      os: Deno.build.os,
      arch: Deno.build.arch,
      rounds: ROUNDS,
      rate_from: "median round",
      calls_per_op_per_round: calls,
      consistency_proof: { old_size: OLD, new_size: NEW, hashes: proof.length },
      rates_per_s: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(v)])),
      figures: rows.map((r) => ({ ...r, per_s: Math.round(r.per_s), ratio: +r.ratio.toFixed(3) })),
      goals,
    },
    null,
    2,
  ) + "\n",
);
