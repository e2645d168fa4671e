/**
 * Every regaudit-fhe 0.0.8 fixture case (a verbatim copy of
 * tests/fixtures/regaudit-fhe/primitives.json) gives the recorded result to
 * 1e-9 relative through the public registry.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { PRIMITIVES } from "../../core/envelope_types.ts";
import { exactStatistic, parseInput } from "../../core/primitives/index.ts";

const fixtures = JSON.parse(
  await Deno.readTextFile(
    new URL("../fixtures/regaudit-fhe/primitives.json", import.meta.url),
  ),
) as { cases: Record<string, { input: unknown; result: Record<string, unknown> }[]> };

/** Deep comparison: numbers to 1e-9 relative (1e-12 absolute near 0). */
function assertClose(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === "number") {
    assertEquals(typeof actual, "number", path);
    const a = actual as number;
    const tol = Math.max(1e-9 * Math.abs(expected), 1e-12);
    assert(Math.abs(a - expected) <= tol, `${path}: ${a} != ${expected}`);
  } else if (Array.isArray(expected)) {
    assert(Array.isArray(actual), path);
    assertEquals((actual as unknown[]).length, expected.length, `${path} length`);
    expected.forEach((e, i) => assertClose((actual as unknown[])[i], e, `${path}/${i}`));
  } else if (typeof expected === "object" && expected !== null) {
    assertEquals(Object.keys(actual as object).sort(), Object.keys(expected).sort(), path);
    for (const [k, v] of Object.entries(expected)) {
      assertClose((actual as Record<string, unknown>)[k], v, `${path}/${k}`);
    }
  } else {
    assertEquals(actual, expected, path);
  }
}

for (const primitive of PRIMITIVES) {
  Deno.test(`fixtures: ${primitive} matches regaudit-fhe 0.0.8`, () => {
    const cases = fixtures.cases[primitive];
    assert(cases.length >= 6);
    cases.forEach((c, i) => {
      const result = exactStatistic(primitive, parseInput(primitive, c.input));
      assertClose(result, c.result, `${primitive}[${i}]`);
    });
  });
}

Deno.test("fixtures: every input also passes the bundled JSON Schema (schema and rules agree)", async () => {
  const { validate } = await import("../../core/validate.ts");
  for (const primitive of PRIMITIVES) {
    for (const c of fixtures.cases[primitive]) {
      validate(`${primitive}.input` as Parameters<typeof validate>[0], c.input);
    }
  }
});
