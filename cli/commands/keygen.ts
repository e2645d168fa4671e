/**
 * `regledger keygen`: generate an issuer's Ed25519 signing key.
 *
 * Writes the private key as an unencrypted PKCS#8 PEM file readable only by
 * its owner (mode 0600; an existing file is refused unless `--force`),
 * preceded by RFC 7468 explanatory text that names the issuer and the key id
 * (so `audit --key FILE` needs nothing else; OpenSSL still reads the PEM), and
 * prints the trust-store entry `{"keys": {ID: PEM}}` on stdout, so verifiers
 * can be given the public half at once. `--pq` makes a hybrid Ed25519 +
 * ML-DSA-65 key: the file holds a second PKCS#8 block (the ML-DSA-65 seed,
 * RFC 9881) and the entry lists both public keys
 * (`docs/formats.md` §2.7).
 *
 * @module
 */
import { type Command, parseArgs, printJson, UsageError } from "../io.ts";
import { formatIssuerKeyFile, InProcessKeyProvider } from "../../core/keys.ts";

const HELP = `usage: regledger keygen --issuer NAME [--key-id ID] [--pq] -o FILE [--force]

Generate an Ed25519 issuer key. The private key is written to FILE as a
PKCS#8 PEM with mode 0600, after two lines that record the issuer and the
key id, so \`regledger audit <primitive> -i IN --key FILE\` signs with them
without further flags (OpenSSL reads FILE as a plain PEM:
\`openssl pkey -in FILE -pubout\`). The public key is printed on stdout as a
trust store, {"keys": {ID: PEM}}, ready for verify --trusted-keys.

With --pq the key is hybrid: Ed25519 plus ML-DSA-65 (FIPS 204). FILE then
holds a second PKCS#8 PEM block, the ML-DSA-65 seed key; every envelope it
signs carries both signatures, and the trust-store entry lists both public
keys, {"keys": {ID: {"public_key_pem": PEM, "pq_public_key_pem": PEM}}}.
Verifiers holding that entry accept an envelope only when both verify.

options:
  --issuer NAME      the issuer this key signs for (names the default key id)
  --key-id ID        the key id envelopes carry in receipt.key_id
                     (default: NAME-YYYY-MM, e.g. acme-bank-2026-11)
  --pq               a hybrid Ed25519 + ML-DSA-65 key
  -o, --output FILE  where to write the private key (never "-")
  --force            replace FILE if it exists
  -h, --help         show this help

example:
  regledger keygen --issuer acme-bank --key-id acme-2026-11 -o acme.key.pem > trust_store.json
`;

/**
 * Run `regledger keygen` with `args`; returns the exit code.
 *
 * @throws {UsageError} for a missing option, a refused overwrite or an unwritable file (exit 2).
 */
export const run: Command = async (args, io) => {
  const a = parseArgs(args, {
    values: ["issuer", "key-id", "output"],
    flags: ["force", "help", "pq"],
    aliases: { o: "output", h: "help" },
  });
  if (a.flags.has("help")) {
    io.stdout(HELP);
    return 0;
  }
  if (a.positional.length > 0) throw new UsageError(`unexpected argument ${a.positional[0]}`);
  const issuer = a.values["issuer"];
  const output = a.values["output"];
  if (!issuer) throw new UsageError("missing --issuer NAME (see --help)");
  if (!output) throw new UsageError("missing -o FILE for the private key (see --help)");
  if (output === "-") {
    throw new UsageError("-o - would mix the private key into stdout; give a file");
  }
  const now = new Date();
  const keyId = a.values["key-id"] ??
    `${issuer}-${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
  if (!/^[\x21-\x7e]{1,256}$/.test(keyId)) {
    throw new UsageError("--key-id must be 1 to 256 printable ASCII characters without spaces");
  }

  const pq = a.flags.has("pq");
  const provider = await InProcessKeyProvider.generate(keyId, { pq });
  const file = formatIssuerKeyFile(provider.privateKey.toPkcs8Pem(), {
    issuer,
    keyId,
    mlDsa65Pem: provider.mlDsa65PrivateKey?.toPkcs8Pem(),
  });
  await writePrivateKey(output, file, a.flags.has("force"));
  const entry = provider.mlDsa65 === undefined
    ? provider.publicKeyPem
    : { public_key_pem: provider.publicKeyPem, pq_public_key_pem: provider.mlDsa65.publicKeyPem };
  printJson(io, { keys: { [keyId]: entry } });
  io.stderr(
    `regledger keygen: wrote the ${
      pq ? "hybrid Ed25519 + ML-DSA-65 " : ""
    }private key of ${keyId} (issuer ${issuer}) to ${output}\n`,
  );
  return 0;
};

/** Write `pem` to `path` with mode 0600, atomically replacing it only with `force`. */
async function writePrivateKey(path: string, pem: string, force: boolean): Promise<void> {
  try {
    if (!force) {
      await Deno.writeTextFile(path, pem, { createNew: true, mode: 0o600 });
      return;
    }
    // A fresh 0600 file renamed over the old one: the key is never readable by others,
    // even if the old file had wider permissions.
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(tmp, pem, { createNew: true, mode: 0o600 });
    try {
      await Deno.rename(tmp, path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`${path} exists; refusing to overwrite a key (use --force)`);
    }
    throw new UsageError(`cannot write ${path}: ${e instanceof Error ? e.message : e}`, {
      cause: e,
    });
  }
}
