// deno-lint-ignore-file no-explicit-any -- the test inspects untyped JSON answers
/**
 * The features built on the log, served by `regledger serve --store
 * postgres://…` child processes (issue 16: they work unchanged on it):
 *
 * 1. privacy budgets: two servers on one database with one budget file;
 *    releases racing through both never overspend, and both servers'
 *    `GET /v1/privacy/budget` agree and recompute from the entries listed;
 * 2. `GET /v1/log/entries` with each filter, paged by cursor, equals what
 *    the submitted envelopes say it must hold, in (issued_at, index) order;
 * 3. `/checkpoint`, the hash tile and the entry bundle equal the ones
 *    computed here from the submitted envelopes (leaf bytes, hash chain,
 *    Merkle hashes); `ledger verify --store` passes, and fails once a stored
 *    tile row is changed (the stored-tile audit runs on PostgreSQL);
 * 4. an evidence pack from `GET /v1/evidence` verifies (exit 0) and one
 *    changed byte is exit 1;
 * 5. a real witness (`startWitness`, its state in its own KV file) cosigns
 *    the checkpoints of a PostgreSQL-backed server: `?wait=witnessed`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { toBase64 } from "../../core/bytes.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import type { PrimitiveName } from "../../core/envelope_types.ts";
import { resultSummary } from "../../core/primitives/breach.ts";
import { openCheckpoint } from "../../ledger/checkpoint.ts";
import { readZip } from "../../ledger/evidence/zip.ts";
import { encodeLeaf, LEAF_VERSION, prevFor } from "../../ledger/leaf.ts";
import { leafHash, MemoryHashStore, treeHash } from "../../ledger/merkle/mod.ts";
import { openNote, parseVerifierKey } from "../../ledger/note.ts";
import { utcTimeKey } from "../../ledger/time_key.ts";
import { encodeEntryBundle, readTileData } from "../../ledger/tiles/mod.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import { startWitness } from "../../server/witness/serve.ts";
import { runCli } from "../cli/_capture.ts";
import { historyEnvelope } from "../evidence/_pack.ts";
import { signedDpEnvelope } from "../server/_dp_signed.ts";
import { TEST_ISSUER_KEY_ID, TOKENS, writeTrustFile } from "../server/_helpers.ts";
import { registerClusterTeardown, sharedCluster } from "./_cluster.ts";
import { killServe, type ServeChild, startServe, submitOnce, submitUntilAcked } from "./_serve.ts";

const READ = { authorization: `Bearer ${TOKENS["ledger:read"]}` };

async function getJson(url: string): Promise<any> {
  const r = await fetch(url, { headers: READ });
  assert.equal(r.status, 200, url);
  return await r.json();
}

/** One accepted envelope: its text, parsed value and receipt. */
interface Accepted {
  text: string;
  env: any;
  index: number;
  leafHash: string;
  keyId: string;
}

Deno.test({
  name:
    "PostgreSQL-backed servers: budgets, filtered listing, tiles and verify, evidence packs, witnessing",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const cluster = await sharedCluster();
    const url = await cluster.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const dir = await Deno.makeTempDir({ prefix: "regledger-pg-features-" });
    const data = `${dir}/data`;
    const trust = `${dir}/trust.json`;
    const budgets = `${dir}/budgets.json`;
    const key = await InProcessKeyProvider.generate("history-key-1");
    await writeTrustFile(trust, (s) => s.keys[key.keyId] = key.publicKeyPem);
    await Deno.writeTextFile(
      budgets,
      JSON.stringify({ budgets: [{ issuer: "acme", dataset: "ds", epsilon: 1 }] }),
    );
    const servers: ServeChild[] = [];
    const accepted: Accepted[] = [];
    let witness: Awaited<ReturnType<typeof startWitness>> | undefined;
    const accept = (text: string, receipt: any, keyId: string) =>
      accepted.push({
        text,
        env: JSON.parse(text),
        index: receipt.index,
        leafHash: receipt.leaf_hash,
        keyId,
      });
    try {
      const extra = ["--privacy-budgets", budgets];
      servers.push(await startServe(data, url, trust, {}, extra));
      servers.push(await startServe(data, url, trust, {}, extra));
      const [a, b] = servers;
      const logKey = (await (await fetch(`${a.base}/v1/log/keys`)).text()).trim().split("\n")[0];

      await t.step("1. racing releases on two servers stop at the budget", async () => {
        const texts = await Promise.all(
          Array.from(
            { length: 40 },
            async (_, i) => JSON.stringify(await signedDpEnvelope(i, "ds")),
          ),
        );
        const out = await Promise.all(texts.map((x, i) => submitOnce(i % 2 ? a.base : b.base, x)));
        assert.deepEqual(
          out.filter((o) => o.status !== 201 && o.status !== 422).map((o) => o.status),
          [],
        );
        const ok = out.filter((o) => o.status === 201);
        assert.equal(ok.length, 8, "8 × ε 0.125 = the budget of 1"); // nothing more, nothing less
        for (const o of out) {
          if (o.status === 422) assert.match(String(o.receipt), /PrivacyBudgetExceeded/);
        }
        out.forEach((o, i) => {
          if (o.status === 201) accept(texts[i], o.receipt, TEST_ISSUER_KEY_ID);
        });
        const answers = [];
        for (const s of servers) {
          answers.push(await getJson(`${s.base}/v1/privacy/budget?issuer=acme&dataset=ds`));
        }
        assert.deepEqual(answers[0], answers[1], "both servers agree");
        const got = answers[0];
        assert.deepEqual(got.budget, { epsilon: 1, delta: 0 });
        assert.deepEqual(
          [...got.entries].sort((x: number, y: number) => x - y),
          ok.map((o) => o.receipt.index).sort((x, y) => x - y),
        );
        // Recompute the spending from the entries it lists, read back from the log.
        let epsilon = 0, delta = 0, releases = 0;
        for (const i of got.entries) {
          const e = await getJson(`${a.base}/v1/log/entries/${i}`);
          const env = typeof e.envelope === "string" ? JSON.parse(e.envelope) : e.envelope;
          assert.equal(env.issuer, "acme");
          assert.equal(env.dp.dataset, "ds");
          for (const f of Object.values(env.dp.fields) as any[]) {
            epsilon += f.epsilon;
            delta += f.delta;
            releases++;
          }
        }
        assert.deepEqual(got.spent, { epsilon, delta, composition: "basic", releases });
        assert.equal(epsilon, 1);
      });

      await t.step("2. GET /v1/log/entries: every filter, paged by cursor", async () => {
        const kinds: [string, PrimitiveName][] = [
          ["acme", "drift"],
          ["acme", "fairness"],
          ["globex", "drift"],
        ];
        const texts = await Promise.all(Array.from({ length: 24 }, async (_, i) => {
          const [issuer, primitive] = kinds[i % 3];
          return new TextDecoder().decode(await historyEnvelope(key, i, issuer, primitive));
        }));
        const deadline = Date.now() + 30_000;
        const bases = () => servers.map((s) => s.base);
        const acks = await Promise.all(
          texts.map((x, i) => submitUntilAcked(bases, i, x, deadline)),
        );
        acks.forEach((r, i) => accept(texts[i], r.receipt, key.keyId));
        const expected = (f: (x: Accepted) => boolean) =>
          accepted.filter(f).sort((x, y) => {
            const kx = utcTimeKey(x.env.issued_at)!, ky = utcTimeKey(y.env.issued_at)!;
            return kx < ky ? -1 : kx > ky ? 1 : x.index - y.index;
          }).map((x) => ({
            index: x.index,
            issued_at: x.env.issued_at,
            issuer: x.env.issuer,
            primitive: x.env.primitive,
            key_id: x.keyId,
            envelope_sha256: toBase64(parseEnvelopeText(x.text).sha256),
            leaf_hash: x.leafHash,
            regulations: x.env.regulations,
            summary: resultSummary(x.env.primitive, x.env.result, x.env.input_commitments),
          }));
        const breached = (x: Accepted) =>
          resultSummary(x.env.primitive, x.env.result, x.env.input_commitments).breached === true;
        const cases: [string, (x: Accepted) => boolean][] = [
          ["", () => true],
          ["issuer=globex", (x) => x.env.issuer === "globex"],
          [
            "issuer=acme&primitive=drift",
            (x) => x.env.issuer === "acme" && x.env.primitive === "drift",
          ],
          ["primitive=fairness", (x) => x.env.primitive === "fairness"],
          ["breached=true", breached],
          ["breached=false", (x) => !breached(x)],
          ["issuer=acme&breached=true", (x) => x.env.issuer === "acme" && breached(x)],
          [`key_id=${TEST_ISSUER_KEY_ID}`, (x) => x.keyId === TEST_ISSUER_KEY_ID],
          ["regulation=NYC_LL144", (x) => x.env.regulations.includes("NYC_LL144")],
          [
            "regulation=EU_AI_ACT_ART72&from=2026-01-05T00:00:00Z",
            (x) => x.env.regulations.includes("EU_AI_ACT_ART72") && x.env.issued_at >= "2026-01-05",
          ],
        ];
        assert.ok(accepted.some(breached) && accepted.some((x) => !breached(x)));
        for (const [query, f] of cases) {
          const want = expected(f);
          assert.ok(want.length > 0, query);
          const got = [];
          let cursor: string | null = null;
          let pages = 0;
          do {
            const c: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
            const s = servers[pages % 2];
            const page = await getJson(`${s.base}/v1/log/entries?limit=5&${query}${c}`);
            got.push(...page.entries);
            cursor = page.next_cursor;
            pages++;
          } while (cursor !== null);
          assert.deepEqual(got, want, query);
          assert.ok(pages >= Math.ceil(want.length / 5), query);
        }
      });

      await t.step(
        "3. checkpoint and tiles equal the ones computed from the envelopes",
        async () => {
          const size = accepted.length;
          const byIndex = [...accepted].sort((x, y) => x.index - y.index);
          assert.deepEqual(byIndex.map((x) => x.index), [...Array(size).keys()]);
          const leaves: Uint8Array[] = [];
          for (const x of byIndex) {
            leaves.push(encodeLeaf({
              envelope_sha256: toBase64(parseEnvelopeText(x.text).sha256),
              index: x.index,
              issued_at: x.env.issued_at,
              issuer: x.env.issuer,
              key_id: x.keyId,
              prev: prevFor(leaves.at(-1) ?? null),
              primitive: x.env.primitive,
              v: LEAF_VERSION,
            }));
          }
          const mem = new MemoryHashStore();
          await mem.appendLeafHashes(leaves.map(leafHash));
          assert.deepEqual(
            leaves.map((l) => toBase64(leafHash(l))),
            byIndex.map((x) => x.leafHash),
          );
          for (const s of servers) {
            const cp = await openCheckpoint(
              await (await fetch(`${s.base}/checkpoint`)).text(),
              parseVerifierKey(logKey),
            );
            assert.equal(cp.size, size);
            assert.deepEqual(cp.root, await treeHash(size, mem));
            const tile = await fetch(`${s.base}/tile/0/000.p/${size}`);
            assert.equal(tile.status, 200);
            assert.deepEqual(
              new Uint8Array(await tile.arrayBuffer()),
              await readTileData({ level: 0, n: 0, width: size }, mem),
            );
            const bundle = await fetch(`${s.base}/tile/entries/000.p/${size}`, { headers: READ });
            assert.equal(bundle.status, 200);
            assert.deepEqual(new Uint8Array(await bundle.arrayBuffer()), encodeEntryBundle(leaves));
          }
        },
      );

      await t.step("4. an evidence pack from a PostgreSQL-backed server verifies", async () => {
        const res = await fetch(`${b.base}/v1/evidence?issuer=acme`, { headers: READ });
        assert.equal(res.status, 200);
        const pack = new Uint8Array(await res.arrayBuffer());
        const files = readZip(pack);
        const manifest = JSON.parse(
          new TextDecoder().decode(files.find((f) => f.name === "manifest.json")!.data),
        );
        assert.deepEqual(
          [...manifest.entries].sort((x: number, y: number) => x - y),
          accepted.filter((x) => x.env.issuer === "acme").map((x) => x.index).sort((x, y) => x - y),
        );
        await Deno.writeFile(`${dir}/pack.zip`, pack);
        const ok = await runCli("evidence", "verify", `${dir}/pack.zip`, "--key", logKey);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
        const env = files.find((f) => /^envelopes\/\d+\.json$/.test(f.name))!;
        const copy = pack.slice();
        copy[env.data.byteOffset - pack.byteOffset + Math.floor(env.data.length / 2)] ^= 1;
        await Deno.writeFile(`${dir}/tampered.zip`, copy);
        const bad = await runCli("evidence", "verify", `${dir}/tampered.zip`);
        assert.equal(bad.code, 1, bad.stdout + bad.stderr);
        assert.equal(JSON.parse(bad.stdout).file, env.name);
      });

      await t.step(
        "5. a real witness cosigns a PostgreSQL-backed server's checkpoints",
        async () => {
          witness = await startWitness({
            dataDir: `${dir}/witness`,
            name: "witness.test/pg",
            logs: [logKey],
            mlDsa: false,
            status: () => {},
          });
          const vkey = witness.verifierKeys[0];
          servers.push(
            await startServe(data, url, trust, {}, [
              ...extra,
              "--witness",
              `${witness.url}=${vkey}`,
            ]),
          );
          const c = servers[2];
          const text = JSON.stringify(await signedDpEnvelope(1000, "other-ds"));
          const r = await fetch(`${c.base}/v1/envelopes?wait=witnessed`, {
            method: "POST",
            body: text,
            headers: {
              authorization: `Bearer ${TOKENS["ledger:append"]}`,
              "content-type": "application/json",
            },
          });
          assert.equal(r.status, 201);
          const receipt = await r.json();
          accept(text, receipt, TEST_ISSUER_KEY_ID);
          const note = await openNote(receipt.checkpoint, [parseNoteVerifierKey(vkey).verifier]);
          assert.ok(note.text.startsWith(`${logKey.split("+")[0]}\n${accepted.length}\n`));
          // The witness keeps its own state; the log's database has no table for it.
          await Deno.stat(`${dir}/witness/witness.kv`);
          const tables = await cluster.psql(
            db,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'regledger'",
          );
          assert.doesNotMatch(tables, /witness/);
        },
      );
    } finally {
      await Promise.all(servers.map((s) => killServe(s, "SIGTERM")));
      await witness?.close();
    }
    try {
      await t.step(
        "3b. ledger verify --store passes, and catches a changed stored tile",
        async () => {
          const at = ["--data", data, "--store", url];
          const v = await runCli("ledger", "verify", ...at);
          assert.equal(v.code, 0, v.stdout + v.stderr);
          assert.deepEqual(JSON.parse(v.stdout), { ok: true, size: accepted.length });
          const flip =
            "UPDATE regledger.tiles SET data = set_byte(data, 5, 255 - get_byte(data, 5)) " +
            "WHERE level = 0 AND n = 0";
          await cluster.psql(db, flip);
          const bad = await runCli("ledger", "verify", ...at);
          assert.equal(bad.code, 1, bad.stdout + bad.stderr);
          assert.match(
            bad.stdout + bad.stderr,
            /hash tile 0\/0\.p\/\d+: stored hash 0 is not the tree's/,
          );
          await cluster.psql(db, flip);
          assert.equal((await runCli("ledger", "verify", ...at)).code, 0);
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

registerClusterTeardown();
