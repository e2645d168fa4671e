/**
 * Fuzz: 12,000 generated malformed requests (seeded, reproducible) against
 * the real app and ledger in-process, mixed with valid submissions. No
 * answer may be a 5xx, every error must be a JSON body naming the problem,
 * the server stays alive, and afterwards the whole log audits clean with
 * exactly the accepted entries in it.
 *
 * Reproduce a failure with `FUZZ_SEED=<seed> deno test -A tests/server/fuzz_test.ts`.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import { parseEnvelopeText } from "../../core/envelope.ts";
import { toBase64 } from "../../core/bytes.ts";
import type { Scope } from "../../server/config.ts";
import { auth, fixtureText, harness, signedEnvelope, TOKENS } from "./_helpers.ts";
import { seededRandom } from "../_random.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 0x5eed2026);
const REQUESTS = 12_000;

/** A seeded PRNG with integer and pick helpers. */
function prng(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick };
}

const JUNK_NUMBERS = [
  "-1",
  "01",
  "1.5",
  "1e3",
  "9007199254740993",
  "99999999999999999999999",
  "NaN",
  "Infinity",
  "0x10",
  " 1",
  "",
  "%00",
  "%ZZ",
  "１",
  "1;DROP",
  "../../etc/passwd",
  "%2e%2e%2f",
];
const JUNK_VALUES = [
  ...JUNK_NUMBERS,
  "a".repeat(600),
  "\u0000",
  "😀",
  "%F0%9F%98",
  "%C3%28",
  "2026-13-45T99:99:99Z",
  "2026-01-01",
  "x=y&z",
];

Deno.test({
  name: `fuzz: ${REQUESTS} malformed requests, zero 5xx, log audits clean (seed ${SEED})`,
  fn: async () => {
    const h = await harness();
    const r = prng(SEED);
    try {
      const valid = JSON.stringify(await signedEnvelope(0));
      const legacy = await fixtureText("envelopes/drift-valid.json");
      const inputs = JSON.parse(await fixtureText("primitives.json")).cases;
      const prims = Object.keys(inputs);
      const tokens = [
        ...Object.keys(TOKENS).map((s) => auth(s as Scope).authorization),
        "Bearer wrong-token-0123456789",
        "Bearer",
        "bearer " + TOKENS.admin,
        "Basic YTpi",
        "Bearer " + TOKENS.admin + " extra",
        "",
      ];
      const contentTypes = [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/problem+json",
        "",
        "multipart/form-data; boundary=x",
      ];

      const mutateText = (t: string): string => {
        const ops = r.int(9);
        switch (ops) {
          case 0:
            return t.slice(0, r.int(t.length));
          case 1: {
            const i = r.int(t.length);
            return t.slice(0, i) + r.pick(["{", "}", "[", '"', ",", ":", "\\", "\u0000", "1e999"]) +
              t.slice(i);
          }
          case 2: {
            const i = r.int(t.length);
            return t.slice(0, i) + t.slice(i + 1 + r.int(20));
          }
          case 3:
            return t.replace(/"[a-z_]+":/, `"${r.pick(["schema", "x", "receipt", ""])}":`);
          case 4:
            return t.replace(
              /:(\d+(\.\d+)?)/,
              `:${r.pick(["1e999", "-0", "1.0", '"1"', "null", "[]", "{}"])}`,
            );
          case 5:
            return t.replace(/:"[^"]*"/, `:${r.pick(["1", "null", "true", "[]", "{}", '"x"'])}`);
          case 6:
            return "[".repeat(1 + r.int(5000)) + t;
          case 7:
            return t + r.pick([" ", "x", "{}", "\n\n", ",", "\u2028"]);
          default:
            return t.replace(/[A-Za-z0-9+/]{8}/, "AAAAAAAA");
        }
      };
      const randomBytes = (): Uint8Array<ArrayBuffer> => {
        const b = new Uint8Array(r.int(300));
        for (let i = 0; i < b.length; i++) b[i] = r.int(256);
        return b;
      };
      const body = (): string | Uint8Array<ArrayBuffer> | undefined => {
        switch (r.int(9)) {
          case 0:
            return undefined;
          case 1:
            return randomBytes();
          case 2:
            return mutateText(legacy);
          case 3: {
            const p = r.pick(prims);
            return mutateText(JSON.stringify(inputs[p][r.int(inputs[p].length)].input));
          }
          case 4:
            return JSON.stringify(r.pick([null, 1, "x", [], {}, { schema: null }, [[[]]], true]));
          case 5: {
            // Well-formed but tampered: the typed verification failures.
            const e = JSON.parse(valid);
            const t = r.int(4);
            if (t === 0) e.result.n = r.int(1000) + 1;
            else if (t === 1) e.receipt.key_id = r.pick(["unknown", "old-2025", "pinned-1"]);
            else if (t === 2) e.receipt.signature_b64 = "A" + e.receipt.signature_b64.slice(1);
            else e.issued_at = "2030-01-01T00:00:00.000Z";
            return JSON.stringify(e);
          }
          default:
            return mutateText(valid);
        }
      };
      const path = (): string => {
        const n = () => r.next() < 0.5 ? String(r.int(40)) : r.pick(JUNK_NUMBERS);
        const v = () => r.pick(JUNK_VALUES);
        switch (r.int(14)) {
          case 0:
            return `/v1/log/entries/${n()}`;
          case 1:
            return `/v1/log/entries/${n()}/bundle`;
          case 2:
            return `/v1/log/proof/inclusion?index=${n()}&tree_size=${n()}`;
          case 3:
            return `/v1/log/proof/consistency?first=${n()}&second=${n()}`;
          case 4:
            return `/v1/log/entries?${
              r.pick(["issuer", "primitive", "from", "to", "cursor", "limit", "bogus"])
            }=${v()}&limit=${n()}`;
          case 5:
            return `/v1/audit/${r.pick([...prims, "x", "", "%00", "FAIRNESS"])}?backend=${
              r.pick(["plaintext", "ckks", "", "x"])
            }`;
          case 6:
            return `/v1/schemas/${r.pick(["envelope", "x", "..%2f", "fairness.input", v()])}`;
          case 7:
            return r.pick(["/v1/verify", "/v1/verify?x=1"]);
          case 8:
            return r.pick(["/v1/admin/reload-trust-store", "/metrics", "/readyz", "/openapi.json"]);
          case 9:
            return `/${v()}/${v()}`;
          default:
            return r.pick(["/v1/envelopes", "/v1/envelopes?x=1", "/v1/envelopes/"]);
        }
      };

      let accepted = 0;
      const statuses = new Map<number, number>();
      for (let i = 0; i < REQUESTS; i++) {
        let p = path();
        // Mostly the route's own method, so that requests reach the handlers.
        const own = /^\/v1\/(envelopes|audit|verify|admin)/.test(p) ? "POST" : "GET";
        const method = r.next() < 0.85
          ? own
          : r.pick(["POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]);
        const headers: Record<string, string> = {};
        const tok = r.next() < 0.6 ? `Bearer ${TOKENS.admin}` : r.pick(tokens);
        if (tok) headers.authorization = tok;
        const ct = r.pick(contentTypes);
        if (ct) headers["content-type"] = ct;
        let b = method === "GET" || method === "HEAD" ? undefined : body();
        // About 2% valid, distinct submissions so that the log grows meanwhile.
        if (r.next() < 0.02) {
          p = "/v1/envelopes";
          b = JSON.stringify(await signedEnvelope(1000 + i));
          headers.authorization = `Bearer ${TOKENS["ledger:append"]}`;
          headers["content-type"] = "application/json";
          const res = await h.app.request(p, { method: "POST", body: b, headers });
          nodeAssert.equal(res.status, 201, `valid submission ${i}`);
          await res.body?.cancel();
          accepted++;
          continue;
        }
        let url: URL;
        try {
          url = new URL(p, "http://localhost");
        } catch {
          continue; // not a request a client could send
        }
        const res = await h.app.request(url.pathname + url.search, { method, body: b, headers });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const text = await res.text();
        nodeAssert.ok(
          res.status < 500,
          `request ${i} (seed ${SEED}): ${method} ${p} → ${res.status} ${text.slice(0, 200)}`,
        );
        if (res.status >= 400 && method !== "HEAD") {
          const j = JSON.parse(text);
          nodeAssert.equal(typeof j.error, "string", `${method} ${p}`);
          nodeAssert.ok(j.error.length > 0);
        }
        if (res.status === 201 && (p.startsWith("/v1/envelopes") || p.startsWith("/v1/audit"))) {
          accepted++;
        }
      }
      nodeAssert.deepEqual(h.bugs, []);
      // Alive, and the log holds exactly the accepted entries and audits clean.
      nodeAssert.equal((await h.app.request("/healthz")).status, 200);
      nodeAssert.equal(await h.ledger.size(), accepted);
      const audit = await h.ledger.verify();
      nodeAssert.ok(audit.ok, JSON.stringify(audit));
      nodeAssert.equal(audit.size, accepted);
      // Nothing half-written: every entry's envelope re-parses to the hash its leaf names.
      for (let i = 0; i < accepted; i++) {
        const e = (await h.ledger.get(i))!;
        const leaf = JSON.parse(atob(e.leaf));
        nodeAssert.equal(toBase64(parseEnvelopeText(e.envelope).sha256), leaf.envelope_sha256);
      }
      // The generator reached many answer classes.
      for (const s of [200, 400, 401, 403, 404, 405, 415, 422]) {
        nodeAssert.ok((statuses.get(s) ?? 0) > 20, `few ${s} answers: ${[...statuses]}`);
      }
    } finally {
      await h.close();
    }
  },
});
