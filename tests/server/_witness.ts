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
