/**
 * The index part of the store contract (run by `storeContract` for every
 * store): `scanIndex` gives what a naive filter over the entries gives, for
 * random selectors (issuer and primitive together, either alone, or
 * neither; time bounds; cursors) on a random log, and paging by the last
 * hit walks the whole answer.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ParsedEnvelope, PrimitiveName } from "../../core/envelope_types.ts";
import { openLedger } from "../../ledger/ledger.ts";
import type { Ed25519NoteSigner } from "../../ledger/note.ts";
import type { IndexHit, IndexSelector, LedgerStore } from "../../ledger/store.ts";
import { indexTime } from "../../ledger/time_key.ts";
import { indexRows, naiveScan, rng, testSeed } from "./_index_naive.ts";

type Test = (
  what: string,
  fn: (open: () => Promise<LedgerStore>, key: Ed25519NoteSigner) => Promise<void>,
) => void;

const ISSUERS = ["iss-a", "iss-b", "iss-c"];
const PRIMS: PrimitiveName[] = ["drift", "fairness", "calibration"];

/** Register the index contract tests. */
export function storeIndexContract(
  test: Test,
  origin: string,
  envelope: (
    i: number,
    o: { issuer: string; primitive: PrimitiveName; issuedAt: string },
  ) => Promise<ParsedEnvelope>,
): void {
  test("scanIndex equals a naive filter for random selectors and cursors", async (open, key) => {
    const seed = testSeed();
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    // Few days and hours, so that many entries share one time.
    const time = () =>
      `2026-04-0${1 + Math.floor(r() * 5)}T${
        String(Math.floor(r() * 3) * 5).padStart(2, "0")
      }:00:00Z`;
    const n = 60;
    const ledger = await openLedger({ store: await open(), logKey: key, origin, maxBatch: 9 });
    try {
      const envs = [];
      for (let i = 0; i < n; i++) {
        envs.push(
          await envelope(i, { issuer: pick(ISSUERS), primitive: pick(PRIMS), issuedAt: time() }),
        );
      }
      await Promise.all(envs.map((e) => ledger.append(e)));
      const store = ledger.store;
      const rows = await indexRows(store, n);
      let nonEmpty = 0;
      for (let t = 0; t < 150; t++) {
        const sel: IndexSelector = {};
        const mode = r();
        if (mode < 0.7) {
          sel.issuer = r() < 0.9 ? pick(ISSUERS) : "nobody";
          sel.primitive = r() < 0.9 ? pick(PRIMS) : "fhe";
        } else if (mode < 0.8) sel.issuer = pick(ISSUERS);
        else if (mode < 0.9) sel.primitive = pick(PRIMS);
        if (r() < 0.4) sel.from = indexTime(time());
        if (r() < 0.4) sel.to = indexTime(time());
        if (r() < 0.4) {
          const x = pick(rows);
          sel.after = { issuedAt: x.t, index: r() < 0.8 ? x.index : Math.floor(r() * n) };
        }
        const limit = 1 + Math.floor(r() * 20);
        const want = naiveScan(rows, sel, limit);
        const what = `seed ${seed}: ${JSON.stringify(sel)} limit ${limit}`;
        assert.deepEqual(await store.scanIndex(sel, limit), want, what);
        if (want.length > 0) nonEmpty++;
        if (r() < 0.2) {
          const walked: IndexHit[] = [];
          let after: IndexSelector["after"];
          for (;;) {
            const page = await store.scanIndex({ ...sel, after }, 4);
            walked.push(...page);
            if (page.length < 4) break;
            after = page[3];
          }
          assert.deepEqual(walked, naiveScan(rows, { ...sel, after: undefined }, n), what);
        }
      }
      assert.ok(nonEmpty > 30, `seed ${seed}: only ${nonEmpty} selectors had hits`);
    } finally {
      await ledger.close();
    }
  });
}
