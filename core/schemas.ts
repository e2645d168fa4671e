/**
 * The JSON Schemas (Draft 2020-12) of regledger's inputs, results, envelopes,
 * trust stores, ledger leaves and HTTP API objects, bundled into the module
 * graph.
 *
 * Every schema is a JSON module import, so it loads the same way from a
 * source checkout, an imported `mod.ts` or a `deno compile` binary: no file
 * is read at run time and the working directory does not matter. Each
 * schema's `$id` is `https://regledger.dev/schemas/<name>.json`; schemas that
 * refer to others (`envelope` → `receipt`, `audit-response` → `envelope` and
 * `append-response`, `log-entry` → `envelope`) do so by that `$id`.
 *
 * The schemas fix structure: types, required and unknown fields, finite
 * numbers, array lengths, integer counts, hex and base64 encodings. Rules
 * that JSON Schema cannot state (vectors of equal length, `k` ≤ `n_buckets`,
 * hashes and signatures that match) are checked by the code that consumes
 * the document. Validate with `core/validate.ts`.
 *
 * @example List the schemas and read one
 * ```ts
 * import assert from "node:assert/strict";
 * import { getSchema, SCHEMA_NAMES } from "./schemas.ts";
 *
 * assert.equal(SCHEMA_NAMES.length, 26);
 * const fairness = getSchema("fairness.input");
 * assert.equal(fairness.$id, "https://regledger.dev/schemas/fairness.input.json");
 * ```
 *
 * @module
 */
import fairnessInput from "../schemas/fairness.input.json" with { type: "json" };
import fairnessOutput from "../schemas/fairness.output.json" with { type: "json" };
import provenanceInput from "../schemas/provenance.input.json" with { type: "json" };
import provenanceOutput from "../schemas/provenance.output.json" with { type: "json" };
import concordanceInput from "../schemas/concordance.input.json" with { type: "json" };
import concordanceOutput from "../schemas/concordance.output.json" with { type: "json" };
import calibrationInput from "../schemas/calibration.input.json" with { type: "json" };
import calibrationOutput from "../schemas/calibration.output.json" with { type: "json" };
import driftInput from "../schemas/drift.input.json" with { type: "json" };
import driftOutput from "../schemas/drift.output.json" with { type: "json" };
import disagreementInput from "../schemas/disagreement.input.json" with { type: "json" };
import disagreementOutput from "../schemas/disagreement.output.json" with { type: "json" };
import envelope from "../schemas/envelope.json" with { type: "json" };
import receipt from "../schemas/receipt.json" with { type: "json" };
import trustStore from "../schemas/trust-store.json" with { type: "json" };
import leaf from "../schemas/leaf.json" with { type: "json" };
import appendResponse from "../schemas/append-response.json" with { type: "json" };
import auditResponse from "../schemas/audit-response.json" with { type: "json" };
import logEntry from "../schemas/log-entry.json" with { type: "json" };
import inclusionProof from "../schemas/inclusion-proof.json" with { type: "json" };
import consistencyProof from "../schemas/consistency-proof.json" with { type: "json" };
import verifyResponse from "../schemas/verify-response.json" with { type: "json" };
import errorSchema from "../schemas/error.json" with { type: "json" };
import entriesPage from "../schemas/entries-page.json" with { type: "json" };
import privacyBudgets from "../schemas/privacy-budgets.json" with { type: "json" };
import privacyBudget from "../schemas/privacy-budget.json" with { type: "json" };

/** Base URI of every schema's `$id`: `${SCHEMA_BASE_URI}<name>.json`. */
export const SCHEMA_BASE_URI = "https://regledger.dev/schemas/";

/**
 * Names of all bundled schemas, in a fixed order: input and output of each
 * primitive (`<primitive>.input`, `<primitive>.output`), then `envelope`,
 * `receipt` (an envelope's signature block), `trust-store`, `leaf`, and the
 * HTTP API objects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCHEMA_NAMES } from "./schemas.ts";
 *
 * assert.ok(SCHEMA_NAMES.includes("envelope"));
 * assert.ok(SCHEMA_NAMES.includes("drift.input"));
 * ```
 */
export const SCHEMA_NAMES = [
  "fairness.input",
  "fairness.output",
  "provenance.input",
  "provenance.output",
  "concordance.input",
  "concordance.output",
  "calibration.input",
  "calibration.output",
  "drift.input",
  "drift.output",
  "disagreement.input",
  "disagreement.output",
  "envelope",
  "receipt",
  "trust-store",
  "leaf",
  "append-response",
  "audit-response",
  "log-entry",
  "inclusion-proof",
  "consistency-proof",
  "verify-response",
  "error",
  "entries-page",
  "privacy-budgets",
  "privacy-budget",
] as const;

/**
 * The name of a bundled schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSchemaName, type SchemaName } from "./schemas.ts";
 *
 * const name: SchemaName = "fairness.input";
 * assert.ok(isSchemaName(name));
 * ```
 */
export type SchemaName = typeof SCHEMA_NAMES[number];

/**
 * A JSON Schema document as bundled: read-only, with the metadata every regledger schema carries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getSchema, type JsonSchema } from "./schemas.ts";
 *
 * const schema: JsonSchema = getSchema("drift.input");
 * assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
 * assert.equal(typeof schema.description, "string");
 * ```
 */
export interface JsonSchema {
  /** Always `https://json-schema.org/draft/2020-12/schema`. */
  readonly $schema: string;
  /** `https://regledger.dev/schemas/<name>.json`. */
  readonly $id: string;
  /** Short title. */
  readonly title: string;
  /** What the document is and which rules are checked elsewhere. */
  readonly description: string;
  /** Every other keyword. */
  readonly [keyword: string]: unknown;
}

/** One line of the schema catalogue returned by {@linkcode listSchemas}. */
export interface SchemaSummary {
  /** The schema's name, e.g. `fairness.input`. */
  readonly name: SchemaName;
  /** Its `$id`. */
  readonly id: string;
  /** Its `title`. */
  readonly title: string;
  /** Its `description`. */
  readonly description: string;
}

const SCHEMAS: Readonly<Record<SchemaName, JsonSchema>> = deepFreeze({
  "fairness.input": fairnessInput,
  "fairness.output": fairnessOutput,
  "provenance.input": provenanceInput,
  "provenance.output": provenanceOutput,
  "concordance.input": concordanceInput,
  "concordance.output": concordanceOutput,
  "calibration.input": calibrationInput,
  "calibration.output": calibrationOutput,
  "drift.input": driftInput,
  "drift.output": driftOutput,
  "disagreement.input": disagreementInput,
  "disagreement.output": disagreementOutput,
  "envelope": envelope,
  "receipt": receipt,
  "trust-store": trustStore,
  "leaf": leaf,
  "append-response": appendResponse,
  "audit-response": auditResponse,
  "log-entry": logEntry,
  "inclusion-proof": inclusionProof,
  "consistency-proof": consistencyProof,
  "verify-response": verifyResponse,
  "error": errorSchema,
  "entries-page": entriesPage,
  "privacy-budgets": privacyBudgets,
  "privacy-budget": privacyBudget,
});

const NAME_SET: ReadonlySet<string> = new Set(SCHEMA_NAMES);

/**
 * Whether `name` names a bundled schema. Use it to check names that come
 * from outside (a URL segment, a command-line argument) before
 * {@linkcode getSchema}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSchemaName } from "./schemas.ts";
 *
 * assert.equal(isSchemaName("drift.input"), true);
 * assert.equal(isSchemaName("constructor"), false);
 * ```
 */
export function isSchemaName(name: string): name is SchemaName {
  return NAME_SET.has(name);
}

/**
 * The bundled schema called `name`. The object is deeply frozen and shared:
 * copy it (`structuredClone`) before changing it.
 *
 * @throws {RangeError} if `name` is not one of {@linkcode SCHEMA_NAMES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getSchema } from "./schemas.ts";
 *
 * const schema = getSchema("trust-store");
 * assert.equal(schema.title, "Trust store");
 * assert.throws(() => getSchema("nope" as "leaf"), RangeError);
 * ```
 */
export function getSchema(name: SchemaName): JsonSchema {
  if (!isSchemaName(name)) {
    throw new RangeError(
      `unknown schema name ${JSON.stringify(name)}: expected one of ${SCHEMA_NAMES.join(", ")}`,
    );
  }
  return SCHEMAS[name];
}

/**
 * The catalogue of bundled schemas: name, `$id`, title and description of
 * each, in the order of {@linkcode SCHEMA_NAMES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listSchemas } from "./schemas.ts";
 *
 * const first = listSchemas()[0];
 * assert.equal(first.name, "fairness.input");
 * assert.equal(first.id, "https://regledger.dev/schemas/fairness.input.json");
 * ```
 */
export function listSchemas(): SchemaSummary[] {
  return SCHEMA_NAMES.map((name) => {
    const s = SCHEMAS[name];
    return { name, id: s.$id, title: s.title, description: s.description };
  });
}

const bundled = new Map<SchemaName, JsonSchema>();

/**
 * The schema called `name` as one self-contained document: every schema it
 * refers to (directly or through others) is embedded under `$defs` with its
 * own `$id` (a Draft 2020-12 compound schema document), so any 2020-12
 * validator resolves every `$ref` without fetching anything. A schema with
 * no outside references is returned as it is. Deeply frozen, like
 * {@linkcode getSchema}.
 *
 * @throws {RangeError} if `name` is not one of {@linkcode SCHEMA_NAMES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getBundledSchema } from "./schemas.ts";
 *
 * const doc = getBundledSchema("envelope");
 * assert.ok(Object.keys(doc.$defs as object).includes("receipt.json"));
 * ```
 */
export function getBundledSchema(name: SchemaName): JsonSchema {
  const root = getSchema(name);
  let out = bundled.get(name);
  if (out === undefined) {
    const deps = referencedSchemas(name);
    if (deps.length === 0) {
      out = root;
    } else {
      const defs: Record<string, unknown> = { ...(root.$defs as Record<string, unknown>) };
      for (const dep of deps) defs[`${dep}.json`] = SCHEMAS[dep];
      out = deepFreeze({ ...root, $defs: defs });
    }
    bundled.set(name, out);
  }
  return out;
}

/** Names of the schemas `name` refers to, transitively, in first-seen order. */
function referencedSchemas(name: SchemaName): SchemaName[] {
  const seen: SchemaName[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
    } else if (node !== null && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "$ref" && typeof value === "string" && !value.startsWith("#")) {
          const file = value.split("#")[0].replace(SCHEMA_BASE_URI, "");
          const dep = file.endsWith(".json") ? file.slice(0, -5) : file;
          if (!isSchemaName(dep)) throw new Error(`${name}: unresolvable $ref ${value}`);
          if (dep !== name && !seen.includes(dep)) {
            seen.push(dep);
            visit(SCHEMAS[dep]);
          }
        } else {
          visit(value);
        }
      }
    }
  };
  visit(SCHEMAS[name]);
  return seen;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
