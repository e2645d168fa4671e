/** The store contract suite on the in-memory store (handles share one log). */
import { MemoryStore } from "../../ledger/memory_store.ts";
import { storeContract } from "./store_contract.ts";

storeContract("memory", () => {
  const log = new MemoryStore();
  return Promise.resolve({
    open: () => Promise.resolve(log.handle()),
    dispose: () => Promise.resolve(log.close()),
  });
});
