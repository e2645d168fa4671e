/**
 * `regledger ledger <cmd> (--data DIR [--store URL] | --server URL)`: the log on the
 * command line, JSON on stdout in the shapes of the HTTP API (docs/formats.md §8).
 * With `--server` the same commands go to a running server (see
 * `ledger/client.ts`) and print the same output; `verify` then audits the
 * log from the client side. The commands live in `./ledger/` (local, remote,
 * help texts, shared checks).
 *
 * - `append -i ENVELOPE [--trusted-keys FILE] [--wait witnessed]`: verify, append, print the receipt.
 * - `get --index N`: `{index, leaf, leaf_hash, envelope}` (envelope text spliced raw).
 * - `checkpoint`: the latest signed checkpoint (text).
 * - `key`: the log's verifier key (text).
 * - `proof --index N [--tree-size M]`: `{index, tree_size, leaf_hash, proof}`.
 * - `consistency --first A --second B`: `{first, second, proof}`.
 * - `list [--issuer I] [--primitive P] [--from T] [--to T] [--breached] …`: a page of entries.
 * - `verify`: audit the whole log; exit 1 with `{ok:false, reason, first_bad_index}` when corrupt.
 * - `mirror --server URL --data DIR`: copy a server's log from its tiles (`./ledger/mirror.ts`).
 *
 * Exit codes: 0 ok; 1 an envelope failed verification (`{error, reason}`)
 * or the log is corrupt; 2 bad use or unreadable/malformed input.
 *
 * @module
 */
import { type Command, parseArgs, printJson, tokenFromEnv, UsageError } from "../io.ts";
import { LogClient } from "../../ledger/client.ts";
import { HELP, HELPS } from "./ledger/help.ts";
import { readAndCheckEnvelope } from "./ledger/common.ts";
import { listFormat, listQuery } from "./ledger/list.ts";
import { guard, open, runRead } from "./ledger/local.ts";
import { runRemote } from "./ledger/remote.ts";
import { readMirrorRecord, runMirror, verifyMirror } from "./ledger/mirror.ts";
import { LedgerCorruptionError } from "../../ledger/errors.ts";
import { openLedger } from "../../ledger/ledger.ts";
import { checkStoreUrl } from "../../ledger/store_url.ts";

/**
 * Run `regledger ledger` with `args`; returns the exit code.
 *
 * @throws {UsageError} for bad use or unreadable/malformed input (exit 2).
 */
export const run: Command = async (args, io) => {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === "mirror") return await runMirror(rest, io);
  if (!(sub in HELPS)) {
    throw new UsageError(`unknown ledger command ${JSON.stringify(sub)}\n${HELP}`);
  }
  const spec = {
    values: [
      "data",
      "store",
      "origin",
      "input",
      "trusted-keys",
      "receipt",
      "wait",
      "index",
      "tree-size",
      "first",
      "second",
      "server",
      "token",
      "key",
      "issuer",
      "primitive",
      "from",
      "to",
      "limit",
      "cursor",
      "format",
    ],
    flags: ["help", "breached", "not-breached", "new-log-under-existing-key"],
    aliases: { h: "help", i: "input" },
  };
  const p = parseArgs(rest, spec);
  if (p.flags.has("help")) {
    io.stdout(HELPS[sub]);
    return 0;
  }
  const allowed: Record<string, string[]> = {
    append: ["input", "trusted-keys", "receipt", "wait"],
    get: ["index"],
    checkpoint: [],
    key: [],
    proof: ["index", "tree-size"],
    consistency: ["first", "second"],
    list: ["issuer", "primitive", "from", "to", "limit", "cursor", "format"],
    verify: [],
  };
  const where = ["data", "store", "origin", "server", "token"];
  for (const k of Object.keys(p.values)) {
    if (k === "key" && sub === "verify") continue;
    if (!where.includes(k) && !allowed[sub].includes(k)) {
      throw new UsageError(`option --${k} does not apply to 'ledger ${sub}'`);
    }
  }
  for (const f of ["breached", "not-breached"]) {
    if (p.flags.has(f) && sub !== "list") {
      throw new UsageError(`option --${f} does not apply to 'ledger ${sub}'`);
    }
  }
  const newLog = p.flags.has("new-log-under-existing-key");
  if (newLog && (sub !== "append" || p.values.server !== undefined)) {
    throw new UsageError(
      `option --new-log-under-existing-key applies only to 'ledger append --data DIR'`,
    );
  }
  if (p.positional.length > 0) throw new UsageError(`unexpected argument ${p.positional[0]}`);
  // Check list's options before touching any log.
  const list = sub === "list"
    ? { query: listQuery(p.values, p.flags), format: listFormat(p.values, io) }
    : undefined;
  const server = p.values.server;
  if (server !== undefined) {
    for (const k of ["data", "store", "origin"]) {
      if (p.values[k] !== undefined) throw new UsageError(`--${k} and --server exclude each other`);
    }
    return await runRemote(
      sub,
      logClientFor(server, p.values.token ?? tokenFromEnv(), "--server"),
      p.values,
      io,
      list,
    );
  }
  for (const k of ["token", "key"]) {
    if (p.values[k] !== undefined) throw new UsageError(`--${k} applies only with --server`);
  }
  if (p.values.wait !== undefined) {
    throw new UsageError(
      "--wait applies only with --server (witnesses cosign a server's checkpoints)",
    );
  }
  const dataDir = p.values.data;
  if (!dataDir) {
    throw new UsageError(
      p.values.store !== undefined
        ? "--store needs --data DIR for the log's keys (the same key files the servers use)"
        : "--data DIR or --server URL is required",
    );
  }
  const storeUrl = p.values.store;
  if (storeUrl !== undefined) {
    try {
      checkStoreUrl(storeUrl);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }

  // Validate and read the input before touching the ledger.
  let prepared: (() => Promise<number>) | undefined;
  if (sub === "append") {
    const checked = await readAndCheckEnvelope(p.values, io, true);
    if (typeof checked === "number") return checked;
    const { env } = checked;
    prepared = async () => {
      const ledger = await open(dataDir, p.values.origin, { newLog, storeUrl });
      try {
        const appended = await ledger.append(env);
        if (p.values.receipt !== undefined) {
          await Deno.writeTextFile(p.values.receipt, appended.tlog_proof);
        }
        printJson(io, appended);
        return 0;
      } finally {
        await ledger.close();
      }
    };
  }
  if (prepared) return await guard(prepared);

  // Reading never creates a log: a mistyped --data must not audit as an empty, valid log
  // (a database without the ledger schema is refused when the store opens).
  if (storeUrl === undefined) {
    try {
      await Deno.stat(`${dataDir}/ledger.kv`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new UsageError(
        `no ledger at ${dataDir} (${dataDir}/ledger.kv does not exist; \`ledger append\` creates one)`,
      );
    }
  }
  // A mirror holds no log key: it is read under (and audited against) the key it pinned.
  const mirror = await readMirrorRecord(dataDir);
  if (mirror !== null && sub === "verify") {
    return await guard(() => verifyMirror(dataDir, mirror, io));
  }
  return await guard(async () => {
    let ledger;
    try {
      ledger = mirror !== null
        ? await openLedger({ dataDir, mirrorKey: mirror.verifier_key })
        : await open(dataDir, p.values.origin, {
          audit: sub === "verify",
          readOnly: true,
          storeUrl,
        });
    } catch (e) {
      // An audit names a store it cannot even open (not a KV file): {ok:false, reason}, exit 1.
      if (sub === "verify" && e instanceof LedgerCorruptionError) {
        printJson(io, { ok: false, size: 0, reason: e.message });
        return 1;
      }
      throw e;
    }
    try {
      return await runRead(sub, ledger, p.values, io, list);
    } finally {
      await ledger.close();
    }
  });
};

/** A log client for `url`; a URL that is not http(s) is bad command-line use (exit 2). */
export function logClientFor(url: string, token: string | undefined, option: string): LogClient {
  try {
    return new LogClient(url, { token, name: option });
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
}
