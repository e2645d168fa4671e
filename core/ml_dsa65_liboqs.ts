/**
 * An ML-DSA-65 engine backed by liboqs (Open Quantum Safe, C compiled to
 * WebAssembly, npm `@oqs/liboqs-js`): an implementation independent of the
 * default @noble/post-quantum, used to cross-check it and where verification
 * speed matters. liboqs signs hedged only. Kept apart from `./ml_dsa65.ts`
 * so that nothing loads the WebAssembly module unless asked.
 *
 * @module
 */
import { createMLDSA65 } from "@oqs/liboqs-js";
import { ML_DSA_65_ALG, type MlDsa65Engine, nobleMlDsa65 } from "./ml_dsa65.ts";
import { liboqsMlDsaOperations } from "./ml_dsa_engine.ts";

/** A liboqs ML-DSA-65 engine; call `destroy()` when done with it. */
export interface LiboqsMlDsa65Engine extends MlDsa65Engine {
  /** A fresh liboqs key pair (FIPS 204 encodings): for cross-checks. */
  generateKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array };
  /** Free the WebAssembly instance. */
  destroy(): void;
}

/**
 * Load liboqs's ML-DSA-65 (one WebAssembly instance).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLiboqsMlDsa65Engine } from "./ml_dsa65_liboqs.ts";
 * import { MlDsa65PrivateKey } from "./ml_dsa65.ts";
 * const engine = await createLiboqsMlDsa65Engine();
 * const key = MlDsa65PrivateKey.generate();
 * const m = new TextEncoder().encode("body");
 * assert.ok(key.publicKey.verify(key.sign(m), m, engine)); // noble signs, liboqs verifies
 * engine.destroy();
 * ```
 */
export async function createLiboqsMlDsa65Engine(): Promise<LiboqsMlDsa65Engine> {
  const oqs = await createMLDSA65();
  return {
    ...liboqsMlDsaOperations(oqs, ML_DSA_65_ALG),
    generateKeyPair() {
      const { publicKey, secretKey } = oqs.generateKeyPair();
      return { publicKey, secretKey };
    },
  };
}

let shared: Promise<MlDsa65Engine> | undefined;

/**
 * The ML-DSA-65 engine for verifying many hybrid envelopes (a server):
 * liboqs where its WebAssembly module loads, else, with no error,
 * @noble/post-quantum. Loaded once per process (or worker) and shared; it
 * is never destroyed, so it has no `destroy`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultMlDsa65Engine } from "./ml_dsa65_liboqs.ts";
 * const engine = await defaultMlDsa65Engine();
 * assert.ok(["liboqs", "noble"].includes(engine.name));
 * assert.equal(await defaultMlDsa65Engine(), engine);
 * ```
 */
export function defaultMlDsa65Engine(): Promise<MlDsa65Engine> {
  shared ??= createLiboqsMlDsa65Engine().then(
    (e): MlDsa65Engine => ({ name: e.name, sign: e.sign, verify: e.verify }),
    () => nobleMlDsa65,
  );
  return shared;
}
