/**
 * core/tabular.ts on its own: the layout is derived from every primitive's
 * input schema; RFC 4180 records keep quoted commas, quotes and line breaks
 * and count lines across them; tables become inputs column by column.
 */
import assert from "node:assert/strict";
import { PRIMITIVES } from "../../core/envelope_types.ts";
import { getSchema, type SchemaName } from "../../core/schemas.ts";
import {
  parseCsv,
  parseNdjson,
  tableToInput,
  TabularInputError,
  tabularLayout,
} from "../../core/tabular.ts";

Deno.test("tabular: every primitive's input schema has a table form", () => {
  const got = Object.fromEntries(PRIMITIVES.map((p) => {
    const l = tabularLayout(getSchema(`${p}.input` as SchemaName));
    return [p, [l.columns.map((c) => c.name), l.parameters.map((x) => x.field)]];
  }));
  assert.deepEqual(got, {
    fairness: [["y_true", "y_pred", "group_a", "group_b"], ["threshold"]],
    provenance: [["attributions", "row_ids"], ["n_buckets", "k"]],
    concordance: [["risk", "time", "event"], []],
    calibration: [["scores", "quantiles"], []],
    drift: [["p", "q"], ["drift_threshold"]],
    disagreement: [[
      "model_polynomials.0",
      "model_polynomials.1",
      "model_polynomials.2",
      "model_polynomials.3",
      "test_input",
    ], ["threshold"]],
  });
  assert.throws(
    () => tabularLayout({ properties: { name: { type: "string" } } }),
    /field name has no table form/,
  );
});

Deno.test("tabular: RFC 4180 quoting, and lines counted across quoted line breaks", () => {
  const t = parseCsv('"a\nb",c\r\n1,"2"\n"3",4');
  assert.deepEqual(t.header, ["a\nb", "c"]);
  assert.deepEqual(t.rows, [{ line: 3, cells: [1, 2] }, { line: 4, cells: [3, 4] }]);
  assert.throws(() => parseCsv('a,b\n1,"2"x\n'), /line 2: text after a closing quote/);
  const e = (() => {
    try {
      parseCsv('a,b\n"1\n",2\nx,3\n');
      return undefined;
    } catch (e) {
      return e;
    }
  })();
  assert.ok(e instanceof TabularInputError);
  // The quoted line break in row 1 moves row 2 to line 4.
  assert.match(e.message, /row 2 \(line 4\), column a: "x" is not a number/);
  assert.equal(e.line, 4);
  assert.deepEqual(parseNdjson('{"a":1,"b":null}\r\n\n{"a":2,"b":3}\n').rows, [
    { line: 1, cells: [1, null] },
    { line: 3, cells: [2, 3] },
  ]);
});

Deno.test("tabular: a table becomes the input; pointers map back to rows and columns", () => {
  const layout = tabularLayout(getSchema("disagreement.input"));
  const t = parseCsv(
    "test_input,model_polynomials.0,model_polynomials.1,model_polynomials.2,model_polynomials.3\n" +
      "0.5,1,2,3,4\n0.25,5,6,7,8\n0.125,,,,\n",
  );
  const r = tableToInput(layout, t, { threshold: 0.2 });
  assert.deepEqual(r.value, {
    model_polynomials: [[1, 2, 3, 4], [5, 6, 7, 8]],
    test_input: [0.5, 0.25, 0.125],
    threshold: 0.2,
  });
  assert.equal(r.locate("/model_polynomials/1/2"), "row 2 (line 3), column model_polynomials.2");
  assert.equal(r.locate("/test_input/2"), "row 3 (line 4), column test_input");
  assert.equal(r.locate("/test_input"), "column test_input");
  assert.equal(r.locate("/threshold"), undefined);
  assert.throws(
    () => tableToInput(layout, parseCsv("test_input,test_input\n1,2\n")),
    /column test_input appears twice/,
  );
});

Deno.test("tabular: docs/inputs.md's table of columns and flags is the derived layout", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/inputs.md", import.meta.url));
  for (const p of PRIMITIVES) {
    const row = doc.split("\n").find((l) => l.startsWith(`| ${p} `));
    assert.ok(row, `docs/inputs.md has a row for ${p}`);
    const [, columns, flags] = row.split("|").slice(1).map((c) =>
      [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1])
    );
    const layout = tabularLayout(getSchema(`${p}.input` as SchemaName));
    assert.deepEqual(columns, layout.columns.map((c) => c.name), p);
    assert.deepEqual(flags, layout.parameters.map((x) => `--${x.field.replaceAll("_", "-")}`), p);
  }
});
