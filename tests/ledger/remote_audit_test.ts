/**
 * The remote audit's fast path (ledger/remote_audit_fast.ts) never changes a
 * verdict: on a real log and on many tampered copies of its bundles and
 * tiles, `auditThroughTiles` with the fast path gives exactly the result of
 * the reference path (`fastPath: false`: `checkEntry` on every entry) —
 * ok, first bad index and reason — and whenever the fast path vouches for a
 * bundle, the reference check of that bundle passes. The fast path does
 * vouch for what the ledger writes (else the audit would not be faster), and
 * leaves it cannot read byte for byte (escapes, non-ASCII) still audit clean.
 */
import assert from "node:assert/strict";
import { sha256, toBase64 } from "../../core/bytes.ts";
import { checkEntry } from "../../ledger/entry_check.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { encodeLeaf, LEAF_VERSION, type LeafFields, ZERO_PREV } from "../../ledger/leaf.ts";
import { MemoryStore } from "../../ledger/memory_store.ts";
import { leafHash } from "../../ledger/merkle/mod.ts";
import { Ed25519NoteSigner, parseVerifierKey } from "../../ledger/note.ts";
import { auditThroughTiles, type TileAuditResult } from "../../ledger/remote_audit.ts";
import { bundleCertainlyPasses, type FastBundle } from "../../ledger/remote_audit_fast.ts";
import {
  decodeEntryBundle,
  decodeEnvelopeBundle,
  DEFAULT_MAX_ENVELOPE_BYTES,
  encodeEntryBundle,
  encodeEnvelopeBundle,
} from "../../ledger/tiles/bundle.ts";
import { parseTilePath } from "../../ledger/tiles/path.ts";
import { makeEnvelope } from "./_helpers.ts";

const ORIGIN = "example.org/remote-audit-test";
const SIZE = 300; // one full bundle and a partial one of 44

/** A 300-entry in-memory ledger and what it serves at each tile path. */
async function servedLog() {
  const logKey = await Ed25519NoteSigner.generate(ORIGIN);
  const ledger = await openLedger({ store: new MemoryStore(), logKey, origin: ORIGIN });
  try {
    const envs = await Promise.all(Array.from({ length: SIZE }, (_, i) => makeEnvelope(i)));
    for (let i = 0; i < SIZE; i += 50) {
      await Promise.all(envs.slice(i, i + 50).map((e) => ledger.append(e)));
    }
    const served = new Map<string, Uint8Array>();
    for (const n of [0, 1]) {
      const suffix = n === 0 ? "000" : "001.p/44";
      for (
        const path of [`tile/0/${suffix}`, `tile/entries/${suffix}`, `tile/envelopes/${suffix}`]
      ) {
        served.set(path, (await ledger.tile(parseTilePath(path)))!.slice());
      }
    }
    served.set("tile/1/000.p/1", (await ledger.tile(parseTilePath("tile/1/000.p/1")))!.slice());
    return {
      served,
      checkpoint: await ledger.checkpoint(),
      verifier: parseVerifierKey(ledger.verifierKey),
    };
  } finally {
    await ledger.close();
  }
}

type Log = Awaited<ReturnType<typeof servedLog>>;

function audit(log: Log, served: Map<string, Uint8Array>, fastPath: boolean) {
  return auditThroughTiles({
    checkpoint: log.checkpoint,
    verifier: log.verifier,
    fetchTile: (p) => {
      const b = served.get(p);
      return b ? Promise.resolve(b.slice()) : Promise.reject(new Error(`no ${p}`));
    },
    fastPath,
  });
}

/** The reference check of one bundle (what remote_audit.ts did before the fast path). */
function referencePasses(x: FastBundle): boolean {
  try {
    const leaves = decodeEntryBundle(x.entries, x.width);
    const envs = decodeEnvelopeBundle(x.envelopes, x.width, {
      maxEnvelopeBytes: x.maxEnvelopeBytes,
    });
    let prev = x.prev;
    for (let i = 0; i < x.width; i++) {
      const h = checkEntry(x.first + i, leaves[i], envs[i], prev).leafHash;
      if (toBase64(h) !== toBase64(x.tile.subarray(i * 32, i * 32 + 32))) return false;
      prev = h;
    }
    return true;
  } catch {
    return false;
  }
}

/** Deterministic PRNG (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

type Tamper = { name: string; path: string; edit: (b: Uint8Array) => Uint8Array };

/** Single changes to the served bytes: byte flips anywhere, and edits of one item's text. */
function tampers(served: Map<string, Uint8Array>): Tamper[] {
  const out: Tamper[] = [];
  const rand = rng(1234);
  const paths = ["tile/entries/000", "tile/envelopes/000", "tile/entries/001.p/44", "tile/0/000"];
  for (const path of paths) {
    const len = served.get(path)!.length;
    for (let k = 0; k < 40; k++) {
      const at = Math.floor(rand() * len);
      const bit = 1 << Math.floor(rand() * 8);
      out.push({
        name: `${path} byte ${at} ^ ${bit}`,
        path,
        edit: (b) => {
          const c = b.slice();
          c[at] ^= bit;
          return c;
        },
      });
    }
  }
  const text = (path: string, i: number, f: (t: string) => string): Tamper => ({
    name: `${path} item ${i}: ${f.toString().slice(0, 60)}`,
    path,
    edit: (b) => {
      const env = path.startsWith("tile/envelopes/");
      const items = env ? decodeEnvelopeBundle(b) : decodeEntryBundle(b);
      items[i] = new TextEncoder().encode(f(new TextDecoder().decode(items[i])));
      return env ? encodeEnvelopeBundle(items) : encodeEntryBundle(items);
    },
  });
  for (const i of [0, 1, 7, 255]) {
    out.push(text("tile/entries/000", i, (t) => t.replace(`"index":${i}`, `"index":0${i}`)));
    out.push(text("tile/entries/000", i, (t) => t.replace(`"index":${i}`, `"index":${i}.0`)));
    out.push(text("tile/entries/000", i, (t) => t.replace(/"issuer":"/, '"issuer":"\\u0061')));
    out.push(text("tile/entries/000", i, (t) => t.replace(/}$/, " }")));
    out.push(text("tile/entries/000", i, (t) => t.replace(/"prev":"(.)/, '"prev":"A')));
    out.push(text("tile/envelopes/000", i, (t) => t.replace(/^{/, '{"a":1,')));
    out.push(text("tile/envelopes/000", i, (t) => t + " "));
  }
  // Framing: an item cut short, a byte after the last item, an item missing.
  out.push({ name: "entries: trailing byte", path: "tile/entries/000", edit: (b) => cat(b, [0]) });
  out.push({
    name: "envelopes: trailing byte",
    path: "tile/envelopes/000",
    edit: (b) => cat(b, [0]),
  });
  out.push({
    name: "envelopes: last byte cut",
    path: "tile/envelopes/000",
    edit: (b) => b.slice(0, -1),
  });
  out.push({
    name: "entries: item missing",
    path: "tile/entries/001.p/44",
    edit: (b) => encodeEntryBundle(decodeEntryBundle(b).slice(0, 43)),
  });
  return out;
}

const cat = (a: Uint8Array, b: number[]) => {
  const c = new Uint8Array(a.length + b.length);
  c.set(a);
  c.set(b, a.length);
  return c;
};

Deno.test("remote audit: the fast path vouches for the bundles a ledger serves", async () => {
  const log = await servedLog();
  const s = log.served;
  const full: FastBundle = {
    first: 0,
    width: 256,
    entries: s.get("tile/entries/000")!,
    envelopes: s.get("tile/envelopes/000")!,
    tile: s.get("tile/0/000")!,
    prev: ZERO_PREV,
    maxEnvelopeBytes: DEFAULT_MAX_ENVELOPE_BYTES,
  };
  assert.equal(bundleCertainlyPasses(full), true);
  const partial: FastBundle = {
    ...full,
    first: 256,
    width: 44,
    entries: s.get("tile/entries/001.p/44")!,
    envelopes: s.get("tile/envelopes/001.p/44")!,
    tile: s.get("tile/0/001.p/44")!,
    prev: full.tile.slice(255 * 32),
  };
  assert.equal(bundleCertainlyPasses(partial), true);
  // The wrong previous hash, index or width is not vouched for.
  assert.equal(bundleCertainlyPasses({ ...partial, prev: ZERO_PREV }), false);
  assert.equal(bundleCertainlyPasses({ ...partial, first: 0 }), false);
  assert.equal(bundleCertainlyPasses({ ...partial, width: 43 }), false);
  assert.equal(bundleCertainlyPasses({ ...full, maxEnvelopeBytes: 100 }), false);
  const want: TileAuditResult = { ok: true, size: SIZE };
  assert.deepEqual(await audit(log, s, true), want);
  assert.deepEqual(await audit(log, s, false), want);
});

Deno.test("remote audit: tampered bundles and tiles get the reference path's verdicts", async () => {
  const log = await servedLog();
  const list = tampers(log.served);
  let caught = 0;
  for (const t of list) {
    const served = new Map(log.served);
    served.set(t.path, t.edit(log.served.get(t.path)!));
    const fast = await audit(log, served, true);
    const reference = await audit(log, served, false);
    assert.deepEqual(fast, reference, t.name);
    if (!reference.ok) {
      caught++;
      assert.equal(typeof reference.first_bad_index, "number", t.name);
    }
    // And per bundle: vouched for ⇒ the reference check passes.
    for (
      const [n, suffix, first, width] of [[0, "000", 0, 256], [1, "001.p/44", 256, 44]] as const
    ) {
      const x: FastBundle = {
        first,
        width,
        entries: served.get(`tile/entries/${suffix}`)!,
        envelopes: served.get(`tile/envelopes/${suffix}`)!,
        tile: served.get(`tile/0/${suffix}`)!,
        prev: n === 0 ? ZERO_PREV : log.served.get("tile/0/000")!.slice(255 * 32),
        maxEnvelopeBytes: DEFAULT_MAX_ENVELOPE_BYTES,
      };
      if (bundleCertainlyPasses(x)) assert.ok(referencePasses(x), `${t.name}: bundle ${n}`);
    }
  }
  // Nearly every change is a failure the audit names (a flipped bit can be in a
  // length prefix's unused high bits only if it then breaks the framing, so all are).
  assert.ok(caught >= list.length - 2, `${caught} of ${list.length} caught`);
});

Deno.test("remote audit: a tampered entry is named by its index, with the fast path", async () => {
  const log = await servedLog();
  const served = new Map(log.served);
  const items = decodeEnvelopeBundle(served.get("tile/envelopes/001.p/44")!);
  items[5] = new TextEncoder().encode(
    new TextDecoder().decode(items[5]).replace(/"issuer":"/, '"issuer":"x'),
  );
  served.set("tile/envelopes/001.p/44", encodeEnvelopeBundle(items));
  const r = await audit(log, served, true);
  assert.equal(r.ok, false);
  assert.equal(r.first_bad_index, 261);
  assert.match(r.reason!, /^entry 261: envelope bytes do not hash/);
});

Deno.test("remote audit fast path: leaves with escapes or non-ASCII are left to the reference check", () => {
  // A bundle built by hand: strings the fast path does not read byte for byte.
  const issuers = ["plain", 'quo"te', "back\\slash", "caf\u00e9", "tab\there", "\u2028", "x"];
  const envelopes = issuers.map((s, i) => new TextEncoder().encode(JSON.stringify({ s, i })));
  let prev = ZERO_PREV;
  const leaves: Uint8Array[] = [];
  const hashes: Uint8Array[] = [];
  issuers.forEach((issuer, i) => {
    const fields: LeafFields = {
      envelope_sha256: toBase64(sha256(envelopes[i])),
      index: 512 + i,
      issued_at: "2026-12-03T00:00:00Z",
      issuer,
      key_id: "k1",
      prev: toBase64(prev),
      primitive: "drift",
      v: LEAF_VERSION,
    };
    const leaf = encodeLeaf(fields);
    leaves.push(leaf);
    prev = leafHash(leaf);
    hashes.push(prev);
  });
  const tile = new Uint8Array(32 * issuers.length);
  hashes.forEach((h, i) => tile.set(h, i * 32));
  const bundle = (k: number): FastBundle => ({
    first: 512,
    width: k,
    entries: encodeEntryBundle(leaves.slice(0, k)),
    envelopes: encodeEnvelopeBundle(envelopes.slice(0, k)),
    tile: tile.slice(0, 32 * k),
    prev: ZERO_PREV,
    maxEnvelopeBytes: DEFAULT_MAX_ENVELOPE_BYTES,
  });
  // The plain first entry alone is vouched for; with any of the others, not —
  // though the reference check passes them all.
  assert.equal(bundleCertainlyPasses(bundle(1)), true);
  for (let k = 2; k <= issuers.length; k++) {
    assert.equal(bundleCertainlyPasses(bundle(k)), false, issuers[k - 1]);
    assert.equal(referencePasses(bundle(k)), true, issuers[k - 1]);
  }
});
