/**
 * The worked example of docs/formats.md, computed with the real code.
 *
 * `buildFormatsExample()` returns the content of every marked block of the
 * document (a fenced block whose info string is `<lang> example=<id>`);
 * tests/docs/formats_test.ts checks that the document holds exactly these
 * contents and recomputes them independently. Run this file to rewrite the
 * marked blocks of docs/formats.md in place after a deliberate format change:
 *
 * ```sh
 * deno run --allow-read=docs --allow-write=docs docs/_gen_formats_example.ts
 * ```
 *
 * Every key here is an EXAMPLE key derived from a published seed. Never use
 * it for anything.
 *
 * @module
 */
import { sha256, sha256Hex, toBase64, toHex, utf8 } from "../core/bytes.ts";
import { canonicalize } from "../core/jcs.ts";
import {
  buildEnvelope,
  type BuildEnvelopeOptions,
  commitInputs,
  parameterSetHash,
  parseEnvelopeValue,
  signedBodyBytes,
} from "../core/envelope.ts";
import { Ed25519PrivateKey } from "../core/ed25519.ts";
import { PLAINTEXT_PARAMETER_SET } from "../core/audit/index.ts";
import { InProcessKeyProvider } from "../core/keys.ts";
import type { JsonValue } from "../core/envelope_types.ts";
import { encodeLeaf, LEAF_VERSION, ZERO_PREV } from "../ledger/leaf.ts";
import { leafHash, nodeHash } from "../ledger/merkle/mod.ts";
import { signCheckpoint } from "../ledger/checkpoint.ts";
import { Ed25519NoteSigner } from "../ledger/note.ts";
import { formatTlogProof } from "../ledger/tlog_proof.ts";
import { DEFAULT_ORIGIN } from "../ledger/log_key.ts";

/** Issuer example seed: the 32 bytes 0x01, 0x02, …, 0x20. */
export const ISSUER_SEED: Uint8Array = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
/** Log example seed: the 32 bytes 0x21, 0x22, …, 0x40. */
export const LOG_SEED: Uint8Array = Uint8Array.from({ length: 32 }, (_, i) => i + 0x21);
/** The issuer's key id in the example. */
export const ISSUER_KEY_ID = "example-2026-01";

/** The builder options of envelope 0 (a drift audit). */
export const OPTIONS_0: BuildEnvelopeOptions = {
  primitive: "drift",
  backend: "plaintext",
  parameterSet: structuredClone(PLAINTEXT_PARAMETER_SET),
  regulations: ["EU_AI_ACT_ART15", "FDA_SAMD_PCCP", "BASEL_III"],
  result: { distance: 0.2222222222222222, w1_distance: 0.6666666666666667, drift_bit: true },
  inputs: { p: [1, 2, 3], q: [3, 2, 1], drift_threshold: 0.005 },
  depthBudget: { declared: 1, consumed: 1 },
  issuer: "Example Vendor",
  issuedAt: "2026-01-15T09:30:00.000Z",
};

/** What envelope 1 changes in {@link OPTIONS_0}. */
export const OPTIONS_1_CHANGES: Partial<BuildEnvelopeOptions> = {
  result: { distance: 0, w1_distance: 0, drift_bit: false },
  inputs: { p: [2, 2, 2], q: [2, 2, 2], drift_threshold: 0.005 },
  issuedAt: "2026-01-15T09:31:00.000Z",
};

/** Lines `<key>: <value>`. */
function kv(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${k}: ${v}`).join("\n");
}

/** `<hex sha256>  <bytes>` (the shape of `sha256sum` output, with the bytes in place of a file name). */
function hashLine(bytes: string): string {
  return `${sha256Hex(utf8(bytes))}  ${bytes}`;
}

function shQuote(s: string): string {
  if (s.includes("'")) throw new Error(`example text must not contain a single quote: ${s}`);
  return `'${s}'`;
}

/**
 * Every marked block of docs/formats.md, by id, computed with the real code
 * (core/ and ledger/).
 */
export async function buildFormatsExample(): Promise<Map<string, string>> {
  const blocks = new Map<string, string>();
  const issuerKey = await Ed25519PrivateKey.fromSeed(ISSUER_SEED);
  const signer = new InProcessKeyProvider(ISSUER_KEY_ID, issuerKey);
  const logSigner = await Ed25519NoteSigner.fromSeed(DEFAULT_ORIGIN, LOG_SEED);

  blocks.set(
    "keys",
    kv([
      ["issuer seed (hex)", toHex(ISSUER_SEED)],
      ["issuer public key (hex)", toHex(issuerKey.publicKey.raw)],
      ["issuer key_id", ISSUER_KEY_ID],
      ["log seed (hex)", toHex(LOG_SEED)],
      ["log public key (hex)", toHex(logSigner.privateKey.publicKey.raw)],
      ["log origin", DEFAULT_ORIGIN],
    ]),
  );
  blocks.set("issuer-pem", issuerKey.publicKey.toPem().trimEnd());

  const options1 = { ...OPTIONS_0, ...OPTIONS_1_CHANGES };
  const jsonOptions = (o: Partial<BuildEnvelopeOptions>) => JSON.stringify(o, null, 2);
  blocks.set("options-0", jsonOptions(OPTIONS_0));
  blocks.set("options-1", jsonOptions(OPTIONS_1_CHANGES));

  const inputs0 = OPTIONS_0.inputs as Record<string, JsonValue>;
  const commitments = commitInputs(inputs0);
  blocks.set(
    "commitments-0",
    commitments.map((c) => hashLine(canonicalize({ name: c.name, value: inputs0[c.name] })))
      .join("\n"),
  );
  const psText = canonicalize(OPTIONS_0.parameterSet);
  if (sha256Hex(utf8(psText)) !== parameterSetHash(OPTIONS_0.parameterSet)) {
    throw new Error("parameter set hash disagrees with its JCS text");
  }
  blocks.set("parameter-set", hashLine(psText));

  const env0 = await buildEnvelope(OPTIONS_0, signer);
  const env1 = await buildEnvelope(options1, signer);
  const parsed0 = parseEnvelopeValue(env0);
  const parsed1 = parseEnvelopeValue(env1);
  const body0 = new TextDecoder().decode(signedBodyBytes(parsed0));
  blocks.set("signed-body-0", body0);
  blocks.set("receipt-0", JSON.stringify(env0.receipt, null, 2));
  const canon0 = new TextDecoder().decode(parsed0.canonical);
  const canon1 = new TextDecoder().decode(parsed1.canonical);
  blocks.set("envelope-0", canon0);
  blocks.set("envelope-1", canon1);
  blocks.set(
    "envelope-ids",
    kv([
      ["envelope 0 sha256 (hex)", toHex(parsed0.sha256)],
      ["envelope 0 sha256 (base64)", toBase64(parsed0.sha256)],
      ["envelope 1 sha256 (hex)", toHex(parsed1.sha256)],
      ["envelope 1 sha256 (base64)", toBase64(parsed1.sha256)],
    ]),
  );

  // The two leaves exactly as ledger.ts builds them on append.
  const leafOf = (
    env: typeof env0,
    sha: Uint8Array,
    index: number,
    prev: Uint8Array,
  ) =>
    encodeLeaf({
      envelope_sha256: toBase64(sha),
      index,
      issued_at: env.issued_at,
      issuer: env.issuer,
      key_id: env.receipt.key_id,
      prev: toBase64(prev),
      primitive: env.primitive,
      v: LEAF_VERSION,
    });
  const leaf0 = leafOf(env0, parsed0.sha256, 0, ZERO_PREV);
  const lh0 = leafHash(leaf0);
  const leaf1 = leafOf(env1, parsed1.sha256, 1, lh0);
  const lh1 = leafHash(leaf1);
  const root2 = nodeHash(lh0, lh1);
  blocks.set("leaf-0", new TextDecoder().decode(leaf0));
  blocks.set("leaf-1", new TextDecoder().decode(leaf1));
  blocks.set(
    "tree",
    kv([
      ["leaf hash 0 (hex)", toHex(lh0)],
      ["leaf hash 0 (base64)", toBase64(lh0)],
      ["leaf hash 1 (hex)", toHex(lh1)],
      ["leaf hash 1 (base64)", toBase64(lh1)],
      ["root of size 1 (base64)", toBase64(lh0)],
      ["root of size 2 (hex)", toHex(root2)],
      ["root of size 2 (base64)", toBase64(root2)],
    ]),
  );

  const verifierKey = logSigner.verifierKey();
  blocks.set(
    "log-key",
    kv([
      ["key ID (hex)", logSigner.keyId.toString(16).padStart(8, "0")],
      ["verifier key", verifierKey],
    ]),
  );
  const checkpoint = await signCheckpoint(
    { origin: DEFAULT_ORIGIN, size: 2, root: root2 },
    [logSigner],
  );
  blocks.set("checkpoint-2", checkpoint.trimEnd());
  const receipt0 = formatTlogProof({ extra: leaf0, index: 0, proof: [lh1], checkpoint });
  blocks.set("receipt-entry-0", receipt0.trimEnd());
  blocks.set(
    "consistency-1-2",
    JSON.stringify({ first: 1, second: 2, proof: [toBase64(lh1)] }),
  );

  // The shell recomputation (bash + coreutils), and the output it must print.
  const pName = "p";
  const pJcs = canonicalize({ name: pName, value: inputs0[pName] });
  // The key part may itself contain "+": take everything after the second "+".
  const vkeyB64 = verifierKey.slice(verifierKey.indexOf("+", DEFAULT_ORIGIN.length + 1) + 1);
  blocks.set(
    "shell",
    [
      "set -eu",
      "unhex() { printf \"$(sed 's/../\\\\x&/g')\"; }   # hex on stdin -> raw bytes",
      `printf '%s' ${shQuote(body0)} > body0.json`,
      `printf '%s' ${shQuote(canon0)} > envelope0.json`,
      `printf '%s' ${shQuote(new TextDecoder().decode(leaf0))} > leaf0.json`,
      `printf '%s' ${shQuote(new TextDecoder().decode(leaf1))} > leaf1.json`,
      `echo "commitment p:       $(printf '%s' ${shQuote(pJcs)} | sha256sum | cut -c1-64)"`,
      `echo "parameter_set_hash: $(printf '%s' ${shQuote(psText)} | sha256sum | cut -c1-64)"`,
      `echo "receipt.sha256:     $(sha256sum < body0.json | cut -c1-64)"`,
      `echo "envelope_sha256:    $(sha256sum < envelope0.json | cut -c1-64 | unhex | base64)"`,
      `echo "leaf hash 0:        $({ printf '\\000'; cat leaf0.json; } | sha256sum | cut -c1-64 | unhex | base64)"`,
      `echo "leaf hash 1:        $({ printf '\\000'; cat leaf1.json; } | sha256sum | cut -c1-64 | unhex | base64)"`,
      `echo "root of size 2:     $({ printf '\\001'`,
      `    { printf '\\000'; cat leaf0.json; } | sha256sum | cut -c1-64 | unhex`,
      `    { printf '\\000'; cat leaf1.json; } | sha256sum | cut -c1-64 | unhex`,
      `  } | sha256sum | cut -c1-64 | unhex | base64)"`,
      `echo "log key ID:         $({ printf '%s\\n' ${shQuote(DEFAULT_ORIGIN)}; printf '%s' ${
        shQuote(vkeyB64)
      } | base64 -d; } | sha256sum | cut -c1-8)"`,
      `echo "receipt extra:      $(base64 -w0 leaf0.json)"`,
    ].join("\n"),
  );
  blocks.set(
    "shell-output",
    [
      `commitment p:       ${sha256Hex(utf8(pJcs))}`,
      `parameter_set_hash: ${parameterSetHash(OPTIONS_0.parameterSet)}`,
      `receipt.sha256:     ${env0.receipt.sha256}`,
      `envelope_sha256:    ${toBase64(parsed0.sha256)}`,
      `leaf hash 0:        ${toBase64(lh0)}`,
      `leaf hash 1:        ${toBase64(lh1)}`,
      `root of size 2:     ${toBase64(root2)}`,
      `log key ID:         ${logSigner.keyId.toString(16).padStart(8, "0")}`,
      `receipt extra:      ${toBase64(leaf0)}`,
    ].join("\n"),
  );

  // Signature and checkpoint checks with OpenSSL 3 (and the JCS body with python3).
  const sigLine = checkpoint.split("\n").find((l) => l.startsWith("— "))!;
  const sigB64 = sigLine.split(" ")[2];
  blocks.set(
    "shell-openssl",
    [
      "set -eu",
      `printf '%s\\n' ${
        issuerKey.publicKey.toPem().trimEnd().split("\n").map(shQuote).join(" ")
      } > issuer.pem`,
      `printf '%s' ${shQuote(env0.receipt.signature_b64)} | base64 -d > sig0.bin`,
      "openssl pkeyutl -verify -pubin -inkey issuer.pem -rawin -in body0.json -sigfile sig0.bin",
      "# the log key as an SPKI PEM: the DER prefix 302a300506032b6570032100, then the 32-byte key",
      `{ printf '\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000'; printf '%s' ${
        shQuote(vkeyB64)
      } | base64 -d | tail -c 32; } > log.der`,
      "openssl pkey -pubin -inform DER -in log.der -out log.pem",
      `printf '%s\\n%s\\n%s\\n' ${shQuote(DEFAULT_ORIGIN)} 2 ${
        shQuote(toBase64(root2))
      } > checkpoint.txt`,
      `printf '%s' ${shQuote(sigB64)} | base64 -d | tail -c 64 > cpsig.bin`,
      "openssl pkeyutl -verify -pubin -inkey log.pem -rawin -in checkpoint.txt -sigfile cpsig.bin",
      "# For these values JCS equals Python's sorted, compact json.dumps (not in general: 1e21, 1.0).",
      'python3 -c \'import json,sys; e=json.load(open("envelope0.json")); [e.pop(k,None) for k in ("receipt","timestamp")]; sys.stdout.write(json.dumps(e,sort_keys=True,separators=(",",":"),ensure_ascii=False))\' | cmp - body0.json && echo body matches',
    ].join("\n"),
  );
  blocks.set(
    "shell-openssl-output",
    ["Signature Verified Successfully", "Signature Verified Successfully", "body matches"].join(
      "\n",
    ),
  );

  blocks.set(
    "cli",
    [
      "regledger verify -i envelope0.json --trusted-keys trust.json",
      "regledger proof verify --proof receipt0.tlog-proof --envelope envelope0.json \\",
      `  --key ${shQuote(verifierKey)}`,
    ].join("\n"),
  );

  // Sanity: the body hashes to receipt.sha256 and the commitments match.
  if (sha256Hex(signedBodyBytes(parsed0)) !== env0.receipt.sha256) {
    throw new Error("receipt.sha256 is not the SHA-256 of the signed body");
  }
  if (toHex(sha256(parsed0.canonical)) !== toHex(parsed0.sha256)) {
    throw new Error("envelope sha256 disagrees");
  }
  return blocks;
}

/** A marked block: a fenced block whose info string is `<lang> example=<id>`. */
export const BLOCK_RE = /^```([\w-]+) example=([\w.-]+)\n([\s\S]*?)^```$/gm;

/** The contents of every marked block of `doc`, by id (a repeated id throws). */
export function extractBlocks(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of doc.matchAll(BLOCK_RE)) {
    if (out.has(m[2])) throw new Error(`block example=${m[2]} appears twice`);
    out.set(m[2], m[3].replace(/\n$/, ""));
  }
  return out;
}

/** `doc` with every marked block's content replaced by `blocks`' (an unknown id throws). */
export function renderBlocks(doc: string, blocks: Map<string, string>): string {
  return doc.replace(BLOCK_RE, (_all, lang: string, id: string) => {
    const content = blocks.get(id);
    if (content === undefined) throw new Error(`no generated content for block example=${id}`);
    return "```" + `${lang} example=${id}\n${content === "" ? "" : content + "\n"}` + "```";
  });
}

if (import.meta.main) {
  const path = new URL("./formats.md", import.meta.url);
  const doc = await Deno.readTextFile(path);
  const blocks = await buildFormatsExample();
  const found = extractBlocks(doc);
  for (const id of blocks.keys()) {
    if (!found.has(id)) console.error(`warning: docs/formats.md has no block example=${id}`);
  }
  await Deno.writeTextFile(path, renderBlocks(doc, blocks));
  console.error(`rewrote ${found.size} blocks of docs/formats.md`);
}
