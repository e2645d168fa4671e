/**
 * `regledger audit <p> -i FILE.csv|.ndjson`: for every primitive, the same
 * input written as JSON, CSV and NDJSON gives the same result and input
 * commitments; `--schema` names the columns and parameter flags derived from
 * the input schema; bad tables are exit 2 naming the row, line and column.
 */
import assert from "node:assert/strict";
import { PRIMITIVES } from "../../core/envelope_types.ts";
import { getSchema, type SchemaName } from "../../core/schemas.ts";
import { runCli } from "./_capture.ts";

const fixtures = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/regaudit-fhe/primitives.json", import.meta.url)),
) as { cases: Record<string, { input: Record<string, unknown> }[]> };

async function workspace() {
  const dir = await Deno.makeTempDir({ prefix: "regledger-tabular-" });
  const key = `${dir}/k.pem`;
  const kg = await runCli("keygen", "--issuer", "acme", "--key-id", "acme-1", "-o", key);
  assert.equal(kg.code, 0, kg.stderr);
  return { dir, key, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/**
 * The test's own writer (independent of core/tabular.ts): vectors become
 * columns, arrays of rows become NAME.j columns, shorter vectors are padded
 * with empty cells; numbers become flags.
 */
function toTable(input: Record<string, unknown>) {
  const cols: [string, number[]][] = [];
  const flags: string[] = [];
  for (const [k, v] of Object.entries(input)) {
    if (typeof v === "number") flags.push(`--${k.replaceAll("_", "-")}`, String(v));
    else if (Array.isArray((v as unknown[])[0])) {
      for (let j = 0; j < (v as number[][])[0].length; j++) {
        cols.push([`${k}.${j}`, (v as number[][]).map((r) => r[j])]);
      }
    } else cols.push([k, v as number[]]);
  }
  const n = Math.max(...cols.map(([, c]) => c.length));
  const rows = Array.from({ length: n }, (_, i) => cols.map(([, c]) => c[i] ?? null));
  const csv = [cols.map(([k]) => k).join(","), ...rows.map((r) => r.map((x) => x ?? "").join(","))]
    .join("\r\n") + "\r\n";
  const ndjson =
    rows.map((r) => JSON.stringify(Object.fromEntries(cols.map(([k], c) => [k, r[c]]))))
      .join("\n") + "\n";
  return { csv, ndjson, flags };
}

Deno.test("audit CSV/NDJSON: every primitive gives the JSON input's result and commitments", async () => {
  await using ws = await workspace();
  for (const p of PRIMITIVES) {
    for (const c of [2, 4]) {
      const input = fixtures.cases[p][c].input;
      const json = `${ws.dir}/${p}.json`;
      await Deno.writeTextFile(json, JSON.stringify(input));
      const ref = await runCli("audit", p, "-i", json, "--key", ws.key);
      assert.equal(ref.code, 0, `${p} json: ${ref.stderr}`);
      const want = JSON.parse(ref.stdout);
      const t = toTable(input);
      await Deno.writeTextFile(`${ws.dir}/${p}.csv`, t.csv);
      await Deno.writeTextFile(`${ws.dir}/${p}.ndjson`, t.ndjson);
      await Deno.writeTextFile(`${ws.dir}/${p}.txt`, t.csv);
      for (
        const args of [
          [`${ws.dir}/${p}.csv`],
          [`${ws.dir}/${p}.ndjson`],
          [`${ws.dir}/${p}.txt`, "--format", "csv"],
        ]
      ) {
        const r = await runCli("audit", p, "-i", ...args, ...t.flags, "--key", ws.key);
        assert.equal(r.code, 0, `${p} ${args.join(" ")}: ${r.stderr}`);
        const got = JSON.parse(r.stdout);
        assert.deepEqual(got.result, want.result, `${p} ${args[0]}`);
        assert.deepEqual(got.input_commitments, want.input_commitments, `${p} ${args[0]}`);
      }
    }
  }
});

Deno.test("audit --schema: the JSON Schema and, beside it, the columns and flags it implies", async () => {
  for (const p of PRIMITIVES) {
    const r = await runCli("audit", p, "--schema");
    assert.equal(r.code, 0);
    const out = JSON.parse(r.stdout);
    const schema = getSchema(`${p}.input` as SchemaName) as unknown as {
      properties: Record<string, { type?: string }>;
    };
    assert.deepEqual(out.json_schema, schema);
    // Every schema field is a column (or a NAME.j column group) or a parameter flag.
    const fields = new Set([
      ...out.table.columns.map((c: { name: string }) => c.name.replace(/\.\d+$/, "")),
      ...out.table.parameters.map((x: { field: string }) => x.field),
    ]);
    assert.deepEqual([...fields].sort(), Object.keys(schema.properties).sort(), p);
  }
  const fair = JSON.parse((await runCli("audit", "fairness", "--schema")).stdout).table;
  assert.deepEqual(fair.columns.map((c: { name: string }) => c.name), [
    "y_true",
    "y_pred",
    "group_a",
    "group_b",
  ]);
  assert.deepEqual(fair.parameters, [{
    flag: "--threshold",
    field: "threshold",
    type: "number",
    required: false,
    default: 0.1,
  }]);
  const dis = JSON.parse((await runCli("audit", "disagreement", "--schema")).stdout).table;
  assert.deepEqual(dis.columns.map((c: { name: string }) => c.name), [
    "model_polynomials.0",
    "model_polynomials.1",
    "model_polynomials.2",
    "model_polynomials.3",
    "test_input",
  ]);
  const help = await runCli("audit", "--help");
  assert.match(help.stdout, /provenance: +--n-buckets N, --k N/);
});

Deno.test("audit CSV/NDJSON: bad tables are exit 2 naming the row, line and column", async () => {
  await using ws = await workspace();
  const cases: [string, string, string[], RegExp][] = [
    [
      "fairness",
      "y_true,y_pred,group_a\n1,0,1\n",
      [],
      /missing column group_b \(columns: y_true, y_pred, group_a, group_b\)/,
    ],
    ["fairness", "y_true,y_pred,group_a,group_b,age\n1,0,1,0,3\n", [], /unknown column "age"/],
    [
      "fairness",
      "y_true,y_pred,group_a,group_b\n1,0,1,0\n1,x,0,1\n",
      [],
      /row 2 \(line 3\), column y_pred: "x" is not a number/,
    ],
    [
      "fairness",
      "y_true,y_pred,group_a,group_b\n1,0,1,0\n1,0,0\n",
      [],
      /row 2 \(line 3\) has 3 fields; the header has 4/,
    ],
    ["fairness", "1,0,1,0\n0,1,0,1\n", [], /first row must be a header/],
    ["fairness", "", [], /header row is required/],
    ["fairness", 'y_true,y_pred,group_a,group_b\n1,"0,1",0,1\n', [], /"0,1" is not a number/],
    [
      "fairness",
      'y_true,y_pred,group_a,group_b\n1,0,1,"0\n',
      [],
      /line 2: a quoted field is not closed/,
    ],
    [
      "fairness",
      'y_true,y_pred,group_a,group_b\n1,0,1,0"\n',
      [],
      /line 2: a quote inside an unquoted field/,
    ],
    // Schema and primitive rules, mapped back to the table.
    [
      "fairness",
      "y_true,y_pred,group_a,group_b\n1,0,1,0\n1,0,2,0\n",
      [],
      /\/group_a\/1.* at row 2 \(line 3\), column group_a/,
    ],
    [
      "fairness",
      "y_true,y_pred,group_a,group_b\n1,0,1,0\n1,0,,0\n0,1,0,1\n",
      [],
      /row 3 \(line 4\), column group_a: a value after the column ended at row 2/,
    ],
    [
      "fairness",
      "y_true,y_pred,group_a,group_b\n1,0,1,0\n",
      ["--threshold", "2"],
      /\/threshold.* at --threshold/,
    ],
    [
      "fairness",
      "y_true,y_pred,group_a,group_b\n1,0,1,0\n",
      ["--threshold", "lots"],
      /--threshold must be a number/,
    ],
    [
      "fairness",
      "y_true,y_pred,group_a,group_b\n1,0,1,0\n",
      ["--k", "3"],
      /--k does not apply to fairness \(its parameters: --threshold\)/,
    ],
    [
      "provenance",
      "attributions,row_ids\n0.5,1\n",
      ["--k", "1"],
      /--n-buckets is required \(provenance needs --n-buckets, --k\)/,
    ],
    [
      "disagreement",
      "model_polynomials.0,model_polynomials.1,model_polynomials.2,model_polynomials.3,test_input\n1,2,3,4,0.5\n1,2,3,,0.5\n",
      [],
      /columns model_polynomials.0, .*must end at the same row/,
    ],
  ];
  for (const [p, text, flags, pattern] of cases) {
    const file = `${ws.dir}/bad.csv`;
    await Deno.writeTextFile(file, text);
    const r = await runCli("audit", p, "-i", file, ...flags, "--key", ws.key);
    assert.equal(r.code, 2, `${JSON.stringify(text)}: ${r.stdout}`);
    assert.match(r.stderr, pattern, JSON.stringify(text));
    assert.equal(r.stdout, "");
  }
  const nd: [string, RegExp][] = [
    ['{"p":1,"q":2}\n{"p":1}\n', /row 2 \(line 2\) lacks q/],
    ['{"p":1,"q":2}\n{"p":1,"q":2,"r":3}\n', /row 2 \(line 2\) has extra r/],
    ['{"p":1,"q":"2"}\n', /row 1 \(line 1\), column q: "2" is not a number or null/],
    ['{"p":1,"q":2}\n[1,2]\n', /line 2 is not a JSON object/],
    ['{"p":1,"q":2}\n{"p":\n', /line 2 is not JSON/],
  ];
  for (const [text, pattern] of nd) {
    const file = `${ws.dir}/bad.ndjson`;
    await Deno.writeTextFile(file, text);
    const r = await runCli("audit", "drift", "-i", file, "--key", ws.key);
    assert.equal(r.code, 2, text);
    assert.match(r.stderr, pattern, text);
  }
  // Parameter flags belong to tables; JSON carries its own fields.
  await Deno.writeTextFile(`${ws.dir}/d.json`, JSON.stringify(fixtures.cases.drift[2].input));
  const j = await runCli(
    "audit",
    "drift",
    "-i",
    `${ws.dir}/d.json`,
    "--drift-threshold",
    "0.1",
    "--key",
    ws.key,
  );
  assert.equal(j.code, 2);
  assert.match(j.stderr, /--drift-threshold applies to CSV and NDJSON input/);
  const f = await runCli(
    "audit",
    "drift",
    "-i",
    `${ws.dir}/d.json`,
    "--format",
    "xlsx",
    "--key",
    ws.key,
  );
  assert.equal(f.code, 2);
  assert.match(f.stderr, /--format must be json, csv or ndjson/);
});

Deno.test("audit CSV: RFC 4180 quoting, CRLF, a BOM, blank lines and spaces around numbers", async () => {
  await using ws = await workspace();
  // Quoted header names and cells, CRLF line ends, a BOM, a blank line.
  const csv = '\uFEFF"p","q"\r\n"0.5",1\r\n\r\n0.25, 2 \r\n0.25,"3"\r\n';
  await Deno.writeTextFile(`${ws.dir}/d.csv`, csv);
  const r = await runCli("audit", "drift", "-i", `${ws.dir}/d.csv`, "--key", ws.key);
  assert.equal(r.code, 0, r.stderr);
  await Deno.writeTextFile(
    `${ws.dir}/d.json`,
    JSON.stringify({ p: [0.5, 0.25, 0.25], q: [1, 2, 3] }),
  );
  // The same vectors as JSON: the same commitments and result.
  const j = await runCli("audit", "drift", "-i", `${ws.dir}/d.json`, "--key", ws.key);
  assert.equal(j.code, r.code, j.stderr);
  assert.deepEqual(JSON.parse(r.stdout).input_commitments, JSON.parse(j.stdout).input_commitments);
  assert.deepEqual(JSON.parse(r.stdout).result, JSON.parse(j.stdout).result);
  const quoted = 'p,"q ""x"""\n1,2\n';
  await Deno.writeTextFile(`${ws.dir}/q.csv`, quoted);
  const u = await runCli("audit", "drift", "-i", `${ws.dir}/q.csv`, "--key", ws.key);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown column "q \\"x\\""/);
});

Deno.test("audit CSV: parameter flags decide the verdicts, and reach the commitments", async () => {
  await using ws = await workspace();
  const flagged: [string, string, string, string, string][] = [
    // primitive, csv, flag, [low, high] → the verdict field flips.
    ["drift", "p,q\n120,100\n80,90\n40,45\n10,15\n", "--drift-threshold", "0", "drift_bit"],
    [
      "fairness",
      "y_true,y_pred,group_a,group_b\n1,1,1,0\n0,1,1,0\n1,0,0,1\n0,0,0,1\n",
      "--threshold",
      "0",
      "threshold_breached",
    ],
  ];
  for (const [p, csv, flag, low, verdict] of flagged) {
    await Deno.writeTextFile(`${ws.dir}/${p}.csv`, csv);
    const run = async (value: string) => {
      const r = await runCli("audit", p, "-i", `${ws.dir}/${p}.csv`, flag, value, "--key", ws.key);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const a = await run(low);
    const b = await run("1");
    assert.equal(Boolean(a.result[verdict]), true, `${p} ${flag} ${low}`);
    assert.equal(Boolean(b.result[verdict]), false, `${p} ${flag} 1`);
    const field = flag.slice(2).replaceAll("-", "_");
    const names = (e: { input_commitments: { name: string; sha256: string }[] }) =>
      Object.fromEntries(e.input_commitments.map((c) => [c.name, c.sha256]));
    assert.ok(field in names(a), `${p}: the parameter is committed`);
    assert.notEqual(names(a)[field], names(b)[field]);
  }
});
