/**
 * Keeps docs/formats.md true (2 of 4): every value the document states is
 * recomputed from the document's own blocks with node:crypto and a separate
 * JCS writer, without regledger's code, so the document is right by the
 * rules it states, not only equal to our output.
 */
import assert from "node:assert/strict";
import { createPublicKey, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { Buffer } from "node:buffer";
import { makeEnvelope } from "../ledger/_helpers.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import {
  b64,
  block,
  consistent,
  hex,
  inclusionRoot,
  jcs,
  keyFromSeedHex,
  kvBlock,
  kvGet,
  leafHashOf,
  mth,
  nodeHashOf,
  pubFromRaw,
  sha,
  unb64,
} from "./_formats.ts";

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
