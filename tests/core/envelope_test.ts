/**
 * Native envelopes: building, canonical bytes, every typed verification
 * failure in its order, and a fast-check property that any single change to
 * a signed envelope is caught with the right reason.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fromBase64, sha256, sha256Hex, toBase64, toHex } from "../../core/bytes.ts";
import { Ed25519PrivateKey } from "../../core/ed25519.ts";
import {
  buildEnvelope,
  type BuildEnvelopeOptions,
  canonicalEnvelopeBytes,
  commitInput,
  commitInputs,
  envelopeSha256Hex,
  parameterSetHash,
  parseEnvelopeText,
  parseEnvelopeValue,
  signedBodyBytes,
} from "../../core/envelope.ts";
import type { Envelope, JsonValue, ParsedEnvelope } from "../../core/envelope_types.ts";
import {
  EnvelopeFormatError,
  EnvelopeVerificationError,
  InputValidationError,
  JsonParseError,
  SignerError,
  TrustStoreError,
} from "../../core/errors.ts";
import { canonicalize } from "../../core/jcs.ts";
import { externalKeyProvider, InProcessKeyProvider } from "../../core/keys.ts";
import { TrustStore } from "../../core/trust_store.ts";
import {
  checkEnvelope,
  checkSelfSignedOnly,
  type TimestampVerifier,
  verifyEnvelope,
  verifySelfSignedOnly,
} from "../../core/verify.ts";

const enc = new TextEncoder();
const signer = await InProcessKeyProvider.generate("issuer-2026");
const intruder = await InProcessKeyProvider.generate("issuer-2026"); // same id, other key

const PARAMS = {
  backend: "seal-ckks",
  poly_modulus_degree: 16384,
  coeff_mod_bit_sizes: [60, 40, 40, 60],
  scaling_factor_bits: 40,
  security_bits: 128,
};

// A stand-in RFC 3161 TSA: the token binds the signed body and every other field of the block.
function tsaToken(body: Uint8Array, block: Record<string, JsonValue>): string {
  const { token_b64: _t, ...rest } = block;
  return toBase64(sha256(body, enc.encode(canonicalize(rest))));
}
function stamp(issuer: string, issuedAt: string) {
  return (body: Uint8Array) => {
    const block = { issuer, issued_at: issuedAt };
    return Promise.resolve({ ...block, token_b64: tsaToken(body, block) });
  };
}
const tsaVerifier: TimestampVerifier = (body, ts) => ts.token_b64 === tsaToken(body, ts);

function options(extra: Partial<BuildEnvelopeOptions> = {}): BuildEnvelopeOptions {
  return {
    primitive: "fairness",
    backend: "seal-ckks",
    parameterSet: PARAMS,
    regulations: ["NYC_LL144", "EU_AI_ACT_ART10"],
    result: { demographic_parity_gap: 0.125, group_rates: [0.5, 0.375], note: "é😀", flag: true },
    inputs: { y_pred: [1, 0, 1, 1], group: [0, 1, 1, 0] },
    depthBudget: { declared: 6, consumed: 4 },
    dp: { epsilon: 1.5, mechanism: "laplace" },
    issuer: "acme-bank",
    issuedAt: "2026-11-21T12:00:00.000Z",
    ...extra,
  };
}

async function signed(extra: Partial<BuildEnvelopeOptions> = {}, by = signer): Promise<Envelope> {
  return await buildEnvelope(options(extra), by);
}

const store = TrustStore.fromObject({ keys: { [signer.keyId]: signer.publicKeyPem } });

function reparse(env: unknown): ParsedEnvelope {
  return parseEnvelopeText(JSON.stringify(env, null, 2));
}

async function reason(p: ParsedEnvelope, s = store, verifier?: TimestampVerifier) {
  const r = await checkEnvelope(p, s, { timestampVerifier: verifier });
  return r.valid ? "valid" : r.reason;
}

function clone(env: Envelope): Envelope {
  return structuredClone(env) as Envelope;
}

Deno.test("envelope: input commitments match CPython-computed sha256 of the canonical pair", () => {
  // hashlib.sha256(json.dumps({"name": n, "value": v}, sort_keys=True, separators=(",", ":"),
  // ensure_ascii=False).encode()).hexdigest(): same bytes as JCS for these values.
  assert.deepEqual(commitInput("y_true", [1, 0, 1, 1]), {
    name: "y_true",
    sha256: "cbfaa696da6aebf7ac4c4bebc35e7f02634a41bb2fc4a7a9ac979b19a72e792f",
  });
  assert.equal(
    commitInput("group", "é€😀").sha256,
    "bcc02ce033416a16f76635cdf3e6da6802b2be579b3cdee2d32c3a1ad0659d1c",
  );
  assert.equal(
    commitInput("m", { b: [true, null], a: "x" }).sha256,
    "d73493c234bf4d314bd422ed991e7c62a3e825c96aa7d35b92dea4c6995bb69f",
  );
  const c = commitInputs({ z: 1, a: 2, "é": 3, B: 4 });
  assert.deepEqual(c.map((x) => x.name), ["B", "a", "z", "é"]);
  assert.throws(() => commitInputs({ scores: [0.5, NaN] }), (e: unknown) => {
    assert.ok(e instanceof InputValidationError);
    assert.equal(e.pointer, "/scores/1");
    assert.equal(e.rule, "finite");
    return true;
  });
});

Deno.test("envelope: parameter-set hash equals regaudit-fhe's for the fixtures' parameter set", () => {
  // All-integer ASCII parameter sets canonicalize identically under JCS and Python.
  const ps = {
    backend: "plaintext",
    backend_version: "",
    coeff_mod_bit_sizes: [],
    library_version: "0.0.8",
    multiplicative_depth: 6,
    poly_modulus_degree: 0,
    scaling_factor_bits: 0,
    security_bits: 128,
  };
  assert.equal(
    parameterSetHash(ps),
    "6cf6558e2906a52a7c92595de4c670475d99d04bb56b3935dd1ccd6f2a2255fd",
  );
});

Deno.test("envelope: build → text → parse → verify; receipt covers the JCS body", async () => {
  const env = await signed();
  assert.equal(env.schema, "regledger.envelope.v1");
  assert.equal(env.parameter_set_hash, parameterSetHash(PARAMS));
  assert.deepEqual(env.input_commitments, commitInputs(options().inputs!));
  const { receipt, ...body } = env;
  const bodyBytes = enc.encode(canonicalize(body));
  assert.equal(receipt.sha256, sha256Hex(bodyBytes));
  assert.equal(receipt.signature_alg, "Ed25519");
  assert.equal(receipt.public_key_pem, signer.publicKeyPem);
  // The signature is over the canonical body bytes themselves.
  const pub = (await Ed25519PrivateKey.fromPkcs8Pem(signer.privateKey.toPkcs8Pem())).publicKey;
  assert.equal(await pub.verify(fromBase64(receipt.signature_b64), bodyBytes), true);

  const parsed = reparse(env);
  assert.equal(parsed.kind, "native");
  assert.deepEqual(signedBodyBytes(parsed), bodyBytes);
  assert.deepEqual(canonicalEnvelopeBytes(parsed), enc.encode(canonicalize(env)));
  assert.equal(toHex(parsed.sha256), sha256Hex(enc.encode(canonicalize(env))));
  assert.equal(envelopeSha256Hex(parsed), toHex(parsed.sha256));
  const r = await verifyEnvelope(parsed, store);
  assert.deepEqual(r, {
    valid: true,
    trust: "trust-store",
    kind: "native",
    key_id: "issuer-2026",
    issuer: "acme-bank",
    primitive: "fairness",
    envelope_sha256: toBase64(parsed.sha256),
    body_sha256: receipt.sha256,
    timestamp: "absent",
  });
  // Same envelope from a JS object, and from compact text with other key order.
  assert.deepEqual(parseEnvelopeValue(env).canonical, parsed.canonical);
  const reordered = Object.fromEntries(Object.entries(env).reverse());
  assert.deepEqual(parseEnvelopeText(JSON.stringify(reordered)).canonical, parsed.canonical);
});

Deno.test("envelope: parsed envelopes are deep-frozen", async () => {
  const parsed = reparse(await signed());
  assert.ok(Object.isFrozen(parsed) && Object.isFrozen(parsed.value));
  assert.ok(Object.isFrozen(parsed.value.result) && Object.isFrozen(parsed.value.receipt));
  assert.throws(() => {
    (parsed.value.result as Record<string, unknown>).demographic_parity_gap = 0;
  }, TypeError);
});

Deno.test("envelope: a ParsedEnvelope made elsewhere is judged by its canonical bytes", async () => {
  const parsed = reparse(await signed());
  const forgedValue = structuredClone(parsed.value);
  forgedValue.result = { demographic_parity_gap: 0 };
  const handMade: ParsedEnvelope = { ...parsed, value: forgedValue };
  const r = await verifyEnvelope(handMade, store);
  assert.equal(r.valid, true); // the canonical bytes are untouched, and they are what counts
  const tampered = new TextDecoder().decode(parsed.canonical).replace("0.125", "0.126");
  const handMade2: ParsedEnvelope = { ...parsed, canonical: enc.encode(tampered) };
  assert.equal(await reason(handMade2), "HashMismatch");
});

Deno.test("envelope: builder rejects bad options with a pointer", async () => {
  const cases: [Partial<BuildEnvelopeOptions>, string][] = [
    [{ result: { gap: NaN } }, "/result/gap"],
    [{ parameterSet: { x: Infinity } }, "/parameter_set/x"],
    [{ inputs: { y: [1, "\ud800"] } }, "/inputs/y/1"],
    [{ dp: { eps: undefined as unknown as JsonValue } }, "/dp/eps"],
    [{ primitive: "astrology" as "drift" }, "/primitive"],
    [{ issuer: "" }, "/issuer"],
    [{ inputCommitments: [] }, "/input_commitments"],
    [{ depthBudget: { declared: 1.5, consumed: 1 } }, "/depth_budget"],
  ];
  for (const [extra, pointer] of cases) {
    await assert.rejects(signed(extra), (e: unknown) => {
      assert.ok(e instanceof InputValidationError, String(e));
      assert.equal(e.pointer, pointer);
      return true;
    });
  }
  const pre = await signed({ inputs: undefined, inputCommitments: commitInputs({ a: 1 }) });
  assert.deepEqual(pre.input_commitments, commitInputs({ a: 1 }));
});

Deno.test("envelope: an external signer that misbehaves produces no envelope", async () => {
  const key = await Ed25519PrivateKey.generate();
  const other = await Ed25519PrivateKey.generate();
  const bad = externalKeyProvider({
    keyId: "kms",
    publicKeyPem: key.publicKey.toPem(),
    sign: (m) => other.sign(m),
  });
  await assert.rejects(signed({}, bad as InProcessKeyProvider), SignerError);
  const good = externalKeyProvider({
    keyId: "kms",
    publicKeyPem: key.publicKey.toPem(),
    sign: (m) => key.sign(m, "noble"),
  });
  const env = await buildEnvelope(options(), good);
  const kmsStore = TrustStore.fromObject({ kms: key.publicKey.toPem() });
  assert.equal(await reason(reparse(env), kmsStore), "valid");
});

Deno.test("verify: each typed failure, in regaudit-fhe's order", async () => {
  const env = await signed();
  const pem = signer.publicKeyPem;
  const other = await InProcessKeyProvider.generate("other");
  const psHash = env.parameter_set_hash;

  // 1. unknown key id
  assert.equal(
    await reason(reparse(env), TrustStore.fromObject({ other: other.publicKeyPem })),
    "UntrustedIssuer",
  );
  // 2. revoked (even when the body was also changed: earlier checks win)
  const revoked = TrustStore.fromObject({ keys: { [signer.keyId]: pem }, revoked: [signer.keyId] });
  const changed = clone(env);
  changed.result = { demographic_parity_gap: 0 };
  assert.equal(await reason(reparse(env), revoked), "RevokedIssuer");
  assert.equal(await reason(reparse(changed), revoked), "RevokedIssuer");
  // 3. pinned parameter-set hash differs
  const pinned = (pin: string) =>
    TrustStore.fromObject({
      keys: { [signer.keyId]: pem },
      parameter_set_pins: { [signer.keyId]: pin },
    });
  assert.equal(await reason(reparse(env), pinned("ab".repeat(32))), "WrongParameterSet");
  assert.equal(await reason(reparse(env), pinned(psHash)), "valid");
  assert.equal(await reason(reparse(env), pinned(psHash.toUpperCase())), "valid");
  // 4. body changed
  assert.equal(await reason(reparse(changed)), "HashMismatch");
  // 4b. parameter_set_hash inconsistent with parameter_set, though signed by the trusted key
  const inconsistent = await resignedWith(env, (b) => (b.parameter_set_hash = "00".repeat(32)));
  assert.equal(await reason(reparse(inconsistent)), "HashMismatch");
  // 5. signature fails
  const flipped = clone(env);
  const sig = fromBase64(env.receipt.signature_b64);
  sig[10] ^= 4;
  flipped.receipt.signature_b64 = toBase64(sig);
  assert.equal(await reason(reparse(flipped)), "InvalidSignature");
  for (const b64 of ["", "not base64!", toBase64(sig.subarray(0, 63))]) {
    const e = clone(env);
    e.receipt.signature_b64 = b64;
    assert.equal(await reason(reparse(e)), "InvalidSignature", b64);
  }
  const alg = clone(env);
  (alg.receipt as { signature_alg: string }).signature_alg = "Ed448";
  assert.equal(await reason(reparse(alg)), "InvalidSignature");
  const junkPem = clone(env);
  junkPem.receipt.public_key_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  assert.equal(await reason(reparse(junkPem)), "InvalidSignature");
  // Embedded key swapped for another (signature no longer verifies under it): InvalidSignature.
  const swapped = clone(env);
  swapped.receipt.public_key_pem = other.publicKeyPem;
  assert.equal(await reason(reparse(swapped)), "InvalidSignature");
  // 6. validly signed by another key that claims the trusted key id
  const foreign = await signed({}, intruder);
  assert.equal(await reason(reparse(foreign)), "UntrustedIssuer");
  assert.equal((await checkSelfSignedOnly(reparse(foreign))).valid, true);
  // The registered key written with other line breaks is still the same key.
  const crlf = clone(env);
  crlf.receipt.public_key_pem = pem.trim().replaceAll("\n", "\r\n");
  assert.equal(await reason(reparse(crlf)), "valid");
});

async function resignedWith(
  env: Envelope,
  change: (b: Record<string, JsonValue>) => void,
  by = signer,
) {
  const { receipt: _r, timestamp: _t, ...rest } = structuredClone(env) as unknown as Record<
    string,
    JsonValue
  >;
  change(rest);
  const bytes = enc.encode(canonicalize(rest));
  const sig = await by.sign(bytes);
  return {
    ...rest,
    receipt: { ...env.receipt, sha256: sha256Hex(bytes), signature_b64: toBase64(sig) },
  } as unknown as Envelope;
}

Deno.test("verify: timestamps are outside the signed body and checked by a supplied verifier", async () => {
  const env = await signed({
    timestamp: stamp("tsa.example", "2026-11-21T12:00:01Z"),
  });
  const parsed = reparse(env);
  assert.equal((await verifyEnvelope(parsed, store)).timestamp, "unverified");
  assert.equal(
    (await verifyEnvelope(parsed, store, { timestampVerifier: tsaVerifier })).timestamp,
    "verified",
  );
  const without = clone(env);
  delete without.timestamp;
  assert.equal(reparse(without).value.receipt.sha256, env.receipt.sha256);
  assert.notDeepEqual(reparse(without).sha256, parsed.sha256); // identity covers the timestamp
  const forged = clone(env);
  forged.timestamp!.issued_at = "2020-01-01T00:00:00Z";
  assert.equal(await reason(reparse(forged), store, tsaVerifier), "TimestampInvalid");
  const throwing: TimestampVerifier = () => {
    throw new Error("TSA chain expired");
  };
  const r = await checkEnvelope(parsed, store, { timestampVerifier: throwing });
  assert.equal(r.valid, false);
  assert.ok(!r.valid && r.reason === "TimestampInvalid" && r.message.includes("TSA chain expired"));
  // Timestamp is the last check: a bad signature wins over a bad timestamp.
  const both = clone(forged);
  both.receipt.signature_b64 = toBase64(new Uint8Array(64));
  assert.equal(await reason(reparse(both), store, tsaVerifier), "InvalidSignature");
});

Deno.test("verify: refuses without a trust store; self-signed-only says so", async () => {
  const parsed = reparse(await signed());
  await assert.rejects(verifyEnvelope(parsed, undefined as unknown as TrustStore), TrustStoreError);
  await assert.rejects(checkEnvelope(parsed, null as unknown as TrustStore), TrustStoreError);
  const r = await verifySelfSignedOnly(parsed);
  assert.equal(r.trust, "self-signed-only");
  const changed = clone(parsed.value);
  changed.issuer = "someone else";
  const c = await checkSelfSignedOnly(reparse(changed));
  assert.deepEqual([c.valid, !c.valid && c.reason, c.trust], [
    false,
    "HashMismatch",
    "self-signed-only",
  ]);
});

Deno.test("parse: malformed envelopes are format errors naming the field", async () => {
  const env = await signed();
  const bad = (mutate: (e: Record<string, unknown>) => void) => {
    const e = structuredClone(env) as unknown as Record<string, unknown>;
    mutate(e);
    return JSON.stringify(e);
  };
  const cases: [string, string][] = [
    [bad((e) => (e.schema = "regledger.envelope.v9")), "/schema"],
    [bad((e) => delete e.receipt), "/receipt"],
    [bad((e) => delete (e.receipt as Record<string, unknown>).key_id), "/receipt/key_id"],
    [bad((e) => ((e.receipt as Record<string, unknown>).sha256 = 5)), "/receipt/sha256"],
    [bad((e) => ((e.receipt as Record<string, unknown>)["x/y"] = "")), "/receipt/x~1y"],
    [bad((e) => (e.parameter_set = [])), "/parameter_set"],
    [bad((e) => (e.primitive = "astrology")), "/primitive"],
    [bad((e) => (e.input_commitments = [{ name: "a" }])), "/input_commitments/0"],
    [bad((e) => (e.timestamp = "yesterday")), "/timestamp"],
    [JSON.stringify(env).replace('"flag":true', '"flag":NaN'), "/result/flag"],
    ["[]", ""],
  ];
  for (const [text, pointer] of cases) {
    assert.throws(() => parseEnvelopeText(text), (e: unknown) => {
      assert.ok(e instanceof EnvelopeFormatError, `${pointer}: ${e}`);
      assert.equal(e.pointer, pointer);
      return true;
    });
  }
  assert.throws(() => parseEnvelopeText('{"schema": 1,'), JsonParseError);
  const legacy = { ...structuredClone(env), schema: "regaudit-fhe.report.v1" };
  assert.throws(() => parseEnvelopeValue(legacy), EnvelopeFormatError);
});

// ---- property: any single change to a signed envelope is caught with the right reason ----

type Path = (string | number)[];

function paths(v: unknown, prefix: Path = []): { path: Path; leaf: boolean }[] {
  const out: { path: Path; leaf: boolean }[] = [];
  if (v !== null && typeof v === "object") {
    out.push({ path: prefix, leaf: false });
    for (const [k, x] of Object.entries(v)) {
      out.push(...paths(x, [...prefix, Array.isArray(v) ? Number(k) : k]));
    }
  } else out.push({ path: prefix, leaf: true });
  return out;
}

function get(root: unknown, path: Path): unknown {
  return path.reduce((o, k) => (o as Record<string, unknown>)[k], root);
}

function expectedReason(path: Path, addMember: boolean): string {
  const p = "/" + path.join("/");
  if (p.startsWith("/timestamp")) return "TimestampInvalid";
  if (p === "/receipt" && addMember) return "EnvelopeFormatError";
  if (p === "/receipt/key_id") return "UntrustedIssuer";
  if (["/receipt/signature_b64", "/receipt/signature_alg", "/receipt/public_key_pem"].includes(p)) {
    return "InvalidSignature";
  }
  if (p === "/parameter_set_hash") return "WrongParameterSet";
  return "HashMismatch";
}

function newValueLike(old: unknown, path: Path): fc.Arbitrary<JsonValue> {
  const p = "/" + path.join("/");
  if (p === "/schema") return fc.constant("regaudit-fhe.report.v1");
  if (p === "/primitive") return fc.constantFrom("drift", "provenance", "calibration");
  const neq = <T>(a: fc.Arbitrary<T>) => a.filter((x) => canonicalize(x) !== canonicalize(old));
  switch (typeof old) {
    case "string":
      return neq(fc.string({ unit: "grapheme", maxLength: 12 }));
    case "number":
      return neq(
        Number.isInteger(old)
          ? fc.integer({ min: -1000, max: 1000 })
          : fc.double({ noNaN: true, noDefaultInfinity: true }),
      );
    case "boolean":
      return fc.constant(!old);
    default:
      return fc.constant(null);
  }
}

Deno.test("verify property: changing any single field of a signed envelope is caught with the right reason", async () => {
  const env = await signed({
    timestamp: stamp("tsa", "2026-11-21T12:00:01Z"),
  });
  // Pin the correct parameter-set hash so that changing the claimed hash is a WrongParameterSet.
  const pinnedStore = TrustStore.fromObject({
    keys: { [signer.keyId]: signer.publicKeyPem },
    parameter_set_pins: { [signer.keyId]: env.parameter_set_hash },
  });
  assert.equal(await reason(reparse(env), pinnedStore, tsaVerifier), "valid");
  const all = paths(env);
  const leaves = all.filter((x) => x.leaf);
  const objects = all.filter((x) => !x.leaf && !Array.isArray(get(env, x.path)));

  const leafChange = fc.constantFrom(...leaves).chain(({ path }) =>
    newValueLike(get(env, path), path).map((value) => ({ path, value, add: false }))
  );
  const memberAdd = fc.constantFrom(...objects).chain(({ path }) =>
    fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !(k in (get(env, path) as object))).map(
      (k) => ({
        path,
        value: k as JsonValue,
        add: true,
      }),
    )
  );

  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(fc.oneof(leafChange, memberAdd), async ({ path, value, add }) => {
      const e = structuredClone(env) as unknown as Record<string, unknown>;
      if (add) {
        Object.defineProperty(get(e, path) as object, value as string, {
          value: 1,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        const parent = get(e, path.slice(0, -1)) as Record<string | number, unknown>;
        parent[path[path.length - 1]] = value;
      }
      const want = expectedReason(path, add);
      seen.add(want);
      let got: string;
      try {
        got = await reason(reparse(e), pinnedStore, tsaVerifier);
      } catch (err) {
        if (!(err instanceof EnvelopeFormatError)) throw err;
        got = "EnvelopeFormatError";
      }
      assert.equal(
        got,
        want,
        `${add ? "add member to" : "change"} /${path.join("/")} → ${JSON.stringify(value)}`,
      );
    }),
    {
      numRuns: 400,
      // One run of each kind of verdict is always included.
      examples: [
        [{ path: ["parameter_set_hash"], value: "ab".repeat(32), add: false }],
        [{ path: ["receipt", "key_id"], value: "someone-else", add: false }],
        [{ path: ["receipt", "signature_b64"], value: "AAAA", add: false }],
        [{ path: ["receipt"], value: "note", add: true }],
        [{ path: ["timestamp", "issuer"], value: "other-tsa", add: false }],
        [{ path: ["result", "demographic_parity_gap"], value: 0.5, add: false }],
      ],
    },
  );
  // The runs reached every kind of verdict.
  for (
    const r of [
      "HashMismatch",
      "InvalidSignature",
      "UntrustedIssuer",
      "WrongParameterSet",
      "TimestampInvalid",
      "EnvelopeFormatError",
    ]
  ) assert.ok(seen.has(r), `no run produced ${r}`);
});

Deno.test("verify: every verification error class carries the key id", async () => {
  const env = await signed();
  const e = clone(env);
  e.result = {};
  await assert.rejects(verifyEnvelope(reparse(e), store), (err: unknown) => {
    assert.ok(err instanceof EnvelopeVerificationError);
    assert.equal(err.name, "HashMismatch");
    assert.equal(err.keyId, "issuer-2026");
    return true;
  });
});

Deno.test("envelope: a parameter-set object changed between builds gets its new hash", async () => {
  const ps: Record<string, JsonValue> = { backend: "seal-ckks", poly_modulus_degree: 8192 };
  const first = await signed({ parameterSet: ps });
  ps.poly_modulus_degree = 16384;
  const second = await signed({ parameterSet: ps });
  assert.equal(
    first.parameter_set_hash,
    parameterSetHash({ backend: "seal-ckks", poly_modulus_degree: 8192 }),
  );
  assert.equal(
    second.parameter_set_hash,
    parameterSetHash({ backend: "seal-ckks", poly_modulus_degree: 16384 }),
  );
  assert.notEqual(first.parameter_set_hash, second.parameter_set_hash);
  assert.equal(await reason(reparse(second)), "valid");
});

Deno.test("envelope: precomputed commitments are checked and sorted", async () => {
  const c = commitInputs({ b: 1, a: 2 });
  const env = await signed({ inputs: undefined, inputCommitments: [c[1], c[0]] });
  assert.deepEqual(env.input_commitments.map((x) => x.name), ["a", "b"]);
  const bad: [unknown, string][] = [
    [[{ name: "a", sha256: "xyz" }], "/input_commitments/0"],
    [[{ name: 1, sha256: c[0].sha256 }], "/input_commitments/0"],
    [[c[0], c[0]], "/input_commitments"],
  ];
  for (const [list, pointer] of bad) {
    await assert.rejects(
      signed({ inputs: undefined, inputCommitments: list as typeof c }),
      (e: unknown) => e instanceof InputValidationError && e.pointer === pointer,
    );
  }
});

Deno.test("envelope: issuedAt must be RFC 3339", async () => {
  for (const bad of ["yesterday", "2026-11-21", "2026-11-21 12:00:00Z", "2026-11-21T12:00:00"]) {
    await assert.rejects(
      signed({ issuedAt: bad }),
      (e: unknown) => e instanceof InputValidationError && e.pointer === "/issued_at",
    );
  }
  const ok = await signed({ issuedAt: "2026-11-21T12:00:00.123456+00:00" });
  assert.equal(ok.issued_at, "2026-11-21T12:00:00.123456+00:00");
  const fromDate = await signed({ issuedAt: new Date(Date.UTC(2026, 10, 21)) });
  assert.equal(fromDate.issued_at, "2026-11-21T00:00:00.000Z");
});
