/**
 * The log's signing keys as {@link openLedger} finds them: the Ed25519 key
 * (`DIR/log-key`, created only for a log that has never signed anything)
 * and the ML-DSA-44 key (`DIR/log-key-mldsa44`).
 *
 * @module
 */
import { loadOrCreateLogKey, LOG_KEY_FILE, LogKeyError } from "./log_key.ts";
import { loadLogKeyPq, loadOrCreateLogKeyPq, logKeyPqFromText } from "./log_key_pq.ts";
import { LedgerReadOnlyError } from "./errors.ts";
import { type Ed25519NoteSigner, parseVerifierKey } from "./note.ts";
import type { OpenLedgerOptions } from "./open_options.ts";
import { SIGNED_HEAD_FILE } from "./signed_head.ts";
import type { LedgerStore } from "./store.ts";
import { MlDsa44NoteSigner } from "./witness/mldsa.ts";
import { defaultMlDsa44Engine } from "./witness/mldsa_liboqs.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Load `dir/log-key`; create it only for a writable open of a log that has
 * never signed anything (no entries, no identity, no signed-head record).
 */
export async function loadKey(
  dir: string,
  origin: string,
  store: LedgerStore,
  readOnly: boolean,
): Promise<Ed25519NoteSigner> {
  const keyPath = `${dir}/${LOG_KEY_FILE}`;
  if (!(await exists(keyPath))) {
    if (readOnly) {
      throw new LogKeyError(`no log key at ${keyPath}: a read-only command never creates one`);
    }
    const signed = await exists(`${dir}/${SIGNED_HEAD_FILE}`);
    const { head } = await store.readHead();
    const meta = await store.readMeta().catch(() => null);
    if (signed || head.size > 0 || meta !== null) {
      throw new LogKeyError(
        `the log key ${keyPath} is missing but this log has signed checkpoints ` +
          `(${head.size} entries stored${signed ? `, ${dir}/${SIGNED_HEAD_FILE} present` : ""}); ` +
          `restore the key from its backup (a new key would fork the log)`,
      );
    }
  }
  return await loadOrCreateLogKey(dir, origin);
}

/** The ML-DSA-44 log key per `opts` (see {@link OpenLedgerOptions.pqLogKey}). */
export async function pqKeyFor(
  opts: Pick<OpenLedgerOptions, "pqLogKey" | "mlDsaEngine" | "readOnly" | "audit">,
  origin: string,
  keyDir: string | undefined,
): Promise<MlDsa44NoteSigner | undefined> {
  const k = opts.pqLogKey;
  if (k === false) return undefined;
  // liboqs where it loads (8× faster signing: one signature per checkpoint), else noble.
  const engine = async () => ({ engine: opts.mlDsaEngine ?? await defaultMlDsa44Engine() });
  if (typeof k === "string") return await logKeyPqFromText(k, origin, await engine());
  if (k !== undefined) {
    if (!(k instanceof MlDsa44NoteSigner)) {
      throw new TypeError("pqLogKey must be signer-key text, an MlDsa44NoteSigner or false");
    }
    if (k.name !== origin) {
      throw new TypeError(
        `ML-DSA-44 log key is named ${JSON.stringify(k.name)} but the origin is ${
          JSON.stringify(origin)
        }`,
      );
    }
    return k;
  }
  if (keyDir === undefined) return undefined;
  if (opts.readOnly || opts.audit) {
    return (await loadLogKeyPq(keyDir, origin, await engine())) ?? undefined;
  }
  return await loadOrCreateLogKeyPq(keyDir, origin, await engine());
}

/**
 * The identity of a log this process cannot sign for (a mirror): its name,
 * key ID and verifier key; signing refuses.
 */
export function verifierOnlySigner(verifierKey: string): Ed25519NoteSigner {
  const v = parseVerifierKey(verifierKey);
  const signer = {
    name: v.name,
    keyId: v.keyId,
    verifierKey: () => verifierKey,
    verifier: () => v,
    sign: (): Promise<Uint8Array> =>
      Promise.reject(
        new LedgerReadOnlyError("this ledger is a read-only mirror: append to the log it mirrors"),
      ),
  };
  return signer as unknown as Ed25519NoteSigner;
}
