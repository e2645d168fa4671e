/**
 * An ML-DSA-44 engine backed by liboqs (Open Quantum Safe, C compiled to
 * WebAssembly, npm `@oqs/liboqs-js`): several times faster than the pure
 * JavaScript default (see benchmarks/witness.ts), for a witness that must
 * cosign ~1,000 checkpoints a second or a log that signs many checkpoints.
 * liboqs signs hedged (fresh randomness per signature) and cannot sign
 * deterministically. Kept out of `./index.ts` so that nothing loads the
 * WebAssembly module unless it is asked for.
 *
 * @module
 */
import { createMLDSA44 } from "@oqs/liboqs-js";
import type { MlDsa44Engine } from "./mldsa.ts";

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
  return {
    name: "liboqs",
    supportsDeterministic: false,
    sign(message, secretKey, deterministic) {
      if (deterministic) throw new RangeError("liboqs cannot sign ML-DSA-44 deterministically");
      return oqs.sign(message, secretKey);
    },
    verify(signature, message, publicKey) {
      try {
        return oqs.verify(message, signature, publicKey);
      } catch {
        return false;
      }
    },
    destroy() {
      oqs.destroy();
    },
  };
}
