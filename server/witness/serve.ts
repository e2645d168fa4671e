/**
 * Run a C2SP tlog-witness with `Deno.serve`: load or make the witness's
 * keys in its data directory, open its state file (`witness.kv`), build the
 * app and listen. `regledger witness serve` is a thin wrapper around
 * {@link startWitness}.
 *
 * @module
 */
import { isValidKeyName, type NoteSigner } from "../../ledger/note.ts";
import { type MlDsa44Engine, nobleMlDsa44 } from "../../ledger/witness/mldsa.ts";
import {
  createLiboqsMlDsa44Engine,
  type LiboqsMlDsa44Engine,
} from "../../ledger/witness/mldsa_liboqs.ts";
import { ConfigError, type RateLimitConfig } from "../config.ts";
import { createWitnessApp } from "./app.ts";
import { loadOrCreateWitnessKeys } from "./keys.ts";
import { witnessLogs } from "./logs.ts";
import { WitnessMetrics } from "./metrics.ts";
import { WitnessStore } from "./state.ts";

/** File name of the witness state inside its data directory. */
export const WITNESS_STATE_FILE = "witness.kv";

/** Options of {@link startWitness}. */
export interface StartWitnessOptions {
  /** Data directory: `witness.kv`, `witness-key`, `witness-key-mldsa44`. */
  dataDir: string;
  /** Interface to bind. @default {"127.0.0.1"} */
  hostname?: string;
  /** Port, 0 for any free one. @default {0} */
  port?: number;
  /** The witness's name (its key name), e.g. `witness.example/w1`. */
  name: string;
  /** Verifier keys of the logs it accepts (a log key's name is its origin). */
  logs: string[];
  /** Also cosign with ML-DSA-44 (see `mlDsaEngine`). @default {true} */
  mlDsa?: boolean;
  /**
   * Which ML-DSA-44 implementation cosigns: `"auto"` tries liboqs
   * (WebAssembly, several times faster) and falls back to
   * `@noble/post-quantum` with one status line when it does not load;
   * `"liboqs"` refuses to start without it; `"noble"` never loads it. Both
   * make interchangeable FIPS 204 signatures from the same key file.
   * @default {"auto"}
   */
  mlDsaEngine?: MlDsaEngineChoice;
  /** Loads liboqs; a test injects a failing one. @default {createLiboqsMlDsa44Engine} */
  loadLiboqs?: () => Promise<LiboqsMlDsa44Engine>;
  /** Per-client (remote address) rate limit; `null` for none. @default {null} */
  rateLimit?: RateLimitConfig | null;
  /** Request body limit in bytes. @default {65536} */
  bodyLimit?: number;
  /** Status lines (never secrets). @default {() => {}} */
  status?: (line: string) => void;
}

/** How the witness picks its ML-DSA-44 implementation (see {@link StartWitnessOptions}). */
export type MlDsaEngineChoice = "auto" | "liboqs" | "noble";
/** The `mlDsaEngine` choices of {@link StartWitnessOptions}. */
export const ML_DSA_ENGINE_CHOICES: readonly MlDsaEngineChoice[] = ["auto", "liboqs", "noble"];

/** A running witness. */
export interface RunningWitness {
  /** Its URL prefix (submission and monitoring), e.g. `http://127.0.0.1:PORT`. */
  url: string;
  /** Its verifier keys: the Ed25519 `cosignature/v1` key first, then ML-DSA-44. */
  verifierKeys: string[];
  /** The ML-DSA-44 implementation that cosigns; `undefined` with `mlDsa: false`. */
  mlDsaEngine: "liboqs" | "noble" | undefined;
  /** Its metrics. */
  metrics: WitnessMetrics;
  /** Stop listening, finish in-flight requests, close the state. Idempotent. */
  close(): Promise<void>;
}

/**
 * Start a witness: keys made on first start in `dataDir` (0600), state in
 * `dataDir/witness.kv`, listening on `hostname:port`.
 *
 * @example Cosign a log's first checkpoint
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ed25519NoteSigner } from "../../ledger/note.ts";
 * import { signCheckpoint } from "../../ledger/checkpoint.ts";
 * import { EMPTY_TREE_HASH } from "../../ledger/merkle/mod.ts";
 * import { startWitness } from "./serve.ts";
 * const log = await Ed25519NoteSigner.generate("example.com/log");
 * const dataDir = await Deno.makeTempDir();
 * const w = await startWitness({
 *   dataDir,
 *   name: "witness.example/w1",
 *   logs: [log.verifierKey()],
 *   mlDsa: false,
 * });
 * const cp = await signCheckpoint({ origin: "example.com/log", size: 0, root: EMPTY_TREE_HASH }, [log]);
 * const res = await fetch(`${w.url}/add-checkpoint`, { method: "POST", body: `old 0\n\n${cp}` });
 * assert.equal(res.status, 200);
 * assert.match(await res.text(), /^— witness\.example\/w1 /);
 * await w.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 *
 * @throws {ConfigError} for a bad name; {WitnessLogsError} for bad log
 *   keys; {LogKeyError} for a key file that is unreadable, of another name
 *   or readable by others; `Deno.errors.AddrInUse` when the port is taken.
 */
export async function startWitness(opts: StartWitnessOptions): Promise<RunningWitness> {
  if (typeof opts.name !== "string" || !isValidKeyName(opts.name)) {
    throw new ConfigError(
      `witness name ${
        JSON.stringify(opts.name)
      } is not a valid key name (non-empty, no spaces, no '+')`,
    );
  }
  const logs = witnessLogs(opts.logs);
  const status = opts.status ?? (() => {});
  const mlDsa = opts.mlDsa ?? true;
  const choice = opts.mlDsaEngine ?? "auto";
  if (!(ML_DSA_ENGINE_CHOICES as readonly string[]).includes(choice)) {
    throw new ConfigError(
      `ML-DSA-44 engine ${JSON.stringify(choice)} is not one of ${
        ML_DSA_ENGINE_CHOICES.join(", ")
      }`,
    );
  }
  const loadLiboqs = opts.loadLiboqs ?? createLiboqsMlDsa44Engine;
  // `engine` is the liboqs instance this witness owns (destroyed on close).
  let engine: LiboqsMlDsa44Engine | undefined;
  if (mlDsa && choice === "liboqs") {
    try {
      engine = await loadLiboqs();
    } catch (e) {
      throw new ConfigError(`ML-DSA-44 engine liboqs does not load: ${(e as Error).message}`);
    }
  } else if (mlDsa && choice === "auto") {
    engine = await loadLiboqs().catch((e) => {
      status(`witness: liboqs unavailable (${(e as Error).message}); ML-DSA-44 in JavaScript`);
      return undefined;
    });
  }
  const mlDsaEngine: MlDsa44Engine | undefined = mlDsa ? engine ?? nobleMlDsa44 : undefined;
  let store: WitnessStore | undefined;
  try {
    await Deno.mkdir(opts.dataDir, { recursive: true });
    const keys = await loadOrCreateWitnessKeys(opts.dataDir, opts.name, {
      mlDsa,
      ...(mlDsaEngine ? { engine: mlDsaEngine } : {}),
    });
    for (const f of keys.created) status(`witness: created ${opts.dataDir}/${f} (mode 0600)`);
    const cosigners: NoteSigner[] = [keys.ed25519];
    const verifierKeys = [keys.ed25519.verifierKey()];
    if (keys.mlDsa) {
      cosigners.push(keys.mlDsa);
      verifierKeys.push(keys.mlDsa.verifierKey());
    }
    store = await WitnessStore.open(`${opts.dataDir}/${WITNESS_STATE_FILE}`);
    await store.load(logs.keys());
    const metrics = new WitnessMetrics(store);
    const app = createWitnessApp({
      store,
      logs,
      cosigners,
      metrics,
      rateLimit: opts.rateLimit ?? null,
      ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {}),
      status,
    });
    const server = Deno.serve(
      {
        hostname: opts.hostname ?? "127.0.0.1",
        port: opts.port ?? 0,
        onListen: () => {},
      },
      (req, info) => app.fetch(req, { remoteAddr: (info.remoteAddr as Deno.NetAddr).hostname }),
    );
    const addr = server.addr as Deno.NetAddr;
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    const url = `http://${host}:${addr.port}`;
    const st = store;
    let closing: Promise<void> | undefined;
    return {
      url,
      verifierKeys,
      mlDsaEngine: mlDsaEngine ? (engine ? "liboqs" : "noble") : undefined,
      metrics,
      close: () =>
        closing ??= (async () => {
          await server.shutdown();
          await st.close();
          engine?.destroy();
        })(),
    };
  } catch (e) {
    await store?.close();
    engine?.destroy();
    throw e;
  }
}
