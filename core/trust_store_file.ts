/**
 * Reading a trust store from a file: the one part of trust stores that
 * needs the Deno runtime, kept apart from `core/trust_store.ts` so that the
 * pure part (parsing, lookups, verification) runs in a browser unchanged.
 *
 * @module
 */
import { TrustStoreError } from "./errors.ts";
import { TrustStore } from "./trust_store.ts";

/**
 * Read a trust store file (needs read permission).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InProcessKeyProvider } from "./keys.ts";
 * import { readTrustStoreFile } from "./trust_store_file.ts";
 * const key = await InProcessKeyProvider.generate("k1");
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, JSON.stringify({ keys: { k1: key.publicKeyPem } }));
 * const store = await readTrustStoreFile(path);
 * assert.deepEqual(store.keyIds, ["k1"]);
 * await Deno.remove(path);
 * ```
 *
 * @throws {TrustStoreError} when the file is malformed; `Deno.errors.*` when unreadable.
 */
export async function readTrustStoreFile(path: string): Promise<TrustStore> {
  const bytes = await Deno.readFile(path);
  try {
    return TrustStore.fromJsonText(bytes);
  } catch (e) {
    if (e instanceof TrustStoreError) {
      throw new TrustStoreError(`${path}: ${e.message}`, { cause: e.cause ?? e });
    }
    throw e;
  }
}
