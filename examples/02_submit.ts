/**
 * Example 2 — the vendor submits its envelopes to a regulator's server and
 * keeps the receipts.
 *
 * For each envelope in `WORKDIR/envelopes/`, `POST /v1/envelopes` (the
 * server verifies it against the regulator's trust store before appending)
 * and keep the `tlog-proof@v1` receipt in `WORKDIR/receipts/`. Then fetch
 * the log's verifier key (published by the regulator; here from
 * `GET /v1/log/key`), the latest checkpoint, and for each receipt the
 * consistency proof from its tree to the latest one, so that example 3 can
 * check everything offline.
 *
 *   REGLEDGER_TOKEN=... deno run --allow-read --allow-write --allow-net=127.0.0.1 \
 *     examples/02_submit.ts WORKDIR http://127.0.0.1:8080
 *
 * @module
 */
import { parseTlogProof, PRIMITIVES } from "../mod.ts";

const [work, server] = Deno.args;
const token = Deno.env.get("REGLEDGER_TOKEN");
if (!work || !server || !token) {
  console.error("usage: REGLEDGER_TOKEN=T 02_submit.ts WORKDIR SERVER_URL");
  Deno.exit(2);
}
const auth = { authorization: `Bearer ${token}` };

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(new URL(path, server), {
    ...init,
    headers: { ...auth, ...(init.headers ?? {}) },
  });
  if (!res.ok) {
    throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`);
  }
  return res;
}

await Deno.mkdir(`${work}/receipts`, { recursive: true });
const sizes: Record<string, number> = {};
for (const primitive of PRIMITIVES) {
  const body = await Deno.readFile(`${work}/envelopes/${primitive}.json`);
  const res = await call("/v1/envelopes", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const receipt = await res.json();
  await Deno.writeTextFile(`${work}/receipts/${primitive}.tlog-proof`, receipt.tlog_proof);
  sizes[primitive] = receipt.tree_size;
  console.error(
    `${primitive.padEnd(13)} ${res.status === 201 ? "appended" : "already logged"} ` +
      `at index ${receipt.index} (tree size ${receipt.tree_size})`,
  );
}

// Public: the log key and the latest checkpoint.
const vkey = await (await call("/v1/log/key")).text();
await Deno.writeTextFile(`${work}/log.vkey`, vkey);
const latest = await (await call("/v1/log/checkpoint")).text();
await Deno.writeTextFile(`${work}/latest.checkpoint`, latest);
const latestSize = Number(latest.split("\n")[1]);

// Consistency proofs from each receipt's tree to the latest tree.
await Deno.mkdir(`${work}/consistency`, { recursive: true });
for (const primitive of PRIMITIVES) {
  const receipt = await Deno.readTextFile(`${work}/receipts/${primitive}.tlog-proof`);
  const size = Number(parseTlogProof(receipt).checkpoint.split("\n")[1]);
  const proof = await (await call(
    `/v1/log/proof/consistency?first=${size}&second=${latestSize}`,
  )).json();
  await Deno.writeTextFile(`${work}/consistency/${primitive}.json`, JSON.stringify(proof) + "\n");
}
console.error(`kept ${PRIMITIVES.length} receipts; latest tree size ${latestSize}`);
