/**
 * One engine contract for both ML-DSA parameter sets and both
 * implementations (`core/ml_dsa_engine.ts`): pure FIPS 204 with an empty
 * context, hedged unless deterministic, liboqs refusing deterministic
 * signing by name, verification that never throws, and signatures that the
 * other implementation of the same parameter set accepts.
 */
import assert from "node:assert/strict";
import { ml_dsa44, ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { nobleMlDsa65 } from "../../core/ml_dsa65.ts";
import { createLiboqsMlDsa65Engine } from "../../core/ml_dsa65_liboqs.ts";
import { nobleMlDsa44 } from "../../ledger/witness/mldsa.ts";
import { createLiboqsMlDsa44Engine } from "../../ledger/witness/mldsa_liboqs.ts";

const message = new TextEncoder().encode("one contract");

for (
  const [alg, impl, noble, loadLiboqs] of [
    ["ML-DSA-44", ml_dsa44, nobleMlDsa44, createLiboqsMlDsa44Engine],
    ["ML-DSA-65", ml_dsa65, nobleMlDsa65, createLiboqsMlDsa65Engine],
  ] as const
) {
  Deno.test(`${alg}: noble and liboqs engines keep the one engine contract`, async () => {
    const liboqs = await loadLiboqs();
    try {
      const { publicKey, secretKey } = impl.keygen(new Uint8Array(32).fill(alg.length));
      assert.deepEqual([noble.name, liboqs.name], ["noble", "liboqs"]);
      // Deterministic noble signatures are FIPS 204's with an empty context.
      const det = noble.sign(message, secretKey, true);
      assert.deepEqual(det, noble.sign(message, secretKey, true));
      assert.deepEqual(det, impl.sign(message, secretKey, { extraEntropy: false }));
      // Hedged: fresh randomness each time.
      const hedged = noble.sign(message, secretKey, false);
      assert.notDeepEqual(hedged, noble.sign(message, secretKey, false));
      // liboqs signs hedged only and says which parameter set refused.
      assert.throws(
        () => liboqs.sign(message, secretKey, true),
        (e) =>
          e instanceof RangeError && e.message === `liboqs cannot sign ${alg} deterministically`,
      );
      const theirs = liboqs.sign(message, secretKey, false);
      // Each engine accepts the other's signatures, and refuses another message.
      for (const [engine, sig] of [[noble, theirs], [liboqs, det], [liboqs, hedged]] as const) {
        assert.equal(engine.verify(sig, message, publicKey), true, engine.name);
        assert.equal(engine.verify(sig, new Uint8Array([1]), publicKey), false, engine.name);
      }
      // A signature under a nonempty context is for another message.
      const withContext = impl.sign(message, secretKey, { context: new Uint8Array([1]) });
      for (const engine of [noble, liboqs]) {
        assert.equal(engine.verify(withContext, message, publicKey), false, engine.name);
        // Malformed input is false, never an exception.
        assert.equal(engine.verify(new Uint8Array(3), message, publicKey), false, engine.name);
        assert.equal(engine.verify(det, message, new Uint8Array(5)), false, engine.name);
      }
    } finally {
      liboqs.destroy();
    }
  });
}
