/**
 * An ML-DSA-44 engine backed by liboqs (Open Quantum Safe, C compiled to
 * WebAssembly, npm `@oqs/liboqs-js`): several times faster than the pure
 * JavaScript default (see benchmarks/witness.ts), for a witness that must
 * cosign ~1,000 checkpoints a second or a log that signs many checkpoints.
 * liboqs signs hedged (fresh randomness per signature) and cannot sign
 * deterministically. Kept out of `./index.ts` so that nothing loads the
 * WebAssembly module unless it is asked for; {@link defaultMlDsa44Engine}
 * is what `openLedger` signs checkpoints with when no engine is given.
 *
 * @module
 */
import { createMLDSA44 } from "@oqs/liboqs-js";
import { liboqsMlDsaOperations } from "../../core/ml_dsa_engine.ts";
import { type MlDsa44Engine, nobleMlDsa44 } from "./mldsa.ts";

/** A liboqs ML-DSA-44 engine; call `destroy()` when done with it. */
export interface LiboqsMlDsa44Engine extends MlDsa44Engine {
  /** Free the WebAssembly instance. */
  destroy(): void;
}

/**
 * Load liboqs's ML-DSA-44 (one WebAssembly instance).
 *
 * @example
 * ```ts
 * import { createLiboqsMlDsa44Engine } from "./mldsa_liboqs.ts";
 * import { MlDsa44NoteSigner } from "./mldsa.ts";
 * const engine = await createLiboqsMlDsa44Engine();
 * const signer = MlDsa44NoteSigner.fromSeed("example.com/log", new Uint8Array(32), { engine });
 * const text = new TextEncoder().encode(`example.com/log\n0\n${btoa("\0".repeat(32))}\n`);
 * const ok = await signer.verifier().verify(text, await signer.sign(text));
 * engine.destroy();
 * if (!ok) throw new Error("liboqs signature did not verify");
 * ```
 */
export async function createLiboqsMlDsa44Engine(): Promise<LiboqsMlDsa44Engine> {
  const oqs = await createMLDSA44();
  return { ...liboqsMlDsaOperations(oqs, "ML-DSA-44"), supportsDeterministic: false };
}

let shared: Promise<MlDsa44Engine> | undefined;

/**
 * The ML-DSA-44 engine a log signs its checkpoints with by default: liboqs
 * (~1 ms a signature) where its WebAssembly module loads, else, with no
 * error, @noble/post-quantum (~8 ms). Loaded once per process and shared
 * (it is never destroyed, so it has no `destroy`); both engines make
 * interchangeable FIPS 204 signatures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultMlDsa44Engine } from "./mldsa_liboqs.ts";
 * const engine = await defaultMlDsa44Engine();
 * assert.ok(["liboqs", "noble"].includes(engine.name));
 * assert.equal(await defaultMlDsa44Engine(), engine); // one per process
 * ```
 */
export function defaultMlDsa44Engine(): Promise<MlDsa44Engine> {
  shared ??= createLiboqsMlDsa44Engine().then(
    (e): MlDsa44Engine => ({
      name: e.name,
      supportsDeterministic: e.supportsDeterministic,
      sign: e.sign,
      verify: e.verify,
    }),
    () => nobleMlDsa44,
  );
  return shared;
}
