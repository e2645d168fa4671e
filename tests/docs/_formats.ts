/**
 * Shared reading of docs/formats.md and the independent primitives
 * (node:crypto, Buffer, a separate JCS writer) its tests recompute values
 * with.
 */
import assert from "node:assert/strict";
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { Buffer } from "node:buffer";
import { extractBlocks } from "../../docs/_gen_formats_example.ts";

export const DOC_URL = new URL("../../docs/formats.md", import.meta.url);
export const doc = await Deno.readTextFile(DOC_URL);
export const blocks = extractBlocks(doc);

export function block(id: string): string {
  const b = blocks.get(id);
  assert.ok(b !== undefined, `docs/formats.md has no block example=${id}`);
  return b;
}

/** `key: value` lines of a block. */
export function kvBlock(id: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block(id).split("\n")) {
    const i = line.indexOf(": ");
    assert.ok(i > 0, `block ${id}: line without "key: value": ${line}`);
    out.set(line.slice(0, i), line.slice(i + 2));
  }
  return out;
}

export function kvGet(id: string, key: string): string {
  const v = kvBlock(id).get(key);
  assert.ok(v !== undefined, `block ${id} has no "${key}"`);
  return v;
}

// ---------------------------------------------------------------------------
// Independent primitives (node:crypto, Buffer, a separate JCS writer).

export const sha = (...parts: (Uint8Array | string)[]): Buffer => {
  const h = createHash("sha256");
  for (const p of parts) h.update(typeof p === "string" ? Buffer.from(p, "utf8") : p);
  return h.digest();
};
export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
export const unb64 = (s: string) => {
  const b = Buffer.from(s, "base64");
  assert.equal(b.toString("base64"), s, `not canonical base64: ${s}`);
  return b;
};

/** RFC 8785 for the values of the example: members sorted by UTF-16 code units. */
export function jcs(v: unknown): string {
  if (Array.isArray(v)) return "[" + v.map(jcs).join(",") + "]";
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return "{" + Object.keys(o).sort().map((k) => JSON.stringify(k) + ":" + jcs(o[k])).join(",") +
      "}";
  }
  assert.ok(typeof v !== "number" || Number.isFinite(v));
  return JSON.stringify(v);
}

export const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");
export const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");

export function keyFromSeedHex(seedHex: string): { priv: KeyObject; pub: KeyObject; raw: Buffer } {
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

export function pubFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_ED25519, raw]),
    format: "der",
    type: "spki",
  });
}

export const leafHashOf = (leaf: string) => sha(new Uint8Array([0]), leaf);
export const nodeHashOf = (l: Uint8Array, r: Uint8Array) => sha(new Uint8Array([1]), l, r);

/** RFC 9162 §2.1.3.2 inclusion verification, written out separately from ledger/merkle/verify.ts. */
export function inclusionRoot(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: Uint8Array[],
) {
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

/** RFC 6962 §2.1 MTH as §3.3 states it, over leaf byte strings. */
export function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return sha(new Uint8Array([0]), leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHashOf(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** RFC 9162 §2.1.4.2 consistency verification, written out separately from ledger/merkle/verify.ts. */
export function consistent(
  n1: number,
  n2: number,
  proof: Uint8Array[],
  r1: Uint8Array,
  r2: Uint8Array,
) {
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
