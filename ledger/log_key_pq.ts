/**
 * The log's post-quantum checkpoint key: ML-DSA-44, beside the Ed25519
 * `log-key` (./log_key.ts), so that every checkpoint carries both
 * signatures (CONTRACT §9; C2SP tlog-checkpoint recommends ML-DSA-44).
 *
 * Stored as `PRIVATE+KEY+<origin>+<key ID>+<base64(0x06 || 32-byte seed)>`
 * (the signer-key layout of ./witness/mldsa.ts) in `DIR/log-key-mldsa44`,
 * file mode 0600. Its key name is the origin too: the two keys differ in
 * their type byte and so in their key IDs, and a C2SP tlog-policy matches
 * log keys to checkpoints by name.
 *
 * A log made before this key existed (an Ed25519 `log-key` and no
 * `log-key-mldsa44`) gets one on its next append-capable open; read-only
 * opens only load an existing key ({@link loadLogKeyPq}).
 *
 * @module
 */
import { fromBase64 } from "../core/bytes.ts";
import { checkOrigin, createKeyFile, LogKeyError, readKeyFile } from "./log_key.ts";
import { type MlDsa44Engine, MlDsa44NoteSigner } from "./witness/mldsa.ts";
import { parseNoteSignerKey } from "./witness/keys.ts";

/** File name of the log's ML-DSA-44 key inside a data directory. */
export const LOG_KEY_PQ_FILE = "log-key-mldsa44";

/** Options of the ML-DSA-44 log key loaders. */
export interface LogKeyPqOptions {
  /**
   * The ML-DSA-44 implementation that signs.
   * @default nobleMlDsa44
   */
  engine?: MlDsa44Engine;
  /**
   * File name inside the directory (a witness keeps its ML-DSA-44
   * cosigning key in `witness-key-mldsa44`).
   * @default {LOG_KEY_PQ_FILE}
   */
  file?: string;
}

/**
 * Parse a supplied ML-DSA-44 signer key and check that its name is `origin`.
 *
 * @throws {LogKeyError} when the text is not an ML-DSA-44 signer key or
 *   names another origin (the message never holds key material).
 */
export async function logKeyPqFromText(
  text: string,
  origin: string,
  options: LogKeyPqOptions = {},
): Promise<MlDsa44NoteSigner> {
  checkOrigin(origin);
  let parsed;
  try {
    parsed = await parseNoteSignerKey(text.trim());
  } catch (e) {
    throw new LogKeyError("ML-DSA-44 log key is not a signer key (PRIVATE+KEY+name+hash+key)", {
      cause: e,
    });
  }
  if (!(parsed instanceof MlDsa44NoteSigner)) {
    throw new LogKeyError("ML-DSA-44 log key file holds a key of another type");
  }
  if (parsed.name !== origin) {
    throw new LogKeyError(
      `ML-DSA-44 log key is named ${JSON.stringify(parsed.name)} but the origin is ${
        JSON.stringify(origin)
      }`,
    );
  }
  if (options.engine === undefined) return parsed;
  // Re-derive with the requested engine (the seed is in the signer-key text only).
  const seed = seedOf(text.trim());
  return MlDsa44NoteSigner.fromSeed(origin, seed, { engine: options.engine });
}

function seedOf(skey: string): Uint8Array {
  // PRIVATE+KEY+<name>+<id>+<base64>: the base64 part may itself hold '+'.
  return fromBase64(skey.split("+").slice(4).join("+")).subarray(1);
}

/**
 * Load `dir/log-key-mldsa44` if it exists (read-only opens: never creates it).
 *
 * @throws {LogKeyError} when the file is unreadable, malformed, readable by
 *   group or others, or names another origin.
 */
export async function loadLogKeyPq(
  dir: string,
  origin: string,
  options: LogKeyPqOptions = {},
): Promise<MlDsa44NoteSigner | null> {
  checkOrigin(origin);
  const text = await readKeyFile(`${dir}/${options.file ?? LOG_KEY_PQ_FILE}`);
  return text === undefined ? null : await logKeyPqFromText(text, origin, options);
}

/**
 * Load `dir/log-key-mldsa44`, or generate it (mode 0600) when absent.
 * Concurrent first uses by several processes agree on one key: the file
 * appears atomically with its full contents (written aside, then hard-linked).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadLogKeyPq, loadOrCreateLogKeyPq } from "./log_key_pq.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(await loadLogKeyPq(dir, "example.org/log"), null); // read-only: nothing made
 * const key = await loadOrCreateLogKeyPq(dir, "example.org/log");
 * assert.equal((await Deno.stat(`${dir}/log-key-mldsa44`)).mode! & 0o777, 0o600);
 * const again = await loadLogKeyPq(dir, "example.org/log");
 * assert.equal(again?.verifierKey(), key.verifierKey());
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @throws {LogKeyError} as {@link loadLogKeyPq}, or when the file cannot be created.
 */
export async function loadOrCreateLogKeyPq(
  dir: string,
  origin: string,
  options: LogKeyPqOptions = {},
): Promise<MlDsa44NoteSigner> {
  checkOrigin(origin);
  const path = `${dir}/${options.file ?? LOG_KEY_PQ_FILE}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const text = await readKeyFile(path);
    if (text !== undefined) return await logKeyPqFromText(text, origin, options);
    const signer = MlDsa44NoteSigner.generate(origin, { engine: options.engine });
    if (await createKeyFile(dir, path, signer.toSignerKey())) return signer;
    // Another process won the race: loop and load its key.
  }
  throw new LogKeyError(`cannot load or create ${path}`);
}
