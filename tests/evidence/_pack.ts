/** Shared by the evidence-pack tests: a real server with varied, signed audit envelopes. */
import { buildEnvelope } from "../../core/envelope_build.ts";
import { InProcessKeyProvider } from "../../core/keys.ts";
import type { PrimitiveName } from "../../core/envelope_types.ts";
import { LogClient } from "../../ledger/client.ts";
import { DEFAULT_CONFIG, parseApiKeys } from "../../server/config.ts";
import { type RunningServer, startServer } from "../../server/serve.ts";

/** Token with every scope on the test server. */
export const TOKEN = "evidence-test-token";

/** One envelope of a history: issuer, primitive, its numbers, its regulations. */
export async function historyEnvelope(
  key: InProcessKeyProvider,
  i: number,
  issuer: string,
  primitive: PrimitiveName,
): Promise<Uint8Array> {
  // A slow drift with an occasional spike: some entries breach their threshold.
  const wave = 0.04 + 0.03 * Math.sin(i / 2) + (i % 7 === 3 ? 0.09 : 0);
  const threshold = 0.1;
  const day = String(1 + (i % 28)).padStart(2, "0");
  const month = String(1 + Math.floor(i / 28) % 12).padStart(2, "0");
  const common = {
    primitive,
    backend: "plaintext" as const,
    parameterSet: { backend: "plaintext" },
    depthBudget: { declared: 1, consumed: 1 },
    issuer,
    issuedAt: `2026-${month}-${day}T10:00:00Z`,
  };
  const env = primitive === "fairness"
    ? await buildEnvelope({
      ...common,
      regulations: ["EU_AI_ACT_ART10", "NYC_LL144"],
      result: {
        demographic_parity_diff: wave * 1.5 - 0.05,
        equal_opportunity_diff: wave,
        predictive_parity_diff: -wave / 2,
        threshold_breached: Math.abs(wave * 1.5 - 0.05) > threshold || wave > threshold,
      },
      inputs: { threshold, run: i },
    }, key)
    : await buildEnvelope({
      ...common,
      regulations: ["EU_AI_ACT_ART72"],
      result: { distance: wave, w1_distance: wave * 2, drift_bit: wave > threshold },
      inputs: { drift_threshold: threshold, run: i },
    }, key);
  return new TextEncoder().encode(JSON.stringify(env));
}

/** A running server in a temporary directory, with a trust file trusting `key`. */
export interface PackServer {
  url: string;
  server: RunningServer;
  dir: string;
  key: InProcessKeyProvider;
  client: LogClient;
  close(): Promise<void>;
}

/**
 * Start a server on 127.0.0.1:0 and append `n` envelopes (two issuers, two
 * primitives); `privacyBudgets` (a budgets file's text) is written to
 * `<dir>/budgets.json` and served with `--privacy-budgets`.
 */
export async function packServer(
  n: number,
  opts: { privacyBudgets?: string } = {},
): Promise<PackServer> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-evidence-" });
  if (opts.privacyBudgets !== undefined) {
    await Deno.writeTextFile(`${dir}/budgets.json`, opts.privacyBudgets);
  }
  const key = await InProcessKeyProvider.generate("evidence-test-1");
  await Deno.writeTextFile(
    `${dir}/trust.json`,
    JSON.stringify({ keys: { [key.keyId]: key.publicKeyPem } }),
  );
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: `${dir}/data`,
    trustedKeys: `${dir}/trust.json`,
    privacyBudgets: opts.privacyBudgets === undefined ? undefined : `${dir}/budgets.json`,
    config: {
      ...DEFAULT_CONFIG,
      apiKeys: parseApiKeys(`${TOKEN}:admin`),
      verifyWorkers: 0,
      rateLimit: null,
    },
    signals: false,
    status: () => {},
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const client = new LogClient(url, { token: TOKEN });
  const kinds: [string, PrimitiveName][] = [["acme", "drift"], ["acme", "fairness"], [
    "globex",
    "drift",
  ]];
  for (let i = 0; i < n; i++) {
    const [issuer, primitive] = kinds[i % kinds.length];
    const r = await client.append(await historyEnvelope(key, i, issuer, primitive));
    if (!r.ok) throw new Error(`append ${i} refused: ${JSON.stringify(r.body)}`);
  }
  let closed = false;
  const stop = async () => {
    if (closed) return;
    closed = true;
    await server.shutdown();
    await server.finished;
  };
  return {
    url,
    server,
    dir,
    key,
    client,
    close: async () => {
      await stop();
      await Deno.remove(dir, { recursive: true });
    },
    // exposed for tests that need the data directory without the server
    stop,
  } as PackServer & { stop(): Promise<void> };
}
