/**
 * A real server for the console tests, and what the console fetches from it.
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../server/config.ts";
import { type RunningServer, startServer } from "../../server/serve.ts";
import type { VerifyEntryInput } from "../../server/console/web/verify.ts";
import { FIXTURES, signedEnvelope, testKeys, TOKENS, writeTrustFile } from "../server/_helpers.ts";

/** A running server and what the console fetches from it. */
export interface Ctx {
  server: RunningServer;
  base: string;
  trust: string;
  get(path: string): Promise<string>;
  post(path: string, body: string, scope: keyof typeof TOKENS): Promise<Response>;
  input(index: number): Promise<VerifyEntryInput>;
}

/** Run `fn` against a fresh real server on 127.0.0.1 (port 0), then remove it. */
export async function withServer(fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "regledger-console-verify-" });
  const trust = `${dir}/trust.json`;
  await writeTrustFile(trust);
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    dataDir: `${dir}/data`,
    trustedKeys: trust,
    config: { ...DEFAULT_CONFIG, apiKeys: testKeys(), rateLimit: null, verifyWorkers: 0 },
    signals: false,
    status: () => {},
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`, {
      headers: { authorization: `Bearer ${TOKENS["ledger:read"]}` },
    });
    const text = await r.text();
    assert.equal(r.status, 200, `${path}: ${text}`);
    return text;
  };
  const post = (path: string, body: string, scope: keyof typeof TOKENS) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKENS[scope]}`, "content-type": "application/json" },
      body,
    });
  // What the console fetches: the bundle first, then the latest checkpoint.
  const input = async (index: number): Promise<VerifyEntryInput> => ({
    bundle: await get(`/v1/log/entries/${index}/bundle`),
    checkpoint: await get("/v1/log/checkpoint"),
    trustStore: JSON.parse(await get("/v1/trust-store")),
    logKey: (await get("/v1/log/key")).trim(),
  });
  try {
    await fn({ server, base, trust, get, post, input });
  } finally {
    await server.shutdown();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
}

/** Append n native envelopes signed by the trusted test issuer, one legacy fixture, one audit. */
export async function populate(ctx: Ctx): Promise<void> {
  for (let n = 0; n < 5; n++) {
    const r = await ctx.post(
      "/v1/envelopes",
      JSON.stringify(await signedEnvelope(n)),
      "ledger:append",
    );
    assert.equal(r.status, 201, await r.text());
  }
  const legacy = await Deno.readTextFile(new URL("envelopes/drift-valid.json", FIXTURES));
  assert.equal((await ctx.post("/v1/envelopes", legacy, "ledger:append")).status, 201);
  const audit = await ctx.post("/v1/audit/drift", '{"p":[5,3,2],"q":[4,4,2]}', "audit:run");
  assert.equal(audit.status, 201, await audit.text());
}
