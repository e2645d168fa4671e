/**
 * The store contract suite on the PostgreSQL store: a throwaway cluster
 * (`tests/pg/_cluster.ts`) for the file, a fresh database per test, every
 * handle a new connection pool on it (as another server process would).
 */
import { PgStore } from "../../ledger/pg/store.ts";
import { registerClusterTeardown, sharedCluster } from "../pg/_cluster.ts";
import { storeContract } from "./store_contract.ts";

storeContract("PostgreSQL", async () => {
  const cluster = await sharedCluster();
  const url = await cluster.createDatabase();
  const opened: PgStore[] = [];
  return {
    open: async () => {
      const s = await PgStore.open(url);
      opened.push(s);
      return s;
    },
    dispose: async () => {
      // Ledgers close their stores; make sure every pool is gone before the next test.
      for (const s of opened) s.close();
      await Promise.all(opened.map((s) => s.closed()));
    },
  };
});

registerClusterTeardown();
