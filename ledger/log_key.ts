/**
 * The log's checkpoint-signing key, separate from every issuer key.
 *
 * Stored as Go's signer-key text (`PRIVATE+KEY+<origin>+<hash>+<base64>`,
 * what `note.GenerateKey` prints) in `DIR/log-key`, file mode 0600,
 * generated on first use. The key name is the log's origin, as C2SP
 * checkpoints expect; the matching verifier key
 * (`<origin>+<hash>+<base64>`) is public.
 *
 * @module
 */
import { RegledgerError } from "../core/errors.ts";
import { privateFileProblem } from "../core/private_file.ts";
import { Ed25519NoteSigner, isValidKeyName, parseSignerKey } from "./note.ts";

/** The default checkpoint origin (and log key name). */
export const DEFAULT_ORIGIN = "regledger.local/log";

/** File name of the log key inside a data directory. */
export const LOG_KEY_FILE = "log-key";

/** The log key could not be loaded or does not fit the ledger. */
export class LogKeyError extends RegledgerError {}

/**
 * Check an origin: a valid note key name (non-empty, no spaces, no `+`).
 * @throws {LogKeyError} naming the rule.
 */
export function checkOrigin(origin: string): void {
  if (typeof origin !== "string" || !isValidKeyName(origin)) {
    throw new LogKeyError(
      `origin ${JSON.stringify(origin)} is not a valid log name (non-empty, no spaces, no '+')`,
    );
  }
}

/**
 * Parse a supplied signer key and check that its name is `origin`.
 * @throws {LogKeyError} when the text is not a signer key or names another origin.
 */
export async function logKeyFromText(text: string, origin: string): Promise<Ed25519NoteSigner> {
  checkOrigin(origin);
  let signer: Ed25519NoteSigner;
  try {
    signer = await parseSignerKey(text.trim());
  } catch (e) {
    throw new LogKeyError("log key is not a signer key (PRIVATE+KEY+name+hash+key)", { cause: e });
  }
  if (signer.name !== origin) {
    throw new LogKeyError(
      `log key is named ${JSON.stringify(signer.name)} but the origin is ${JSON.stringify(origin)}`,
    );
  }
  return signer;
}

/**
 * Load `dir/log-key`, or generate it (mode 0600) when absent. Concurrent
 * first uses by several processes agree on one key: the file appears
 * atomically with its full contents (written aside, then hard-linked).
 *
 * @throws {LogKeyError} when the file is unreadable, malformed, readable by
 *   group or others, or names another origin.
 */
export async function loadOrCreateLogKey(
  dir: string,
  origin: string = DEFAULT_ORIGIN,
): Promise<Ed25519NoteSigner> {
  checkOrigin(origin);
  const path = `${dir}/${LOG_KEY_FILE}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const text = await readKeyFile(path);
    if (text !== undefined) return await logKeyFromText(text, origin);
    const signer = await Ed25519NoteSigner.generate(origin);
    if (await createKeyFile(dir, path, signer.toSignerKey())) return signer;
    // Another process won the race: loop and load its key.
  }
  throw new LogKeyError(`cannot load or create ${path}`);
}

/**
 * The text of key file `path`, or `undefined` when it does not exist.
 *
 * @throws {LogKeyError} when it is readable by group or others
 *   (`core/private_file.ts`), or unreadable.
 */
export async function readKeyFile(path: string): Promise<string | undefined> {
  try {
    const problem = privateFileProblem(path, await Deno.stat(path));
    if (problem !== undefined) throw new LogKeyError(problem);
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof LogKeyError) throw e;
    throw new LogKeyError(`cannot read ${path}`, { cause: e });
  }
}

/**
 * Write `keyText` as the key file `path` (mode 0600) only if no file is there:
 * written to a temporary file first and linked into place, so a reader never
 * sees a half-written key and two racing processes end up with one key.
 * Returns false when another process created `path` first.
 * @throws {LogKeyError} when the file cannot be created.
 */
export async function createKeyFile(dir: string, path: string, keyText: string): Promise<boolean> {
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, keyText + "\n", { mode: 0o600, createNew: true });
  try {
    await Deno.chmod(tmp, 0o600);
    await Deno.link(tmp, path);
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) {
      throw new LogKeyError(`cannot create ${path}`, { cause: e });
    }
    return false;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}
