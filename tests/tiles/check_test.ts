/**
 * The spec-text entry-bundle checker: it accepts the bundles and level-0
 * tiles our code writes, pinpoints the entry that does not match, and
 * agrees with an independent path (bundle decoder + merkle leaf hash) on
 * random corruptions.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { leafHash } from "../../ledger/merkle/mod.ts";
import {
  bundlesForSize,
  checkEntryBundle,
  decodeEntryBundle,
  EntryBundleMismatchError,
  formatTilePath,
  TileHashReader,
} from "../../ledger/tiles/mod.ts";
import { buildLog, mapFetcher, publish, rootOf } from "./_log.ts";

const SIZE = 256 * 3 + 77;
const log = await buildLog(SIZE);
const served = await publish(log, SIZE);

function isMismatch(rule: string, entry?: number) {
  return (e: unknown) => {
    assert.ok(e instanceof EntryBundleMismatchError, String(e));
    assert.equal(e.rule, rule, e.message);
    if (entry !== undefined) assert.equal(e.entry, entry);
    return true;
  };
}

Deno.test("every bundle of a log matches its authenticated level-0 tile", async () => {
  const tiles = new TileHashReader(SIZE, await rootOf(log, SIZE), mapFetcher(served));
  let total = 0;
  for (const b of bundlesForSize(SIZE)) {
    const tile = await tiles.readTile(0, b.n);
    total += checkEntryBundle(served.get(formatTilePath(b))!, tile, b.n);
  }
  assert.equal(total, SIZE);
});

Deno.test("a mismatch names the rule and the entry", () => {
  const bundle = served.get("tile/entries/001")!;
  const tile = served.get("tile/0/001")!;
  // Flip a byte inside entry 256 + 3's leaf.
  const leaves = decodeEntryBundle(bundle, 256);
  let off = 0;
  for (let i = 0; i < 3; i++) off += 2 + leaves[i].length;
  const bad = bundle.slice();
  bad[off + 2] ^= 1;
  assert.throws(() => checkEntryBundle(bad, tile, 1), isMismatch("leaf-hash", 259));
  // Bundle and tile of different positions.
  assert.throws(
    () => checkEntryBundle(bundle, served.get("tile/0/002")!, 2),
    isMismatch("leaf-hash", 512),
  );
  // Partial tile of 77 hashes against the partial bundle cut to 76 entries, or a full bundle.
  const partial = served.get("tile/0/003.p/77")!;
  const partialBundle = served.get("tile/entries/003.p/77")!;
  assert.equal(checkEntryBundle(partialBundle, partial, 3), 77);
  const last = decodeEntryBundle(partialBundle, 77)[76];
  const cut = partialBundle.subarray(0, partialBundle.length - 2 - last.length);
  assert.throws(() => checkEntryBundle(cut, partial, 3), isMismatch("count", 3 * 256 + 76));
  const longer = new Uint8Array([...partialBundle, 0, 0]);
  assert.throws(() => checkEntryBundle(longer, partial, 3), isMismatch("count", 3 * 256 + 77));
  assert.throws(
    () => checkEntryBundle(partialBundle.subarray(0, 1), partial, 3),
    isMismatch("bundle-framing", 768),
  );
  assert.throws(
    () => checkEntryBundle(partialBundle.subarray(0, 5), partial, 3),
    isMismatch("bundle-framing", 768),
  );
  for (const len of [0, 31, 33, 257 * 32]) {
    assert.throws(() => checkEntryBundle(bundle, new Uint8Array(len)), isMismatch("tile-length"));
  }
});

Deno.test("checker agrees with decoder + leaf hash on corrupted bundles (property)", () => {
  const bundle = served.get("tile/entries/002")!;
  const tile = served.get("tile/0/002")!;
  const independent = (bytes: Uint8Array): boolean => {
    try {
      const leaves = decodeEntryBundle(bytes, 256);
      return leaves.every((l, i) => leafHash(l).every((x, j) => x === tile[i * 32 + j]));
    } catch {
      return false;
    }
  };
  const edit = fc.oneof(
    fc.record({
      kind: fc.constant("flip" as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant("append" as const),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
    }),
  );
  let rejected = 0;
  fc.assert(
    fc.property(edit, (e) => {
      let bytes = bundle.slice();
      if (e.kind === "flip") bytes[e.at % bytes.length] ^= 1 << e.bit;
      if (e.kind === "cut") bytes = bytes.subarray(0, e.at % bytes.length);
      if (e.kind === "append") bytes = new Uint8Array([...bytes, ...e.bytes]);
      let ok = true;
      try {
        checkEntryBundle(bytes, tile, 2);
      } catch (err) {
        assert.ok(err instanceof EntryBundleMismatchError);
        ok = false;
      }
      assert.equal(ok, independent(bytes));
      if (!ok) rejected++;
    }),
    { numRuns: 300 },
  );
  assert.ok(rejected > 250, `only ${rejected} of 300 corruptions were rejected`);
});
