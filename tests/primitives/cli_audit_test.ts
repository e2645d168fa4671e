/**
 * `regledger audit` end to end: keygen → audit → verify --strict against the
 * keygen trust-store entry; a changed result is HashMismatch; bad input
 * exits 2 naming the field and the rule.
 */
import assert from "node:assert/strict";
import { UsageError } from "../../cli/io.ts";
import { run as audit } from "../../cli/commands/audit.ts";
import { run as keygen } from "../../cli/commands/keygen.ts";
import { run as verify } from "../../cli/commands/verify.ts";
import { PRIMITIVES } from "../../core/envelope_types.ts";
import { captureIO as capture } from "../cli/_capture.ts";

/** Run a command like cli/main.ts does: UsageError → exit 2 with the message on stderr. */
async function cli(cmd: typeof audit, args: string[], isTerminal = false) {
  const io = capture(isTerminal);
  let code: number;
  try {
    code = await cmd(args, io);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err += e.message + "\n";
    code = 2;
  }
  return { code, out: io.out, err: io.err };
}

const fixtures = JSON.parse(
  await Deno.readTextFile(
    new URL("../fixtures/regaudit-fhe/primitives.json", import.meta.url),
  ),
) as { cases: Record<string, { input: unknown; result: unknown }[]> };

/**
 * A temporary directory with a keygen'd key and its trust store, removed when
 * the test ends (`await using`): no private key is left behind in /tmp.
 */
async function workspace() {
  const dir = await Deno.makeTempDir({ prefix: "regledger-audit-test-" });
  const keyFile = `${dir}/acme.key.pem`;
  const trustFile = `${dir}/trust.json`;
  const kg = await cli(keygen, ["--issuer", "acme", "--key-id", "acme-2026-11", "-o", keyFile]);
  assert.equal(kg.code, 0, kg.err);
  await Deno.writeTextFile(trustFile, kg.out);
  return {
    dir,
    keyFile,
    trustFile,
    async writeInput(name: string, value: unknown): Promise<string> {
      const path = `${dir}/${name}.json`;
      await Deno.writeTextFile(path, JSON.stringify(value));
      return path;
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("cli audit: every primitive's envelope verifies --strict against the keygen trust store", async () => {
  await using ws = await workspace();
  const { dir, keyFile, trustFile, writeInput } = ws;
  for (const p of PRIMITIVES) {
    const input = await writeInput(p, fixtures.cases[p][4].input);
    const out = `${dir}/${p}.envelope.json`;
    const r = await cli(audit, [
      p,
      "-i",
      input,
      "-o",
      out,
      "--key",
      keyFile,
      "--key-id",
      "acme-2026-11",
      "--issuer",
      "acme",
    ]);
    assert.equal(r.code, 0, r.err);
    const env = JSON.parse(await Deno.readTextFile(out));
    assert.equal(env.schema, "regledger.envelope.v1");
    assert.equal(env.primitive, p);
    assert.equal(env.backend, "plaintext");
    assert.equal(env.issuer, "acme");
    assert.equal(env.receipt.key_id, "acme-2026-11");
    assert(env.input_commitments.length >= 2);
    assert(env.depth_budget.consumed <= env.depth_budget.declared);
    const v = await cli(verify, ["-i", out, "--trusted-keys", trustFile, "--strict"]);
    assert.equal(v.code, 0, `${p}: ${v.out}${v.err}`);
    assert.equal(JSON.parse(v.out).valid, true);
  }
});

Deno.test("cli audit: stdout without -o; a changed result is HashMismatch", async () => {
  await using ws = await workspace();
  const { dir, keyFile, trustFile, writeInput } = ws;
  const input = await writeInput("drift-stdout", fixtures.cases.drift[3].input);
  const r = await cli(audit, ["drift", "-i", input, "--key", keyFile, "--key-id", "acme-2026-11"]);
  assert.equal(r.code, 0, r.err);
  const env = JSON.parse(r.out);
  assert.equal(env.issuer, "acme", "the issuer comes from the key file");
  env.result.distance += 0.001;
  const tampered = `${dir}/tampered.json`;
  await Deno.writeTextFile(tampered, JSON.stringify(env));
  const v = await cli(verify, ["-i", tampered, "--trusted-keys", trustFile, "--strict"]);
  assert.equal(v.code, 1);
  assert.equal(JSON.parse(v.out).reason, "HashMismatch");
});

Deno.test("cli audit: DP noises the default fields and signs the dp block", async () => {
  await using ws = await workspace();
  const { dir, keyFile, trustFile, writeInput } = ws;
  const input = await writeInput("fair-dp", fixtures.cases.fairness[5].input);
  const r = await cli(audit, [
    "fairness",
    "-i",
    input,
    "--key",
    keyFile,
    "--key-id",
    "acme-2026-11",
    "--dp-epsilon",
    "1.5",
    "--dp-sensitivity",
    "0.2",
  ]);
  assert.equal(r.code, 0, r.err);
  const env = JSON.parse(r.out);
  assert.deepEqual(Object.keys(env.dp.fields).sort(), [
    "demographic_parity_diff",
    "equal_opportunity_diff",
    "predictive_parity_diff",
  ]);
  assert.equal(env.dp.fields.demographic_parity_diff.epsilon, 0.5);
  const scale = env.dp.fields.demographic_parity_diff.scale;
  assert(scale >= 0.4 && scale < 0.4 * (1 + 1e-5), `scale ${scale}`);
  assert(
    Number.isInteger(
      env.result.demographic_parity_diff / env.dp.fields.demographic_parity_diff.grid,
    ),
  );
  assert.equal(env.dp.accounting.epsilon, 1.5);
  const path = `${dir}/dp.envelope.json`;
  await Deno.writeTextFile(path, r.out);
  assert.equal((await cli(verify, ["-i", path, "--trusted-keys", trustFile, "--strict"])).code, 0);
  const bad = await cli(audit, [
    "fairness",
    "-i",
    input,
    "--key",
    keyFile,
    "--key-id",
    "k",
    "--dp-epsilon",
    "1",
  ]);
  assert.equal(bad.code, 2);
  const gauss = await cli(audit, [
    "fairness",
    "-i",
    input,
    "--key",
    keyFile,
    "--key-id",
    "k",
    "--dp-epsilon",
    "1",
    "--dp-sensitivity",
    "1",
    "--dp-mechanism",
    "gaussian",
  ]);
  assert.equal(gauss.code, 2);
  assert.match(gauss.err, /dp-delta/);
});

Deno.test("cli audit: --dp-dataset signs the dataset in the dp block and is checked", async () => {
  await using ws = await workspace();
  const { dir, keyFile, trustFile, writeInput } = ws;
  const input = await writeInput("drift-dp", fixtures.cases.drift[3].input);
  const args = (dataset: string) => [
    "drift",
    "-i",
    input,
    "--key",
    keyFile,
    "--key-id",
    "acme-2026-11",
    "--dp-epsilon",
    "0.5",
    "--dp-sensitivity",
    "0.1",
    "--dp-dataset",
    dataset,
  ];
  const r = await cli(audit, args("sha256:0f1e2d"));
  assert.equal(r.code, 0, r.err);
  const env = JSON.parse(r.out);
  assert.equal(env.dp.dataset, "sha256:0f1e2d");
  const path = `${dir}/dp-dataset.envelope.json`;
  await Deno.writeTextFile(path, r.out);
  assert.equal((await cli(verify, ["-i", path, "--trusted-keys", trustFile, "--strict"])).code, 0);
  // The dataset is signed: changing it breaks the envelope.
  env.dp.dataset = "sha256:000000";
  await Deno.writeTextFile(path, JSON.stringify(env));
  const v = await cli(verify, ["-i", path, "--trusted-keys", trustFile, "--strict"]);
  assert.equal(v.code, 1);
  assert.equal(JSON.parse(v.out).reason, "HashMismatch");
  for (const bad of ["", "two words", "-leading", "x".repeat(257)]) {
    const b = await cli(audit, args(bad));
    assert.equal(b.code, 2, bad);
    assert.match(b.err, /--dp-dataset/);
  }
  const alone = await cli(audit, [
    "drift",
    "-i",
    input,
    "--key",
    keyFile,
    "--key-id",
    "acme-2026-11",
    "--dp-dataset",
    "ds",
  ]);
  assert.equal(alone.code, 2);
  assert.match(alone.err, /--dp-epsilon/);
});

Deno.test("cli audit: bad input exits 2 naming the field and the rule", async () => {
  await using ws = await workspace();
  const { dir, keyFile, writeInput } = ws;
  const cases: [string, unknown, RegExp][] = [
    [
      "fairness",
      { y_true: [1, 0], y_pred: [1, 1], group_a: [0, 2], group_b: [1, 0] },
      /\/group_a\/1/,
    ],
    [
      "fairness",
      { y_true: [1, 0], y_pred: [1, 1], group_a: [0, 0], group_b: [1, 0] },
      /\/group_a.*non-empty-group/,
    ],
    ["provenance", { attributions: [1], row_ids: [1], n_buckets: 2, k: 3 }, /\/k.*range/],
    ["drift", { p: [0, 0], q: [1, 1] }, /\/p.*non-zero-sum/],
    [
      "disagreement",
      { model_polynomials: [[1, 2, 3, 4], [1, 2, 3, 4]], test_input: [1] },
      /\/model_polynomials/,
    ],
    ["concordance", { risk: [1, 2], time: [1], event: [1, 0] }, /\/time.*same-length/],
  ];
  for (const [p, value, pattern] of cases) {
    const input = await writeInput(`bad-${p}`, value);
    const r = await cli(audit, [p, "-i", input, "--key", keyFile, "--key-id", "acme-2026-11"]);
    assert.equal(r.code, 2, p);
    assert.match(r.err, pattern);
    assert.equal(r.out, "");
  }
  const notJson = `${dir}/not.json`;
  await Deno.writeTextFile(notJson, "{ nope");
  assert.equal(
    (await cli(audit, ["drift", "-i", notJson, "--key", keyFile, "--key-id", "x"])).code,
    2,
  );
  assert.equal(
    (await cli(audit, ["drift", "-i", `${dir}/missing.json`, "--key", keyFile, "--key-id", "x"]))
      .code,
    2,
  );
  assert.equal(
    (await cli(audit, ["nope", "-i", notJson, "--key", keyFile, "--key-id", "x"])).code,
    2,
  );
  assert.equal((await cli(audit, ["drift", "-i", notJson])).code, 2);
  const input = await writeInput("ok", fixtures.cases.drift[2].input);
  assert.equal(
    (await cli(audit, ["drift", "-i", input, "--key", notJson, "--key-id", "x"])).code,
    2,
    "bad key file",
  );
});

Deno.test("cli audit: --schema prints the input schema, --help the usage", async () => {
  const s = await cli(audit, ["provenance", "--schema"]);
  assert.equal(s.code, 0);
  assert.deepEqual(JSON.parse(s.out).json_schema.required, [
    "attributions",
    "row_ids",
    "n_buckets",
    "k",
  ]);
  const h = await cli(audit, ["--help"]);
  assert.equal(h.code, 0);
  assert.match(h.out, /example:/);
});

Deno.test("cli audit --backend ckks: a seal-ckks envelope that verifies --strict", async () => {
  await using ws = await workspace();
  const { dir, keyFile, trustFile, writeInput } = ws;
  const input = await writeInput("drift-ckks", fixtures.cases.drift[5].input);
  const r = await cli(audit, [
    "drift",
    "-i",
    input,
    "--key",
    keyFile,
    "--key-id",
    "acme-2026-11",
    "--backend",
    "ckks",
  ], true);
  assert.equal(r.code, 0, r.err);
  // On a terminal, key generation shows its stages on stderr (and nothing else goes there).
  assert.match(r.err, /^ckks: secret-key \[1\/\d\]\n/);
  assert.match(r.err, /ckks: galois-keys \(\d+ rotation steps\) \[\d\/\d\]\n$/);
  const env = JSON.parse(r.out);
  assert.equal(env.backend, "seal-ckks");
  assert.equal(env.parameter_set.security_bits, 128);
  const expected = fixtures.cases.drift[5].result as { distance: number; w1_distance: number };
  assert(Math.abs(env.result.distance - expected.distance) < 1e-4);
  assert(Math.abs(env.result.w1_distance - expected.w1_distance) < 1e-4);
  const path = `${dir}/ckks.envelope.json`;
  await Deno.writeTextFile(path, r.out);
  assert.equal((await cli(verify, ["-i", path, "--trusted-keys", trustFile, "--strict"])).code, 0);
  const bad = await cli(audit, [
    "drift",
    "-i",
    input,
    "--key",
    keyFile,
    "--key-id",
    "x",
    "--backend",
    "tfhe",
  ]);
  assert.equal(bad.code, 2);
});
