/**
 * The bundled JSON Schemas (core/schemas.ts) as a catalogue: Draft 2020-12
 * with ids, titles and frozen defaults; they compile under an independent
 * strict ajv, stand alone when bundled, and load with no file reads from any
 * cwd.
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { Ajv2020 } from "ajv/dist/2020";
import {
  getBundledSchema,
  getSchema,
  isSchemaName,
  listSchemas,
  SCHEMA_BASE_URI,
  SCHEMA_NAMES,
  type SchemaName,
} from "../../core/schemas.ts";
import { check, withDefaults } from "../../core/validate.ts";
import { PRIMITIVES } from "../../core/envelope_types.ts";
import {
  assert,
  assertEquals,
  assertFalse,
  assertThrows,
  clone,
  envelopeFiles,
  FIXTURES,
  type Obj,
  readJson,
  validEnvelope,
} from "./_schemas.ts";

// ---------------------------------------------------------------------------
// catalogue

Deno.test("catalogue: every schema is Draft 2020-12 with the $id of its name, a title and a description", () => {
  assertEquals(SCHEMA_NAMES.length, 26);
  assertEquals(new Set(SCHEMA_NAMES).size, SCHEMA_NAMES.length);
  for (const name of SCHEMA_NAMES) {
    const s = getSchema(name);
    assertEquals(s.$schema, "https://json-schema.org/draft/2020-12/schema", name);
    assertEquals(s.$id, `${SCHEMA_BASE_URI}${name}.json`, name);
    assert(typeof s.title === "string" && s.title.length > 0, `${name} title`);
    assert(typeof s.description === "string" && s.description.length > 20, `${name} description`);
  }
  for (const p of PRIMITIVES) {
    assert(isSchemaName(`${p}.input`) && isSchemaName(`${p}.output`), p);
  }
  assertEquals(
    listSchemas().map((s) => [s.name, s.id, s.title]),
    SCHEMA_NAMES.map((n) => [n, getSchema(n).$id, getSchema(n).title]),
  );
});

Deno.test("catalogue: unknown names are refused, including inherited property names", () => {
  for (
    const bad of ["", "nope", "constructor", "__proto__", "toString", "fairness", "envelope.json"]
  ) {
    assertFalse(isSchemaName(bad), bad);
    assertThrows(() => getSchema(bad as SchemaName), RangeError);
    assertThrows(() => check(bad as SchemaName, {}), RangeError);
  }
});

Deno.test("catalogue: schemas are deeply frozen so no caller can change what others validate with", () => {
  const s = getSchema("fairness.input") as Record<string, unknown>;
  assertThrows(() => {
    s.title = "changed";
  }, TypeError);
  const props = s.properties as Record<string, Record<string, unknown>>;
  assertThrows(() => {
    props.threshold.default = 0.5;
  }, TypeError);
  assertEquals(withDefaults<{ threshold: number }>("fairness.input", {}).threshold, 0.1);
});

Deno.test("catalogue: defaults are those of regaudit-fhe's audit functions", () => {
  const prop = (n: SchemaName, k: string) =>
    (getSchema(n).properties as Record<string, { default?: unknown }>)[k].default;
  assertEquals(prop("fairness.input", "threshold"), 0.1);
  assertEquals(prop("drift.input", "drift_threshold"), 0.005);
  assertEquals(prop("disagreement.input", "threshold"), 0.05);
});

// ---------------------------------------------------------------------------
// strict compilation, independently of core/validate.ts

Deno.test("strict: every schema compiles under a separate strict ajv with all strict checks on", () => {
  const ajv = new Ajv2020({
    strict: true,
    strictRequired: true,
    strictTypes: true,
    strictTuples: true,
    allowUnionTypes: true,
    discriminator: true,
  });
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T/);
  for (const name of SCHEMA_NAMES) ajv.addSchema(structuredClone(getSchema(name)));
  for (const name of SCHEMA_NAMES) {
    const fn = ajv.getSchema(getSchema(name).$id);
    assert(fn !== undefined, name);
    assert(ajv.validateSchema(structuredClone(getSchema(name))), name);
  }
  // and through core/validate.ts (compiles lazily on first use)
  for (const name of SCHEMA_NAMES) assertFalse(check(name, 42).ok, name);
});

Deno.test("bundling: each bundled document stands alone in a fresh validator and accepts the fixtures", () => {
  const fresh = () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, discriminator: true });
    ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T/);
    return ajv;
  };
  for (const name of SCHEMA_NAMES) {
    const doc = getBundledSchema(name);
    const refs = JSON.stringify(doc).match(/"\$ref":"[^#"][^"]*"/g) ?? [];
    for (const ref of refs) {
      const target = ref.slice(8, -1).split("#")[0];
      assert(Object.hasOwn(doc.$defs as object, target), `${name}: ${target} embedded`);
    }
    assert(fresh().compile(structuredClone(doc)), name);
  }
  assert(getBundledSchema("drift.input") === getSchema("drift.input"), "no refs: same document");
  const envelope = fresh().compile(structuredClone(getBundledSchema("envelope")));
  for (const f of envelopeFiles) {
    assert(envelope(readJson(new URL(`envelopes/${f}`, FIXTURES))), f);
  }
  const bad = clone(validEnvelope);
  (bad.receipt as Obj).signature_alg = "RSA";
  assertFalse(envelope(bad), "the embedded receipt schema is applied");
});

Deno.test("strict: a schema with an unknown keyword would be rejected (strict mode is really on)", () => {
  const ajv = new Ajv2020({ strict: true });
  assertThrows(() => ajv.compile({ type: "object", propertiez: {} }), Error, /strict mode/);
});

// ---------------------------------------------------------------------------
// bundled into the module graph

Deno.test("bundling: schemas load and validate from another cwd with no read permission at all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regledger-schemas-" });
  try {
    const schemasUrl = new URL("../../core/schemas.ts", import.meta.url).href;
    const validateUrl = new URL("../../core/validate.ts", import.meta.url).href;
    const script = `
      import { SCHEMA_NAMES, getSchema } from ${JSON.stringify(schemasUrl)};
      import { check } from ${JSON.stringify(validateUrl)};
      let readable = true;
      try { Deno.readTextFileSync(${
      JSON.stringify(fromFileUrl(new URL("../../schemas/envelope.json", import.meta.url)))
    }); }
      catch (e) { readable = !(e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied); }
      const compiled = SCHEMA_NAMES.filter((n) => !check(n, 0).ok).length;
      console.log(JSON.stringify({
        n: SCHEMA_NAMES.length, compiled, readable,
        id: getSchema("envelope").$id,
        ok: check("drift.input", { p: [1], q: [2] }).ok,
      }));
    `;
    await Deno.writeTextFile(`${dir}/probe.ts`, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--config",
        fromFileUrl(new URL("../../deno.json", import.meta.url)),
        "probe.ts",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, stderr);
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), {
      n: SCHEMA_NAMES.length,
      compiled: SCHEMA_NAMES.length,
      readable: false,
      id: "https://regledger.dev/schemas/envelope.json",
      ok: true,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
