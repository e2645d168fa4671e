/**
 * The witness's own keys, made on first start in its data directory (mode
 * 0600, written aside and linked into place by `createKeyFile`, so two
 * processes starting at once agree on one key):
 *
 * - `witness-key`: the Ed25519 `cosignature/v1` key (type 0x04), as
 *   `PRIVATE+KEY+<name>+<key ID>+<base64(0x04 || seed)>`;
 * - `witness-key-mldsa44`: the ML-DSA-44 key (type 0x06), same layout,
 *   loaded by `ledger/log_key_pq.ts`.
 *
 * Both keys are named after the witness. A key file holding another name or
 * another key type, or readable by group or others, stops the start.
 *
 * @module
 */
import { createKeyFile, LogKeyError } from "../../ledger/log_key.ts";
import { readKeyFile } from "../../ledger/log_key.ts";
import { loadOrCreateLogKeyPq } from "../../ledger/log_key_pq.ts";
import { Ed25519CosignatureSigner } from "../../ledger/witness/cosignature.ts";
import { parseNoteSignerKey } from "../../ledger/witness/keys.ts";
import type { MlDsa44Engine, MlDsa44NoteSigner } from "../../ledger/witness/mldsa.ts";

/** File name of the witness's Ed25519 cosignature key. */
export const WITNESS_KEY_FILE = "witness-key";
/** File name of the witness's ML-DSA-44 cosignature key. */
export const WITNESS_KEY_PQ_FILE = "witness-key-mldsa44";

/** The witness's signers, Ed25519 first. */
export interface WitnessKeys {
  /** The Ed25519 `cosignature/v1` signer. */
  ed25519: Ed25519CosignatureSigner;
  /** The ML-DSA-44 signer, when enabled. */
  mlDsa?: MlDsa44NoteSigner;
  /** Files created by this call (first start). */
  created: string[];
}

async function ed25519Key(dir: string, name: string): Promise<[Ed25519CosignatureSigner, boolean]> {
  const path = `${dir}/${WITNESS_KEY_FILE}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const text = await readKeyFile(path);
    if (text !== undefined) {
      let signer;
      try {
        signer = await parseNoteSignerKey(text.trim());
      } catch (e) {
        throw new LogKeyError(`${path} is not a signer key (PRIVATE+KEY+name+hash+key)`, {
          cause: e,
        });
      }
      if (!(signer instanceof Ed25519CosignatureSigner)) {
        throw new LogKeyError(`${path} holds a key of another type (want cosignature/v1, 0x04)`);
      }
      if (signer.name !== name) {
        throw new LogKeyError(
          `${path} is named ${JSON.stringify(signer.name)} but the witness is ${
            JSON.stringify(name)
          }`,
        );
      }
      return [signer, false];
    }
    const signer = await Ed25519CosignatureSigner.generate(name);
    if (await createKeyFile(dir, path, signer.toSignerKey())) return [signer, true];
    // Another process won the race: load its key.
  }
  throw new LogKeyError(`cannot load or create ${path}`);
}

/**
 * Load the witness keys from `dir`, creating missing ones.
 *
 * @throws {LogKeyError} when a key file is unreadable, malformed, of another
 *   name or type, or readable by group or others.
 */
export async function loadOrCreateWitnessKeys(
  dir: string,
  name: string,
  options: { mlDsa: boolean; engine?: MlDsa44Engine },
): Promise<WitnessKeys> {
  const created: string[] = [];
  const [ed25519, made] = await ed25519Key(dir, name);
  if (made) created.push(WITNESS_KEY_FILE);
  const keys: WitnessKeys = { ed25519, created };
  if (options.mlDsa) {
    const existed = await readKeyFile(`${dir}/${WITNESS_KEY_PQ_FILE}`) !== undefined;
    keys.mlDsa = await loadOrCreateLogKeyPq(dir, name, {
      file: WITNESS_KEY_PQ_FILE,
      ...(options.engine ? { engine: options.engine } : {}),
    });
    if (!existed) created.push(WITNESS_KEY_PQ_FILE);
  }
  return keys;
}
