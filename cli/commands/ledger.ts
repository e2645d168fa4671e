/**
 * `regledger ledger <cmd> (--data DIR | --server URL)`: the log on the
 * command line, JSON on stdout in the shapes of the HTTP API (CONTRACT §5).
 * With `--server` the same commands go to a running server (see
 * `../remote_log.ts`) and print the same output; `verify` then audits the
 * log from the client side.
 *
 * - `append -i ENVELOPE [--trusted-keys FILE]`: verify, append, print the receipt.
 * - `get --index N`: `{index, leaf, leaf_hash, envelope}` (envelope text spliced raw).
 * - `checkpoint`: the latest signed checkpoint (text).
 * - `key`: the log's verifier key (text).
 * - `proof --index N [--tree-size M]`: `{index, tree_size, leaf_hash, proof}`.
 * - `consistency --first A --second B`: `{first, second, proof}`.
 * - `verify`: audit the whole log; exit 1 with `{ok:false, reason, first_bad_index}` when corrupt.
 *
 * Exit codes: 0 ok; 1 an envelope failed verification (`{error, reason}`)
 * or the log is corrupt; 2 bad use or unreadable/malformed input.
 *
 * @module
 */
import {
  type CliIO,
  type Command,
  parseArgs,
  printJson,
  readInputFile,
  tokenFromEnv,
  UsageError,
} from "../io.ts";
import { RemoteLog, RemoteLogError } from "../remote_log.ts";
import { parseEnvelopeText } from "../../core/envelope.ts";
import type { ParsedEnvelope } from "../../core/envelope_types.ts";
import { EnvelopeVerificationError, RegledgerError } from "../../core/errors.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { verifyEnvelope, verifySelfSignedOnly } from "../../core/verify.ts";
import {
  entryToJson,
  type Ledger,
  LedgerInputError,
  LedgerRangeError,
  LedgerStateError,
  LogKeyError,
  openLedger,
} from "../../ledger/index.ts";

const COMMON = `where the log is (one of):
  --data DIR     a local data directory (KV file DIR/ledger.kv, log key DIR/log-key
                 with mode 0600; the first \`append\` creates them, reads never do)
  --origin NAME  with --data: checkpoint origin / log key name (default regledger.local/log)
  --server URL   a running regledger server (same output as --data)
  --token T      with --server: API token (default: the REGLEDGER_TOKEN environment variable)
  -h, --help     show help`;

const HELPS: Record<string, string> = {
  append:
    `usage: regledger ledger append (--data DIR | --server URL) -i ENVELOPE [--trusted-keys FILE] [--receipt FILE]

Verify a signed envelope and append it to the log; print the receipt
{index, tree_size, leaf_hash, envelope_sha256, checkpoint, inclusion_proof,
tlog_proof, existing} (schema append-response). The same envelope again
prints its existing entry with "existing": true. With --trusted-keys the issuer must be in the trust
store; without it only the envelope's own hashes and signature are checked.
Against a server, the server's trust store decides (and --trusted-keys, when
given, is checked here first). A failed verification exits 1 with
{"error", "reason"} on stdout.

options:
  -i, --input FILE        the envelope JSON ("-" for stdin)
  --trusted-keys FILE     trust store JSON
  --receipt FILE          also write the tlog-proof@v1 receipt text to FILE
                          (for \`regledger proof verify --proof FILE\`)
${COMMON}

examples:
  regledger ledger append --data ./data -i envelope.json --trusted-keys trust.json
  REGLEDGER_TOKEN=$(cat data/admin-token) \\
    regledger ledger append --server http://127.0.0.1:8080 -i envelope.json --receipt receipt.txt
`,
  get: `usage: regledger ledger get (--data DIR | --server URL) --index N

Print entry N as {index, leaf, leaf_hash, envelope}; the envelope is its
canonical text exactly as stored (legacy numbers such as 1.0 kept).

options:
  --index N      the entry's index
${COMMON}

example:
  regledger ledger get --data ./data --index 0
`,
  checkpoint: `usage: regledger ledger checkpoint (--data DIR | --server URL)

Print the latest signed C2SP checkpoint (text).

${COMMON}

example:
  regledger ledger checkpoint --data ./data > checkpoint.txt
`,
  key: `usage: regledger ledger key (--data DIR | --server URL)

Print the log's verifier key in Go note format (name+keyid+base64 key).

${COMMON}

example:
  regledger ledger key --data ./data > log.vkey
`,
  proof: `usage: regledger ledger proof (--data DIR | --server URL) --index N [--tree-size M]

Print the RFC 6962 inclusion proof of entry N in the tree of size M
(default: the current size) as {index, tree_size, leaf_hash, proof}.

options:
  --index N       the entry's index
  --tree-size M   the tree size (N < M <= size)
${COMMON}

example:
  regledger ledger proof --data ./data --index 3 --tree-size 10
`,
  consistency: `usage: regledger ledger consistency (--data DIR | --server URL) --first A --second B

Print the RFC 6962 consistency proof between tree sizes A <= B as
{first, second, proof}.

options:
  --first A      the older tree size
  --second B     the newer tree size (<= size)
${COMMON}

example:
  regledger ledger consistency --data ./data --first 5 --second 10
`,
  verify: `usage: regledger ledger verify (--data DIR | --server URL [--key VKEY])

Read the whole log back and recompute the hash chain, leaf and envelope
hashes, the Merkle tree, every stored checkpoint (signature and root), the
head and the indexes. Prints {ok, size} and exits 0, or exits 1 with
{ok: false, size, first_bad_index, reason}.

Against a server this is a client-side audit that trusts nothing the server
says: the latest checkpoint must be signed by the log key (pin it with
--key; without it the key the server publishes is used), and every entry is
downloaded and rehashed (envelope, leaf, chain, tree) up to that root.
That is one request per entry: the token's rate limit on the server
(REGLEDGER_RATE_LIMIT, 200/s by default) sets the pace, and 429 answers are
waited out as their Retry-After says.

options:
  --key FILE     with --server: the log's verifier key file (from \`ledger key\`)
${COMMON}

examples:
  regledger ledger verify --data ./data
  regledger ledger verify --server https://log.example --key log.vkey
`,
};

const HELP = `usage: regledger ledger <command> (--data DIR | --server URL) [options]

commands:
  append        verify an envelope and append it; print the receipt
  get           print an entry
  checkpoint    print the latest signed checkpoint
  key           print the log's verifier key
  proof         print an inclusion proof
  consistency   print a consistency proof
  verify        audit the whole log (exit 1 naming the first bad index)

Run \`regledger ledger <command> --help\` for its options and an example.
`;

function intOption(
  values: Record<string, string>,
  name: string,
  required: boolean,
): number | undefined {
  const v = values[name];
  if (v === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return Number(v);
}

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
  if (!(sub in HELPS)) {
    throw new UsageError(`unknown ledger command ${JSON.stringify(sub)}\n${HELP}`);
  }
  const spec = {
    values: [
      "data",
      "origin",
      "input",
      "trusted-keys",
      "receipt",
      "index",
      "tree-size",
      "first",
      "second",
      "server",
      "token",
      "key",
    ],
    flags: ["help"],
    aliases: { h: "help", i: "input" },
  };
  const p = parseArgs(rest, spec);
  if (p.flags.has("help")) {
    io.stdout(HELPS[sub]);
    return 0;
  }
  const allowed: Record<string, string[]> = {
    append: ["input", "trusted-keys", "receipt"],
    get: ["index"],
    checkpoint: [],
    key: [],
    proof: ["index", "tree-size"],
    consistency: ["first", "second"],
    verify: [],
  };
  const where = ["data", "origin", "server", "token"];
  for (const k of Object.keys(p.values)) {
    if (k === "key" && sub === "verify") continue;
    if (!where.includes(k) && !allowed[sub].includes(k)) {
      throw new UsageError(`option --${k} does not apply to 'ledger ${sub}'`);
    }
  }
  if (p.positional.length > 0) throw new UsageError(`unexpected argument ${p.positional[0]}`);
  const server = p.values.server;
  if (server !== undefined) {
    for (const k of ["data", "origin"]) {
      if (p.values[k] !== undefined) throw new UsageError(`--${k} and --server exclude each other`);
    }
    return await runRemote(
      sub,
      new RemoteLog(server, p.values.token ?? tokenFromEnv()),
      p.values,
      io,
    );
  }
  for (const k of ["token", "key"]) {
    if (p.values[k] !== undefined) throw new UsageError(`--${k} applies only with --server`);
  }
  const dataDir = p.values.data;
  if (!dataDir) throw new UsageError("--data DIR or --server URL is required");

  // Validate and read the input before touching the ledger.
  let prepared: (() => Promise<number>) | undefined;
  if (sub === "append") {
    const checked = await readAndCheckEnvelope(p.values, io, true);
    if (typeof checked === "number") return checked;
    const { env } = checked;
    prepared = async () => {
      const ledger = await open(dataDir, p.values.origin);
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

  // Reading never creates a log: a mistyped --data must not audit as an empty, valid log.
  try {
    await Deno.stat(`${dataDir}/ledger.kv`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new UsageError(
      `no ledger at ${dataDir} (${dataDir}/ledger.kv does not exist; \`ledger append\` creates one)`,
    );
  }
  return await guard(async () => {
    const ledger = await open(dataDir, p.values.origin, sub === "verify");
    try {
      return await runRead(sub, ledger, p.values, io);
    } finally {
      await ledger.close();
    }
  });
};

/**
 * Read `-i` and parse it as an envelope (exit 2 when unreadable or malformed),
 * then verify it: against `--trusted-keys` when given, else self-signed only
 * when `selfCheck`. A failed verification prints `{error, reason}` and
 * returns exit code 1.
 */
async function readAndCheckEnvelope(
  values: Record<string, string>,
  io: CliIO,
  selfCheck: boolean,
): Promise<number | { bytes: Uint8Array; env: ParsedEnvelope }> {
  const input = values.input;
  if (!input) throw new UsageError("-i ENVELOPE is required");
  const bytes = await readInputFile(input);
  let trust: TrustStore | undefined;
  if (values["trusted-keys"] !== undefined) {
    try {
      trust = TrustStore.fromJsonText(await readInputFile(values["trusted-keys"]));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--trusted-keys: ${(e as Error).message}`, { cause: e });
    }
  }
  let env;
  try {
    env = parseEnvelopeText(bytes);
  } catch (e) {
    throw new UsageError(`${input}: ${(e as Error).message}`, { cause: e });
  }
  try {
    if (trust) await verifyEnvelope(env, trust);
    else if (selfCheck) await verifySelfSignedOnly(env);
  } catch (e) {
    if (e instanceof EnvelopeVerificationError) {
      printJson(io, { error: e.message, reason: e.name });
      return 1;
    }
    throw e;
  }
  return { bytes, env };
}

/** The ledger commands against a server; same output as {@linkcode runRead}. */
async function runRemote(
  sub: string,
  log: RemoteLog,
  values: Record<string, string>,
  io: CliIO,
): Promise<number> {
  try {
    switch (sub) {
      case "append": {
        const checked = await readAndCheckEnvelope(values, io, false);
        if (typeof checked === "number") return checked;
        const r = await log.append(checked.bytes);
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

async function runRead(
  sub: string,
  ledger: Ledger,
  values: Record<string, string>,
  io: CliIO,
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

async function open(dataDir: string, origin: string | undefined, audit = false): Promise<Ledger> {
  return await openLedger({ dataDir, origin, audit });
}

async function guard(f: () => Promise<number>): Promise<number> {
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
