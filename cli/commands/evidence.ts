/**
 * `regledger evidence export|verify`: evidence packs (docs/formats.md,
 * "Evidence packs").
 *
 * @module
 */
import {
  type CliIO,
  type Command,
  parseArgs,
  printJson,
  readInputFile,
  readTextFile,
  tokenFromEnv,
  UsageError,
} from "../io.ts";
import { TrustStore, type TrustStoreJson } from "../../core/trust_store.ts";
import { parsePrivacyBudgets } from "../../core/dp/budgets.ts";
import { LogClientError } from "../../ledger/client.ts";
import { writeEvidencePack } from "../../ledger/evidence/export.ts";
import { localEvidenceSource, remoteEvidenceSource } from "../../ledger/evidence/sources.ts";
import { verifyEvidencePack } from "../../ledger/evidence/verify.ts";
import { ZipFormatError } from "../../ledger/evidence/zip.ts";
import { parsePolicy, type TrustPolicy } from "../../ledger/witness/policy.ts";
import { logClientFor } from "./ledger.ts";
import { guard, open } from "./ledger/local.ts";

const HELP = `usage:
  regledger evidence export (--data DIR | --server URL [--token T]) [--trusted-keys FILE]
                            [--privacy-budgets FILE]
                            [--issuer I] [--primitive P] [--from T] [--to T] -o PACK
  regledger evidence verify PACK [--key VKEY] [--trusted-keys FILE] [--policy FILE]

export writes one ZIP file: report.html (opens offline), envelopes/<index>.json with
envelopes/<index>.receipt (tlog-proof@v1 against one checkpoint), checkpoint.txt,
log-keys.txt, trust-store.json and manifest.json (SHA-256 of every file). With --server
the trust store is the server's (GET /v1/trust-store) unless --trusted-keys is given;
with --data, --trusted-keys is required. The same selection under the same checkpoint
gives the same bytes as GET /v1/evidence.
Envelopes whose dp block names a dataset get a privacy-budget statement per issuer and
dataset (budgets/<n>.json: budget, spend at the checkpoint, spending entries, which the
pack then holds all of). The budget is the server's (GET /v1/privacy/budget) with
--server, the --privacy-budgets FILE's with --data (none without it).

verify checks the pack offline: every file against the manifest, the checkpoint under
the log keys (--key FILE|VKEY pins them; default: the pack's), the policy's quorum
(--policy), each receipt against the checkpoint, each envelope against the trust store
(--trusted-keys; default: the pack's), each privacy-budget statement against the
envelopes it names (spend recomputed, not above the budget).

Exit codes: 0 valid; 1 a check failed (JSON names the file, entry and reason);
2 bad use or an unreadable pack.

example:
  regledger evidence export --server http://127.0.0.1:8080 --issuer acme -o acme.zip
  regledger evidence verify acme.zip --key log.vkey
`;

/** Run `regledger evidence`; returns the exit code. */
export const run: Command = async (args, io) => {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === "export") return await exportPack(rest, io);
  if (sub === "verify") return await verifyPack(rest, io);
  throw new UsageError(`unknown evidence command ${JSON.stringify(sub)}\n${HELP}`);
};

async function readTrust(path: string): Promise<TrustStoreJson> {
  try {
    return TrustStore.fromJsonText(await readInputFile(path)).toJSON();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--trusted-keys ${path}: ${(e as Error).message}`, { cause: e });
  }
}

async function exportPack(args: string[], io: CliIO): Promise<number> {
  const p = parseArgs(args, {
    values: [
      "data",
      "origin",
      "server",
      "token",
      "trusted-keys",
      "privacy-budgets",
      "issuer",
      "primitive",
      "from",
      "to",
      "output",
    ],
    flags: ["help"],
    aliases: { o: "output", h: "help" },
  });
  if (p.flags.has("help")) {
    io.stdout(HELP);
    return 0;
  }
  if (p.positional.length > 0) throw new UsageError(`unexpected argument ${p.positional[0]}`);
  const out = p.values.output;
  if (!out) throw new UsageError("-o PACK is required");
  const selection = {
    issuer: p.values.issuer,
    primitive: p.values.primitive,
    from: p.values.from,
    to: p.values.to,
  };
  const trust = p.values["trusted-keys"] === undefined
    ? undefined
    : await readTrust(p.values["trusted-keys"]);
  const server = p.values.server;
  if (server !== undefined && p.values.data !== undefined) {
    throw new UsageError("--data and --server exclude each other");
  }
  let last = 0;
  const onProgress = io.isTerminal
    ? ({ entries, bytes }: { entries: number; bytes: number }) => {
      if (entries - last >= 1000 || entries === 0) {
        last = entries;
        io.stderr(`\rexported ${entries} entries (${(bytes / 1e6).toFixed(1)} MB)`);
      }
    }
    : undefined;
  const write = async (source: Parameters<typeof writeEvidencePack>[0]) => {
    // Written to a temporary file beside the target, renamed into place when complete.
    const tmp = `${out}.partial-${crypto.randomUUID().slice(0, 8)}`;
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      const w = file.writable.getWriter();
      const summary = await writeEvidencePack(source, selection, (c) => w.write(c), { onProgress });
      await w.close();
      await Deno.rename(tmp, out);
      if (onProgress) {
        io.stderr(
          `\rexported ${summary.entries} entries (${(summary.bytes / 1e6).toFixed(1)} MB)\n`,
        );
      }
      printJson(io, { ok: true, pack: out, ...summary });
      return 0;
    } catch (e) {
      try {
        file.close();
      } catch { /* closed by the stream */ }
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  };
  if (server !== undefined) {
    if (p.values.origin !== undefined) throw new UsageError("--origin applies only with --data");
    if (p.values["privacy-budgets"] !== undefined) {
      throw new UsageError("--privacy-budgets applies only with --data (a server states its own)");
    }
    const client = logClientFor(server, p.values.token ?? tokenFromEnv(), "--server");
    try {
      return await write(remoteEvidenceSource(client, trust));
    } catch (e) {
      if (e instanceof LogClientError) throw new UsageError(e.message, { cause: e });
      throw e;
    }
  }
  if (p.values.token !== undefined) throw new UsageError("--token applies only with --server");
  const dataDir = p.values.data;
  if (!dataDir) throw new UsageError("--data DIR or --server URL is required");
  if (trust === undefined) {
    throw new UsageError("--trusted-keys FILE is required with --data (the trust store in force)");
  }
  try {
    await Deno.stat(`${dataDir}/ledger.kv`);
  } catch {
    throw new UsageError(`no ledger at ${dataDir} (${dataDir}/ledger.kv does not exist)`);
  }
  const budgetsFile = p.values["privacy-budgets"];
  let budgets = null;
  if (budgetsFile !== undefined) {
    try {
      budgets = parsePrivacyBudgets(await readTextFile(budgetsFile));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--privacy-budgets ${budgetsFile}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  return await guard(async () => {
    const ledger = await open(dataDir, p.values.origin, { readOnly: true });
    try {
      return await write(localEvidenceSource(ledger, trust, budgets));
    } finally {
      await ledger.close();
    }
  });
}

async function verifyPack(args: string[], io: CliIO): Promise<number> {
  const p = parseArgs(args, {
    values: ["key", "trusted-keys", "policy"],
    flags: ["help"],
    aliases: { h: "help" },
  });
  if (p.flags.has("help")) {
    io.stdout(HELP);
    return 0;
  }
  if (p.positional.length !== 1) throw new UsageError("give exactly one PACK to verify");
  const trustStore = p.values["trusted-keys"] === undefined
    ? undefined
    : TrustStore.fromObject(await readTrust(p.values["trusted-keys"]));
  let logKeys: string[] | undefined;
  if (p.values.key !== undefined) {
    const k = p.values.key;
    let text = k;
    try {
      if ((await Deno.stat(k)).isFile) text = await readTextFile(k);
    } catch { /* the key text itself */ }
    logKeys = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  }
  let policy: TrustPolicy | undefined;
  if (p.values.policy !== undefined) {
    try {
      policy = parsePolicy(await readTextFile(p.values.policy));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--policy ${p.values.policy}: ${(e as Error).message}`, { cause: e });
    }
  }
  const path = p.positional[0];
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  let verdict;
  try {
    verdict = await verifyEvidencePack(bytes, { logKeys, trustStore, policy });
  } catch (e) {
    if (e instanceof ZipFormatError) throw new UsageError(`${path}: ${e.message}`, { cause: e });
    throw e;
  }
  if (verdict.ok) {
    printJson(io, verdict);
    return 0;
  }
  const first = verdict.problems[0];
  printJson(io, {
    ...verdict,
    file: first?.file,
    index: first?.index,
    reason: first?.reason,
    error: first?.message,
  });
  return 1;
}
