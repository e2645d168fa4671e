/**
 * Shared input checks for the audit primitives. Each check throws
 * {@linkcode InputValidationError} naming the JSON pointer of the bad field
 * and the rule it broke, before any statistic is computed.
 *
 * Rule names (stable, used by the CLI and HTTP API): `type`, `required`,
 * `unknown-field`, `non-empty`, `finite`, `binary`, `same-length`,
 * `non-empty-group`, `integer`, `non-negative`, `range`, `non-zero-sum`,
 * `min-models`, `coefficients`, and `overflow` (raised after computing when
 * finite inputs of extreme magnitude overflow the statistic).
 *
 * @module
 */
import { InputValidationError } from "../errors.ts";

/** A JSON-like object whose fields are checked one by one. */
export type InputObject = Record<string, unknown>;

/** Check that `value` is a plain object with only the `allowed` keys. */
export function requireObject(value: unknown, allowed: readonly string[]): InputObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputValidationError("", "type", "input must be a JSON object");
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new InputValidationError(
        pointer(key),
        "unknown-field",
        `unknown field '${key}' (allowed: ${allowed.join(", ")})`,
      );
    }
  }
  return value as InputObject;
}

/** RFC 6901 pointer of a path of keys and indexes. */
export function pointer(...path: (string | number)[]): string {
  return path.map((p) => "/" + String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/** A non-empty array of finite numbers at `obj[key]`. */
export function finiteArray(obj: InputObject, key: string): number[] {
  return finiteArrayAt(obj[key], [key], key in obj);
}

/** A non-empty array of finite numbers at an arbitrary path. */
export function finiteArrayAt(value: unknown, path: (string | number)[], present = true): number[] {
  const ptr = pointer(...path);
  if (!present || value === undefined) {
    throw new InputValidationError(ptr, "required", "required field is missing");
  }
  if (!Array.isArray(value)) {
    throw new InputValidationError(ptr, "type", "must be an array of numbers");
  }
  if (value.length === 0) {
    throw new InputValidationError(ptr, "non-empty", "must have at least one element");
  }
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v !== "number") {
      throw new InputValidationError(pointer(...path, i), "type", "must be a number");
    }
    if (!Number.isFinite(v)) {
      throw new InputValidationError(
        pointer(...path, i),
        "finite",
        `must be a finite number, got ${v}`,
      );
    }
  }
  return value as number[];
}

/** A non-empty array of 0/1 values at `obj[key]`. */
export function binaryArray(obj: InputObject, key: string): number[] {
  const arr = finiteArray(obj, key);
  for (let i = 0; i < arr.length; i++) {
    if (arr[i] !== 0 && arr[i] !== 1) {
      throw new InputValidationError(pointer(key, i), "binary", `must be 0 or 1, got ${arr[i]}`);
    }
  }
  return arr;
}

/** Check that every named array has the length of the first. */
export function sameLength(arrays: [string, ArrayLike<unknown>][]): void {
  const [firstName, first] = arrays[0];
  for (const [name, arr] of arrays.slice(1)) {
    if (arr.length !== first.length) {
      throw new InputValidationError(
        pointer(name),
        "same-length",
        `has ${arr.length} elements but ${firstName} has ${first.length}`,
      );
    }
  }
}

/**
 * An optional finite number in `[min, max]` at `obj[key]`, or `fallback`
 * when the field is absent.
 */
export function optionalNumber(
  obj: InputObject,
  key: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (!(key in obj) || obj[key] === undefined) return fallback;
  const v = obj[key];
  if (typeof v !== "number") {
    throw new InputValidationError(pointer(key), "type", "must be a number");
  }
  if (!Number.isFinite(v)) {
    throw new InputValidationError(pointer(key), "finite", `must be a finite number, got ${v}`);
  }
  if (v < min || v > max) {
    throw new InputValidationError(pointer(key), "range", `must lie in [${min}, ${max}], got ${v}`);
  }
  return v;
}

/** A required integer in `[min, max]` at `obj[key]`. */
export function integerField(obj: InputObject, key: string, min: number, max: number): number {
  const ptr = pointer(key);
  if (!(key in obj) || obj[key] === undefined) {
    throw new InputValidationError(ptr, "required", "required field is missing");
  }
  const v = obj[key];
  if (typeof v !== "number") throw new InputValidationError(ptr, "type", "must be an integer");
  if (!Number.isSafeInteger(v)) {
    throw new InputValidationError(ptr, "integer", `must be an integer, got ${v}`);
  }
  if (v < min || v > max) {
    throw new InputValidationError(ptr, "range", `must lie in [${min}, ${max}], got ${v}`);
  }
  return v;
}
