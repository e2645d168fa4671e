/**
 * `regledger ledger append --server URL --wait witnessed` against a real
 * server (`startServer` with `witnessing`) and two real HTTP witnesses: the
 * receipt it writes passes `proof verify --policy` with a policy naming the
 * two witnesses, and fails one naming a witness that never cosigned. Also
 * the `serve --witness*` and `--wait` usage errors.
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { startServer } from "../../server/serve.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { witnessEndpoints } from "../../ledger/witness/client.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { signedEnvelope, testKeys, TOKENS, writeTrustFile } from "../server/_helpers.ts";
import { startTestWitness } from "../server/_witness.ts";
import { runCli } from "./_capture.ts";
import { openNote } from "../../ledger/note.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { startWitness } from "../../server/witness/serve.ts";

Deno.test("ledger append --wait witnessed: a receipt cosigned by both witnesses, accepted by proof verify --policy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-cli-witnessed-" });
  const p = (f: string) => `${dir}/${f}`;
  // The log key exists before the witnesses are told about it (as in a real setup).
  const ledger = await openLedger({ dataDir: p("data") });
  const logKey = ledger.verifierKey;
  await ledger.close();
  const w1 = await startTestWitness("regulator.example/witness", [logKey]);
  // The independent witness is a real one (startWitness) cosigning with Ed25519 and ML-DSA-44.
  const w2 = await startWitness({
    dataDir: p("witness"),
    name: "independent.example/witness",
    logs: [logKey],
  });
  const [w2ed, w2pq] = w2.verifierKeys;
  assert.ok(w2pq !== undefined && parseNoteVerifierKey(w2pq).type === 0x06);
  await writeTrustFile(p("trust.json"));
  const server = await startServer({
    port: 0,
    dataDir: p("data"),
    trustedKeys: p("trust.json"),
    config: { ...DEFAULT_CONFIG, apiKeys: testKeys(), rateLimit: null },
    signals: false,
    status: () => {},
    witnessing: {
      witnesses: witnessEndpoints([w1.arg, `${w2.url}=${w2ed}`, `${w2.url}=${w2pq}`]),
      quorum: 2,
    },
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    await Deno.writeTextFile(p("e.json"), JSON.stringify(await signedEnvelope(7)));
    const r = await runCli(
      "ledger",
      "append",
      "--server",
      url,
      "--token",
      TOKENS["ledger:append"],
      "-i",
      p("e.json"),
      "--wait",
      "witnessed",
      "--receipt",
      p("r.txt"),
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const receipt = JSON.parse(r.stdout);
    assert.equal(receipt.existing, false);
    assert.equal(await Deno.readTextFile(p("r.txt")), receipt.tlog_proof);

    const policy = `# the regulator's policy
log ${logKey} ${url}
witness regulator ${w1.vkey} ${w1.url}
witness independent ${w2pq} ${w2.url}
group both all regulator independent
quorum both
`;
    await Deno.writeTextFile(p("regulator.policy"), policy);
    const verify = (policyFile: string) =>
      runCli(
        "proof",
        "verify",
        "--proof",
        p("r.txt"),
        "--policy",
        policyFile,
        "--envelope",
        p("e.json"),
      );
    const ok = await verify(p("regulator.policy"));
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).policy.witnesses, ["regulator", "independent"]);
    // Both of the independent witness's cosignatures are on the receipt's checkpoint.
    for (const k of [w2ed, w2pq]) {
      await openNote(receipt.checkpoint, [parseNoteVerifierKey(k).verifier]);
    }

    const stranger = await Ed25519CosignatureSigner.generate("stranger.example/witness");
    await Deno.writeTextFile(
      p("stranger.policy"),
      `log ${logKey}\nwitness stranger ${stranger.verifierKey()}\nquorum stranger\n`,
    );
    const bad = await verify(p("stranger.policy"));
    assert.equal(bad.code, 1);
    assert.equal(JSON.parse(bad.stdout).reason, "policy-quorum");

    // --wait makes no sense for a local data directory, and has one value.
    const local = await runCli(
      "ledger",
      "append",
      "--data",
      p("x"),
      "-i",
      p("e.json"),
      "--wait",
      "witnessed",
    );
    assert.equal(local.code, 2);
    assert.match(local.stderr, /--wait applies only with --server/);
    const forever = await runCli(
      "ledger",
      "append",
      "--server",
      url,
      "--token",
      TOKENS["ledger:append"],
      "-i",
      p("e.json"),
      "--wait",
      "forever",
    );
    assert.equal(forever.code, 2);
    assert.match(forever.stderr, /--wait must be 'witnessed'/);
  } finally {
    await server.shutdown();
    await w1.close();
    await w2.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger append --wait witnessed: the server's 504 is printed with its receipt, exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-cli-witnessed-" });
  const ledger = await openLedger({ dataDir: `${dir}/data` });
  const logKey = ledger.verifierKey;
  await ledger.close();
  const w = await startTestWitness("down.example/witness", [logKey]);
  w.fault = () => new Response("maintenance\n", { status: 503 });
  await writeTrustFile(`${dir}/trust.json`);
  const server = await startServer({
    port: 0,
    dataDir: `${dir}/data`,
    trustedKeys: `${dir}/trust.json`,
    config: { ...DEFAULT_CONFIG, apiKeys: testKeys(), rateLimit: null },
    signals: false,
    status: () => {},
    witnessing: { witnesses: witnessEndpoints([w.arg]), waitTimeoutMs: 300 },
  });
  try {
    await Deno.writeTextFile(`${dir}/e.json`, JSON.stringify(await signedEnvelope(8)));
    const r = await runCli(
      "ledger",
      "append",
      "--server",
      `http://127.0.0.1:${server.addr.port}`,
      "--token",
      TOKENS["ledger:append"],
      "-i",
      `${dir}/e.json`,
      "--wait",
      "witnessed",
    );
    assert.equal(r.code, 1, r.stderr);
    const body = JSON.parse(r.stdout);
    assert.equal(body.reason, "NotWitnessed");
    assert.equal(body.receipt.index, 0);
  } finally {
    await server.shutdown();
    await w.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --witness: bad values are usage errors naming the part", async () => {
  const w = await Ed25519CosignatureSigner.generate("w.example/one");
  const vkey = w.verifierKey();
  const cases: [string[], RegExp][] = [
    [["--witness", "http://127.0.0.1:1"], /wants URL=VKEY/],
    [["--witness", `127.0.0.1:1=${vkey}`], /is not a URL/],
    [["--witness", "http://127.0.0.1:1=nonsense"], /not a verifier key/],
    [["--witness", `http://127.0.0.1:1=${vkey}`, "--witness-quorum", "2"], /from 1 to 1/],
    [["--witness", `http://127.0.0.1:1=${vkey}`, "--witness-quorum", "two"], /positive integer/],
    [["--witness-quorum", "1"], /need at least one --witness/],
    [
      ["--witness", `http://127.0.0.1:1=${vkey}`, "--witness-timeout", "30000"],
      /below REGLEDGER_REQUEST_TIMEOUT_MS/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await runCli("serve", "--port", "0", "--data", "/nonexistent-never-created", ...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, re, args.join(" "));
  }
});
