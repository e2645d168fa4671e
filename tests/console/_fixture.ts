/**
 * A real regledger server on 127.0.0.1 (port 0) over a KV file in a
 * temporary directory, holding audits of two issuers over time, for the
 * console's browser tests and benchmark. Envelopes are real runs of the
 * primitives signed by the trusted test issuer; which of them breach is
 * read from the results (core's `resultBreached`), not written down.
 *
 * @module
 */
import { runAudit, signAuditRun } from "../../core/audit/index.ts";
import { parseEnvelopeValue } from "../../core/envelope.ts";
import type { Envelope, PrimitiveName } from "../../core/envelope_types.ts";
import { resultBreached } from "../../core/primitives/breach.ts";
import { signNote } from "../../ledger/note.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { type Harness, harness, TOKENS } from "../server/_helpers.ts";

/** One appended entry as the test expects to see it. */
export interface Expected {
  index: number;
  issuer: string;
  primitive: PrimitiveName;
  breached: boolean;
  envelope: Envelope;
}

/** A running server with its expected content. */
export interface ConsoleServer {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** The admin token (bearer mode). */
  token: string;
  /** The log's verifier key. */
  logKey: string;
  /** What was appended, in log order. */
  entries: Expected[];
  /** The harness under the server. */
  h: Harness;
  /** Stop the server, close the ledger, remove the directory. */
  close(): Promise<void>;
}

const DAY = 86_400_000;
/** The series ends today: the overview shows recent activity. */
const START = Math.floor(Date.now() / DAY) * DAY - 20 * DAY + 9 * 3_600_000;

function driftInput(i: number) {
  // A reference histogram and a current one that moves away on some days.
  const p = [5, 8, 12, 9, 6, 4, 3, 2];
  const shift = [0, 1, 0, 2, 0, 0, 5, 1, 0, 6, 0, 1][i % 12];
  const q = p.map((v, k) => v + (k < 4 ? shift : 0));
  return { p, q, drift_threshold: 0.005 };
}

function fairnessInput(i: number) {
  const y_true = [1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1];
  const y_pred = y_true.map((v, k) => (k === i % 12 || (i % 4 === 3 && k < 3) ? 1 - v : v));
  const group_a = y_true.map((_, k) => (k % 2 === 0 ? 1 : 0));
  const group_b = group_a.map((v) => 1 - v);
  return { y_true, y_pred, group_a, group_b, threshold: 0.3 };
}

function calibrationInput(i: number) {
  return { scores: [0.1 + (i % 5) * 0.05, 0.7, 0.2, 0.05], quantiles: [0.15, 0.3, 0.5, 0.4] };
}

/** What each day of the series holds: issuer, primitive, input. */
function plan(days: number): [number, string, PrimitiveName, unknown][] {
  const out: [number, string, PrimitiveName, unknown][] = [];
  for (let d = 0; d < days; d++) {
    out.push([d, "acme-bank", "drift", driftInput(d)]);
    out.push([d, "acme-bank", "fairness", fairnessInput(d)]);
    if (d % 3 === 0) out.push([d, "globex-health", "calibration", calibrationInput(d)]);
  }
  return out;
}

/**
 * Start the server. `devMode` turns authentication off; otherwise the test
 * keyring's tokens apply (the admin token is `token`).
 */
export async function startConsoleServer(
  opts: { devMode?: boolean; days?: number; bulk?: number } = {},
): Promise<ConsoleServer> {
  const h = await harness({ config: { devMode: opts.devMode ?? false } });
  const entries: Expected[] = [];
  const days = opts.days ?? 12;
  for (const [day, issuer, primitive, input] of plan(days)) {
    const run = runAudit(primitive, input);
    const issuedAt = new Date(START + day * DAY + entries.length * 60_000).toISOString();
    const envelope = await signAuditRun(run, h.issuer, { issuer, issuedAt });
    const r = await h.ledger.append(parseEnvelopeValue(envelope));
    entries.push({
      index: r.index,
      issuer,
      primitive,
      breached: resultBreached(primitive, envelope.result),
      envelope,
    });
  }
  if (opts.bulk) await appendBulk(h, opts.bulk);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, h.app.fetch);
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    token: TOKENS.admin,
    logKey: h.deps.log.verifierKey,
    entries,
    h,
    close: async () => {
      await server.shutdown();
      await h.close();
    },
  };
}

/**
 * Append `n` drift audits of issuer `bulk-model`, one an hour, 64 appends in
 * flight (the ledger commits them in groups). For the benchmark's long series.
 */
async function appendBulk(h: Harness, n: number): Promise<void> {
  const start = Date.now() - n * 3_600_000;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const run = runAudit("drift", driftInput(i));
      const issuedAt = new Date(start + i * 3_600_000).toISOString();
      const envelope = await signAuditRun(run, h.issuer, { issuer: "bulk-model", issuedAt });
      await h.ledger.append(parseEnvelopeValue(envelope));
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

/** How a tampering proxy changes entry bundles. */
export type Tamper = "result" | "proof";

/**
 * A proxy on its own port in front of `origin` that changes every entry
 * bundle it passes on: the envelope's first numeric statistic (`result`), or
 * the first hash of the inclusion proof (`proof`).
 */
export function tamperingProxy(
  origin: string,
  tamper: Tamper,
): { origin: string; close(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const upstream = await fetch(origin + url.pathname + url.search, {
      headers: req.headers,
      method: req.method,
    });
    if (!/^\/v1\/log\/entries\/\d+\/bundle$/.test(url.pathname) || !upstream.ok) return upstream;
    const bundle = await upstream.json();
    if (tamper === "result") {
      const [k] = Object.entries(bundle.envelope.result).find(([, v]) => typeof v === "number")!;
      bundle.envelope.result[k] = bundle.envelope.result[k] + 0.125;
    } else {
      const first = Uint8Array.from(atob(bundle.inclusion_proof[0]), (c) => c.charCodeAt(0));
      first[0] ^= 1;
      bundle.inclusion_proof[0] = btoa(String.fromCharCode(...first));
    }
    const headers = new Headers(upstream.headers);
    headers.delete("content-length");
    return new Response(JSON.stringify(bundle), { status: 200, headers });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

/**
 * A proxy in front of `origin` that adds a witness's C2SP cosignature to
 * every checkpoint it passes on (`/v1/log/checkpoint` and the checkpoint of
 * entry bundles), as a log whose checkpoints are cosigned would serve them.
 */
export async function cosigningProxy(
  origin: string,
  witnessName: string,
): Promise<{ origin: string; close(): Promise<void> }> {
  const witness = await Ed25519CosignatureSigner.generate(witnessName);
  const cosign = async (checkpoint: string) => {
    const body = checkpoint.slice(0, checkpoint.indexOf("\n\n") + 1);
    const signed = await signNote(body, [witness]);
    return checkpoint + signed.slice(body.length + 1);
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const upstream = await fetch(origin + url.pathname + url.search, { headers: req.headers });
    const headers = new Headers(upstream.headers);
    headers.delete("content-length");
    if (upstream.ok && url.pathname === "/v1/log/checkpoint") {
      return new Response(await cosign(await upstream.text()), { headers });
    }
    if (upstream.ok && /^\/v1\/log\/entries\/\d+\/bundle$/.test(url.pathname)) {
      const bundle = await upstream.json();
      // The receipt carries the same checkpoint: a cosigned log serves it cosigned there too.
      const cosigned = await cosign(bundle.checkpoint);
      bundle.tlog_proof = bundle.tlog_proof.replace(bundle.checkpoint, cosigned);
      bundle.checkpoint = cosigned;
      return new Response(JSON.stringify(bundle), { headers });
    }
    return upstream;
  });
  return { origin: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}
