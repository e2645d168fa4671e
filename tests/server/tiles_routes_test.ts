/**
 * The C2SP tile routes: `/checkpoint`, hash tiles, entry and envelope
 * bundles, with their status codes, scopes, cache headers and ETags.
 */
import assert from "node:assert/strict";
import { parseEnvelopeValue } from "../../core/envelope.ts";
import { leafHash } from "../../ledger/merkle/mod.ts";
import { decodeEntryBundle, decodeEnvelopeBundle } from "../../ledger/tiles/bundle.ts";
import { readTileData } from "../../ledger/tiles/layout.ts";
import { configFromEnv } from "../../server/config.ts";
import { auth, harness, signedEnvelope } from "./_helpers.ts";

async function grown(size: number, config = {}) {
  const h = await harness({ config });
  const envs = await Promise.all(
    Array.from({ length: size }, async (_, i) => parseEnvelopeValue(await signedEnvelope(i))),
  );
  await Promise.all(envs.map((e) => h.ledger.append(e)));
  return h;
}

async function bytes(r: Response): Promise<Uint8Array> {
  return new Uint8Array(await r.arrayBuffer());
}

Deno.test("tile routes: checkpoint, full and partial hash tiles, bundles, caching", async () => {
  const h = await grown(260);
  try {
    const cp = await h.app.request("/checkpoint");
    assert.equal(cp.status, 200);
    assert.equal(await cp.text(), await h.ledger.checkpoint());
    assert.equal(cp.headers.get("cache-control"), "public, max-age=5");
    assert.match(cp.headers.get("content-type")!, /^text\/plain/);

    const full = await h.app.request("/tile/0/000");
    assert.equal(full.status, 200);
    assert.equal(full.headers.get("content-type"), "application/octet-stream");
    assert.equal(full.headers.get("cache-control"), "public, max-age=31536000, immutable");
    const fullBytes = await bytes(full);
    assert.deepEqual(fullBytes, await readTileData({ level: 0, n: 0, width: 256 }, h.ledger.store));
    const etag = full.headers.get("etag")!;
    assert.match(etag, /^"[0-9a-f]{32}"$/);
    const again = await h.app.request("/tile/0/000", { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get("etag"), etag);
    assert.equal((await again.arrayBuffer()).byteLength, 0);
    const other = await h.app.request("/tile/0/000", { headers: { "if-none-match": '"x"' } });
    assert.equal(other.status, 200);
    await other.body?.cancel();

    const part = await h.app.request("/tile/0/001.p/4");
    assert.equal(part.status, 200);
    assert.equal(part.headers.get("cache-control"), "public, max-age=60");
    assert.deepEqual(
      await bytes(part),
      await readTileData({ level: 0, n: 1, width: 4 }, h.ledger.store),
    );
    const lvl1 = await h.app.request("/tile/1/000.p/1");
    assert.deepEqual(
      await bytes(lvl1),
      await readTileData({ level: 1, n: 0, width: 1 }, h.ledger.store),
    );

    // Bundles need ledger:read by default.
    const anon = await h.app.request("/tile/entries/000");
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    const eb = await h.app.request("/tile/entries/000", { headers: auth("ledger:read") });
    assert.equal(eb.status, 200);
    assert.equal(eb.headers.get("cache-control"), "public, max-age=31536000, immutable");
    const leaves = decodeEntryBundle(await bytes(eb), 256);
    leaves.forEach((l, i) =>
      assert.deepEqual(leafHash(l), fullBytes.subarray(i * 32, i * 32 + 32))
    );
    const vb = await h.app.request("/tile/envelopes/001.p/4", { headers: auth("ledger:read") });
    assert.equal(vb.status, 200);
    const envs = decodeEnvelopeBundle(await bytes(vb), 4);
    for (let i = 0; i < 4; i++) {
      assert.equal(new TextDecoder().decode(envs[i]), (await h.ledger.get(256 + i))!.envelope);
    }
  } finally {
    await h.close();
  }
});

Deno.test("tile routes: 400 for bad paths, 404 beyond the tree, public bundles by config", async () => {
  const h = await grown(3, { publicBundles: true });
  try {
    for (
      const p of ["/tile/0/5", "/tile/0/000.p/0", "/tile/64/000", "/tile/0/x000/001", "/tile/a/b"]
    ) {
      const r = await h.app.request(p);
      assert.equal(r.status, 400, p);
      await r.body?.cancel();
    }
    for (
      const p of [
        "/tile/0/000",
        "/tile/0/000.p/4",
        "/tile/0/001.p/1",
        "/tile/1/000.p/1",
        "/tile/entries/000.p/4",
      ]
    ) {
      const r = await h.app.request(p);
      assert.equal(r.status, 404, p);
      await r.body?.cancel();
    }
    const eb = await h.app.request("/tile/entries/000.p/3");
    assert.equal(eb.status, 200);
    assert.equal(decodeEntryBundle(await bytes(eb), 3).length, 3);
    // An older size's partial tile stays servable.
    const old = await h.app.request("/tile/0/000.p/2");
    assert.equal(old.status, 200);
    assert.equal((await bytes(old)).length, 64);
  } finally {
    await h.close();
  }
});

Deno.test("REGLEDGER_PUBLIC_BUNDLES: 1 makes bundles public, 0 or unset keeps them scoped", () => {
  assert.equal(configFromEnv({ REGLEDGER_PUBLIC_BUNDLES: "1" }).publicBundles, true);
  assert.equal(configFromEnv({ REGLEDGER_PUBLIC_BUNDLES: "0" }).publicBundles, false);
  assert.equal(configFromEnv({}).publicBundles, false);
  assert.throws(
    () => configFromEnv({ REGLEDGER_PUBLIC_BUNDLES: "yes" }),
    /REGLEDGER_PUBLIC_BUNDLES/,
  );
});
