/**
 * The log the audit benchmarks share (remote_audit.ts, verify_log.ts): ~1.4 KB drift envelopes
 * signed once and varied by index, committed through the store's own commits (tiles included).
 *
 * @module
 */
import { sha256, toBase64 } from "../core/bytes.ts";
import { buildEnvelope, parseEnvelopeValue, signedBodySha256 } from "../core/envelope.ts";
import type { Envelope, ParsedEnvelope } from "../core/envelope_types.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { signCheckpoint } from "../ledger/checkpoint.ts";
import { KvStore } from "../ledger/kv_store.ts";
import { encodeLeaf, LEAF_VERSION } from "../ledger/leaf.ts";
import { loadOrCreateLogKey } from "../ledger/log_key.ts";
import {
  type HashReader,
  leafHash,
  storedHashesForBatch,
  storedHashIndex,
  treeHash,
} from "../ledger/merkle/mod.ts";
import type { NewEntry } from "../ledger/store.ts";
import { tilesForCommit } from "../ledger/tiles/store_tiles.ts";

const template = await buildEnvelope({
  primitive: "drift",
  backend: "plaintext",
  parameterSet: { backend: "plaintext" },
  regulations: ["EU_AI_ACT_ART15"],
  result: { distance: 0.1, drift_bit: false, n: 0 },
  inputs: { p: [5, 3, 2], q: [4, 4, 2] },
  depthBudget: { declared: 1, consumed: 1 },
  issuer: "bench",
  issuedAt: "2026-11-21T00:00:00Z",
}, await InProcessKeyProvider.generate("bench-key"));
export const pad = "x".repeat(Math.max(0, 1400 - parseEnvelopeValue(template).canonical.length));
export function benchEnvelope(i: number): ParsedEnvelope {
  const e = structuredClone(template) as Envelope;
  e.result = { ...e.result, n: i, note: pad };
  return parseEnvelopeValue(e);
}

/** Build an N-entry log in `dir` with the store's own commits (tiles included). */
export async function buildBenchLog(
  dir: string,
  n: number,
): Promise<{ origin: string; verifierKey: string }> {
  const key = await loadOrCreateLogKey(dir);
  const store = await KvStore.open(`${dir}/ledger.kv`);
  const meta = { origin: key.name, verifierKey: key.verifierKey() };
  let version: string | null = null;
  let prev: Uint8Array = new Uint8Array(32);
  const B = 98;
  for (let n0 = 0; n0 < n; n0 += B) {
    const k = Math.min(B, n - n0);
    const entries: NewEntry[] = [];
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < k; i++) {
      const pe = benchEnvelope(n0 + i);
      const env = pe.canonical;
      const sha = sha256(env);
      const leaf = encodeLeaf({
        envelope_sha256: toBase64(sha),
        index: n0 + i,
        issued_at: "2026-11-21T00:00:00Z",
        issuer: "bench",
        key_id: "bench-key",
        prev: toBase64(prev),
        primitive: "drift",
        v: LEAF_VERSION,
      });
      prev = leafHash(leaf);
      hashes.push(prev);
      entries.push({
        index: n0 + i,
        leaf,
        hashes: [],
        endsCommit: i === k - 1,
        envelope: env,
        envelopeSha256: sha,
        bodySha256: signedBodySha256(pe),
        issuer: "bench",
        primitive: "drift",
        issuedAt: "2026-11-21T00:00:00Z",
      });
    }
    const fresh = await storedHashesForBatch(n0, hashes, store);
    const base = storedHashIndex(0, n0);
    let off = 0;
    entries.forEach((e, i) => {
      const count = storedHashIndex(0, n0 + i + 1) - storedHashIndex(0, n0 + i);
      e.hashes = fresh.slice(off, off + count);
      off += count;
    });
    const reader: HashReader = {
      async readHashes(idx) {
        const old = idx.filter((i) => i < base);
        const got = old.length ? await store.readHashes(old) : [];
        let j = 0;
        return idx.map((i) => (i < base ? got[j++] : fresh[i - base]));
      },
    };
    const size = n0 + k;
    const root = await treeHash(size, reader);
    const checkpoint = await signCheckpoint({ origin: key.name, size, root }, [key]);
    const tiles = await tilesForCommit(n0, size, reader);
    const r = await store.commit(version, {
      entries,
      head: { size, root, lastLeafHash: prev },
      checkpoint,
      meta,
      tiles,
    });
    if (!r.ok) throw new Error("build commit failed");
    version = r.version;
    store.rememberHashes(base, fresh);
  }
  store.close();
  return meta;
}
