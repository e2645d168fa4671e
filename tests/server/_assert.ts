/**
 * Assertions shared by the server tests: `node:assert/strict` shorthands, a
 * check against the bundled JSON Schemas (Ajv, independent of the project's
 * own validator), and an independent naive RFC 6962 §2.1 tree hash.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020";
import { sha256 } from "../../core/bytes.ts";
import { getSchema, SCHEMA_NAMES, type SchemaName } from "../../core/schemas.ts";

/** Assert `v` is truthy. */
export const assert: (v: unknown, msg?: string) => asserts v = nodeAssert.ok;
/** Assert deep strict equality. */
export const assertEquals = (a: unknown, b: unknown, msg?: string): void =>
  nodeAssert.deepStrictEqual(a, b, msg);
/** Assert deep strict inequality. */
export const assertNotEquals = (a: unknown, b: unknown): void =>
  nodeAssert.notDeepStrictEqual(a, b);
/** Assert `s` matches `re`. */
export const assertMatch = (s: string, re: RegExp, msg?: string): void =>
  nodeAssert.match(s, re, msg);
/** Assert `s` does not match `re`. */
export const assertDoesNotMatch = (s: string, re: RegExp, msg?: string): void =>
  nodeAssert.doesNotMatch(s, re, msg);

// ---------------------------------------------------------------- schemas

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
for (const n of SCHEMA_NAMES) ajv.addSchema(getSchema(n) as unknown as object);

/** Assert `value` validates against bundled schema `name`. */
export function assertSchema(name: SchemaName, value: unknown): void {
  const fn = ajv.getSchema(getSchema(name).$id)!;
  assert(fn(value), `${name}: ${JSON.stringify(fn.errors)}`);
}

// ------------------------------------------- independent RFC 6962 (naive §2.1)

/** RFC 6962 leaf hash. */
export const leafH = (leaf: Uint8Array): Uint8Array => sha256(new Uint8Array([0]), leaf);
/** RFC 6962 node hash. */
export const nodeH = (l: Uint8Array, r: Uint8Array): Uint8Array =>
  sha256(new Uint8Array([1]), l, r);
/** RFC 6962 Merkle tree hash of leaf hashes `hs`, by the definition. */
export function mth(hs: Uint8Array[]): Uint8Array {
  if (hs.length === 0) return sha256();
  if (hs.length === 1) return hs[0];
  let k = 1;
  while (k * 2 < hs.length) k *= 2;
  return nodeH(mth(hs.slice(0, k)), mth(hs.slice(k)));
}
