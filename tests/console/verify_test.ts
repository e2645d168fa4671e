/**
 * The console's in-browser verification (`server/console/web/verify.ts`) on
 * what a real server answers: valid entries (native and legacy) verify, and
 * each tampering — a changed result, a swapped envelope, a wrong proof, a
 * wrong pinned log key, a revoked issuer, an altered checkpoint, a newer
 * checkpoint without (or with a wrong) consistency proof — is invalid with
 * the check that names it.
 */
import assert from "node:assert/strict";
import { fromBase64, toBase64 } from "../../core/bytes.ts";
import { Ed25519NoteSigner } from "../../ledger/note.ts";
import {
  type EntryCheckId,
  type EntryVerdict,
  neededConsistency,
  verifyEntry,
} from "../../server/console/web/verify.ts";
import { signedEnvelope, writeTrustFile } from "../server/_helpers.ts";
import { populate, withServer } from "./_helpers.ts";

function failing(v: EntryVerdict): EntryCheckId[] {
  return v.checks.filter((c) => !c.ok).map((c) => c.id);
}

function reasonOf(v: EntryVerdict, id: EntryCheckId): string {
  return v.checks.find((c) => c.id === id)?.reason ?? "";
}

/** The bundle text with `change` applied to its parsed form (numbers of native envelopes survive). */
function editBundle(text: string, change: (b: Record<string, unknown>) => void): string {
  const b = JSON.parse(text);
  change(b);
  return JSON.stringify(b);
}

Deno.test({
  name: "verifyEntry: every entry a real server answers verifies, native and legacy",
  sanitizeResources: false,
  fn: () =>
    withServer(async (ctx) => {
      await populate(ctx);
      for (let i = 0; i < 7; i++) {
        const input = await ctx.input(i);
        const v = await verifyEntry(input);
        assert.equal(v.verdict, "valid", `${i}: ${JSON.stringify(v.checks)}`);
        assert.deepEqual(v.checks.map((c) => c.id), [
          "envelope-hash",
          "issuer-signature",
          "checkpoint-signature",
          "inclusion",
          "consistency",
        ]);
        assert.ok(v.checks.every((c) => c.ok && c.reason === undefined && c.label.length > 0));
        // The parsed bundle works too for native envelopes.
        if (i !== 5) {
          assert.equal(
            (await verifyEntry({ ...input, bundle: JSON.parse(input.bundle as string) }))
              .verdict,
            "valid",
          );
        }
      }
      // The legacy entry holds numbers like 1.0: hashed as written only from the text.
      const legacy = await ctx.input(5);
      assert.match(legacy.bundle as string, /"schema":"regaudit-fhe\.report\.v1"/);
      const lossy = await verifyEntry({ ...legacy, bundle: JSON.parse(legacy.bundle as string) });
      assert.deepEqual(failing(lossy), ["envelope-hash", "issuer-signature"]);
    }),
});

Deno.test({
  name: "verifyEntry: each tampering is invalid and names the failing check",
  sanitizeResources: false,
  fn: () =>
    withServer(async (ctx) => {
      await populate(ctx);
      const good = await ctx.input(2);
      const bundle = good.bundle as string;

      // A changed result: the envelope no longer hashes to the leaf, nor to its signed body.
      const changed = await verifyEntry({
        ...good,
        bundle: editBundle(bundle, (b) => {
          (b.envelope as { result: Record<string, unknown> }).result.cvm = 0.5;
        }),
      });
      assert.equal(changed.verdict, "invalid");
      assert.deepEqual(failing(changed), ["envelope-hash", "issuer-signature"]);
      assert.match(reasonOf(changed, "envelope-hash"), /hashes to .* but the leaf names/);
      assert.match(reasonOf(changed, "issuer-signature"), /^HashMismatch/);

      // Another entry's (validly signed) envelope in this entry's bundle.
      const other = JSON.parse((await ctx.input(3)).bundle as string).envelope;
      const swapped = await verifyEntry({
        ...good,
        bundle: editBundle(bundle, (b) => (b.envelope = other)),
      });
      assert.deepEqual(failing(swapped), ["envelope-hash"]);

      // A proof that does not match: one hash of the audit path flipped.
      const wrongProof = await verifyEntry({
        ...good,
        bundle: editBundle(bundle, (b) => {
          const p = b.inclusion_proof as string[];
          assert.ok(p.length > 0);
          const h = fromBase64(p[0]);
          h[0] ^= 1;
          p[0] = toBase64(h);
        }),
      });
      assert.deepEqual(failing(wrongProof), ["inclusion"]);
      // A proof for another index.
      const wrongIndex = await verifyEntry({
        ...good,
        bundle: editBundle(bundle, (b) => (b.index = 3)),
      });
      assert.deepEqual(failing(wrongIndex), ["envelope-hash", "inclusion"]);

      // A log key the user did not pin (same name, another key).
      const impostor = await Ed25519NoteSigner.generate(good.logKey.split("+")[0]);
      const wrongKey = await verifyEntry({ ...good, logKey: impostor.verifierKey() });
      assert.deepEqual(failing(wrongKey), ["checkpoint-signature", "inclusion", "consistency"]);
      assert.match(reasonOf(wrongKey, "inclusion"), /not checked/);
      const notAKey = await verifyEntry({ ...good, logKey: "not a key" });
      assert.match(reasonOf(notAKey, "checkpoint-signature"), /pinned log key is not/);

      // An altered checkpoint: another root under the same signature.
      const alter = (cp: string) => {
        const lines = cp.split("\n");
        const root = fromBase64(lines[2]);
        root[31] ^= 1;
        lines[2] = toBase64(root);
        return lines.join("\n");
      };
      const alteredLatest = await verifyEntry({ ...good, checkpoint: alter(good.checkpoint) });
      assert.deepEqual(failing(alteredLatest), ["checkpoint-signature", "consistency"]);
      assert.match(reasonOf(alteredLatest, "checkpoint-signature"), /latest checkpoint/);
      const alteredBoth = await verifyEntry({
        ...good,
        checkpoint: alter(good.checkpoint),
        bundle: editBundle(bundle, (b) => (b.checkpoint = alter(b.checkpoint as string))),
      });
      assert.deepEqual(failing(alteredBoth), ["checkpoint-signature", "inclusion", "consistency"]);

      // A revoked issuer: the server's trust store after the revocation is reloaded.
      await writeTrustFile(ctx.trust, (s) => s.revoked.push("test-issuer-2026"));
      await ctx.server.reloadTrustStore();
      const revoked = await verifyEntry(await ctx.input(2));
      assert.deepEqual(failing(revoked), ["issuer-signature"]);
      assert.match(reasonOf(revoked, "issuer-signature"), /^RevokedIssuer/);
      // The server's own audit is still valid under the same store.
      assert.equal((await verifyEntry(await ctx.input(6))).verdict, "valid");
      // A trust store that is not one.
      const noStore = await verifyEntry({ ...good, trustStore: "[]" });
      assert.match(reasonOf(noStore, "issuer-signature"), /trust store is unusable/);
      // A bundle that is not JSON fails everything that needs it.
      const junk = await verifyEntry({ ...good, bundle: "<html>" });
      assert.deepEqual(failing(junk), [
        "envelope-hash",
        "issuer-signature",
        "checkpoint-signature",
        "inclusion",
        "consistency",
      ]);
    }),
});

Deno.test({
  name: "verifyEntry: a newer latest checkpoint needs the consistency proof the server gives",
  sanitizeResources: false,
  fn: () =>
    withServer(async (ctx) => {
      await populate(ctx);
      const bundle = await ctx.get("/v1/log/entries/1/bundle");
      for (let n = 10; n < 13; n++) {
        await ctx.post("/v1/envelopes", JSON.stringify(await signedEnvelope(n)), "ledger:append");
      }
      const later = await ctx.input(1);
      const input = { ...later, bundle };
      const need = neededConsistency(bundle, input.checkpoint);
      assert.deepEqual(need, { first: 7, second: 10 });
      const missing = await verifyEntry(input);
      assert.deepEqual(failing(missing), ["consistency"]);
      assert.match(reasonOf(missing, "consistency"), /from size 7 to 10 is needed/);
      const consistency = JSON.parse(
        await ctx.get(`/v1/log/proof/consistency?first=${need!.first}&second=${need!.second}`),
      );
      const ok = await verifyEntry({ ...input, consistency });
      assert.equal(ok.verdict, "valid", JSON.stringify(ok.checks));
      assert.match(ok.checks[4].detail ?? "", /size 7 extends to 10/);
      // A proof between other sizes, or a corrupted one, does not do.
      const other = JSON.parse(await ctx.get("/v1/log/proof/consistency?first=6&second=10"));
      assert.deepEqual(failing(await verifyEntry({ ...input, consistency: other })), [
        "consistency",
      ]);
      const bent = structuredClone(consistency);
      const h = fromBase64(bent.proof[0]);
      h[5] ^= 0x80;
      bent.proof[0] = toBase64(h);
      assert.deepEqual(failing(await verifyEntry({ ...input, consistency: bent })), [
        "consistency",
      ]);
      assert.equal(neededConsistency(later.bundle as string, later.checkpoint), null);
    }),
});
