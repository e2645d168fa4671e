/**
 * The bundled JSON Schemas (`core/schemas.ts`) as OpenAPI 3.1 components.
 *
 * OpenAPI 3.1 schemas are JSON Schema 2020-12, but the tools people point at
 * an OpenAPI document (Redocly, openapi-typescript, schema validators)
 * resolve `$ref`s against the document, not against each schema's `$id`. So
 * each schema is embedded with its references rewritten to components:
 * `#/$defs/X` of schema `S` becomes the component `S.X` (every `$defs` entry
 * is lifted to a component of its own), and a reference to another bundled
 * schema (`envelope.json`, or its full `$id`) becomes that schema's component.
 * `$id` and `$schema` are dropped (the document's `jsonSchemaDialect` says
 * 2020-12). Nothing else changes: every keyword and constraint is the
 * bundled schema's.
 *
 * @module
 */
import { getSchema, SCHEMA_NAMES, type SchemaName } from "../../core/schemas.ts";

/** A JSON object. */
export type Obj = Record<string, unknown>;

/** Prefix of every component reference. */
export const COMPONENT_PREFIX = "#/components/schemas/";

/** A reference to the component of bundled schema `name`. */
export function schemaRef(name: SchemaName): { $ref: string } {
  return { $ref: COMPONENT_PREFIX + name };
}

/** Component name of `$defs` entry `def` of schema `owner`. */
export function defComponentName(owner: SchemaName, def: string): string {
  return `${owner}.${def}`;
}

const NAMES: ReadonlySet<string> = new Set(SCHEMA_NAMES);

/** Map one `$ref` found in bundled schema `owner` to a document reference. */
function rewriteRef(ref: string, owner: SchemaName, id: string): string {
  const url = new URL(ref, id);
  const file = /\/([^/]+)\.json$/.exec(url.pathname)?.[1];
  const base = new URL(id);
  if (url.origin !== base.origin || file === undefined || !NAMES.has(file)) {
    throw new Error(`schema ${owner}: $ref '${ref}' does not name a bundled schema`);
  }
  const target = file as SchemaName;
  const pointer = decodeURIComponent(url.hash.slice(1));
  if (pointer === "") return COMPONENT_PREFIX + target;
  const defs = /^\/\$defs\/([^/]+)(\/.*)?$/.exec(pointer);
  if (defs) return COMPONENT_PREFIX + defComponentName(target, defs[1]) + (defs[2] ?? "");
  if (!pointer.startsWith("/")) {
    throw new Error(`schema ${owner}: $ref '${ref}' is not a JSON pointer`);
  }
  return COMPONENT_PREFIX + target + pointer;
}

function rewrite(node: unknown, owner: SchemaName, id: string): unknown {
  if (Array.isArray(node)) return node.map((v) => rewrite(v, owner, id));
  if (node === null || typeof node !== "object") return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    // A property named "$ref" holds a schema object, never a string.
    out[k] = k === "$ref" && typeof v === "string"
      ? rewriteRef(v, owner, id)
      : rewrite(v, owner, id);
  }
  return out;
}

/**
 * Every bundled schema as a component, plus one component per `$defs`
 * entry, with references rewritten as the module documentation says.
 *
 * @throws {Error} when a schema refers to something outside the bundle, or
 *   a lifted `$defs` entry would take an existing component's name.
 */
export function componentSchemas(): Record<string, Obj> {
  const out: Record<string, Obj> = {};
  const put = (name: string, schema: Obj) => {
    if (name in out) {
      throw new Error(`OpenAPI component '${name}' defined twice`);
    }
    out[name] = schema;
  };
  for (const name of SCHEMA_NAMES) {
    const { $id, $schema: _dialect, $defs, ...rest } = getSchema(name) as unknown as Obj;
    const id = String($id);
    put(name, rewrite(rest, name, id) as Obj);
    for (const [def, schema] of Object.entries(($defs ?? {}) as Obj)) {
      put(defComponentName(name, def), rewrite(schema, name, id) as Obj);
    }
  }
  return out;
}
