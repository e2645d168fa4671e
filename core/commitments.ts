/**
 * Input commitments and parameter-set hashes of audit envelopes
 * (`docs/formats.md` §2.3, §2.4): each is a lowercase hex SHA-256 over RFC 8785 JCS bytes.
 *
 * @module
 */
import { sha256Hex } from "./bytes.ts";
import type { InputCommitment, JsonValue } from "./envelope_types.ts";
import { InputValidationError } from "./errors.ts";
import { canonicalBytes, pointerToken } from "./jcs.ts";

/**
 * A JSON object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type JsonObject, parameterSetHash } from "./commitments.ts";
 *
 * const parameterSet: JsonObject = { backend: "plaintext", bins: 10 };
 * assert.match(parameterSetHash(parameterSet), /^[0-9a-f]{64}$/);
 * ```
 */
export type JsonObject = { [key: string]: JsonValue };

/**
 * Hex SHA-256 of the JCS bytes of `{"name": name, "value": value}`: the
 * commitment to one named input (`docs/formats.md` §2.3).
 *
 * @throws {InputValidationError} when `value` is not I-JSON (pointer under `/value`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commitInput } from "./commitments.ts";
 * import { sha256Hex } from "./bytes.ts";
 *
 * // The commitment is SHA-256 over the JCS bytes of {"name", "value"}.
 * const c = commitInput("y_true", [1, 0, 1]);
 * assert.equal(c.sha256, sha256Hex('{"name":"y_true","value":[1,0,1]}'));
 * ```
 */
export function commitInput(name: string, value: JsonValue): InputCommitment {
  return { name, sha256: sha256Hex(canonicalBytes({ name, value })) };
}

/**
 * Commitments to every named input, sorted by name (by UTF-16 code units,
 * as JCS sorts keys).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commitInputs } from "./envelope.ts";
 * const c = commitInputs({ y_true: [1, 0], y_pred: [1, 1] });
 * assert.deepEqual(c.map((x) => x.name), ["y_pred", "y_true"]);
 * ```
 *
 * @throws {InputValidationError} when a value is not I-JSON, naming `/<input>/…`.
 */
export function commitInputs(inputs: Record<string, JsonValue>): InputCommitment[] {
  return Object.keys(inputs).sort().map((name) => {
    try {
      return commitInput(name, inputs[name]);
    } catch (e) {
      if (e instanceof InputValidationError) {
        const inner = e.pointer.replace(/^\/value/, "");
        const message = e.message.slice(e.message.indexOf(": ") + 2);
        throw new InputValidationError(`/${pointerToken(name)}${inner}`, e.rule, message);
      }
      throw e;
    }
  });
}

/**
 * Lowercase hex SHA-256 of JCS(`parameterSet`): the `parameter_set_hash` of
 * native envelopes.
 *
 * @throws {InputValidationError} when `parameterSet` is not I-JSON.
 */
export function parameterSetHash(parameterSet: JsonObject): string {
  return sha256Hex(canonicalBytes(parameterSet));
}
