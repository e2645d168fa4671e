/**
 * Keeps docs/formats.md true (1 of 4): every marked block of the worked
 * example equals what the real code computes (docs/_gen_formats_example.ts),
 * so a format change in core/ or ledger/ fails here until the document is
 * regenerated; the prose's constants and canonical-form rules hold.
 */
import assert from "node:assert/strict";
import {
  buildFormatsExample,
  extractBlocks,
  renderBlocks,
} from "../../docs/_gen_formats_example.ts";
import { runAudit } from "../../core/audit/index.ts";
import { canonicalize } from "../../core/jcs.ts";
import { type LosslessJsonValue, parseJsonText } from "../../core/json_text.ts";
import { pythonDumps } from "../../core/python_json.ts";
import { b64, block, blocks, doc, hex, kvGet, sha } from "./_formats.ts";

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
