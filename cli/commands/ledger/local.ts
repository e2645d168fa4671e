/**
 * The ledger commands on a local data directory (`--data DIR`).
 *
 * @module
 */
import { type CliIO, printJson, UsageError } from "../../io.ts";
import { RegledgerError } from "../../../core/errors.ts";
import {
  entryToJson,
  type Ledger,
  LedgerInputError,
  LedgerRangeError,
  LedgerStateError,
  LogKeyError,
  openLedger,
} from "../../../ledger/index.ts";
import { type ListRequest, printPage } from "./list.ts";
import { intOption } from "./common.ts";
import { openStoreUrl } from "../../../ledger/store_url.ts";

/** Run the read-only command `sub` (get, checkpoint, key, proof, consistency, verify) on `ledger`. */
export async function runRead(
  sub: string,
  ledger: Ledger,
  values: Record<string, string>,
  io: CliIO,
  list?: ListRequest,
): Promise<number> {
  switch (sub) {
    case "get": {
      const index = intOption(values, "index", true)!;
      const entry = await ledger.get(index);
      if (!entry) {
        throw new UsageError(`--index ${index}: the log has ${await ledger.size()} entries`);
      }
      io.stdout(entryToJson(entry) + "\n");
      return 0;
    }
    case "list":
      printPage(io, await ledger.query(list!.query), list!.format);
      return 0;
    case "checkpoint":
      io.stdout(await ledger.checkpoint());
      return 0;
    case "key":
      io.stdout(ledger.verifierKey + "\n");
      return 0;
    case "proof": {
      const index = intOption(values, "index", true)!;
      const treeSize = intOption(values, "tree-size", false);
      printJson(io, await ledger.proveInclusion(index, treeSize));
      return 0;
    }
    case "consistency": {
      const first = intOption(values, "first", true)!;
      const second = intOption(values, "second", true)!;
      printJson(io, await ledger.proveConsistency(first, second));
      return 0;
    }
    default: {
      // verify
      let last = 0;
      const r = await ledger.verify({
        onProgress: io.isTerminal
          ? ({ checked, total }) => {
            if (checked - last >= 100000 || checked === total) {
              last = checked;
              io.stderr(`verified ${checked}/${total} entries\n`);
            }
          }
          : undefined,
      });
      printJson(io, r);
      return r.ok ? 0 : 1;
    }
  }
}

/**
 * Open the ledger in `dataDir`, or in the database `storeUrl` with its keys in `dataDir` (`audit`: see `OpenLedgerOptions.audit`;
 * `readOnly`: never create the log key; `newLog`: `--new-log-under-existing-key`).
 */
export async function open(
  dataDir: string,
  origin: string | undefined,
  o: { audit?: boolean; readOnly?: boolean; newLog?: boolean; storeUrl?: string } = {},
): Promise<Ledger> {
  // --store: the log in PostgreSQL; the keys and the signed-head record stay in dataDir.
  const store = o.storeUrl === undefined
    ? undefined
    : await openStoreUrl(o.storeUrl, { write: o.readOnly !== true && o.audit !== true });
  return await openLedger({
    dataDir,
    ...(store ? { store } : {}),
    origin,
    audit: o.audit,
    readOnly: o.readOnly,
    newLogUnderExistingKey: o.newLog,
  });
}

/** Run `f`, turning the ledger's errors about bad use or input into {@linkcode UsageError} (exit 2). */
export async function guard(f: () => Promise<number>): Promise<number> {
  try {
    return await f();
  } catch (e) {
    if (
      e instanceof LedgerRangeError || e instanceof LedgerInputError ||
      e instanceof LedgerStateError || e instanceof LogKeyError
    ) {
      throw new UsageError(e.message, { cause: e });
    }
    if (e instanceof RegledgerError && !(e instanceof UsageError)) {
      throw new UsageError(e.message, { cause: e });
    }
    throw e;
  }
}
