/**
 * A real server's tiled read API checked by Go's own
 * golang.org/x/mod/sumdb/tlog (tests/go/tiles): the server runs on
 * loopback, entries are appended past 256 and 512, and Go's
 * `tlog.TileHashReader` over a `TileReader` that GETs our tiles proves
 * inclusion and consistency against the roots of our signed checkpoints
 * (compared byte for byte with the server's own proofs) and checks every
 * entry bundle against the level-0 tiles. The entry bundles are also
 * checked with `checkEntryBundle` (ledger/tiles/check.ts), written from the
 * spec text. Needs `go` and golang.org/x/mod (never skipped).
 */
import assert from "node:assert/strict";
import { toBase64 } from "../../core/bytes.ts";
import { parseEnvelopeValue } from "../../core/envelope.ts";
import { openCheckpoint } from "../../ledger/checkpoint.ts";
import { parseVerifierKey } from "../../ledger/note.ts";
import { checkEntryBundle } from "../../ledger/tiles/check.ts";
import { bundlesForSize, formatTilePath } from "../../ledger/tiles/mod.ts";
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { startServer } from "../../server/serve.ts";
import { buildGo, runGo } from "../tiles/_go.ts";
import { signedEnvelope } from "./_helpers.ts";

Deno.test({
  name: "Go's tlog proves inclusion and consistency from a running server's tiles",
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "regledger-tiles-go-http-" });
    const server = await startServer({
      host: "127.0.0.1",
      port: 0,
      dataDir: `${tmp}/data`,
      config: { ...DEFAULT_CONFIG, devMode: true, rateLimit: null, verifyWorkers: 0 },
      signals: false,
      status: () => {},
    });
    try {
      const bin = await buildGo(tmp);
      const url = `http://127.0.0.1:${server.addr.port}/`;
      const verifier = parseVerifierKey(server.verifierKey);
      const checkpoints = new Map<number, Uint8Array>();
      let size = 0;
      for (const chunk of [100, 156, 44, 300, 3]) {
        const envs = await Promise.all(
          Array.from(
            { length: chunk },
            async (_, i) => parseEnvelopeValue(await signedEnvelope(size + i)),
          ),
        );
        await Promise.all(envs.map((e) => server.log.append(e)));
        size += chunk;
        const text = await (await fetch(`${url}checkpoint`)).text();
        const cp = await openCheckpoint(text, verifier);
        assert.equal(cp.size, size);
        checkpoints.set(size, cp.root);
      }
      const root = checkpoints.get(size)!;
      const inclusion = [0, 1, 255, 256, 257, 511, 512, 600, size - 1];
      const consistency = [100, 256, 300, 600];
      const res = await runGo(bin, {
        trees: [{ dir: url, size, root: toBase64(root), inclusion, consistency, audit: true }],
        path_sizes: [],
        growth: [],
        parse: [],
      });
      const got = res.trees[0];
      assert.equal(got.err, "");
      assert.equal(got.audited, size, "Go checked every entry bundle against its level-0 tile");
      for (const [j, n] of inclusion.entries()) {
        assert.equal(got.inclusion[j].err, "", `inclusion of ${n}`);
        const ours = await server.log.proveInclusion(n, size);
        assert.deepEqual(got.inclusion[j].proof ?? [], ours.proof, `inclusion proof of ${n}`);
      }
      for (const [j, old] of consistency.entries()) {
        assert.equal(got.consistency[j].err, "", `consistency from ${old}`);
        assert.equal(got.consistency[j].root, toBase64(checkpoints.get(old)!), `root of ${old}`);
        const ours = await server.log.proveConsistency(old, size);
        assert.deepEqual(got.consistency[j].proof ?? [], ours.proof, `consistency from ${old}`);
      }
      // A wrong root: Go refuses the tiles.
      const wrong = root.slice();
      wrong[0] ^= 1;
      const bad = await runGo(bin, {
        trees: [{ dir: url, size, root: toBase64(wrong), inclusion: [], consistency: [] }],
        path_sizes: [],
        growth: [],
        parse: [],
      });
      assert.notEqual(bad.trees[0].err, "");
      // The spec-text checker agrees on every entry bundle.
      let checked = 0;
      for (const b of bundlesForSize(size)) {
        const get = async (p: string) => new Uint8Array(await (await fetch(url + p)).arrayBuffer());
        const tile = await get(formatTilePath({ level: 0, n: b.n, width: b.width }));
        checked += checkEntryBundle(await get(formatTilePath(b)), tile, b.n);
      }
      assert.equal(checked, size);
    } finally {
      await server.shutdown();
      await server.finished;
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
