/**
 * The OpenAPI document: built from the route table and the bundled schemas
 * only; its paths and methods are exactly the app's routes (Hono's own route
 * table); every documented scope is the one the app enforces; every `$ref`
 * resolves inside the document; and each embedded schema accepts and rejects
 * exactly what the bundled schema does, on real answers of the API.
 *
 * The tools people point at the document (Redocly, openapi-typescript, a
 * schema validator) are run in `openapi_tools_test.ts`.
 *
 * @module
 */
import { parsePrivacyBudgets } from "../../core/dp/index.ts";
import { Ajv2020 } from "ajv/dist/2020";
import type { Hono } from "hono";
import { fromBase64 } from "../../core/bytes.ts";
import { getSchema, SCHEMA_NAMES, type SchemaName } from "../../core/schemas.ts";
import type { Scope } from "../../server/config.ts";
import { buildOpenApi, openApiOf } from "../../server/openapi/mod.ts";
import { API_ROUTES, CONSOLE_ROUTES } from "../../server/routes/table.ts";
import { SERVER_VERSION } from "../../server/version.ts";
import { assert, assertEquals } from "./_assert.ts";
import { auth, fixtureText, harness, jsonAuth, post, signedEnvelope, TOKENS } from "./_helpers.ts";

type Doc = {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

const METHODS = ["get", "post", "put", "patch", "delete", "head", "options"];

/** Every `$ref` string in `node`, with the JSON pointer where it sits. */
function refsIn(node: unknown, at = ""): [string, string][] {
  if (Array.isArray(node)) return node.flatMap((v, i) => refsIn(v, `${at}/${i}`));
  if (node === null || typeof node !== "object") return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === "$ref" && typeof v === "string" ? [[at, v] as [string, string]] : refsIn(v, `${at}/${k}`)
  );
}

/** Resolve a local JSON pointer (RFC 6901) in `doc`, or `undefined`. */
function resolve(doc: unknown, ref: string): unknown {
  assert(ref.startsWith("#/"), `not a local reference: ${ref}`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

Deno.test("OpenAPI: servers, unique operationIds, every $ref resolves in the document", async () => {
  const h = await harness();
  try {
    const res = await h.app.request("/openapi.json");
    assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
    const doc: Doc = await res.json();
    // Served as built: the same document a library user builds.
    assertEquals(doc, JSON.parse(JSON.stringify(openApiOf(h.deps))));
    assertEquals(doc.openapi, "3.1.0");
    assertEquals((doc as unknown as { info: { version: string } }).info.version, SERVER_VERSION);
    assert(doc.servers.length > 0 && doc.servers.every((s) => typeof s.url === "string"));
    const ids: string[] = [];
    for (const ops of Object.values(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        assert(METHODS.includes(m), m);
        assert(typeof op.operationId === "string", JSON.stringify(op).slice(0, 80));
        ids.push(op.operationId as string);
      }
    }
    assertEquals(new Set(ids).size, ids.length, `duplicate operationIds: ${ids}`);
    const refs = refsIn(doc);
    assert(refs.length > 60, `only ${refs.length} references`);
    for (const [at, ref] of refs) {
      assert(ref.startsWith("#/components/schemas/"), `${at}: ${ref}`);
      assert(resolve(doc, ref) !== undefined, `${at}: unresolved ${ref}`);
    }
    // Every bundled schema is a component, and so is every $defs entry; no $id or $schema left.
    for (const n of SCHEMA_NAMES) {
      const c = doc.components.schemas[n];
      assert(c, n);
      for (const k of ["$id", "$schema", "$defs"]) assert(!(k in c), `${n} keeps ${k}`);
      assertEquals(c.title, getSchema(n).title, n);
      const defs = (getSchema(n) as unknown as { $defs?: Record<string, unknown> }).$defs ?? {};
      for (const d of Object.keys(defs)) assert(doc.components.schemas[`${n}.${d}`], `${n}.${d}`);
    }
    // No hand-written shapes under components: only the bundled schemas and their $defs.
    const allowed = new Set<string>(SCHEMA_NAMES);
    for (const n of SCHEMA_NAMES) {
      const defs = (getSchema(n) as unknown as { $defs?: Record<string, unknown> }).$defs ?? {};
      for (const d of Object.keys(defs)) allowed.add(`${n}.${d}`);
    }
    assertEquals(Object.keys(doc.components.schemas).sort(), [...allowed].sort());
    // Bodies a bundled schema describes point at it.
    const body = (path: string, method: string, status: string) =>
      ((doc.paths[path][method].responses as Record<string, Record<string, unknown>>)[status]
        .content as Record<string, { schema: unknown }>)["application/json"].schema;
    const ref = (n: string) => ({ $ref: `#/components/schemas/${n}` });
    assertEquals(body("/v1/envelopes", "post", "201"), ref("append-response"));
    assertEquals(body("/v1/envelopes", "post", "422"), ref("error"));
    assertEquals(body("/v1/log/entries/{index}", "get", "200"), ref("log-entry"));
    assertEquals(body("/v1/log/proof/inclusion", "get", "200"), ref("inclusion-proof"));
    assertEquals(body("/v1/log/proof/consistency", "get", "200"), ref("consistency-proof"));
    assertEquals(body("/v1/verify", "post", "200"), ref("verify-response"));
    for (const p of h.deps.audits.primitives) {
      const op = doc.paths[`/v1/audit/${p}`].post;
      assertEquals(body(`/v1/audit/${p}`, "post", "201"), ref("audit-response"));
      const rb = op.requestBody as { content: Record<string, { schema: unknown }> };
      assertEquals(rb.content["application/json"].schema, ref(`${p}.input`));
    }
  } finally {
    await h.close();
  }
});

Deno.test("OpenAPI: documented paths and methods are exactly the app's routes", async () => {
  const h = await harness();
  try {
    const doc: Doc = await (await h.app.request("/openapi.json")).json();
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`);
    }
    // Hono's own route table, not ours: what the app answers. The console's
    // HTML pages and assets are not part of the JSON API's document.
    const consolePaths = new Set<string>(CONSOLE_ROUTES.map((r) => r.path));
    const routed = new Set<string>();
    for (const r of (h.app as unknown as Hono).routes) {
      if (r.method === "ALL") continue; // middleware
      if (consolePaths.has(r.path)) continue;
      const path = r.path.replace(/:([A-Za-z_]\w*)(\{[^}]*\})?/g, "{$1}");
      if (path === "/v1/audit/{primitive}") {
        for (const p of h.deps.audits.primitives) routed.add(`${r.method} /v1/audit/${p}`);
      } else routed.add(`${r.method} ${path}`);
    }
    assertEquals([...documented].sort(), [...routed].sort());
    assertEquals(routed.size, API_ROUTES.length - 1 + h.deps.audits.primitives.length);
  } finally {
    await h.close();
  }
});

Deno.test("OpenAPI: each operation's security requirement is the scope the app enforces", async () => {
  const h = await harness();
  try {
    const doc: Doc = await (await h.app.request("/openapi.json")).json();
    const schemes = (doc.components as unknown as { securitySchemes: Record<string, unknown> })
      .securitySchemes;
    assertEquals(schemes.bearer, {
      type: "http",
      scheme: "bearer",
      description: (schemes.bearer as { description: string }).description,
    });
    const scopes = Object.keys(TOKENS) as Scope[];
    let checked = 0;
    for (const [template, ops] of Object.entries(doc.paths)) {
      const path = template.replace("{index}", "0").replace("{name}", "envelope");
      for (const [m, op] of Object.entries(ops)) {
        const method = m.toUpperCase();
        const security = op.security as Record<string, string[]>[];
        if (security.length === 0) {
          // Public: answered without a token.
          const r = await h.app.request(path, { method });
          assert(r.status !== 401 && r.status !== 403, `${method} ${path}: ${r.status}`);
          await r.body?.cancel();
          checked++;
          continue;
        }
        assertEquals(security.length, 1);
        assertEquals(Object.keys(security[0]), ["bearer"]);
        const needed = security[0].bearer;
        const none = await h.app.request(path, { method });
        assertEquals(none.status, 401, `${method} ${path} without a token`);
        await none.body?.cancel();
        for (const s of scopes) {
          const r = await h.app.request(path, { method, headers: auth(s) });
          const allowed = needed.length === 0 || s === "admin" || needed.includes(s);
          if (allowed) assert(r.status !== 401 && r.status !== 403, `${method} ${path} as ${s}`);
          else {
            assertEquals(r.status, 403, `${method} ${path} as ${s}`);
            assertEquals((await r.json()).scope, needed[0]);
          }
          if (!r.bodyUsed) await r.body?.cancel();
        }
        checked++;
      }
    }
    assertEquals(checked, API_ROUTES.length - 1 + h.deps.audits.primitives.length);
  } finally {
    await h.close();
  }
});

/** Small changes that a schema should notice (most make the instance invalid). */
function mutations(v: unknown): unknown[] {
  const out: unknown[] = [42, null, "text", []];
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    out.push({ ...o, unexpected_member: true });
    for (const k of Object.keys(o)) {
      const { [k]: _gone, ...rest } = o;
      out.push(rest, { ...o, [k]: 12345 }, { ...o, [k]: "zz" });
    }
  }
  return out;
}

Deno.test("OpenAPI: every embedded schema judges real answers exactly as the bundled schema", async () => {
  const h = await harness();
  try {
    const samples = new Map<SchemaName, unknown[]>(SCHEMA_NAMES.map((n) => [n, []]));
    const add = (n: SchemaName, v: unknown) => samples.get(n)!.push(v);
    // Inputs and outputs of every primitive, audit answers, envelopes and receipts.
    const cases = JSON.parse(await fixtureText("primitives.json")).cases;
    for (const p of h.deps.audits.primitives) {
      for (const c of cases[p]) add(`${p}.input`, c.input);
      const r = await post(h.app, `/v1/audit/${p}`, JSON.stringify(cases[p][0].input), {
        ...jsonAuth("audit:run"),
      });
      const answer = await r.json();
      add("audit-response", answer);
      add("append-response", answer.receipt);
      add(`${p}.output`, answer.envelope.result);
      add("envelope", answer.envelope);
      add("receipt", answer.envelope.receipt);
    }
    for (const name of Object.keys(JSON.parse(await fixtureText("expected.json")))) {
      const env = JSON.parse(await fixtureText(`envelopes/${name}.json`));
      add("envelope", env);
      add("receipt", env.receipt);
    }
    add("trust-store", JSON.parse(await fixtureText("trust_store.json")));
    const native = await signedEnvelope(1);
    add("envelope", native);
    const sub = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(native),
      jsonAuth("ledger:append"),
    );
    add("append-response", await sub.json());
    const entry = await (await h.app.request("/v1/log/entries/0", { headers: auth("admin") }))
      .json();
    add("log-entry", entry);
    add("leaf", JSON.parse(new TextDecoder().decode(fromBase64(entry.leaf))));
    const read = { headers: auth("ledger:read") };
    add(
      "inclusion-proof",
      await (await h.app.request("/v1/log/proof/inclusion?index=0", read)).json(),
    );
    add(
      "consistency-proof",
      await (await h.app.request("/v1/log/proof/consistency?first=1", read)).json(),
    );
    const v = await post(h.app, "/v1/verify", JSON.stringify(native), jsonAuth("verify"));
    add("verify-response", await v.json());
    const e = await post(h.app, "/v1/audit/drift", '{"reference":"x"}', jsonAuth("audit:run"));
    add("error", await e.json());
    // Entry pages over the audit envelopes (every primitive), a filtered one and an empty one.
    for (
      const q of ["", "?limit=3", "?breached=true", "?regulation=EU_AI_ACT_ART15", "?issuer=nobody"]
    ) {
      add("entries-page", await (await h.app.request(`/v1/log/entries${q}`, read)).json());
    }
    const budgetFile = { budgets: [{ issuer: "acme", dataset: "ds", epsilon: 1, delta: 1e-6 }] };
    add("privacy-budgets", budgetFile);
    const budgetUrl = "/v1/privacy/budget?issuer=acme&dataset=ds";
    add("privacy-budget", await (await h.app.request(budgetUrl, read)).json());
    h.ledger.setPrivacyBudgets(parsePrivacyBudgets(JSON.stringify(budgetFile)));
    add("privacy-budget", await (await h.app.request(budgetUrl, read)).json());

    const bundled = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    for (const n of SCHEMA_NAMES) bundled.addSchema(getSchema(n) as unknown as object);
    const doc = buildOpenApi({ version: "test", primitives: h.deps.audits.primitives });
    const DOC = "https://openapi.test/doc.json";
    const embedded = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    embedded.addSchema({ $id: DOC, components: doc.components });
    for (const n of SCHEMA_NAMES) {
      const original = bundled.getSchema(getSchema(n).$id)!;
      const component = embedded.compile({ $ref: `${DOC}#/components/schemas/${n}` });
      const valid = samples.get(n)!;
      assert(valid.length > 0, `no sample of ${n}`);
      let rejected = 0;
      for (const s of valid) {
        assert(original(s), `${n}: the sample is valid`);
        assert(component(s), `${n}: the component accepts a valid sample`);
        for (const m of mutations(s)) {
          const o = original(m);
          assertEquals(component(m), o, `${n}: ${JSON.stringify(m).slice(0, 160)}`);
          if (!o) rejected++;
        }
      }
      assert(rejected > 0, `${n}: no mutation was rejected`);
    }
  } finally {
    await h.close();
  }
});

Deno.test("OpenAPI: real answers validate against the documented response of their status", async () => {
  const h = await harness();
  try {
    const doc: Doc = await (await h.app.request("/openapi.json")).json();
    const DOC = "https://openapi.test/answers.json";
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ $id: DOC, paths: doc.paths, components: doc.components });
    const pointer = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
    let checked = 0;
    const check = async (template: string, method: string, res: Response) => {
      const responses = doc.paths[template][method].responses as Record<string, unknown>;
      const status = String(res.status);
      assert(status in responses, `${method} ${template}: ${status} is not documented`);
      const type = (res.headers.get("content-type") ?? "").split(";")[0];
      const content = (responses[status] as { content?: Record<string, unknown> }).content ?? {};
      assert(type in content, `${method} ${template} ${status}: ${type} is not documented`);
      const body = type === "application/json" ? await res.json() : await res.text();
      const at = `${DOC}#/paths/${pointer(template)}/${method}/responses/${status}/content/` +
        `${pointer(type)}/schema`;
      const validate = ajv.getSchema(at) ?? ajv.compile({ $ref: at });
      assert(validate(body), `${method} ${template} ${status}: ${JSON.stringify(validate.errors)}`);
      checked++;
      return body;
    };
    const read = { headers: auth("ledger:read") };
    const get = (path: string, init: RequestInit = read) =>
      Promise.resolve(h.app.request(path, init));
    const native = JSON.stringify(await signedEnvelope(1));
    await check(
      "/v1/envelopes",
      "post",
      await post(h.app, "/v1/envelopes", native, jsonAuth("ledger:append")),
    );
    await check(
      "/v1/envelopes",
      "post",
      await post(h.app, "/v1/envelopes", native, jsonAuth("ledger:append")),
    );
    const foreign = await fixtureText("envelopes/drift-signature-flipped.json");
    await check(
      "/v1/envelopes",
      "post",
      await post(h.app, "/v1/envelopes", foreign, jsonAuth("ledger:append")),
    );
    await check(
      "/v1/envelopes",
      "post",
      await post(h.app, "/v1/envelopes", "{", jsonAuth("ledger:append")),
    );
    await check(
      "/v1/envelopes",
      "post",
      await post(h.app, "/v1/envelopes", native, jsonAuth("verify")),
    );
    await check("/v1/envelopes", "post", await post(h.app, "/v1/envelopes", native, {}));
    const cases = JSON.parse(await fixtureText("primitives.json")).cases;
    await check(
      "/v1/audit/drift",
      "post",
      await post(
        h.app,
        "/v1/audit/drift",
        JSON.stringify(cases.drift[0].input),
        jsonAuth("audit:run"),
      ),
    );
    await check("/v1/verify", "post", await post(h.app, "/v1/verify", native, jsonAuth("verify")));
    await check("/v1/verify", "post", await post(h.app, "/v1/verify", foreign, jsonAuth("verify")));
    for (
      const [template, path] of [
        ["/healthz", "/healthz"],
        ["/readyz", "/readyz"],
        ["/version", "/version"],
        ["/openapi.json", "/openapi.json"],
        ["/v1/log/checkpoint", "/v1/log/checkpoint"],
        ["/v1/log/key", "/v1/log/key"],
        ["/v1/log/entries", "/v1/log/entries?limit=1"],
        ["/v1/log/entries", "/v1/log/entries?from=2026-02-30T00:00:00Z"],
        ["/v1/log/entries/{index}", "/v1/log/entries/1"],
        ["/v1/log/entries/{index}", "/v1/log/entries/99"],
        ["/v1/log/entries/{index}/bundle", "/v1/log/entries/0/bundle"],
        ["/v1/log/entries/{index}/bundle", "/v1/log/entries/99/bundle"],
        ["/v1/log/proof/inclusion", "/v1/log/proof/inclusion?index=0&tree_size=2"],
        ["/v1/log/proof/consistency", "/v1/log/proof/consistency?first=1"],
        ["/v1/schemas", "/v1/schemas"],
        ["/v1/schemas/{name}", "/v1/schemas/leaf"],
        ["/v1/schemas/{name}", "/v1/schemas/nope"],
      ]
    ) {
      await check(template, "get", await get(path));
    }
    await check("/metrics", "get", await get("/metrics", { headers: auth("metrics") }));
    await check("/metrics", "get", await get("/metrics"));
    const reload = await post(h.app, "/v1/admin/reload-trust-store", "", auth("admin"));
    await check("/v1/admin/reload-trust-store", "post", reload);
    const page = await check("/v1/log/entries", "get", await get("/v1/log/entries"));
    assertEquals(page.entries.length, 2);
    assertEquals(checked, 30);
  } finally {
    await h.close();
  }
});

Deno.test("OpenAPI: each operation's documented query parameters are exactly those it accepts", async () => {
  const h = await harness();
  try {
    const doc: Doc = await (await h.app.request("/openapi.json")).json();
    let strict = 0;
    for (const [template, ops] of Object.entries(doc.paths)) {
      const path = template.replace("{index}", "0").replace("{name}", "envelope");
      for (const [m, op] of Object.entries(ops)) {
        const documented = ((op.parameters ?? []) as { name: string; in: string }[])
          .filter((p) => p.in === "query").map((p) => p.name).sort();
        // An unknown parameter is refused with the list the route accepts.
        const r = await h.app.request(`${path}?not_a_parameter=1`, {
          method: m.toUpperCase(),
          headers: auth("admin"),
        });
        const body = r.status === 400 ? await r.json() : null;
        if (!r.bodyUsed) await r.body?.cancel();
        if (body?.error === "unknown query parameter 'not_a_parameter'") {
          assertEquals([...body.allowed].sort(), documented, `${m} ${template}`);
          strict++;
        } else {
          // Routes that ignore the query string document none.
          assertEquals(documented, [], `${m} ${template} answered ${r.status}`);
        }
      }
    }
    assertEquals(
      strict,
      24,
      "operations that check their query (all but the probes, metrics and the C2SP tile routes)",
    );
  } finally {
    await h.close();
  }
});
