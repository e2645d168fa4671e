/** Shared fixtures and helpers of the schemas tests (split from one file). */
import nodeAssert from "node:assert/strict";
import type { SchemaName } from "../../core/schemas.ts";
import { check } from "../../core/validate.ts";

export const FIXTURES = new URL("../fixtures/regaudit-fhe/", import.meta.url);

export const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
export const assertEquals = (actual: unknown, expected: unknown, message?: string): void =>
  nodeAssert.deepStrictEqual(actual, expected, message);
export const assertFalse = (value: unknown, message?: string): void =>
  nodeAssert.ok(!value, message);
/** Run `fn`, require it to throw an instance of `cls` (matching `pattern` if given), return the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  cls: abstract new (...args: never[]) => E,
  pattern?: RegExp,
): E {
  try {
    fn();
  } catch (e) {
    nodeAssert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    if (pattern) nodeAssert.match(e.message, pattern);
    return e;
  }
  throw new nodeAssert.AssertionError({ message: `expected ${cls.name} to be thrown` });
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };

export function readJson(url: URL): Json {
  return JSON.parse(Deno.readTextFileSync(url));
}

export const primitivesFixture = readJson(new URL("primitives.json", FIXTURES)) as {
  cases: Record<string, { input: Obj; result: Obj }[]>;
};
export const envelopeFiles = [...Deno.readDirSync(new URL("envelopes/", FIXTURES))]
  .filter((e) => e.name.endsWith(".json"))
  .map((e) => e.name)
  .sort();
export const validEnvelope = readJson(new URL("envelopes/fairness-valid.json", FIXTURES)) as Obj;

/** The first violation of `value` against `name`, as [pointer, rule]. */
export function firstViolation(name: SchemaName, value: unknown): [string, string] {
  const r = check(name, value);
  if (r.ok) throw new Error(`expected ${name} to reject ${JSON.stringify(value)?.slice(0, 200)}`);
  return [r.errors[0].pointer, r.errors[0].rule];
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** A fresh copy of a valid fairness input (fixture case 2). */
export const fairness = (): Obj => clone(primitivesFixture.cases.fairness[2].input);
