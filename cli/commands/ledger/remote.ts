/**
 * The ledger commands against a running server (`--server URL`): the same
 * output as a local data directory (see `./local.ts`).
 *
 * @module
 */
import { type CliIO, printJson, readInputFile, UsageError } from "../../io.ts";
import {
  type LogClient as RemoteLog,
  LogClientError as RemoteLogError,
} from "../../../ledger/client.ts";
import { RegledgerError } from "../../../core/errors.ts";
import { LogKeyError } from "../../../ledger/index.ts";
import { type ListRequest, printPage } from "./list.ts";
import { intOption, readAndCheckEnvelope } from "./common.ts";

/** `--wait`: only `witnessed` (the server's `?wait=witnessed`). */
function waitOption(v: string): "witnessed" {
  if (v !== "witnessed") {
    throw new UsageError(`--wait must be 'witnessed', got '${v.slice(0, 40)}'`);
  }
  return v;
}

/** The ledger commands against a server; same output as {@linkcode runRead}. */
export async function runRemote(
  sub: string,
  log: RemoteLog,
  values: Record<string, string>,
  io: CliIO,
  list?: ListRequest,
): Promise<number> {
  try {
    switch (sub) {
      case "append": {
        const checked = await readAndCheckEnvelope(values, io, false);
        if (typeof checked === "number") return checked;
        const r = await log.append(
          checked.bytes,
          values.wait === undefined ? {} : { wait: waitOption(values.wait) },
        );
        if (!r.ok) {
          printJson(io, r.body);
          return 1;
        }
        if (values.receipt !== undefined) {
          await Deno.writeTextFile(values.receipt, String(r.receipt.tlog_proof));
        }
        printJson(io, r.receipt);
        return 0;
      }
      case "get":
        io.stdout((await log.entryText(intOption(values, "index", true)!)).trimEnd() + "\n");
        return 0;
      case "list":
        printPage(io, await log.query(list!.query), list!.format);
        return 0;
      case "checkpoint":
        io.stdout(await log.checkpoint());
        return 0;
      case "key":
        io.stdout(await log.key() + "\n");
        return 0;
      case "proof":
        printJson(
          io,
          await log.proveInclusion(
            intOption(values, "index", true)!,
            intOption(values, "tree-size", false),
          ),
        );
        return 0;
      case "consistency":
        printJson(
          io,
          await log.proveConsistency(
            intOption(values, "first", true)!,
            intOption(values, "second", true)!,
          ),
        );
        return 0;
      default: {
        // verify
        const key = values.key === undefined
          ? undefined
          : new TextDecoder().decode(await readInputFile(values.key)).trim();
        let last = 0;
        const r = await log.verify(
          key,
          io.isTerminal
            ? (checked, total) => {
              if (checked - last >= 10000 || checked === total) {
                last = checked;
                io.stderr(`verified ${checked}/${total} entries\n`);
              }
            }
            : undefined,
        );
        printJson(io, r);
        return r.ok ? 0 : 1;
      }
    }
  } catch (e) {
    if (e instanceof RemoteLogError) {
      // A refused request (bad index, auth) is bad use; an unreachable or failing server too.
      throw new UsageError(e.message, { cause: e });
    }
    if (e instanceof LogKeyError || (e instanceof RegledgerError && !(e instanceof UsageError))) {
      throw new UsageError(e.message, { cause: e });
    }
    throw e;
  }
}
