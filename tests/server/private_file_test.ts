/**
 * One rule for every file that holds a secret (`core/private_file.ts`): the
 * log's Ed25519 and ML-DSA-44 keys, the issuer key and the admin token are
 * each refused, with the same message and their own error class, as soon
 * as group or others may read them; mode 0600 is accepted.
 */
import assert from "node:assert/strict";
import { loadOrCreateLogKey, LogKeyError } from "../../ledger/log_key.ts";
import { loadOrCreateLogKeyPq, LOG_KEY_PQ_FILE } from "../../ledger/log_key_pq.ts";
import { ConfigError } from "../../server/config.ts";
import { ISSUER_KEY_FILE, IssuerKeyError, loadOrCreateIssuerKey } from "../../server/keys.ts";
import { loadOrCreateAdminToken } from "../../server/serve.ts";

const ORIGIN = "example.com/log";
const cases: [string, string, new (...a: never[]) => Error, (dir: string) => Promise<unknown>][] = [
  ["log key", "log-key", LogKeyError, (d) => loadOrCreateLogKey(d, ORIGIN)],
  ["ML-DSA-44 log key", LOG_KEY_PQ_FILE, LogKeyError, (d) => loadOrCreateLogKeyPq(d, ORIGIN)],
  ["issuer key", ISSUER_KEY_FILE, IssuerKeyError, (d) => loadOrCreateIssuerKey(d)],
  ["admin token", "admin-token", ConfigError, (d) => loadOrCreateAdminToken(d)],
];

for (const [what, file, ErrorClass, load] of cases) {
  Deno.test(`${what}: refused once group or others may read it, accepted at 0600`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      await load(dir); // created 0600
      const path = `${dir}/${file}`;
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      for (const mode of [0o640, 0o604, 0o660]) {
        await Deno.chmod(path, mode);
        await assert.rejects(
          () => load(dir),
          (e) =>
            e instanceof ErrorClass &&
            e.message ===
              `${path} is readable by group or others (mode ${
                mode.toString(8)
              }); run chmod 600 on it`,
        );
      }
      await Deno.chmod(path, 0o600);
      await load(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
