/**
 * The server's own issuer key: `DIR/issuer-key.pem` (Ed25519 PKCS#8, file
 * mode 0600), generated on first start and used by `POST /v1/audit/*` to sign
 * the envelopes the server computes. Its key id is derived from the public
 * key, so the file alone fixes the server's issuer identity.
 *
 * @module
 */
import { sha256, toHex, utf8 } from "../core/bytes.ts";
import { Ed25519PrivateKey } from "../core/ed25519.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import { RegledgerError } from "../core/errors.ts";
import { privateFileProblem } from "../core/private_file.ts";

/** File name of the server's issuer key inside a data directory. */
export const ISSUER_KEY_FILE = "issuer-key.pem";

/** The issuer key file is unusable (unreadable, malformed or too permissive). */
export class IssuerKeyError extends RegledgerError {}

/** Key id of the server's issuer key: `regledger-server-` + 16 hex digits of SHA-256(SPKI PEM). */
export function serverKeyId(publicKeyPem: string): string {
  return "regledger-server-" + toHex(sha256(utf8(publicKeyPem.trim()))).slice(0, 16);
}

async function readKey(path: string): Promise<string | undefined> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new IssuerKeyError(`cannot read ${path}`, { cause: e });
  }
  const problem = privateFileProblem(path, st);
  if (problem !== undefined) throw new IssuerKeyError(problem);
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new IssuerKeyError(`cannot read ${path}`, { cause: e });
  }
}

/**
 * Load `dir/issuer-key.pem`, or create it (mode 0600) when absent. The file
 * appears atomically with its full contents (written aside, then hard-linked),
 * so two processes starting at once agree on one key.
 *
 * @returns the key provider and whether the key was created now.
 * @throws {IssuerKeyError} when the file is unreadable, malformed or not mode 0600.
 */
/**
 * A fresh issuer key held in memory only, for a read-only mirror: it
 * appends nothing, so it signs nothing that lasts, and it must leave no
 * secret in the directory it serves.
 */
export async function ephemeralIssuerKey(): Promise<{
  provider: InProcessKeyProvider;
  created: boolean;
}> {
  const key = await Ed25519PrivateKey.generate();
  return {
    provider: new InProcessKeyProvider(serverKeyId(key.publicKey.toPem()), key),
    created: false,
  };
}

export async function loadOrCreateIssuerKey(
  dir: string,
): Promise<{ provider: InProcessKeyProvider; created: boolean }> {
  const path = `${dir}/${ISSUER_KEY_FILE}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const pem = await readKey(path);
    if (pem !== undefined) {
      let key: Ed25519PrivateKey;
      try {
        key = await Ed25519PrivateKey.fromPkcs8Pem(pem);
      } catch (e) {
        throw new IssuerKeyError(`${path} is not an Ed25519 PKCS#8 private key`, { cause: e });
      }
      return {
        provider: new InProcessKeyProvider(serverKeyId(key.publicKey.toPem()), key),
        created: false,
      };
    }
    const key = await Ed25519PrivateKey.generate();
    await Deno.mkdir(dir, { recursive: true });
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(tmp, key.toPkcs8Pem(), { mode: 0o600, createNew: true });
    try {
      await Deno.chmod(tmp, 0o600); // the umask may have narrowed it further; never widen
      await Deno.link(tmp, path);
      return {
        provider: new InProcessKeyProvider(serverKeyId(key.publicKey.toPem()), key),
        created: true,
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) {
        throw new IssuerKeyError(`cannot create ${path}`, { cause: e });
      }
      // Another process created it first: loop and load theirs.
    } finally {
      await Deno.remove(tmp).catch(() => {});
    }
  }
  throw new IssuerKeyError(`cannot create or load ${path}`);
}
