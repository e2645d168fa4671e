/**
 * `regledger serve`: run the HTTP API on an embedded Deno KV ledger.
 *
 * @module
 */
import { type CliIO, type Command, parseArgs, UsageError } from "../io.ts";
import { ConfigError, configFromEnv } from "../../server/config.ts";
import { startServer } from "../../server/serve.ts";
import { checkStoreUrl } from "../../ledger/store_url.ts";
import { LedgerCorruptionError, LedgerStateError } from "../../ledger/errors.ts";

const HELP = `regledger serve — run the ledger's HTTP API (Hono on Deno.serve)

usage: regledger serve [--host H] [--port P] [--data DIR] [--store URL] [--trusted-keys FILE]
                       [--origin O] [--new-log-under-existing-key]

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
  --new-log-under-existing-key
                      start although DIR/ledger.kv is behind or inconsistent with
                      DIR/signed-head (emptied, deleted or restored from an older copy):
                      a NEW log under the existing key, whose checkpoints contradict
                      the published ones. Use once, deliberately (docs/deployment.md)

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
  REGLEDGER_CKKS_BODY_LIMIT     body limit of /v1/ckks/evaluate in bytes (default 268435456)

example:
  regledger serve --port 8080 --data ./data --trusted-keys trust.json
  curl -s -H "Authorization: Bearer $(cat data/admin-token)" \\
       -H 'content-type: application/json' --data-binary @envelope.json \\
       http://127.0.0.1:8080/v1/envelopes
`;

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

/** Run the server until SIGTERM/SIGINT; exit code 0 after a clean shutdown. */
export const run: Command = async (args: string[], io: CliIO): Promise<number> => {
  const a = parseArgs(args, {
    values: ["host", "port", "data", "store", "trusted-keys", "origin"],
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
      newLogUnderExistingKey: a.flags.has("new-log-under-existing-key"),
      config,
      status: (line) => io.stderr(line + "\n"),
    });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.AddrNotAvailable) {
      throw new UsageError(
        `cannot listen on ${a.values.host ?? "127.0.0.1"}:${port(a.values.port)}: ${e.message}`,
      );
    }
    if (e instanceof Error && /TrustStoreError|LogKeyError|IssuerKeyError/.test(e.name)) {
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
