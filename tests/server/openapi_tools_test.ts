/**
 * The OpenAPI document through the tools people use, for real (versions
 * pinned in deno.json): Redocly's linter with its recommended rules (no
 * errors), `@seriousme/openapi-schema-validator` (valid OpenAPI 3.1), and
 * `openapi-typescript` (types that type-check and describe real answers).
 *
 * @module
 */
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { Validator } from "@seriousme/openapi-schema-validator";
import openapiTS, { astToString } from "openapi-typescript";
import { assert, assertEquals } from "./_assert.ts";
import { harness, jsonAuth, post, signedEnvelope } from "./_helpers.ts";

async function servedDocument(): Promise<{ text: string; receipt: unknown }> {
  const h = await harness();
  try {
    const text = await (await h.app.request("/openapi.json")).text();
    const r = await post(
      h.app,
      "/v1/envelopes",
      JSON.stringify(await signedEnvelope(1)),
      jsonAuth("ledger:append"),
    );
    return { text, receipt: await r.json() };
  } finally {
    await h.close();
  }
}

Deno.test("Redocly lint (recommended rules): no errors", async () => {
  const { text } = await servedDocument();
  const config = await createConfig({ extends: ["recommended"] });
  const problems = await lintFromString({ source: text, absoluteRef: "/openapi.json", config });
  const errors = problems.filter((p) => p.severity === "error");
  assertEquals(
    errors.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`),
    [],
  );
  // The linter did look: a broken reference is an error it reports.
  const broken = JSON.parse(text);
  broken.paths["/v1/verify"].post.responses["200"].content["application/json"].schema.$ref =
    "#/components/schemas/nope";
  delete broken.servers;
  const bad = await lintFromString({
    source: JSON.stringify(broken),
    absoluteRef: "/openapi.json",
    config,
  });
  const rules = new Set(bad.filter((p) => p.severity === "error").map((p) => p.ruleId));
  assert(rules.has("no-unresolved-refs") && rules.has("no-empty-servers"), [...rules].join());
});

Deno.test("@seriousme/openapi-schema-validator: a valid OpenAPI 3.1 document", async () => {
  const { text } = await servedDocument();
  const validator = new Validator();
  const res = await validator.validate(JSON.parse(text));
  assertEquals(res.errors, undefined);
  assertEquals(res.valid, true);
  assertEquals(validator.version, "3.1");
  // And it rejects what it should: a response without its required description.
  const broken = JSON.parse(text);
  delete broken.paths["/healthz"].get.responses["200"].description;
  assertEquals((await new Validator().validate(broken)).valid, false);
});

Deno.test("openapi-typescript: generated types type-check and describe real answers", async () => {
  const { text, receipt } = await servedDocument();
  const ts = astToString(await openapiTS(JSON.parse(text)));
  for (
    const name of ["submitEnvelope", "runDriftAudit", '"append-response"', '"envelope.hex256"']
  ) {
    assert(ts.includes(name), `generated types name ${name}`);
  }
  const dir = await Deno.makeTempDir({ prefix: "regledger-openapi-ts-" });
  try {
    await Deno.writeTextFile(`${dir}/api.d.ts`, ts);
    // A real answer of POST /v1/envelopes must be assignable to the generated 201 type.
    await Deno.writeTextFile(
      `${dir}/use.ts`,
      `import type { operations } from "./api.d.ts";\n` +
        `type Receipt = operations["submitEnvelope"]["responses"]["201"]["content"]["application/json"];\n` +
        `export const receipt: Receipt = ${JSON.stringify(receipt)};\n` +
        `// @ts-expect-error: tree_size is an integer, not a string\n` +
        `export const wrong: Receipt = { ...receipt, tree_size: "1" };\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--no-config", "--quiet", `${dir}/use.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, err.slice(0, 2000));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
