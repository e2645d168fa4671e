/**
 * A small C2SP tlog-witness for the log server's tests, built from the pure
 * decision layer (`decideAddCheckpoint`): a real HTTP server on
 * 127.0.0.1:0, per-log state in memory, requests serialised (the
 * compare-and-set a real witness does atomically), and a fault hook.
 */
import { parseAddCheckpointRequest } from "../../ledger/witness/add_checkpoint.ts";
import {
  AddCheckpointFormatError,
  decideAddCheckpoint,
  TEXT_CONTENT_TYPE,
  type WitnessLogState,
} from "../../ledger/witness/add_checkpoint.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { parseNoteVerifierKey } from "../../ledger/witness/keys.ts";
import type { NoteVerifier } from "../../ledger/note.ts";
import { witnessEndpoints } from "../../ledger/witness/client.ts";
import { createApp, type RegledgerApp } from "../../server/app.ts";
import { DEFAULT_CONFIG } from "../../server/config.ts";
import type { LogService } from "../../server/deps.ts";
import { ServerMetrics } from "../../server/metrics.ts";
import { Witnessing, type WitnessingOptions } from "../../server/witnessing.ts";
import { type Harness, jsonAuth, post, signedEnvelope, testKeys } from "./_helpers.ts";

export interface TestWitness {
  /** Submission prefix. */
  url: string;
  /** Its cosigning verifier key. */
  vkey: string;
  /** `--witness` value. */
  arg: string;
  signer: Ed25519CosignatureSigner;
  /** Per-origin state (tests may set it: a witness that saw another copy). */
  state: Map<string, WitnessLogState>;
  /** Statuses answered, in order. */
  answered: number[];
  /** Return a Response to answer instead of the witness (fault injection). */
  fault?: (body: string) => Response | undefined | Promise<Response | undefined>;
  /** Trust `vkey` for its origin. */
  addLog(vkey: string): void;
  close(): Promise<void>;
}

export async function startTestWitness(
  name: string,
  logVkeys: string[] = [],
): Promise<TestWitness> {
  const signer = await Ed25519CosignatureSigner.generate(name);
  const logs = new Map<string, NoteVerifier[]>();
  const state = new Map<string, WitnessLogState>();
  const answered: number[] = [];
  let chain: Promise<unknown> = Promise.resolve();
  const w = {} as TestWitness;
  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (req.method !== "POST" || url.pathname !== "/add-checkpoint") {
      return new Response("not found\n", { status: 404 });
    }
    const body = await req.text();
    const injected = await w.fault?.(body);
    if (injected) return injected;
    let request;
    try {
      request = parseAddCheckpointRequest(body);
    } catch (e) {
      if (e instanceof AddCheckpointFormatError) {
        return new Response(e.message + "\n", { status: 400 });
      }
      throw e;
    }
    const origin = request.checkpoint.origin;
    const verifiers = logs.get(origin);
    const d = await decideAddCheckpoint(
      request,
      verifiers ? { origin, verifiers } : undefined,
      state.get(origin),
      [signer],
    );
    if (d.status === 200) state.set(origin, d.newState);
    return new Response(d.body, { status: d.status, headers: { "content-type": d.contentType } });
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const next = chain.then(() => handle(req)).then((res) => {
      answered.push(res.status);
      return res;
    });
    chain = next.catch(() => {});
    return next.catch((e) =>
      new Response(`${(e as Error).message}\n`, {
        status: 500,
        headers: { "content-type": TEXT_CONTENT_TYPE },
      })
    );
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  Object.assign(w, {
    url,
    vkey: signer.verifierKey(),
    arg: `${url}=${signer.verifierKey()}`,
    signer,
    state,
    answered,
    addLog(vkey: string) {
      const k = parseNoteVerifierKey(vkey);
      logs.set(k.verifier.name, [...(logs.get(k.verifier.name) ?? []), k.verifier]);
    },
    close: () => server.shutdown(),
  });
  for (const v of logVkeys) w.addLog(v);
  return w;
}

/** A test app whose log is witnessed by `witnesses` (quorum: all, unless `opts` says). */
export interface WitnessedApp {
  app: RegledgerApp;
  witnessing: Witnessing;
  metrics: ServerMetrics;
  /** The witnessing's status lines. */
  lines: string[];
  /** Stop the witnessing, the witnesses and the harness. */
  close(): Promise<void>;
}

/**
 * Start witnessing `log` (the harness's own, or a wrapper of it) with `witnesses` and build the
 * app around it: fast backoff for tests, the witnessing's metrics registered, lines collected.
 */
export async function witnessedApp(
  h: Harness,
  witnesses: TestWitness[],
  log: LogService,
  opts: Partial<WitnessingOptions> = {},
): Promise<WitnessedApp> {
  const lines: string[] = [];
  const witnessing = new Witnessing({
    log,
    witnesses: witnessEndpoints(witnesses.map((w) => w.arg)),
    backoffBaseMs: 5,
    backoffMaxMs: 50,
    logLine: (l) => lines.push(l),
    ...opts,
  });
  const metrics = new ServerMetrics();
  metrics.addFamilies(witnessing.metrics);
  await witnessing.start();
  const app = createApp(
    { ...h.deps, log: witnessing.wrapLog(log), witnessing },
    { ...DEFAULT_CONFIG, apiKeys: testKeys(), rateLimit: null },
    { metrics },
  );
  return {
    app,
    witnessing,
    metrics,
    lines,
    close: async () => {
      await witnessing.close();
      for (const w of witnesses) await w.close();
      await h.close();
    },
  };
}

/** POST envelope `n` to `/v1/envelopes` (with `query`) as `ledger:append`. */
export async function appendEnvelope(
  app: RegledgerApp,
  n: number,
  query = "",
): Promise<Response> {
  return await post(
    app,
    `/v1/envelopes${query}`,
    JSON.stringify(await signedEnvelope(n)),
    jsonAuth("ledger:append"),
  );
}
