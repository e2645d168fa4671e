/**
 * Keeps docs/formats.md true.
 *
 * 1. Every marked block of the worked example equals what the real code
 *    computes (docs/_gen_formats_example.ts), so a format change in core/ or
 *    ledger/ fails here until the document is regenerated.
 * 2. Every value the document states is recomputed from the document's own
 *    blocks with node:crypto and a separate JCS writer, without regledger's
 *    code, so the document is right by the rules it states, not only equal
 *    to our output.
 * 3. The real ledger, given the example envelopes and log key, stores the
 *    document's leaves and returns the document's checkpoint and receipt.
 * 4. The document's shell commands, run with bash, print its stated output.
 */
import assert from "node:assert/strict";
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from "node:crypto";
import { Buffer } from "node:buffer";
import {
  buildFormatsExample,
  extractBlocks,
  renderBlocks,
} from "../../docs/_gen_formats_example.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { runAudit } from "../../core/audit/index.ts";
import { runCli } from "../cli/_capture.ts";
import { makeEnvelope } from "../ledger/_helpers.ts";
import { canonicalize } from "../../core/jcs.ts";
import { type LosslessJsonValue, parseJsonText } from "../../core/json_text.ts";
import { pythonDumps } from "../../core/python_json.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { verifyEnvelope } from "../../core/verify.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { parseSignerKey, parseVerifierKey } from "../../ledger/note.ts";
import { TlogProofError, verifyTlogProof } from "../../ledger/tlog_proof.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";

const DOC_URL = new URL("../../docs/formats.md", import.meta.url);
const doc = await Deno.readTextFile(DOC_URL);
const blocks = extractBlocks(doc);

function block(id: string): string {
  const b = blocks.get(id);
  assert.ok(b !== undefined, `docs/formats.md has no block example=${id}`);
  return b;
}

/** `key: value` lines of a block. */
function kvBlock(id: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block(id).split("\n")) {
    const i = line.indexOf(": ");
    assert.ok(i > 0, `block ${id}: line without "key: value": ${line}`);
    out.set(line.slice(0, i), line.slice(i + 2));
  }
  return out;
}

function kvGet(id: string, key: string): string {
  const v = kvBlock(id).get(key);
  assert.ok(v !== undefined, `block ${id} has no "${key}"`);
  return v;
}

// ---------------------------------------------------------------------------
// Independent primitives (node:crypto, Buffer, a separate JCS writer).

const sha = (...parts: (Uint8Array | string)[]): Buffer => {
  const h = createHash("sha256");
  for (const p of parts) h.update(typeof p === "string" ? Buffer.from(p, "utf8") : p);
  return h.digest();
};
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const unb64 = (s: string) => {
  const b = Buffer.from(s, "base64");
  assert.equal(b.toString("base64"), s, `not canonical base64: ${s}`);
  return b;
};

/** RFC 8785 for the values of the example: members sorted by UTF-16 code units. */
function jcs(v: unknown): string {
  if (Array.isArray(v)) return "[" + v.map(jcs).join(",") + "]";
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return "{" + Object.keys(o).sort().map((k) => JSON.stringify(k) + ":" + jcs(o[k])).join(",") +
      "}";
  }
  assert.ok(typeof v !== "number" || Number.isFinite(v));
  return JSON.stringify(v);
}

const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");

function keyFromSeedHex(seedHex: string): { priv: KeyObject; pub: KeyObject; raw: Buffer } {
  const priv = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, Buffer.from(seedHex, "hex")]),
    format: "der",
    type: "pkcs8",
  });
  const pub = createPublicKey(priv);
  const der = pub.export({ format: "der", type: "spki" });
  assert.deepEqual(der.subarray(0, 12), SPKI_ED25519);
  return { priv, pub, raw: der.subarray(12) };
}

function pubFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_ED25519, raw]),
    format: "der",
    type: "spki",
  });
}

const leafHashOf = (leaf: string) => sha(new Uint8Array([0]), leaf);
const nodeHashOf = (l: Uint8Array, r: Uint8Array) => sha(new Uint8Array([1]), l, r);

/** RFC 9162 §2.1.3.2 inclusion verification, written out separately from ledger/merkle/verify.ts. */
function inclusionRoot(leafHash: Uint8Array, index: number, size: number, proof: Uint8Array[]) {
  let fn = index, sn = size - 1, r: Uint8Array = leafHash;
  for (const p of proof) {
    assert.ok(sn !== 0, "proof too long");
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHashOf(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHashOf(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  assert.equal(sn, 0, "proof too short");
  return r;
}

// ---------------------------------------------------------------------------
// 1. The document equals what the code computes.

Deno.test("formats.md: every example block is exactly what the code computes", async () => {
  const generated = await buildFormatsExample();
  assert.deepEqual([...blocks.keys()].sort(), [...generated.keys()].sort());
  for (const [id, content] of generated) {
    assert.equal(
      blocks.get(id),
      content,
      `docs/formats.md block example=${id} drifted from the code; regenerate with ` +
        "deno run --allow-read=docs --allow-write=docs docs/_gen_formats_example.ts",
    );
  }
  // Rendering the generated blocks into the document changes nothing.
  assert.equal(renderBlocks(doc, generated), doc);
});

Deno.test("formats.md: the block extractor notices a changed byte", () => {
  const leaf = block("leaf-0");
  const tampered = doc.replace(leaf, leaf.replace('"index":0', '"index":7'));
  assert.notEqual(extractBlocks(tampered).get("leaf-0"), leaf);
  assert.equal(extractBlocks(tampered).size, blocks.size);
  assert.throws(() => extractBlocks(doc + "\n```text example=leaf-0\nx\n```\n"), /twice/);
});

Deno.test("formats.md: constants written in the prose are right", () => {
  // 32 zero bytes, the empty tree's root, and the verifier key in the CLI example.
  assert.ok(doc.includes(b64(new Uint8Array(32))));
  assert.ok(doc.includes(b64(sha())));
  assert.ok(doc.includes("`302a300506032b6570032100`"));
  const vkey = kvGet("log-key", "verifier key");
  const mentions = doc.match(/regledger\.local\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+/g) ?? [];
  assert.ok(mentions.length >= 2);
  for (const m of mentions) assert.equal(m, vkey);
});

Deno.test("formats.md: the canonical-form rules of §1 hold", () => {
  // §1.1 number examples, as JCS writes them.
  for (
    const [input, out] of [["1.0", "1"], ["1e21", "1e+21"], ["0.000001", "0.000001"], [
      "1e-7",
      "1e-7",
    ], ["-0", "0"]]
  ) {
    assert.ok(doc.includes("`" + input + "`"), input);
    assert.equal(canonicalize(JSON.parse(input)), out);
  }
  // §1.2: legacy numbers as received, keys by code point, the same string escapes.
  const legacy = String
    .raw`{"b": 1.0, "\ue000": 1, "\ud83d\ude00": 2, "c": "\u007f\u001f", "a": 1e5}`;
  // Numbers keep their received text; the rest is Python's json.dumps (checked with python3).
  const python = '{"a":1e5,"b":1.0,"c":"\u007f\\u001f","\ue000":1,"\u{1f600}":2}';
  assert.equal(pythonDumps(parseJsonText(legacy)), python);
  // JCS orders the same two keys the other way (UTF-16 code units).
  assert.equal(canonicalize({ "\ue000": 1, "\u{1f600}": 2 }), '{"\u{1f600}":2,"\ue000":1}');
});

Deno.test("formats.md: legacy parameter_set_hash is SHA-256 of the legacy form (fixtures)", async () => {
  const dir = new URL("../fixtures/regaudit-fhe/envelopes/", import.meta.url);
  let n = 0;
  for await (const f of Deno.readDir(dir)) {
    if (!f.name.endsWith("-valid.json")) continue;
    const tree = parseJsonText(await Deno.readTextFile(new URL(f.name, dir))) as {
      [k: string]: LosslessJsonValue;
    };
    assert.equal(tree.schema, "regaudit-fhe.report.v1");
    assert.equal(hex(sha(pythonDumps(tree.parameter_set))), String(tree.parameter_set_hash));
    n++;
  }
  assert.ok(n >= 1);
});

// ---------------------------------------------------------------------------
// 2. Independent recomputation from the document alone.

Deno.test("formats.md: keys and PEM follow from the seeds (node:crypto)", () => {
  const issuer = keyFromSeedHex(kvGet("keys", "issuer seed (hex)"));
  assert.equal(
    kvGet("keys", "issuer seed (hex)"),
    hex(Uint8Array.from({ length: 32 }, (_, i) => i + 1)),
  );
  assert.equal(kvGet("keys", "issuer public key (hex)"), hex(issuer.raw));
  assert.equal(block("issuer-pem") + "\n", issuer.pub.export({ format: "pem", type: "spki" }));
  const log = keyFromSeedHex(kvGet("keys", "log seed (hex)"));
  assert.equal(
    kvGet("keys", "log seed (hex)"),
    hex(Uint8Array.from({ length: 32 }, (_, i) => i + 0x21)),
  );
  assert.equal(kvGet("keys", "log public key (hex)"), hex(log.raw));
});

interface Options {
  inputs: Record<string, unknown>;
  parameterSet: Record<string, unknown>;
  [k: string]: unknown;
}

function checkEnvelopeText(text: string, options: Options, seedHex: string) {
  const env = JSON.parse(text);
  assert.equal(jcs(env), text, "the envelope is not in JCS form");
  const { receipt, ...body } = env;
  assert.equal(env.timestamp, undefined);
  const bodyText = jcs(body);
  // Commitments: hex SHA-256 of JCS({name, value}), sorted by name.
  const names = Object.keys(options.inputs).sort();
  assert.deepEqual(
    body.input_commitments,
    names.map((n) => ({ name: n, sha256: hex(sha(jcs({ name: n, value: options.inputs[n] }))) })),
  );
  assert.equal(body.parameter_set_hash, hex(sha(jcs(options.parameterSet))));
  assert.deepEqual(body.parameter_set, options.parameterSet);
  for (
    const [field, opt] of [
      ["primitive", "primitive"],
      ["backend", "backend"],
      ["issuer", "issuer"],
      ["issued_at", "issuedAt"],
      ["regulations", "regulations"],
      ["result", "result"],
      ["depth_budget", "depthBudget"],
    ]
  ) assert.deepEqual(body[field], options[opt], field);
  assert.equal(body.schema, "regledger.envelope.v1");
  // receipt.sha256 over the body bytes; the signature over the same bytes.
  assert.equal(receipt.sha256, hex(sha(bodyText)));
  assert.equal(receipt.signature_alg, "Ed25519");
  const { priv, pub } = keyFromSeedHex(seedHex);
  const sig = unb64(receipt.signature_b64);
  assert.ok(nodeVerify(null, Buffer.from(bodyText), createPublicKey(receipt.public_key_pem), sig));
  assert.ok(!nodeVerify(null, Buffer.from(receipt.sha256), pub, sig), "signed the digest?");
  // Ed25519 is deterministic: signing again gives the same signature.
  assert.equal(b64(nodeSign(null, Buffer.from(bodyText), priv)), receipt.signature_b64);
  assert.deepEqual(
    Object.keys(receipt).sort(),
    ["key_id", "public_key_pem", "sha256", "signature_alg", "signature_b64"],
  );
  return { env, bodyText };
}

Deno.test("formats.md: commitments, parameter-set hash, body, signature, envelope ids", () => {
  const seed = kvGet("keys", "issuer seed (hex)");
  const options0 = JSON.parse(block("options-0")) as Options;
  const options1 = { ...options0, ...JSON.parse(block("options-1")) } as Options;
  // §7.3 and §7.4: each line is "<hex>  <bytes>", and the bytes are the stated JCS.
  const lines = block("commitments-0").split("\n");
  const names = Object.keys(options0.inputs).sort();
  assert.equal(lines.length, names.length);
  lines.forEach((line, i) => {
    const [h, text] = [line.slice(0, 64), line.slice(66)];
    assert.equal(line.slice(64, 66), "  ");
    assert.equal(text, jcs({ name: names[i], value: options0.inputs[names[i]] }));
    assert.equal(h, hex(sha(text)));
  });
  const ps = block("parameter-set");
  assert.equal(ps.slice(66), jcs(options0.parameterSet));
  assert.equal(ps.slice(0, 64), hex(sha(ps.slice(66))));

  const e0 = checkEnvelopeText(block("envelope-0"), options0, seed);
  const e1 = checkEnvelopeText(block("envelope-1"), options1, seed);
  assert.equal(block("signed-body-0"), e0.bodyText);
  assert.deepEqual(JSON.parse(block("receipt-0")), e0.env.receipt);
  assert.equal(e0.env.receipt.public_key_pem, block("issuer-pem") + "\n");
  assert.equal(e0.env.receipt.key_id, kvGet("keys", "issuer key_id"));
  assert.notEqual(e0.bodyText, e1.bodyText);

  const ids = kvBlock("envelope-ids");
  for (const [i, text] of [[0, block("envelope-0")], [1, block("envelope-1")]] as const) {
    assert.equal(ids.get(`envelope ${i} sha256 (hex)`), hex(sha(text)));
    assert.equal(ids.get(`envelope ${i} sha256 (base64)`), b64(sha(text)));
  }
});

Deno.test("formats.md: leaves, chain, tree, log key, checkpoint, receipt, consistency", () => {
  const env0 = JSON.parse(block("envelope-0"));
  const env1 = JSON.parse(block("envelope-1"));
  const leafFor = (env: typeof env0, text: string, index: number, prev: Uint8Array) =>
    jcs({
      envelope_sha256: b64(sha(text)),
      index,
      issued_at: env.issued_at,
      issuer: env.issuer,
      key_id: env.receipt.key_id,
      prev: b64(prev),
      primitive: env.primitive,
      v: "regledger.leaf.v1",
    });
  const leaf0 = block("leaf-0");
  const leaf1 = block("leaf-1");
  assert.equal(leaf0, leafFor(env0, block("envelope-0"), 0, new Uint8Array(32)));
  const lh0 = leafHashOf(leaf0);
  assert.equal(leaf1, leafFor(env1, block("envelope-1"), 1, lh0));
  const lh1 = leafHashOf(leaf1);
  const root = nodeHashOf(lh0, lh1);
  const tree = kvBlock("tree");
  assert.equal(tree.get("leaf hash 0 (hex)"), hex(lh0));
  assert.equal(tree.get("leaf hash 0 (base64)"), b64(lh0));
  assert.equal(tree.get("leaf hash 1 (hex)"), hex(lh1));
  assert.equal(tree.get("leaf hash 1 (base64)"), b64(lh1));
  assert.equal(tree.get("root of size 1 (base64)"), b64(lh0));
  assert.equal(tree.get("root of size 2 (hex)"), hex(root));
  assert.equal(tree.get("root of size 2 (base64)"), b64(root));

  // Log key: key ID = SHA-256(name || 0x0A || 0x01 || key)[0:4]; Go's verifier-key text.
  const origin = kvGet("keys", "log origin");
  const log = keyFromSeedHex(kvGet("keys", "log seed (hex)"));
  const typed = Buffer.concat([Buffer.from([1]), log.raw]);
  const keyId = sha(origin, "\n", typed).subarray(0, 4);
  assert.equal(kvGet("log-key", "key ID (hex)"), hex(keyId));
  assert.equal(kvGet("log-key", "verifier key"), `${origin}+${hex(keyId)}+${b64(typed)}`);

  // Checkpoint: three lines, blank line, "— name base64(keyID || sig)".
  const cp = block("checkpoint-2") + "\n";
  const text = `${origin}\n2\n${b64(root)}\n`;
  assert.ok(cp.startsWith(text + "\n— "));
  const sigLines = cp.slice(text.length + 1).split("\n").filter((l) => l !== "");
  assert.equal(sigLines.length, 1);
  const [dash, name, sigB64] = sigLines[0].split(" ");
  assert.equal(dash, "\u2014");
  assert.equal(name, origin);
  const raw = unb64(sigB64);
  assert.equal(raw.length, 68);
  assert.deepEqual(raw.subarray(0, 4), keyId);
  assert.ok(nodeVerify(null, Buffer.from(text), pubFromRaw(log.raw), raw.subarray(4)));
  assert.deepEqual(nodeSign(null, Buffer.from(text), log.priv), raw.subarray(4));

  // Receipt: header, extra = leaf 0, index 0, audit path [leaf hash 1], blank, checkpoint.
  const receipt = block("receipt-entry-0") + "\n";
  assert.equal(
    receipt,
    `c2sp.org/tlog-proof@v1\nextra ${b64(Buffer.from(leaf0))}\nindex 0\n${b64(lh1)}\n\n${cp}`,
  );
  assert.deepEqual(inclusionRoot(lh0, 0, 2, [lh1]), root);
  assert.deepEqual(inclusionRoot(lh1, 1, 2, [lh0]), root);
  assert.throws(() => inclusionRoot(lh0, 0, 2, []));

  // Consistency 1 → 2: the old root is leaf hash 0; H(1, old root, proof[0]) is the new root.
  const c = JSON.parse(block("consistency-1-2"));
  assert.deepEqual(c, { first: 1, second: 2, proof: [b64(lh1)] });
  assert.deepEqual(nodeHashOf(lh0, unb64(c.proof[0])), root);
});

// ---------------------------------------------------------------------------
// 3. The real ledger and verifiers agree with the document.

Deno.test("formats.md: the real ledger stores these leaves and returns this receipt", async () => {
  const origin = kvGet("keys", "log origin");
  const signer = await Ed25519NoteSigner.fromSeed(
    origin,
    Buffer.from(kvGet("keys", "log seed (hex)"), "hex"),
  );
  // The signer-key text round-trips through Go's format.
  assert.equal((await parseSignerKey(signer.toSignerKey())).verifierKey(), signer.verifierKey());
  const ledger = await openLedger({ path: ":memory:", origin, logKey: signer });
  try {
    assert.equal(ledger.verifierKey, kvGet("log-key", "verifier key"));
    const env0 = parseEnvelopeText(block("envelope-0"));
    const env1 = parseEnvelopeText(block("envelope-1"));
    const first = await ledger.append(env0);
    assert.equal(first.index, 0);
    assert.equal(first.envelope_sha256, kvGet("envelope-ids", "envelope 0 sha256 (base64)"));
    assert.equal(first.leaf_hash, kvGet("tree", "leaf hash 0 (base64)"));
    assert.deepEqual(first.inclusion_proof, []);
    const second = await ledger.append(env1);
    assert.equal(second.index, 1);
    assert.equal(second.checkpoint, block("checkpoint-2") + "\n");
    const again = await ledger.append(env0);
    assert.equal(again.existing, true);
    assert.equal(again.tlog_proof, block("receipt-entry-0") + "\n");
    assert.equal(await ledger.checkpoint(), block("checkpoint-2") + "\n");
    assert.equal((await ledger.get(0))!.leaf, b64(Buffer.from(block("leaf-0"))));
    assert.equal((await ledger.get(1))!.leaf, b64(Buffer.from(block("leaf-1"))));
    assert.equal((await ledger.get(0))!.envelope, block("envelope-0"));
    assert.deepEqual(await ledger.proveConsistency(1, 2), JSON.parse(block("consistency-1-2")));
  } finally {
    await ledger.close();
  }
});

Deno.test("formats.md: the example verifies, and a changed byte does not", async () => {
  const env0 = parseEnvelopeText(block("envelope-0"));
  const store = TrustStore.fromObject({ [kvGet("keys", "issuer key_id")]: block("issuer-pem") });
  const r = await verifyEnvelope(env0, store);
  assert.equal(r.envelope_sha256, kvGet("envelope-ids", "envelope 0 sha256 (base64)"));
  assert.equal(r.body_sha256, JSON.parse(block("receipt-0")).sha256);
  const receipt = block("receipt-entry-0") + "\n";
  const vkey = kvGet("log-key", "verifier key");
  const ok = await verifyTlogProof(receipt, vkey, {
    envelopeSha256: kvGet("envelope-ids", "envelope 0 sha256 (hex)"),
  });
  assert.equal(ok.index, 0);
  assert.equal(ok.checkpoint.size, 2);
  assert.equal(parseVerifierKey(vkey).name, kvGet("keys", "log origin"));
  // The receipt does not prove envelope 1, and a changed proof hash fails inclusion.
  await assert.rejects(
    () =>
      verifyTlogProof(receipt, vkey, {
        envelopeSha256: kvGet("envelope-ids", "envelope 1 sha256 (hex)"),
      }),
    (e: unknown) => e instanceof TlogProofError && e.rule === "envelope-mismatch",
  );
  const lh1 = kvGet("tree", "leaf hash 1 (base64)");
  const other = kvGet("tree", "root of size 2 (base64)");
  await assert.rejects(
    () => verifyTlogProof(receipt.replace(`\n${lh1}\n`, `\n${other}\n`), vkey),
    (e: unknown) => e instanceof TlogProofError && e.rule === "inclusion",
  );
});

// ---------------------------------------------------------------------------
// 4. The shell commands of §7.10 print what the document says.

async function runBash(script: string, cwd: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `bash failed: ${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

async function has(cmd: string): Promise<boolean> {
  try {
    const r = await new Deno.Command("bash", {
      args: ["-c", `command -v ${cmd}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

Deno.test("formats.md: the shell recomputation prints the stated output", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-formats-" });
  try {
    assert.equal(await runBash(block("shell"), dir), block("shell-output") + "\n");
    assert.equal(await Deno.readTextFile(`${dir}/leaf0.json`), block("leaf-0"));
    assert.equal(await Deno.readTextFile(`${dir}/body0.json`), block("signed-body-0"));
    // The OpenSSL and python3 checks need those tools; where they exist, they must pass.
    const tools = await Promise.all(["openssl", "python3"].map(has));
    if (tools.every(Boolean)) {
      assert.equal(
        await runBash(block("shell-openssl"), dir),
        block("shell-openssl-output") + "\n",
      );
    } else {
      console.warn("openssl or python3 missing: §7.10's second script was not run");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Split a documented command line as a POSIX shell would (single quotes, `\\` continuations). */
function shellWords(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.replaceAll("\\\n", " ").split("\n")) {
    const words: string[] = [];
    for (const m of line.matchAll(/'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2]);
    if (words.length > 0) out.push(words);
  }
  return out;
}

Deno.test("formats.md: the documented regledger commands succeed on the example", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-formats-cli-" });
  // The documented file names, resolved in `dir` (no chdir: the process is shared).
  const files = new Set(["envelope0.json", "trust.json", "receipt0.tlog-proof"]);
  const args = (words: string[]) => words.slice(1).map((w) => files.has(w) ? `${dir}/${w}` : w);
  try {
    await Deno.writeTextFile(`${dir}/envelope0.json`, block("envelope-0"));
    await Deno.writeTextFile(
      `${dir}/trust.json`,
      JSON.stringify({ [kvGet("keys", "issuer key_id")]: block("issuer-pem") + "\n" }),
    );
    await Deno.writeTextFile(`${dir}/receipt0.tlog-proof`, block("receipt-entry-0") + "\n");
    const commands = shellWords(block("cli"));
    assert.equal(commands.length, 2);
    for (const words of commands) {
      assert.equal(words[0], "regledger");
      const r = await runCli(...args(words));
      assert.equal(r.code, 0, `${words.join(" ")}: ${r.stdout} ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).valid, true);
    }
    // The same receipt does not prove envelope 1.
    await Deno.writeTextFile(`${dir}/envelope0.json`, block("envelope-1"));
    const r = await runCli(...args(commands[1]));
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).valid, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("formats.md: the example's options are what the drift primitive produces", () => {
  const o = JSON.parse(block("options-0"));
  const run = runAudit("drift", { p: o.inputs.p, q: o.inputs.q });
  assert.deepEqual(run.input, o.inputs);
  assert.deepEqual(run.result, o.result);
  assert.deepEqual(run.depth, o.depthBudget);
  assert.deepEqual(run.regulations, o.regulations);
  assert.equal(run.backend, o.backend);
  // The plaintext parameter set is release-independent, so pins survive upgrades.
  assert.deepEqual(run.parameterSet, o.parameterSet);
  const o1 = { ...o, ...JSON.parse(block("options-1")) };
  const run1 = runAudit("drift", { p: o1.inputs.p, q: o1.inputs.q });
  assert.deepEqual(run1.input, o1.inputs);
  assert.deepEqual(run1.result, o1.result);
});

/** RFC 6962 §2.1 MTH as §3.3 states it, over leaf byte strings. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return sha(new Uint8Array([0]), leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHashOf(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** RFC 9162 §2.1.4.2 consistency verification, written out separately from ledger/merkle/verify.ts. */
function consistent(n1: number, n2: number, proof: Uint8Array[], r1: Uint8Array, r2: Uint8Array) {
  const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
  if (n1 === n2) return proof.length === 0 && eq(r1, r2);
  const p = (n1 & (n1 - 1)) === 0 ? [r1, ...proof] : [...proof];
  if (p.length === 0) return false;
  let fn = n1 - 1, sn = n2 - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  let fr: Uint8Array = p[0], sr: Uint8Array = p[0];
  for (const c of p.slice(1)) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      fr = nodeHashOf(c, fr);
      sr = nodeHashOf(c, sr);
      while (!(fn & 1) && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = nodeHashOf(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return eq(fr, r1) && eq(sr, r2) && sn === 0;
}

Deno.test("formats.md §3 and §5 by the stated rules: chain, MTH, proofs, for sizes 1..11", async () => {
  const origin = kvGet("keys", "log origin");
  const signer = await Ed25519NoteSigner.fromSeed(
    origin,
    Buffer.from(kvGet("keys", "log seed (hex)"), "hex"),
  );
  const ledger = await openLedger({ path: ":memory:", origin, logKey: signer });
  try {
    const N = 11;
    const leaves: Uint8Array[] = [];
    const roots: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      const env = await makeEnvelope(i);
      const r = await ledger.append(env);
      const leaf = unb64((await ledger.get(i))!.leaf);
      // §3.1/§3.2: the leaf names the envelope's hash, its index, and the previous leaf hash.
      const fields = JSON.parse(new TextDecoder().decode(leaf));
      assert.equal(jcs(fields), new TextDecoder().decode(leaf));
      assert.equal(fields.index, i);
      assert.equal(fields.envelope_sha256, b64(sha(env.canonical)));
      assert.equal(
        fields.prev,
        b64(
          i === 0 ? new Uint8Array(32) : leafHashOf(
            new TextDecoder().decode(leaves[i - 1]),
          ),
        ),
      );
      leaves.push(leaf);
      // §4.1: the checkpoint's third line is MTH of the leaves so far.
      const [o, size, root] = r.checkpoint.split("\n");
      assert.equal(o, origin);
      assert.equal(size, String(i + 1));
      assert.equal(root, b64(mth(leaves)));
      roots.push(unb64(root));
      // §5.1: the receipt's audit path verifies by RFC 9162 §2.1.3.2.
      assert.deepEqual(
        inclusionRoot(sha(new Uint8Array([0]), leaf), i, i + 1, r.inclusion_proof.map(unb64)),
        roots[i],
      );
    }
    for (let n = 1; n <= N; n++) {
      for (let i = 0; i < n; i++) {
        const p = await ledger.proveInclusion(i, n);
        assert.deepEqual(
          inclusionRoot(sha(new Uint8Array([0]), leaves[i]), i, n, p.proof.map(unb64)),
          roots[n - 1],
        );
      }
      for (let m = 1; m <= n; m++) {
        const c = (await ledger.proveConsistency(m, n)).proof.map(unb64);
        assert.ok(consistent(m, n, c, roots[m - 1], roots[n - 1]), `consistency ${m} -> ${n}`);
        if (m < n) assert.ok(!consistent(m, n, c, roots[n - 1], roots[n - 1]));
      }
    }
  } finally {
    await ledger.close();
  }
});
