/**
 * `regledger audit <primitive>`: read an input (JSON, or a CSV/NDJSON table:
 * `./audit_input.ts`), validate it, run the primitive, commit the inputs,
 * sign the envelope with the issuer key file from `keygen` (which names the
 * issuer and key id) and write it (stdout without `-o`).
 *
 * Bad input (unreadable, malformed, failing the primitive's schema or its
 * validation rules) exits 2 with the JSON pointer and rule on stderr, and
 * for a table the row, line and column.
 *
 * @module
 */
import { type CliIO, type Command, parseArgs, printJson, tokenFromEnv, UsageError } from "../io.ts";
import { LogClientError as RemoteLogError } from "../../ledger/client.ts";
import { logClientFor } from "./ledger.ts";
import { type PrimitiveName, PRIMITIVES } from "../../core/envelope_types.ts";
import { InputValidationError, RegledgerError } from "../../core/errors.ts";
import { InProcessKeyProvider, type IssuerKeyFile, parseIssuerKeyFile } from "../../core/keys.ts";
import type { SchemaName } from "../../core/schemas.ts";
import {
  type AuditInput,
  inputFormat,
  layoutOf,
  parameterFlag,
  parameterFlags,
  readAuditInput,
  schemaDescription,
} from "./audit_input.ts";
import { validate } from "../../core/validate.ts";
import {
  type AuditDpOptions,
  type AuditRun,
  DP_DEFAULT_FIELDS,
  runAudit,
  runAuditWith,
  signAuditRun,
} from "../../core/audit/index.ts";
import {
  datasetIdProblem,
  type DpMechanism,
  DpParameterError,
  PrivacyAccountant,
} from "../../core/dp/index.ts";
import {
  ckksAuditBackend,
  type CkksEvaluatorTransport,
  splitCkksAuditBackend,
} from "../../core/audit/index.ts";
import type { KeyGenProgress } from "../../core/fhe/keys.ts";

/** One help line per primitive with parameters: its flags, derived from its input schema. */
function parameterHelp(): string {
  return PRIMITIVES.map((p) => [p, layoutOf(p).parameters] as const)
    .filter(([, ps]) => ps.length > 0)
    .map(([p, ps]) =>
      `    ${(p + ":").padEnd(14)}${
        ps.map((x) =>
          `--${parameterFlag(x.field)} ${x.type === "integer" ? "N" : "X"}${
            x.required ? "" : ` (default ${x.default})`
          }`
        ).join(", ")
      }`
    ).join("\n");
}

const HELP = `usage: regledger audit <primitive> -i IN [-o OUT] --key KEYFILE [options]
       regledger audit <primitive> --schema

Validate IN against the primitive's input schema and rules, run the audit,
commit every input field, and sign a regledger.envelope.v1 envelope with
the issuer key written by \`regledger keygen\`. The envelope goes to OUT, or
to standard output.

primitives: ${PRIMITIVES.join(", ")}

options:
  -i, --input FILE        the input: JSON, CSV or NDJSON ("-" reads standard input)
  --format F              json, csv or ndjson (default: from the extension:
                          .csv, .ndjson or .jsonl, else json)
  -o, --output FILE       where to write the envelope (default: stdout)
  --key FILE              the issuer's key file from keygen, which names its
                          issuer and key id; default: $REGLEDGER_KEY_FILE
  --issuer NAME           issuer name in the envelope (default: the key
                          file's; for a bare PEM without names, the key id)
  --key-id ID             key id in receipt.key_id, as in the trust store
                          (default: the key file's; for a bare PEM, NAME-YYYY-MM
                          from --issuer, keygen's old default)
  --backend NAME          plaintext (default: exact statistics) or ckks
                          (encrypted with Microsoft SEAL through node-seal)
  --evaluator URL         with --backend ckks: the split flow. Keys are made and
                          the input encrypted here; a regledger server started
                          with REGLEDGER_CKKS=1 evaluates the ciphertexts with
                          evaluation keys only (POST /v1/ckks/evaluate); the
                          result is decrypted and signed here. Without it, all
                          of it runs in this process.
  --token T               bearer token for --evaluator (scope audit:run);
                          default: $REGLEDGER_TOKEN
  --schema                print the primitive's input JSON Schema and, beside
                          it, its table form (columns and parameter flags)
  -h, --help              show this help

CSV and NDJSON input (one column per vector; see --schema for each primitive's):
  CSV is RFC 4180 with a header row naming the columns; NDJSON is one JSON
  object a line with the same keys. An empty cell (NDJSON: null) ends a
  column, so vectors of different lengths share a table. A field made of
  fixed-length rows (disagreement's model_polynomials) is one column per
  position: model_polynomials.0 … model_polynomials.3, one model a row.
  Scalar parameters are flags named after their fields (JSON input carries
  them as fields instead):
${parameterHelp()}
  Errors name the row (1 = the first data row), the file line and the column.

differential privacy (noise added to released numbers, recorded in "dp"):
  --dp-epsilon E          total ε, split evenly over the noised fields
  --dp-sensitivity S      sensitivity of each noised field (L1 for laplace,
                          L2 for gaussian); a modelling choice you must defend
  --dp-mechanism M        laplace (default) or gaussian
  --dp-delta D            total δ for gaussian, split evenly
  --dp-fields A,B         result fields to noise (default per primitive)
  --dp-dataset ID         the dataset drawn on (identifier or commitment, e.g.
                          sha256:<hex>), signed in "dp"; a ledger with privacy
                          budgets charges the release to this issuer's budget for it

exit codes: 0 written, 2 bad use or bad input (field and rule on stderr).

example:
  regledger keygen --issuer acme --key-id acme-2026-11 -o acme.key.pem > trust.json
  regledger audit fairness -i fairness.json --key acme.key.pem -o envelope.json
  regledger verify -i envelope.json --trusted-keys trust.json --strict
  regledger audit fairness -i predictions.csv --threshold 0.05 --key acme.key.pem -o envelope.json
  regledger audit drift -i drift.json --key acme.key.pem \\
    --backend ckks --evaluator https://regulator.example -o envelope.json
`;

/**
 * Run `regledger audit` with `args`; returns the exit code.
 * @throws {UsageError} for bad use or bad input (exit 2).
 */
export const run: Command = async (args, io) => {
  const a = parseArgs(args, {
    values: [
      "input",
      "output",
      "key",
      "issuer",
      "key-id",
      "backend",
      "evaluator",
      "token",
      "dp-epsilon",
      "dp-sensitivity",
      "dp-mechanism",
      "dp-delta",
      "dp-fields",
      "dp-dataset",
      "format",
      ...parameterFlags(),
    ],
    flags: ["schema", "help"],
    aliases: { i: "input", o: "output", h: "help" },
  });
  if (a.flags.has("help")) {
    io.stdout(HELP);
    return 0;
  }
  const [primitive, ...extra] = a.positional;
  if (primitive === undefined) {
    throw new UsageError(`missing <primitive> (one of ${PRIMITIVES.join(", ")})`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (!PRIMITIVES.includes(primitive as PrimitiveName)) {
    throw new UsageError(`unknown primitive '${primitive}' (one of ${PRIMITIVES.join(", ")})`);
  }
  const p = primitive as PrimitiveName;
  if (a.flags.has("schema")) {
    printJson(io, schemaDescription(p));
    return 0;
  }
  const inputPath = a.values["input"];
  if (!inputPath) throw new UsageError("missing -i IN (see --help)");
  const keyPath = a.values["key"] ?? Deno.env.get("REGLEDGER_KEY_FILE");
  if (!keyPath) throw new UsageError("missing --key KEYFILE (the private key from keygen)");
  const keyFile = await readKeyFile(keyPath);
  const { keyId, issuer } = signingNames(keyPath, keyFile, a.values["issuer"], a.values["key-id"]);
  const backendName = a.values["backend"] ?? "plaintext";
  if (backendName !== "plaintext" && backendName !== "ckks") {
    throw new UsageError(`--backend must be plaintext or ckks, got '${backendName}'`);
  }
  const evaluatorUrl = a.values["evaluator"];
  if (evaluatorUrl !== undefined && backendName !== "ckks") {
    throw new UsageError("--evaluator applies to --backend ckks only");
  }
  if (a.values["token"] !== undefined && evaluatorUrl === undefined) {
    throw new UsageError("--token applies with --evaluator only");
  }
  const evaluator = evaluatorUrl === undefined
    ? undefined
    : remoteEvaluator(evaluatorUrl, a.values["token"] ?? tokenFromEnv());
  const dp = dpOptions(p, a.values);

  const format = inputFormat(inputPath, a.values["format"]);
  const input = await readAuditInput(p, inputPath, format, a.values);
  const auditRun = await audit(p, input, backendName, dp, io, evaluator);

  let signer: InProcessKeyProvider;
  try {
    signer = await InProcessKeyProvider.fromIssuerKeyFile(keyId, keyFile);
  } catch (e) {
    throw new UsageError(`cannot load the key ${keyPath}: ${describe(e)}`, { cause: e });
  }
  let envelope;
  try {
    envelope = await signAuditRun(auditRun, signer, { issuer });
  } catch (e) {
    if (e instanceof InputValidationError) {
      throw new UsageError(`cannot sign the envelope: ${e.message} (rule ${e.rule})`, { cause: e });
    }
    throw e;
  }
  await writeOutput(io, a.values["output"], JSON.stringify(envelope, null, 2) + "\n");
  return 0;
};

/** Read and parse the key file before any work, so a bad key is reported first (exit 2). */
async function readKeyFile(path: string): Promise<IssuerKeyFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(`cannot read the key ${path}: ${describe(e)}`, { cause: e });
  }
  try {
    return parseIssuerKeyFile(text);
  } catch (e) {
    throw new UsageError(`cannot load the key ${path}: ${describe(e)}`, { cause: e });
  }
}

/**
 * The key id and issuer to sign as: the flags, else the key file's names,
 * else (a bare PEM from before keys remembered their names) the old rules:
 * `--issuer` alone derives keygen's default key id, `--key-id` alone is the issuer too.
 */
function signingNames(
  path: string,
  file: IssuerKeyFile,
  issuerOpt: string | undefined,
  keyIdOpt: string | undefined,
): { keyId: string; issuer: string } {
  if (file.keyId !== undefined && file.issuer !== undefined) {
    return { keyId: keyIdOpt ?? file.keyId, issuer: issuerOpt ?? file.issuer };
  }
  if (!issuerOpt && !keyIdOpt) {
    throw new UsageError(
      `${path} does not name its issuer and key id (a key from an older keygen); ` +
        "give --key-id ID (as in the trust store) and --issuer NAME",
    );
  }
  const now = new Date();
  const keyId = keyIdOpt ?? file.keyId ??
    `${issuerOpt}-${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
  return { keyId, issuer: issuerOpt ?? file.issuer ?? keyId };
}

async function audit(
  p: PrimitiveName,
  input: AuditInput,
  backendName: "plaintext" | "ckks",
  dp: AuditDpOptions | undefined,
  io: CliIO,
  evaluator?: CkksEvaluatorTransport,
): Promise<AuditRun<PrimitiveName>> {
  const value = input.value;
  try {
    validate(`${p}.input` as SchemaName, value);
    if (backendName === "plaintext") return runAudit(p, value, { dp });
    // Key generation takes seconds (Galois keys ~0.2 s a rotation step): show it on a terminal.
    const onProgress = io.isTerminal
      ? (g: KeyGenProgress) =>
        io.stderr(
          `ckks: ${g.stage}${g.rotationSteps ? ` (${g.rotationSteps} rotation steps)` : ""} ` +
            `[${g.completed}/${g.total}]\n`,
        )
      : undefined;
    const backend = evaluator
      ? splitCkksAuditBackend(evaluator, { onProgress })
      : ckksAuditBackend({ onProgress });
    return await runAuditWith(p, value, backend, { dp });
  } catch (e) {
    if (e instanceof InputValidationError) {
      const where = input.locate(e.pointer);
      throw new UsageError(
        `invalid ${p} input: ${e.message} (rule ${e.rule})${where ? ` at ${where}` : ""}`,
        { cause: e },
      );
    }
    if (e instanceof RegledgerError || e instanceof RangeError) {
      throw new UsageError(`${p}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

function dpOptions(p: PrimitiveName, v: Record<string, string>): AuditDpOptions | undefined {
  const given = [
    "dp-epsilon",
    "dp-sensitivity",
    "dp-mechanism",
    "dp-delta",
    "dp-fields",
    "dp-dataset",
  ]
    .filter((k) => k in v);
  if (given.length === 0) return undefined;
  if (!("dp-epsilon" in v) || !("dp-sensitivity" in v)) {
    throw new UsageError("differential privacy needs --dp-epsilon and --dp-sensitivity");
  }
  const mechanism = (v["dp-mechanism"] ?? "laplace") as DpMechanism;
  if (mechanism !== "laplace" && mechanism !== "gaussian") {
    throw new UsageError(`--dp-mechanism must be laplace or gaussian, got '${mechanism}'`);
  }
  const epsilon = number("--dp-epsilon", v["dp-epsilon"]);
  const sensitivity = number("--dp-sensitivity", v["dp-sensitivity"]);
  const delta = v["dp-delta"] === undefined ? 0 : number("--dp-delta", v["dp-delta"]);
  if (mechanism === "gaussian" && !(delta > 0)) {
    throw new UsageError("gaussian needs --dp-delta D > 0");
  }
  if (mechanism === "laplace" && delta !== 0) {
    throw new UsageError("--dp-delta applies to gaussian only");
  }
  const fields = v["dp-fields"]
    ? v["dp-fields"].split(",").map((s) => s.trim())
    : [...DP_DEFAULT_FIELDS[p]];
  const k = fields.length;
  const dataset = v["dp-dataset"];
  if (dataset !== undefined) {
    const bad = datasetIdProblem(dataset);
    if (bad) throw new UsageError(`--dp-dataset: ${bad}`);
  }
  try {
    const specs = Object.fromEntries(fields.map((f) => [f, {
      mechanism,
      epsilon: epsilon / k,
      sensitivity,
      ...(mechanism === "gaussian" ? { delta: delta / k } : {}),
    }]));
    return {
      specs,
      accountant: new PrivacyAccountant({ epsilon, delta }),
      ...(dataset !== undefined ? { dataset } : {}),
    };
  } catch (e) {
    if (e instanceof DpParameterError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
}

function number(flag: string, s: string): number {
  const x = Number(s);
  if (s.trim() === "" || !Number.isFinite(x)) {
    throw new UsageError(`${flag} must be a number, got '${s}'`);
  }
  return x;
}

async function writeOutput(io: CliIO, path: string | undefined, text: string): Promise<void> {
  if (path === undefined || path === "-") {
    io.stdout(text);
    return;
  }
  try {
    await Deno.writeTextFile(path, text);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${describe(e)}`, { cause: e });
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `POST URL/v1/ckks/evaluate` (LogClient) as the split flow's transport; failures are exit 2. */
function remoteEvaluator(url: string, token: string | undefined): CkksEvaluatorTransport {
  const server = logClientFor(url, token, "--evaluator");
  return async (request) => {
    try {
      return await server.evaluateCkks(request);
    } catch (e) {
      if (!(e instanceof RemoteLogError)) throw e;
      throw new UsageError(e.status === 0 ? e.message : `evaluator answered ${e.message}`, {
        cause: e,
      });
    }
  };
}
