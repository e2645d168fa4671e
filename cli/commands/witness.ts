/**
 * `regledger witness serve`: run a C2SP tlog-witness
 * (server/witness/serve.ts) until SIGTERM/SIGINT.
 *
 * @module
 */
import { type CliIO, type Command, parseArgs, UsageError } from "../io.ts";
import { ConfigError, parseRateLimit } from "../../server/config.ts";
import { readLogsFile, WitnessLogsError } from "../../server/witness/logs.ts";
import {
  ML_DSA_ENGINE_CHOICES,
  type MlDsaEngineChoice,
  startWitness,
} from "../../server/witness/serve.ts";
import { LogKeyError } from "../../ledger/log_key.ts";

const HELP = `regledger witness serve — run a C2SP tlog-witness (add-checkpoint)

usage: regledger witness serve --name NAME (--log VKEY … | --logs FILE)
                               [--data DIR] [--host H] [--port P]
                               [--no-ml-dsa | --ml-dsa-engine E] [--rate-limit R[/B]]
                               [--body-limit BYTES]

options:
  --name NAME         the witness's name, its cosignature key name (e.g. witness.example/w1)
  --log VKEY          a log verifier key (Ed25519 0x01 or ML-DSA-44 0x06) whose checkpoints
                      it cosigns; the key name is the log's origin. Repeat for more logs,
                      or for several keys of one log
  --logs FILE         the logs from a C2SP tlog-policy file: its 'log <vkey> [<url>]' lines
                      (witness/group/quorum lines are checked and ignored; a file of logs
                      only ends with 'quorum none'). May be combined with --log
  --data DIR          data directory: witness.kv (state), witness-key, witness-key-mldsa44
                      (default ./witness-data)
  --host H            interface to bind (default 127.0.0.1)
  --port P            port, 0 for any free one (default 7380)
  --no-ml-dsa         cosign with Ed25519 cosignature/v1 only (default: also ML-DSA-44)
  --ml-dsa-engine E   ML-DSA-44 implementation: auto (default: liboqs WebAssembly, else
                      @noble/post-quantum with one line on stderr), liboqs (refuse to
                      start without it) or noble (pure JavaScript, never loads liboqs)
  --rate-limit R[/B]  add-checkpoint requests per second per client address, burst B
                      (default 100/200; 0 = off)
  --body-limit BYTES  request body limit (default 65536)

On first start in DIR the witness creates its keys (mode 0600). It prints its
verifier keys on stdout, one per line (Ed25519 first), and 'listening on URL' on
stderr. Routes: POST /add-checkpoint, GET /<sha256(origin) hex>/checkpoint,
GET /healthz, GET /metrics.

example:
  regledger witness serve --name witness.example/w1 --data ./witness \\
      --log "$(curl -s http://127.0.0.1:8080/v1/log/key)"
`;

function int(name: string, raw: string | undefined, dflt: number, max: number): number {
  if (raw === undefined) return dflt;
  if (!/^[0-9]{1,10}$/.test(raw) || Number(raw) > max) {
    throw new UsageError(`--${name} must be an integer from 0 to ${max}, got '${raw}'`);
  }
  return Number(raw);
}

async function serve(args: string[], io: CliIO): Promise<number> {
  const a = parseArgs(args, {
    values: [
      "name",
      "log",
      "logs",
      "data",
      "host",
      "port",
      "rate-limit",
      "body-limit",
      "ml-dsa-engine",
    ],
    flags: ["help", "no-ml-dsa"],
    repeatable: ["log"],
    aliases: { h: "help" },
  });
  if (a.flags.has("help")) {
    io.stdout(HELP);
    return 0;
  }
  if (a.positional.length > 0) throw new UsageError(`unexpected argument '${a.positional[0]}'`);
  const name = a.values.name;
  if (name === undefined) throw new UsageError("--name NAME is required");
  const logs = [...(a.lists.log ?? [])];
  try {
    if (a.values.logs !== undefined) logs.push(...await readLogsFile(a.values.logs));
  } catch (e) {
    if (e instanceof WitnessLogsError) throw new UsageError(e.message);
    throw e;
  }
  if (logs.length === 0) {
    throw new UsageError("give the logs to witness: --log VKEY or --logs FILE");
  }
  let rateLimit;
  try {
    rateLimit = parseRateLimit(a.values["rate-limit"] ?? "100/200");
  } catch (e) {
    throw new UsageError(
      `--rate-limit: ${(e as Error).message.replace(/^REGLEDGER_RATE_LIMIT: /, "")}`,
    );
  }
  const bodyLimit = int("body-limit", a.values["body-limit"], 65_536, 16_777_216);
  if (bodyLimit < 1024) throw new UsageError("--body-limit must be at least 1024 bytes");
  const engine = a.values["ml-dsa-engine"] ?? "auto";
  if (!(ML_DSA_ENGINE_CHOICES as readonly string[]).includes(engine)) {
    throw new UsageError(`--ml-dsa-engine must be auto, liboqs or noble, got '${engine}'`);
  }
  if (a.flags.has("no-ml-dsa") && a.values["ml-dsa-engine"] !== undefined) {
    throw new UsageError("--ml-dsa-engine makes no sense with --no-ml-dsa");
  }
  const host = a.values.host ?? "127.0.0.1";
  const port = int("port", a.values.port, 7380, 65535);
  let witness;
  try {
    witness = await startWitness({
      dataDir: a.values.data ?? "./witness-data",
      hostname: host,
      port,
      name,
      logs,
      mlDsa: !a.flags.has("no-ml-dsa"),
      mlDsaEngine: engine as MlDsaEngineChoice,
      rateLimit,
      bodyLimit,
      status: (line) => io.stderr(line + "\n"),
    });
  } catch (e) {
    if (e instanceof ConfigError || e instanceof WitnessLogsError || e instanceof LogKeyError) {
      throw new UsageError(e.message);
    }
    if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.AddrNotAvailable) {
      throw new UsageError(`cannot listen on ${host}:${port}: ${e.message}`);
    }
    throw e;
  }
  io.stdout(witness.verifierKeys.map((k) => k + "\n").join(""));
  io.stderr(`regledger witness: ${name} listening on ${witness.url}\n`);
  const { promise: stop, resolve } = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
  const handlers = signals.map((s) => {
    const h = () => resolve(s);
    Deno.addSignalListener(s, h);
    return [s, h] as const;
  });
  const sig = await stop;
  for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  io.stderr(`regledger witness: ${sig}, shutting down\n`);
  await witness.close();
  return 0;
}

/** Run `regledger witness <sub>`; only `serve` exists. */
export const run: Command = async (args: string[], io: CliIO): Promise<number> => {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    io.stdout(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "serve") throw new UsageError(`unknown witness command '${sub}'\n\n${HELP}`);
  return await serve(rest, io);
};
