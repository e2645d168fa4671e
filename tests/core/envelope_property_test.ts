/**
 * A fast-check property: any single change to a signed envelope is caught
 * with the right reason.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { JsonValue } from "../../core/envelope_types.ts";
import { EnvelopeFormatError } from "../../core/errors.ts";
import { canonicalize } from "../../core/jcs.ts";
import { TrustStore } from "../../core/trust_store.ts";
import { reason, reparse, signed, signer, stamp, tsaVerifier } from "./_envelope.ts";

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
