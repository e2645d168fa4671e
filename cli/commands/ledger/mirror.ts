/**
 * `regledger ledger mirror --server URL --data DIR [--token T] [--key VKEY]`:
 * copy a server's log into a local data directory from its C2SP tiles
 * (`ledger/mirror.ts`), refusing a forked or rolled-back log. The log key is
 * pinned with `--key`, or trusted on first use and recorded in
 * `DIR/mirror.json`; later runs hold the server to it.
 *
 * @module
 */
import {
  type CliIO,
  parseArgs,
  printJson,
  readInputFile,
  tokenFromEnv,
  UsageError,
} from "../../io.ts";
import { LogClient, LogClientError } from "../../../ledger/client.ts";
import { KvStore } from "../../../ledger/kv_store.ts";
import {
  MIRROR_FILE,
  mirrorLog,
  type MirrorRecord,
  MirrorRefusedError,
  readMirrorRecord,
} from "../../../ledger/mirror.ts";
import { parseVerifierKey } from "../../../ledger/note.ts";
import { verifyLog } from "../../../ledger/verify_log.ts";

/** The help text of `regledger ledger mirror`. */
export const MIRROR_HELP =
  `usage: regledger ledger mirror --server URL --data DIR [--key VKEY] [--token T] [--progress]

Copy the server's log into DIR (a normal ledger data directory) from its
C2SP tiles: the checkpoint, level-0 hash tiles, entry and envelope bundles;
no request per entry. Every entry is checked (leaf, index, hash chain,
envelope hash, leaf hash against the tile authenticated up to the signed
root) before anything is stored. Run it again to catch up: it resumes where
the last run stopped, even one interrupted mid-copy.

Refused, exit 1 with {ok: false, rule, reason} (nothing stored):
  signature  the checkpoint does not verify under the pinned log key
  rollback   the server's tree is smaller than the one DIR holds
  fork       the server's tree does not contain the one DIR holds
  entry      an entry, bundle or tile fails its checks
  key        DIR mirrors another log
  empty      the server's log has no entries yet: nothing is created (a mirror
             serves the checkpoint it copied, and the empty tree has none to copy)

The log key: --key VKEY pins it (a file holding the verifier key, from
\`regledger ledger key\`). Without --key, the first run trusts the key the
server publishes (trust on first use: it is printed, and recorded in
DIR/${MIRROR_FILE}); every later run holds the server to the recorded key.
\`regledger ledger verify --data DIR\` audits the mirror against it.

options:
  --server URL   the server to mirror
  --data DIR     the mirror's data directory (created on first use)
  --key VKEY     the log's verifier key file
  --token T      API token (bundles need ledger:read unless the server serves them
                 publicly; default: the REGLEDGER_TOKEN environment variable)
  --progress     print 'mirrored X/N entries (held)' on stderr after every staging write:
                 X entries are then on disk and a rerun keeps them, even after a kill
                 (default: progress every 10,000 entries, on a terminal only)
  -h, --help     show help

examples:
  regledger ledger key --server https://log.example > log.vkey
  regledger ledger mirror --server https://log.example --data ./mirror --key log.vkey
  regledger ledger verify --data ./mirror
`;

/** Read `DIR/mirror.json` (a malformed one is bad use). */
async function mirrorRecordOf(dir: string): Promise<MirrorRecord | null> {
  try {
    return await readMirrorRecord(dir);
  } catch (e) {
    if (e instanceof TypeError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Run `regledger ledger mirror` with `args`; returns the exit code. */
export async function runMirror(args: string[], io: CliIO): Promise<number> {
  const p = parseArgs(args, {
    values: ["server", "data", "token", "key"],
    flags: ["help", "progress"],
    aliases: { h: "help" },
  });
  if (p.flags.has("help")) {
    io.stdout(MIRROR_HELP);
    return 0;
  }
  if (p.positional.length > 0) throw new UsageError(`unexpected argument ${p.positional[0]}`);
  const { server, data: dir } = p.values;
  if (!server || !dir) throw new UsageError("ledger mirror needs --server URL and --data DIR");
  let client: LogClient;
  try {
    client = new LogClient(server, { token: p.values.token ?? tokenFromEnv(), name: "--server" });
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
  const given = p.values.key === undefined
    ? undefined
    : new TextDecoder().decode(await readInputFile(p.values.key)).trim();
  if (given !== undefined) {
    try {
      parseVerifierKey(given);
    } catch (e) {
      throw new UsageError(`--key: ${(e as Error).message}`, { cause: e });
    }
  }
  let record = await mirrorRecordOf(dir);
  if (record === null && (await exists(`${dir}/log-key`) || await exists(`${dir}/ledger.kv`))) {
    throw new UsageError(`${dir} holds a log that is not a mirror; give an empty directory`);
  }
  // The checkpoint a first run starts from, read before anything is created.
  let firstCheckpoint: string | undefined;
  try {
    if (record === null) {
      firstCheckpoint = await client.tileCheckpoint();
      if (firstCheckpoint.split("\n")[1] === "0") {
        // Nothing is created: an empty mirror would have no checkpoint to serve.
        throw new MirrorRefusedError(
          "empty",
          "the server's log is empty: nothing to mirror yet (run again once it has entries)",
        );
      }
    }
    await Deno.mkdir(dir, { recursive: true });
    if (record !== null && given !== undefined && given !== record.verifier_key) {
      throw new MirrorRefusedError(
        "key",
        `--key ${given} is not the key this mirror pinned (${record.verifier_key})`,
      );
    }
    if (record === null) {
      const key = given ?? await client.key();
      if (given === undefined) {
        io.stderr(
          `regledger: trusting the log key on first use: ${key}\n` +
            `  (recorded in ${dir}/${MIRROR_FILE}; pin it with --key to check it yourself)\n`,
        );
      }
      record = {
        server,
        verifier_key: key,
        pinned_by: given === undefined ? "first-use" : "key-file",
      };
      await Deno.writeTextFile(`${dir}/${MIRROR_FILE}`, JSON.stringify(record, null, 2) + "\n");
    }
    const store = await KvStore.open(`${dir}/ledger.kv`, { migrate: false });
    try {
      let shown = 0;
      const r = await mirrorLog(
        {
          checkpoint: async () => {
            const cp = firstCheckpoint ?? await client.tileCheckpoint();
            firstCheckpoint = undefined;
            return cp;
          },
          tile: (path) => client.tile(path),
        },
        store,
        {
          verifierKey: record.verifier_key,
          onStaged: p.flags.has("progress")
            ? (held, total) => io.stderr(`mirrored ${held}/${total} entries (held)\n`)
            : undefined,
          onProgress: io.isTerminal && !p.flags.has("progress")
            ? (done, total) => {
              if (done - shown >= 10000 || done === total) {
                shown = done;
                io.stderr(`mirrored ${done}/${total} entries\n`);
              }
            }
            : undefined,
        },
      );
      printJson(io, { ok: true, ...r });
      return 0;
    } finally {
      store.close();
    }
  } catch (e) {
    if (e instanceof MirrorRefusedError) {
      io.stderr(
        e.rule === "empty"
          ? `regledger: nothing to mirror: ${e.message}\n`
          : `regledger: mirror refused (${e.rule}): ${e.message}\n`,
      );
      printJson(io, { ok: false, rule: e.rule, reason: e.message });
      return 1;
    }
    if (e instanceof LogClientError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
}

export { mirrorRecordOf as readMirrorRecord };

/** `ledger verify --data DIR` for a mirror: the full audit against the pinned key. */
export async function verifyMirror(
  dir: string,
  record: MirrorRecord,
  io: CliIO,
): Promise<number> {
  const store = await KvStore.open(`${dir}/ledger.kv`, { migrate: false });
  try {
    const r = await verifyLog(store, {
      verifierKey: record.verifier_key,
      origin: parseVerifierKey(record.verifier_key).name,
      onProgress: io.isTerminal
        ? (p) => io.stderr(`verified ${p.checked}/${p.total} entries\n`)
        : undefined,
    });
    printJson(io, r);
    return r.ok ? 0 : 1;
  } finally {
    store.close();
  }
}
