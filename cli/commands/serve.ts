/**
 * `regledger serve`: run the HTTP API on an embedded Deno KV ledger.
 *
 * @module
 */
import { type CliIO, type Command, parseArgs, UsageError } from "../io.ts";
import { ConfigError, configFromEnv } from "../../server/config.ts";
import { type StartOptions, startServer } from "../../server/serve.ts";
import {
  WitnessConfigError,
  witnessEndpoints,
  witnessQuorum,
} from "../../ledger/witness/client.ts";
import { checkStoreUrl } from "../../ledger/store_url.ts";
import { LedgerCorruptionError, LedgerStateError } from "../../ledger/errors.ts";

const HELP = `regledger serve — run the ledger's HTTP API (Hono on Deno.serve)

usage: regledger serve [--host H] [--port P] [--data DIR] [--store URL] [--trusted-keys FILE]
                       [--origin O] [--privacy-budgets FILE] [--new-log-under-existing-key]
                       [--witness URL=VKEY ... [--witness-quorum K] [--witness-timeout MS]]

options:
  --host H            interface to bind (default 127.0.0.1)
  --port P            port, 0 for any free one (default 8080)
  --data DIR          data directory: ledger.kv, log-key, issuer-key.pem (default ./data)
  --store URL         keep the log in PostgreSQL: postgres://USER[:PASS]@HOST[:PORT]/DB
                      (?sslmode=require|verify-full, ?max=N connections; PGPASSWORD is
                      used when the URL has no password). Any number of servers may
                      share one database; keys stay in --data (the same key files on
                      every host). The schema is created on first start.
  --trusted-keys FILE trust store (reloaded on SIGHUP or POST /v1/admin/reload-trust-store);
                      the server's own issuer key is always trusted
  --origin O          log origin in checkpoints (default regledger.local/log)
  --privacy-budgets FILE
                      {"budgets": [{"issuer", "dataset", "epsilon", "delta"}]}: an append
                      that would exceed its issuer's budget on the dataset its dp block
                      names is refused (422 PrivacyBudgetExceeded); reloaded with the
                      trust store. Pairs without a budget are unlimited
  --new-log-under-existing-key
                      start although DIR/ledger.kv is behind or inconsistent with
                      DIR/signed-head (emptied, deleted or restored from an older copy):
                      a NEW log under the existing key, whose checkpoints contradict
                      the published ones. Use once, deliberately (docs/deployment.md)
  --witness URL=VKEY  a C2SP tlog-witness: its submission prefix (POST URL/add-checkpoint),
                      '=', its cosigning verifier key (cosignature/v1 or ML-DSA-44). Repeat
                      per witness (the same URL twice: one witness with two keys). Every new
                      checkpoint goes to each witness in the background; GET /checkpoint
                      serves the newest one the quorum cosigned
  --witness-quorum K  how many witnesses must cosign (default: all)
  --witness-timeout MS
                      how long POST /v1/envelopes?wait=witnessed waits for the quorum
                      before answering 504 (default 10000; below the request timeout)

On first start in DIR the server creates the log key and its issuer key (mode 0600)
and prints the log's verifier key. Without REGLEDGER_API_KEYS it creates DIR/admin-token
(an admin bearer token, mode 0600).

environment:
  REGLEDGER_API_KEYS            token:scope,scope;token:scope  (scopes: audit:run,
                                ledger:append, ledger:read, verify, metrics, admin)
  REGLEDGER_DEV_MODE=1          no authentication; loopback only
  REGLEDGER_BODY_LIMIT          bytes (default 1048576)
  REGLEDGER_RATE_LIMIT          per-token rate[/burst] per second, 0 = off (default 200/400)
  REGLEDGER_REQUEST_TIMEOUT_MS  default 30000
  REGLEDGER_CORS_ORIGINS        comma-separated allowed origins
  REGLEDGER_ACCESS_LOG=0        no JSON access log on stdout
  REGLEDGER_VERIFY_WORKERS      threads verifying submissions: auto (cores-1 up to 4, none on 2
                                cores or fewer) or a number; 0 = on the main thread
  REGLEDGER_CKKS=1              offer ?backend=ckks on /v1/audit/* and the split flow's evaluator
                                POST /v1/ckks/evaluate (one worker thread, one job at a time)
  REGLEDGER_CKKS_MAX_DEGREE     largest CKKS ring dimension /v1/ckks/evaluate accepts (default 16384)
  REGLEDGER_CKKS_BODY_LIMIT     body limit of /v1/ckks/evaluate (default: the largest valid request
                                at REGLEDGER_CKKS_MAX_DEGREE)
  REGLEDGER_CKKS_QUEUE          CKKS jobs that may wait behind the running one (default 1; more: 503)

Started by npm (npx, npm exec: npm_lifecycle_event is set) the server also stops gracefully
when its parent process goes away (checked every second), so a SIGKILLed npx leaves no orphan.

example:
  regledger serve --port 8080 --data ./data --trusted-keys trust.json
  regledger serve --data ./data --witness "http://127.0.0.1:7380=$(cat witness.vkey)" \
                  --witness "https://witness.example/w1=witness.example/w1+1234abcd+BA..." \
                  --witness-quorum 2
  curl -s -H "Authorization: Bearer $(cat data/admin-token)" \\
       -H 'content-type: application/json' --data-binary @envelope.json \\
       http://127.0.0.1:8080/v1/envelopes
`;

/** `--witness`, `--witness-quorum` and `--witness-timeout`, checked. */
function witnessOptions(
  a: { values: Record<string, string>; lists: Record<string, string[]> },
  requestTimeoutMs: number,
): StartOptions["witnessing"] {
  const args = a.lists["witness"] ?? [];
  const quorumRaw = a.values["witness-quorum"];
  const timeoutRaw = a.values["witness-timeout"];
  if (args.length === 0) {
    if (quorumRaw !== undefined || timeoutRaw !== undefined) {
      throw new UsageError("--witness-quorum and --witness-timeout need at least one --witness");
    }
    return undefined;
  }
  const int = (name: string, raw: string) => {
    if (!/^[0-9]{1,9}$/.test(raw)) {
      throw new UsageError(`--${name} must be a positive integer, got '${raw.slice(0, 40)}'`);
    }
    return Number(raw);
  };
  try {
    const witnesses = witnessEndpoints(args);
    const quorum = witnessQuorum(
      quorumRaw === undefined ? undefined : int("witness-quorum", quorumRaw),
      witnesses.length,
    );
    const waitTimeoutMs = timeoutRaw === undefined ? 10_000 : int("witness-timeout", timeoutRaw);
    if (waitTimeoutMs < 1 || waitTimeoutMs >= requestTimeoutMs) {
      throw new UsageError(
        `--witness-timeout must be from 1 to ${requestTimeoutMs - 1} ms ` +
          `(below REGLEDGER_REQUEST_TIMEOUT_MS), got ${waitTimeoutMs}`,
      );
    }
    return { witnesses, quorum, waitTimeoutMs };
  } catch (e) {
    if (e instanceof WitnessConfigError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
}

function port(raw: string | undefined): number {
  if (raw === undefined) return 8080;
  if (!/^[0-9]{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got '${raw}'`);
  }
  return Number(raw);
}

/**
 * Access-log lines to stdout, written in batches: one write per event-loop
 * turn instead of one per request. Best effort: a closed stdout never takes
 * the server down.
 */
function bufferedStdout(): (line: string) => void {
  const enc = new TextEncoder();
  let buf: string[] = [];
  const flush = () => {
    const text = buf.join("");
    buf = [];
    try {
      const bytes = enc.encode(text);
      let off = 0;
      while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
    } catch { /* ignore */ }
  };
  return (line) => {
    if (buf.length === 0) setTimeout(flush, 0);
    buf.push(line + "\n");
    if (buf.length >= 1024) flush();
  };
}

/**
 * Run the server until SIGTERM/SIGINT (or, when npm started it, until its parent
 * process is gone); exit code 0 after a clean shutdown.
 */
export const run: Command = async (args: string[], io: CliIO): Promise<number> => {
  const a = parseArgs(args, {
    values: [
      "host",
      "port",
      "data",
      "store",
      "trusted-keys",
      "origin",
      "witness",
      "witness-quorum",
      "witness-timeout",
      "privacy-budgets",
    ],
    repeatable: ["witness"],
    flags: ["help", "new-log-under-existing-key"],
    aliases: { h: "help" },
  });
  if (a.flags.has("help")) {
    io.stdout(HELP);
    return 0;
  }
  if (a.positional.length > 0) throw new UsageError(`unexpected argument '${a.positional[0]}'`);
  let config;
  try {
    config = configFromEnv(Deno.env.toObject());
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  const witnessing = witnessOptions(a, config.requestTimeoutMs);
  if (Deno.env.get("REGLEDGER_ACCESS_LOG") !== "0") config.accessLog = bufferedStdout();
  const trustedKeys = a.values["trusted-keys"];
  if (trustedKeys !== undefined) {
    try {
      await Deno.stat(trustedKeys);
    } catch {
      throw new UsageError(`--trusted-keys: cannot read '${trustedKeys}'`);
    }
  }
  const store = a.values.store;
  if (store !== undefined) {
    try {
      checkStoreUrl(store);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  let server;
  try {
    server = await startServer({
      host: a.values.host ?? "127.0.0.1",
      port: port(a.values.port),
      dataDir: a.values.data ?? "./data",
      store,
      trustedKeys,
      origin: a.values.origin,
      privacyBudgets: a.values["privacy-budgets"],
      newLogUnderExistingKey: a.flags.has("new-log-under-existing-key"),
      config,
      ...(witnessing ? { witnessing } : {}),
      // Started by npm (`npx … -c 'exec deno run … serve'`, the README's command): a SIGKILLed
      // npx cannot forward anything, so the server stops once it is reparented. Not otherwise:
      // `nohup regledger serve &` outlives its shell on purpose.
      exitWithParent: Deno.env.get("npm_lifecycle_event") !== undefined,
      status: (line) => io.stderr(line + "\n"),
    });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.AddrNotAvailable) {
      throw new UsageError(
        `cannot listen on ${a.values.host ?? "127.0.0.1"}:${port(a.values.port)}: ${e.message}`,
      );
    }
    if (
      e instanceof Error &&
      /TrustStoreError|LogKeyError|IssuerKeyError|PrivacyBudgetFileError/.test(e.name)
    ) {
      throw new UsageError(e.message);
    }
    // A store that fails its start-up checks (corrupt file, lost signed
    // entries, a head the store does not hold) is named, exit 2, no stack.
    if (e instanceof LedgerStateError || e instanceof LedgerCorruptionError) {
      throw new UsageError(`refusing to start: ${e.message}`);
    }
    throw e;
  }
  await server.finished;
  return 0;
};
