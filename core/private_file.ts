/**
 * The rule for files that hold secrets (the log's signing keys, the issuer
 * key, the admin token): only their owner may read them. A file that group
 * or others may read or write (any bit of mode 0o077) is refused with a
 * message that says how to fix it; where the platform has no POSIX modes
 * (`mode` is null on Windows) nothing is checked.
 *
 * @module
 */

/**
 * Why the secret file `path` with metadata `info` must not be used, or
 * `undefined` when it is private to its owner.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { privateFileProblem } from "./private_file.ts";
 * const info = (mode: number) => ({ mode }) as Deno.FileInfo;
 * assert.equal(privateFileProblem("k", info(0o100600)), undefined);
 * assert.equal(
 *   privateFileProblem("k", info(0o100644)),
 *   "k is readable by group or others (mode 644); run chmod 600 on it",
 * );
 * ```
 */
export function privateFileProblem(path: string, info: Deno.FileInfo): string | undefined {
  if (info.mode === null || (info.mode & 0o077) === 0) return undefined;
  return `${path} is readable by group or others (mode ${
    (info.mode & 0o777).toString(8)
  }); run chmod 600 on it`;
}
