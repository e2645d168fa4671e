/** The store contract suite on the Deno KV store (a file; every handle opens it again). */
import { KvStore } from "../../ledger/kv_store.ts";
import { storeContract } from "./store_contract.ts";

storeContract("Deno KV", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-contract-" });
  return {
    open: () => KvStore.open(`${dir}/ledger.kv`),
    dispose: () => Deno.remove(dir, { recursive: true }),
  };
});
