// deno-lint-ignore-file no-explicit-any -- receipts are untyped JSON, checked field by field
/**
 * Three `regledger serve --store postgres://…` processes on ONE database
 * (one key directory), concurrent submitters on all three:
 *
 * - 0 forks: every receipt's checkpoint is the one stored for its size, one
 *   root per size, and each is consistent with the final log — checked with
 *   Go's tlog and note (`tests/go/interop`), receipts too;
 * - 0 duplicates: an envelope sent to two servers at once is one entry;
 * - 0 gaps: the log is exactly the acknowledged envelopes, `verifyLog` clean.
 *
 * Then chaos mid-storm: SIGKILL of one server (restarted later) and of
 * another, and PostgreSQL itself stopped with `pg_ctl stop -m immediate` and
 * restarted: every acknowledged entry is present, the log verifies, and the
 * servers that were never restarted append again on their own (they
 * reconnect).
 *
 * @module
 */
import assert from "node:assert/strict";
import { toBase64 } from "../../core/bytes.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { openCheckpoint } from "../../ledger/checkpoint.ts";
import { parseVerifierKey } from "../../ledger/note.ts";
import { PgStore } from "../../ledger/pg/store.ts";
import { proveTree } from "../../ledger/merkle/mod.ts";
import { verifyLog } from "../../ledger/verify_log.ts";
import { buildGoInterop, runGoInterop } from "../go/_interop.ts";
import { signedEnvelope, writeTrustFile } from "../server/_helpers.ts";
import { PG_PASSWORD, registerClusterTeardown, sharedCluster } from "./_cluster.ts";
import { type Ack, killServe, type ServeChild, startServe, submitUntilAcked } from "./_serve.ts";

const ORIGIN = "regledger.local/log";

async function envelopes(from: number, n: number): Promise<string[]> {
  return await Promise.all(
    Array.from({ length: n }, async (_, i) => JSON.stringify(await signedEnvelope(from + i))),
  );
}

/** Run `work` on `workers` concurrent loops over `items`. */
async function pool<T>(items: T[], workers: number, work: (t: T, w: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    while (next < items.length) await work(items[next++], w);
  }));
}

/**
 * The final log against everything acknowledged: exactly those envelopes
 * (no gap, no duplicate), each receipt's checkpoint the stored one for its
 * size, `verifyLog` clean, and Go's tlog accepting every receipt and the
 * consistency of every receipt's tree with the final one.
 */
async function checkFinal(
  url: string,
  keys: string[],
  acks: Map<string, Ack[]>,
  go: string,
): Promise<number> {
  const store = await PgStore.open(url, { migrate: false, requireWritable: false });
  try {
    const { head } = await store.readHead();
    assert.equal(head.size, acks.size, "the log holds exactly the acknowledged envelopes");
    assert.deepEqual(
      await verifyLog(store, {
        verifierKey: keys[0],
        extraVerifierKeys: keys.slice(1),
        origin: ORIGIN,
      }),
      { ok: true, size: head.size },
    );
    const entries = await store.readEntries(0, head.size);
    const indexOf = new Map(
      entries.map((e) => [toBase64(parseEnvelopeText(e.envelope).sha256), e.index]),
    );
    const vkey = parseVerifierKey(keys[0]);
    const roots = new Map<number, string>();
    const receipts: string[] = [];
    for (const [sha, list] of acks) {
      const index = indexOf.get(sha);
      assert.ok(index !== undefined, "an acknowledged envelope is in the log");
      for (const a of list) {
        assert.equal(a.receipt.index, index, "one envelope, one entry, whichever server");
        const cp = await openCheckpoint(a.receipt.checkpoint, vkey);
        const root = toBase64(cp.root);
        assert.equal(roots.get(cp.size) ?? root, root, `two roots for tree size ${cp.size}`);
        roots.set(cp.size, root);
        assert.equal(await store.readCheckpoint(cp.size), a.receipt.checkpoint);
        receipts.push(a.receipt.tlog_proof);
      }
    }
    const final = (await store.readCheckpoint(head.size))!;
    const consistency = [];
    for (const [size, root] of roots) {
      if (size === head.size) continue;
      const proof = await proveTree(head.size, size, store);
      consistency.push({ old_size: size, old_root: root, proof: proof.map((h) => toBase64(h)) });
    }
    const res = await runGoInterop(go, {
      verifier_key: keys[0],
      check: [{ checkpoint: final, inclusion: [], consistency }],
      receipts,
      sign: [],
      generate: { seed: 1, sizes: [] },
    }) as any;
    assert.equal(res.check[0].checkpoint_err, "");
    assert.equal(res.check[0].size, head.size);
    assert.deepEqual(res.check[0].consistency_err, consistency.map(() => ""));
    assert.deepEqual(res.receipts_err, receipts.map(() => ""));
    return head.size;
  } finally {
    store.close();
    await store.closed();
  }
}

function record(acks: Map<string, Ack[]>, text: string, a: Ack): void {
  const sha = toBase64(parseEnvelopeText(text).sha256);
  assert.equal(a.receipt.envelope_sha256, sha);
  const list = acks.get(sha) ?? [];
  list.push(a);
  acks.set(sha, list);
}

async function setup() {
  const cluster = await sharedCluster();
  const url = await cluster.createDatabase();
  const dir = await Deno.makeTempDir({ prefix: "regledger-pg-serve-" });
  const trust = `${dir}/trust.json`;
  await writeTrustFile(trust);
  const data = `${dir}/data`;
  // The first server creates the keys in the shared directory; the others load them.
  const servers: ServeChild[] = [await startServe(data, url, trust)];
  servers.push(...await Promise.all([startServe(data, url, trust), startServe(data, url, trust)]));
  const keys = (await (await fetch(`${servers[0].base}/v1/log/keys`)).text()).trim().split("\n");
  for (const s of servers.slice(1)) {
    assert.equal((await (await fetch(`${s.base}/v1/log/keys`)).text()).trim(), keys.join("\n"));
  }
  return { cluster, url, dir, trust, data, servers, keys };
}

Deno.test({
  name: "three serve processes on one PostgreSQL database: no fork, duplicate or gap; Go agrees",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const go = await buildGoInterop();
    const { url, dir, servers, keys } = await setup();
    try {
      const texts = await envelopes(0, 180);
      const acks = new Map<string, Ack[]>();
      const deadline = Date.now() + 120_000;
      const perServer = [0, 0, 0];
      // Four submitters per server; the first 30 envelopes also go to the next server at once.
      await pool(texts, 12, async (t, w) => {
        const s = w % 3;
        const sends = [submitUntilAcked(() => [servers[s].base], 0, t, deadline)];
        if (texts.indexOf(t) < 30) {
          sends.push(submitUntilAcked(() => [servers[(s + 1) % 3].base], 0, t, deadline));
        }
        for (const a of await Promise.all(sends)) {
          record(acks, t, a);
          perServer[s]++;
        }
      });
      assert.ok(perServer.every((n) => n > 0), `every server appended: ${perServer}`);
      const dupes = [...acks.values()].filter((l) => l.length === 2);
      assert.equal(dupes.length, 30);
      for (const [a, b] of dupes) {
        assert.equal(a.receipt.index, b.receipt.index);
        assert.equal([a.status, b.status].filter((s) => s === 201).length, 1, "one is new");
      }
      assert.equal(await checkFinal(url, keys, acks, go.bin), texts.length);
      // The servers name the database with its password redacted.
      for (const s of servers) {
        assert.ok(s.stderr.some((l) => /the log is in postgres:\/\/postgres:\*\*\*@/.test(l)));
        assert.ok(!s.stderr.join("\n").includes(PG_PASSWORD));
      }
    } finally {
      await Promise.all(servers.map((s) => killServe(s, "SIGTERM")));
      await go.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "SIGKILL of servers and pg_ctl stop -m immediate mid-storm: no acknowledged entry lost",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const go = await buildGoInterop();
    const { cluster, url, dir, trust, data, servers, keys } = await setup();
    const live = new Set<number>([0, 1, 2]);
    try {
      // The last HELD envelopes are sent only once PostgreSQL is being restarted: the
      // rest can all be acknowledged before pg_ctl's stop takes effect (seen once in 50
      // runs under load: afterRestart was 0), and then nothing would show that the
      // servers took appends after the restart.
      const HELD = 30;
      const texts = await envelopes(10_000, 300);
      const restarting = Promise.withResolvers<void>();
      const acks = new Map<string, Ack[]>();
      const deadline = Date.now() + 150_000;
      let acked = 0;
      const waitFor = async (n: number) => {
        while (acked < n) await new Promise((r) => setTimeout(r, 10));
      };
      const bases = () => [...live].map((i) => servers[i].base);
      let afterRestart = 0;
      let restarted = false;
      const storm = pool(texts, 9, async (t, w) => {
        if (texts.indexOf(t) >= texts.length - HELD) await restarting.promise;
        const a = await submitUntilAcked(bases, w, t, deadline);
        record(acks, t, a);
        acked++;
        if (restarted) afterRestart++;
      });
      const chaos = (async () => {
        await waitFor(40);
        live.delete(1);
        await killServe(servers[1]); // SIGKILL mid-commit, most likely
        await waitFor(80);
        servers[1] = await startServe(data, url, trust);
        live.add(1);
        live.delete(2);
        await killServe(servers[2]);
        await waitFor(130);
        await cluster.stop("immediate"); // PostgreSQL crashes under the storm
        await new Promise((r) => setTimeout(r, 1500));
        // Nothing can be acknowledged while PostgreSQL is down (a reply to a commit made
        // before the crash is long gone 1.5 s later), so every ack from here on is an append
        // made after the restart. The flag is set before start() returns: servers now
        // reconnect within milliseconds, and the storm's remaining envelopes could all be
        // acknowledged before pg_ctl's own wait ends (seen in .ci/run: afterRestart was 0).
        restarted = true;
        restarting.resolve();
        await cluster.start();
      })();
      await Promise.all([storm, chaos]);
      assert.ok(afterRestart > 0, "appends succeeded after PostgreSQL restarted");
      // Servers 0 and 1 were never restarted after PostgreSQL's crash: they reconnect by themselves.
      const more = await envelopes(20_000, 2);
      for (const [i, s] of [0, 1].entries()) {
        const a = await submitUntilAcked(() => [servers[s].base], 0, more[i], Date.now() + 30_000)
          .catch((e) => {
            // Say what the server that did not recover was doing.
            throw new Error(
              `server ${s} did not take an append after PostgreSQL restarted: ${e.message}\n` +
                servers[s].stderr.slice(-15).join("\n"),
            );
          });
        assert.equal(a.status, 201);
        record(acks, more[i], a);
      }
      assert.equal(await checkFinal(url, keys, acks, go.bin), texts.length + 2);
      for (const s of servers) assert.ok(!s.stderr.join("\n").includes(PG_PASSWORD));
    } finally {
      await Promise.all(servers.map((s) => killServe(s, "SIGKILL")));
      await go.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

registerClusterTeardown();
