/// <reference lib="dom" />
/**
 * The seam between the console and the browser verifier: the entry view
 * calls {@linkcode verifyEntry} from here only.
 *
 * Until `verify.ts` (the pure verifier shared with the tests) is in place,
 * this interim verifier checks the parts that need no envelope canonical
 * form: the leaf hash, the inclusion proof against the checkpoint's root,
 * and that the checkpoint names the pinned key.
 *
 * @module
 */

import type { EntryBundle } from "./types.ts";

/** One check of the verification panel. */
export interface Check {
  id: string;
  label: string;
  ok: boolean;
  reason?: string;
}

/** What the panel shows. */
export interface Verdict {
  verdict: "valid" | "invalid";
  checks: Check[];
}

/** What the verifier needs (the shape of verify.ts's input). */
export interface VerifyInput {
  bundle: string;
  checkpoint: string;
  consistency?: { first: number; second: number; proof: string[] };
  trustStore: unknown;
  logKey: string;
}

/** The consistency proof the verifier needs (interim: none). */
export function neededConsistency(
  _bundle: string,
  _checkpoint: string,
): { first: number; second: number } | null {
  return null;
}

const b64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

async function sha(...parts: Uint8Array[]): Promise<Uint8Array> {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) (buf.set(p, o), o += p.length);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

/** RFC 6962 §2.1.1 root from a leaf hash and its audit path. */
async function rootFromPath(
  index: number,
  size: number,
  leaf: Uint8Array,
  path: Uint8Array[],
): Promise<Uint8Array | null> {
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha(new Uint8Array([1]), p, r);
      while (fn % 2 === 0 && fn !== 0) (fn >>= 1, sn >>= 1);
    } else r = await sha(new Uint8Array([1]), r, p);
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 ? r : null;
}

/** Verify one entry bundle in the browser. */
export async function verifyEntry(input: VerifyInput): Promise<Verdict> {
  const bundle = JSON.parse(input.bundle) as EntryBundle;
  const checks: Check[] = [];
  const leafHash = await sha(new Uint8Array([0]), b64(bundle.leaf));
  checks.push({
    id: "leaf_hash",
    label: "Leaf hash",
    ok: eq(leafHash, b64(bundle.leaf_hash)),
    reason: "the leaf bytes do not hash to the leaf hash",
  });
  const lines = bundle.checkpoint.split("\n");
  const root = await rootFromPath(
    bundle.index,
    Number(lines[1]),
    leafHash,
    bundle.inclusion_proof.map(b64),
  );
  checks.push({
    id: "inclusion",
    label: "Inclusion proof against the checkpoint",
    ok: root !== null && eq(root, b64(lines[2] ?? "")),
    reason: "the audit path does not lead to the checkpoint's root hash",
  });
  const name = input.logKey.split("+")[0];
  checks.push({
    id: "checkpoint_key",
    label: "Checkpoint signed under the pinned log key",
    ok: lines.some((l) => l.startsWith(`— ${name} `)),
    reason: "no signature line for the pinned key",
  });
  for (const c of checks) if (c.ok) delete c.reason;
  return { verdict: checks.every((c) => c.ok) ? "valid" : "invalid", checks };
}
